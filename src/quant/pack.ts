/**
 * Constant layouts streamed by the q8 kernels (assembly/q8/*). Weights keep the file's 8 bits
 * (packed constants about 1x the file's weight bytes): int8 storage like the activations
 * (uint8 flipped by 0x80 = w - 128, src/ops/types.ts), and the kernels subtract the stored
 * weight zero point after widening (load8x8_s + i16x8.sub: the exact w - w_zp in int16).
 * Padding (k past K, channels past N) holds the weight zero point, i.e. zero once centred.
 */
import type { QuantizedMultiplier } from './fixedpoint.js';

/** bytes per group of 4 channels in a full requantization block (assembly/q8/requant.ts) */
export const RQ_GROUP_BYTES = 96;

export const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/**
 * Per-channel requantization block: groups of 4 channels of
 * [mult x4][1 << left x4][2^(31 - right) x4][(1 << right) - 1 x4][right x4][2^(right - 1) x4]
 * (the last 0 when right = 0), channels padded to `paddedChannels` (a multiple of 4) with a
 * harmless zero multiplier.
 */
export function packRequant(q: QuantizedMultiplier[], paddedChannels: number): Uint8Array {
  const groups = paddedChannels / 4;
  const v = new Int32Array(groups * 24);
  const NO_CHANNEL = { multiplier: 0, shift: 0 };
  // per-tensor quantization gives every channel the same multiplier object: its six values are
  // worked out once (this runs cold, for thousands of channels, at load)
  let last: QuantizedMultiplier | undefined;
  let m = 0, leftPow = 0, rightBit = 0, mask = 0, right = 0, half = 0;
  for (let ch = 0; ch < paddedChannels; ch++) {
    const entry = q[ch] ?? NO_CHANNEL;
    if (entry !== last) {
      const { multiplier, shift } = entry;
      const left = Math.max(shift, 0);
      right = Math.max(-shift, 0);
      if (left > 31 || right > 31) throw new RangeError(`shift ${shift} out of range`);
      m = multiplier;
      leftPow = 2 ** left | 0;
      rightBit = 2 ** (31 - right) | 0;
      mask = 2 ** right - 1;
      half = right > 0 ? 2 ** (right - 1) : 0;
      last = entry;
    }
    const base = (ch >> 2) * 24 + (ch & 3);
    v[base] = m;
    v[base + 4] = leftPow;
    v[base + 8] = rightBit;
    v[base + 12] = mask;
    v[base + 16] = right;
    v[base + 20] = half;
  }
  return new Uint8Array(v.buffer);
}

/**
 * The requantization block a kernel reads for a layer of `mode` (assembly/q8/requant.ts): only
 * the fields that mode uses, in groups of 4 channels -- mode >= 0: [mult x4]; -1 and -3
 * (per-channel right shifts): [mult x4][2^(31 - right) x4]; -2 (left shifts): the full
 * packRequant block.
 */
export function packRequantFor(q: QuantizedMultiplier[], paddedChannels: number, mode: number): Uint8Array {
  if (mode === RequantMode.GENERAL) return packRequant(q, paddedChannels);
  const fields = mode >= 0 ? 1 : 2;
  const v = new Int32Array((paddedChannels / 4) * 4 * fields);
  for (let ch = 0; ch < q.length; ch++) {
    const base = (ch >> 2) * 4 * fields + (ch & 3);
    v[base] = q[ch].multiplier;
    if (fields === 2) v[base + 4] = 2 ** (31 + q[ch].shift) | 0; // shift = -right, right in [0, 31]
  }
  return new Uint8Array(v.buffer);
}

/**
 * Which exact vector requantization path the kernels may take (assembly/q8/requant.ts), passed
 * to them as their `mode` integer: a value >= 0 is the right shift every channel shares (none
 * shifts left); the negative values are named here.
 */
export const RequantMode = {
  /** right shifts differ per channel, each of them only right */
  PER_CHANNEL_RIGHT_SHIFTS: -1,
  /** some channel shifts left: the general path */
  GENERAL: -2,
  /** right shifts differ per channel, all in [1, 22] (the rounding-add path) */
  PER_CHANNEL_SHORT_RIGHT_SHIFTS: -3,
} as const;
/** the largest shared right shift with its own specialised entry points (q8_*_rs) */
export const MAX_SHORT_RIGHT_SHIFT = 22;

export function requantMode(q: QuantizedMultiplier[]): number {
  // one plain pass (this runs cold at load, over every channel of every layer)
  const r = -q[0].shift;
  let shared = true, short = true;
  for (let i = 0; i < q.length; i++) {
    const right = -q[i].shift;
    if (right < 0) return RequantMode.GENERAL;
    if (right !== r) shared = false;
    if (right < 1 || right > MAX_SHORT_RIGHT_SHIFT) short = false;
  }
  if (shared) return r;
  return short ? RequantMode.PER_CHANNEL_SHORT_RIGHT_SHIFTS : RequantMode.PER_CHANNEL_RIGHT_SHIFTS;
}

/** The q8 average pool's rounding (assembly/q8/avgpool.ts): TFLite's uint8 and int8 kernels round differently. */
export const PoolRounding = {
  /** uint8: (sum + n/2) / n on non-negative sums */
  UINT8_HALF_UP: 0,
  /** int8: half away from zero with C division */
  INT8_HALF_AWAY: 1,
} as const;

/**
 * A quantized filter's bytes as the packers read them: the raw 8-bit data, `flip` (0x80 for
 * uint8, whose stored form is w ^ 0x80 = w - 128; 0 for int8) and the stored zero point the
 * kernels subtract (`wZp` argument).
 */
export interface StoredFilter {
  bytes: Uint8Array;
  flip: number;
  zp: number;
}

export function storedFilter(raw: Float32Array | Uint8Array | Int8Array, wzp: number): StoredFilter {
  if (raw instanceof Float32Array) throw new TypeError('a float32 filter has no 8-bit packing');
  const flip = raw instanceof Uint8Array ? 0x80 : 0;
  const zp = flip ? wzp - 128 : wzp;
  if (zp < -128 || zp > 127) throw new RangeError(`weight zero point ${wzp} has no int8 storage`);
  return { bytes: new Uint8Array(raw.buffer, raw.byteOffset, raw.length), flip, zp };
}

/**
 * `bytes` bytes for a packed layout, holding the stored zero point (the padding value) only when
 * the layout has padding: a fresh buffer is zero, and filling 3 MB costs a millisecond at load.
 */
function packedBuffer(f: StoredFilter, bytes: number, hasPadding: boolean): Uint8Array {
  const out = new Uint8Array(bytes);
  if (hasPadding && (f.zp & 0xff) !== 0) out.fill(f.zp & 0xff);
  return out;
}

// The packers below run once per layer at load over every weight (3.2 M for v1 1.0/224), so they
// read one typed-array kind (the raw bytes, flipped by xor in the loop) and store whole 16- or
// 32-bit words of packed bytes (little-endian, as wasm reads them) instead of single bytes.

/**
 * The raw bytes as little-endian int32 words, 4 weights a load, for the packers' whole-word paths
 * (taken when every row starts on a word, K % 4 = 0: all of MobileNet's layers but the stem): a
 * view when the data is 4-byte aligned in its file, else an aligned copy (a native memcpy).
 */
function sourceWords(f: StoredFilter): Int32Array {
  const { bytes } = f;
  if (bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  const copy = new Int32Array(bytes.length >> 2);
  new Uint8Array(copy.buffer).set(bytes.subarray(0, copy.length * 4));
  return copy;
}

/** the xor that flips 4 (or 2) packed bytes at once */
const flip32 = (f: StoredFilter) => f.flip * 0x01010101;
const flip16 = (f: StoredFilter) => f.flip * 0x0101;

/**
 * GEMM weights (assembly/q8/gemm.ts): panels of 4 output columns, blocks of 8 k: [c0 k0..7][c1][c2][c3], from row-major [n][k] raw weights.
 * `rowSums` receives each row's sum of (w - w_zp) (the input zero point's fold into the bias), summed in the same pass.
 */
export function packGemmRows(f: StoredFilter, n: number, k: number, rowSums = new Int32Array(n)): Uint8Array {
  const kp = roundUp(k, 8);
  const out = packedBuffer(f, Math.ceil(n / 4) * kp * 4, n % 4 !== 0 || k % 8 !== 0);
  // a stored byte ^ 0x80 is the stored int8 value + 128, so a row sums to sum(w - w_zp) + offset
  const offset = k * (128 + f.zp);
  if (k % 4 !== 0) {
    // rows off word boundaries (no MobileNet layer): a byte at a time
    for (let c = 0, s = 0; c < n; c++) {
      let sum = 0;
      for (let kk = 0; kk < k; kk++, s++) {
        const v = f.bytes[s] ^ f.flip;
        out[(c >> 2) * kp * 4 + (c & 3) * 8 + (kk >> 3) * 32 + (kk & 7)] = v;
        sum += v ^ 0x80;
      }
      rowSums[c] = sum - offset;
    }
    return out;
  }
  // each run of 8 k is contiguous in the source and in the panel: two words copied as they are,
  // their bytes summed two to a 16-bit lane (at most 4 x 255 a lane per run: flushed every 32 runs)
  const words = new Int32Array(out.buffer);
  const from = sourceWords(f);
  const x4 = flip32(f);
  const blocks = k >> 3;
  for (let c = 0, s = 0; c < n; c++) {
    let w = ((c >> 2) * kp * 4 + (c & 3) * 8) >> 2;
    let sum = 0;
    for (let b = 0; b < blocks; ) {
      let lanes = 0;
      for (const stop = Math.min(blocks, b + 32); b < stop; b++, w += 8, s += 2) {
        const p0 = from[s] ^ x4, p1 = from[s + 1] ^ x4;
        words[w] = p0;
        words[w + 1] = p1;
        const v0 = p0 ^ 0x80808080, v1 = p1 ^ 0x80808080;
        lanes += (v0 & 0xff00ff) + ((v0 >>> 8) & 0xff00ff) + (v1 & 0xff00ff) + ((v1 >>> 8) & 0xff00ff);
      }
      sum += (lanes & 0xffff) + (lanes >>> 16);
    }
    if (k & 4) {
      const p = from[s++] ^ x4;
      words[w] = p;
      const v = p ^ 0x80808080;
      sum += (v & 0xff) + ((v >>> 8) & 0xff) + ((v >>> 16) & 0xff) + (v >>> 24);
    }
    rowSums[c] = sum - offset;
  }
  return out;
}

/**
 * GEMM weights for int16 activations (assembly/q8/gemm16.ts) from row-major [n][k] raw
 * weights: panels of 8 output columns, one 16-byte block per pair of k:
 * [c0 k k+1][c1 k k+1]...[c7 k k+1], K rounded up to 2 and N to 8 with the zero point.
 */
export function packGemm16Rows(f: StoredFilter, n: number, k: number): Uint8Array {
  const kPairs = Math.ceil(k / 2);
  const out = packedBuffer(f, Math.ceil(n / 8) * kPairs * 16, n % 8 !== 0 || k % 2 !== 0);
  const src = f.bytes;
  const fullPairs = k >> 1;
  // two channels' pairs of k are one word: [c k][c k+1][c+1 k][c+1 k+1]
  const words = new Int32Array(out.buffer);
  const x4 = flip32(f);
  if (k % 4 === 0) {
    // a source word of each channel holds two pairs of k: [c 2p][c 2p+1][c 2p+2][c 2p+3]
    const from = sourceWords(f);
    const quads = k >> 2;
    const halves = new Uint16Array(out.buffer);
    const x2 = flip16(f);
    for (let c = 0; c < n; c += 2) {
      let s0 = c * quads;
      const end = s0 + quads;
      if (c + 1 < n) {
        for (let s1 = s0 + quads, w = ((c >> 3) * kPairs * 16 + (c & 7) * 2) >> 2; s0 < end; s0++, s1++, w += 8) {
          const a = from[s0], b = from[s1];
          words[w] = ((a & 0xffff) | (b << 16)) ^ x4;
          words[w + 4] = ((a >>> 16) | (b & 0xffff0000)) ^ x4;
        }
      } else {
        for (let h = ((c >> 3) * kPairs * 16 + (c & 7) * 2) >> 1; s0 < end; s0++, h += 16) {
          const a = from[s0];
          halves[h] = (a & 0xffff) ^ x2;
          halves[h + 8] = (a >>> 16) ^ x2;
        }
      }
    }
    return out;
  }
  for (let c = 0; c + 1 < n; c += 2) {
    let w = ((c >> 3) * kPairs * 16 + (c & 7) * 2) >> 2;
    for (let s0 = c * k, s1 = s0 + k, end = s0 + fullPairs * 2; s0 < end; s0 += 2, s1 += 2, w += 4) {
      words[w] = (src[s0] | (src[s0 + 1] << 8) | (src[s1] << 16) | (src[s1 + 1] << 24)) ^ x4;
    }
  }
  if (n & 1) {
    const c = n - 1;
    const halves = new Uint16Array(out.buffer);
    const x2 = flip16(f);
    let h = ((c >> 3) * kPairs * 16 + (c & 7) * 2) >> 1;
    for (let s = c * k, end = s + fullPairs * 2; s < end; s += 2, h += 8) halves[h] = (src[s] | (src[s + 1] << 8)) ^ x2;
  }
  if (k & 1) for (let c = 0; c < n; c++) out[(c >> 3) * kPairs * 16 + fullPairs * 16 + (c & 7) * 2] = src[c * k + k - 1] ^ f.flip;
  return out;
}

/**
 * Depthwise weights (assembly/q8/dwconv.ts) from the raw [taps][C] filter (TFLite's [1, KH, KW,
 * C]): consecutive taps paired per channel for dot_i16x8, [ceil(taps/2)][C rounded up to 8][2];
 * an odd last tap's partner and the padded channels hold the zero point. `channelSums` receives
 * each channel's sum of (w - w_zp) over the taps (the input zero point's fold), in the same pass.
 */
export function packDepthwiseRows(f: StoredFilter, taps: number, c: number, channelSums = new Int32Array(c)): Uint8Array {
  const cp = roundUp(c, 8);
  const out = packedBuffer(f, Math.ceil(taps / 2) * cp * 2, c % 8 !== 0 || taps % 2 !== 0);
  const halves = new Uint16Array(out.buffer);
  const src = f.bytes;
  const x2 = flip16(f);
  // a stored byte ^ 0x80 is the stored int8 value + 128: the offset comes off at the end
  channelSums.fill(0);
  for (let t = 0; t + 1 < taps; t += 2) {
    const h = (t >> 1) * cp;
    for (let ch = 0, s = t * c; ch < c; ch++, s++) {
      const v = (src[s] | (src[s + c] << 8)) ^ x2;
      halves[h + ch] = v;
      const u = v ^ 0x8080;
      channelSums[ch] += (u & 0xff) + (u >> 8);
    }
  }
  if (taps & 1) {
    const at = (taps >> 1) * cp * 2;
    for (let ch = 0, s = (taps - 1) * c; ch < c; ch++, s++) {
      const v = src[s] ^ f.flip;
      out[at + ch * 2] = v;
      channelSums[ch] += v ^ 0x80;
    }
  }
  const offset = taps * (128 + f.zp);
  for (let ch = 0; ch < c; ch++) channelSums[ch] -= offset;
  return out;
}

/**
 * Full-conv weights (assembly/q8/conv.ts) from the raw OHWI filter: per filter row, pairs of
 * consecutive (kx, ic) taps, each pair for every output channel: [ky][pair][outC rounded up to
 * 8][2]; the odd last tap's partner and padded channels hold the zero point.
 */
export function packConvWeights(f: StoredFilter, outC: number, kh: number, kw: number, inC: number): Uint8Array {
  const ocp = roundUp(outC, 8);
  const rowLen = kw * inC;
  const pairs = Math.ceil(rowLen / 2);
  const out = packedBuffer(f, kh * pairs * ocp * 2, outC % 8 !== 0 || rowLen % 2 !== 0);
  const halves = new Uint16Array(out.buffer);
  const src = f.bytes;
  const x2 = flip16(f);
  const fullPairs = rowLen >> 1;
  for (let oc = 0; oc < outC; oc++)
    for (let ky = 0; ky < kh; ky++) {
      let s = (oc * kh + ky) * rowLen;
      let h = ky * pairs * ocp + oc;
      for (let p = 0; p < fullPairs; p++, s += 2, h += ocp) halves[h] = (src[s] | (src[s + 1] << 8)) ^ x2;
      if (rowLen & 1) out[h * 2] = src[s] ^ f.flip;
    }
  return out;
}

/**
 * The stem's weights for im2col + gemm16 (assembly/q8/im2col.ts): each filter row's kw * inC
 * taps start at a pair boundary (k = ky * rowPad + j, rowPad = kw * inC rounded up to 2), the
 * gaps hold the zero point; then packGemm16Rows.
 */
export function packIm2colWeights(f: StoredFilter, outC: number, kh: number, kw: number, inC: number): Uint8Array {
  const rowLen = kw * inC;
  const rowPad = roundUp(rowLen, 2);
  const k = kh * rowPad;
  // raw bytes with gaps: un-flipped zero point in the gaps, so packGemm16Rows flips them like the rest
  const rows = new Uint8Array(outC * k).fill((f.zp ^ f.flip) & 0xff);
  for (let o = 0; o < outC; o++)
    for (let ky = 0; ky < kh; ky++) rows.set(f.bytes.subarray((o * kh + ky) * rowLen, (o * kh + ky + 1) * rowLen), o * k + ky * rowPad);
  return packGemm16Rows({ bytes: rows, flip: f.flip, zp: f.zp }, outC, k);
}

/**
 * Scratch bytes the SIMD kernels widen 8-bit weights into (int16 w - w_zp, per call or per
 * panel; assembly/q8/gemm.ts, gemm16.ts, dwconv.ts), 16-byte multiples
 */
export const gemmScratchBytes = (k: number) => roundUp(k, 8) * 8;
export const gemm16ScratchBytes = (k: number) => Math.ceil(k / 2) * 32 + 64;
export const depthwiseScratchBytes = (taps: number, c: number) => {
  const cp = roundUp(c, 8);
  // widened taps, widened tap pairs, the model's bias, mode -3's [scale][bound] per 4 channels
  return taps * cp * 2 + Math.ceil(taps / 2) * cp * 4 + cp * 4 + cp * 8;
};

/** int32 array padded with zeros */
export function packInt32(values: ArrayLike<number>, padded: number): Uint8Array {
  const out = new Int32Array(padded);
  out.set(values); // native: a plain loop runs cold (interpreted) at load
  return new Uint8Array(out.buffer);
}
