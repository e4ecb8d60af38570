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
  if (q.some((x) => x.shift > 0)) return RequantMode.GENERAL;
  const r = -q[0].shift;
  if (q.every((x) => -x.shift === r)) return r;
  return q.every((x) => -x.shift >= 1 && -x.shift <= MAX_SHORT_RIGHT_SHIFT) ? RequantMode.PER_CHANNEL_SHORT_RIGHT_SHIFTS : RequantMode.PER_CHANNEL_RIGHT_SHIFTS;
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

/** `bytes` bytes filled with the stored zero point (the padding value) */
function padded(f: StoredFilter, bytes: number): Uint8Array {
  return new Uint8Array(bytes).fill(f.zp & 0xff);
}

/** int8 storage of a raw byte */
const stored = (f: StoredFilter, i: number) => f.bytes[i] ^ f.flip;

/** GEMM weights (assembly/q8/gemm.ts): panels of 4 output columns, blocks of 8 k: [c0 k0..7][c1][c2][c3], from row-major [n][k] raw weights */
export function packGemmRows(f: StoredFilter, n: number, k: number): Uint8Array {
  const kp = roundUp(k, 8);
  const out = padded(f, Math.ceil(n / 4) * kp * 4);
  for (let c = 0; c < n; c++) {
    const panel = (c >> 2) * kp * 4 + (c & 3) * 8;
    const row = c * k;
    // each run of 8 k is contiguous in the source and in the panel
    for (let kk = 0; kk < k; kk++) out[panel + (kk >> 3) * 32 + (kk & 7)] = stored(f, row + kk);
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
  const out = padded(f, Math.ceil(n / 8) * kPairs * 16);
  for (let c = 0; c < n; c++) {
    const at = (c >> 3) * kPairs * 16 + (c & 7) * 2;
    const row = c * k;
    for (let kk = 0; kk < k; kk++) out[at + (kk >> 1) * 16 + (kk & 1)] = stored(f, row + kk);
  }
  return out;
}

/**
 * Depthwise weights (assembly/q8/dwconv.ts) from the raw [taps][C] filter (TFLite's [1, KH, KW,
 * C]): consecutive taps paired per channel for dot_i16x8, [ceil(taps/2)][C rounded up to 8][2];
 * an odd last tap's partner and the padded channels hold the zero point.
 */
export function packDepthwiseRows(f: StoredFilter, taps: number, c: number): Uint8Array {
  const cp = roundUp(c, 8);
  const out = padded(f, Math.ceil(taps / 2) * cp * 2);
  for (let t = 0; t < taps; t++) {
    const row = t * c;
    const pair = (t >> 1) * cp * 2 + (t & 1);
    for (let ch = 0; ch < c; ch++) out[pair + ch * 2] = stored(f, row + ch);
  }
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
  const out = padded(f, kh * pairs * ocp * 2);
  for (let oc = 0; oc < outC; oc++)
    for (let ky = 0; ky < kh; ky++) {
      const src = (oc * kh + ky) * rowLen;
      const dst = ky * pairs * ocp * 2 + oc * 2;
      for (let k = 0; k < rowLen; k++) out[dst + (k >> 1) * ocp * 2 + (k & 1)] = stored(f, src + k);
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
  return packGemm16Rows({ ...f, bytes: rows }, outC, k);
}

/**
 * Scratch bytes the SIMD kernels widen 8-bit weights into (int16 w - w_zp, per call or per
 * panel; assembly/q8/gemm.ts, gemm16.ts, dwconv.ts), 16-byte multiples
 */
export const gemmScratchBytes = (k: number) => roundUp(k, 8) * 8;
export const gemm16ScratchBytes = (k: number) => Math.ceil(k / 2) * 32;
export const depthwiseScratchBytes = (taps: number, c: number) => {
  const cp = roundUp(c, 8);
  return taps * cp * 2 + Math.ceil(taps / 2) * cp * 4 + cp * 4;
};

/** int32 array padded with zeros */
export function packInt32(values: ArrayLike<number>, padded: number): Uint8Array {
  const out = new Int32Array(padded);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return new Uint8Array(out.buffer);
}
