/**
 * Constant layouts streamed by the q8 kernels (assembly/q8/*). Weights are stored as int16
 * (w - w_zp), which removes the weight zero point from the inner loops and feeds
 * i32x4.dot_i16x8_s / extmul directly.
 */
import type { QuantizedMultiplier } from './fixedpoint.js';

/** bytes per group of 4 channels in a requantization block (assembly/q8/requant.ts) */
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

/** GEMM weights (assembly/q8/gemm.ts): panels of 4 output columns, blocks of 8 k: [c0 k0..7][c1][c2][c3], from row-major [n][k] raw weights centred by `wzp` while copying */
export function packGemmRows(w: Float32Array | Uint8Array | Int8Array, wzp: number, n: number, k: number): Uint8Array {
  const kp = roundUp(k, 8);
  // two int16 weights per int32 store (little-endian: the even k in the low half): half the
  // stores of a per-weight loop; packing is most of a model's load time (bench/STARTUP.md)
  const out = new Int32Array((Math.ceil(n / 4) * kp * 4) / 2);
  const kEven = k & ~1;
  for (let c = 0; c < n; c++) {
    const panel = ((c >> 2) * kp * 4 + (c & 3) * 8) >> 1;
    const row = c * k;
    for (let kk = 0; kk < kEven; kk += 2) out[panel + (kk >> 3) * 16 + ((kk & 7) >> 1)] = ((w[row + kk] - wzp) & 0xffff) | ((w[row + kk + 1] - wzp) << 16);
    if (k & 1) out[panel + (kEven >> 3) * 16 + ((kEven & 7) >> 1)] = (w[row + kEven] - wzp) & 0xffff;
  }
  return new Uint8Array(out.buffer);
}


/**
 * GEMM weights for int16 activations (assembly/q8/gemm16.ts): panels of 8 output columns, one
 * 32-byte block per pair of k: [c0 k k+1][c1 k k+1]...[c7 k k+1], K rounded up to 2 and N to 8
 * with zeros.
 */
export function packGemm16Weights(w: (n: number, k: number) => number, n: number, k: number): Uint8Array {
  const kPairs = Math.ceil(k / 2);
  const panels = Math.ceil(n / 8);
  const out = new Int16Array(panels * kPairs * 16);
  for (let c = 0; c < n; c++) {
    const panel = (c >> 3) * kPairs * 16;
    for (let kk = 0; kk < k; kk++) out[panel + (kk >> 1) * 16 + (c & 7) * 2 + (kk & 1)] = w(c, kk);
  }
  return new Uint8Array(out.buffer);
}

/** packGemm16Weights straight from row-major [n][k] raw weights, centring by `wzp` while copying (no per-weight call) */
export function packGemm16Rows(w: Float32Array | Uint8Array | Int8Array, wzp: number, n: number, k: number): Uint8Array {
  const kPairs = Math.ceil(k / 2);
  // one int32 store per pair of k (little-endian: k in the low half, k + 1 in the high half),
  // as the 32-byte blocks hold them: half the stores of a per-weight loop
  const out = new Int32Array(Math.ceil(n / 8) * kPairs * 8);
  const kEven = k & ~1;
  for (let c = 0; c < n; c++) {
    let at = (c >> 3) * kPairs * 8 + (c & 7);
    const row = c * k;
    const end = row + kEven;
    for (let i = row; i < end; i += 2, at += 8) out[at] = ((w[i] - wzp) & 0xffff) | ((w[i + 1] - wzp) << 16);
    if (k & 1) out[at] = (w[end] - wzp) & 0xffff;
  }
  return new Uint8Array(out.buffer);
}

/**
 * depthwise weights: [tap][C rounded up to 8], then consecutive taps paired per channel for
 * dot_i16x8: [ceil(taps/2)][C rounded up to 8][2], an odd last tap paired with a zero weight
 */
export function packDepthwiseWeights(w: (tap: number, ch: number) => number, taps: number, c: number): Uint8Array {
  const cp = roundUp(c, 8);
  const pairs = Math.ceil(taps / 2);
  const out = new Int16Array(taps * cp + pairs * cp * 2);
  const paired = taps * cp;
  for (let t = 0; t < taps; t++)
    for (let ch = 0; ch < c; ch++) {
      out[t * cp + ch] = w(t, ch);
      if (t < pairs * 2) out[paired + ((t >> 1) * cp + ch) * 2 + (t & 1)] = w(t, ch);
    }
  return new Uint8Array(out.buffer);
}

/**
 * packDepthwiseWeights straight from the raw [taps][C] filter data (TFLite's [1, KH, KW, C]),
 * centring by `wzp` while copying: no closure per weight and no widened copy of the filter
 */
export function packDepthwiseRows(w: Float32Array | Uint8Array | Int8Array, wzp: number, taps: number, c: number): Uint8Array {
  const cp = roundUp(c, 8);
  const pairs = Math.ceil(taps / 2);
  const out = new Int16Array(taps * cp + pairs * cp * 2);
  const paired = taps * cp;
  for (let t = 0; t < taps; t++) {
    const row = t * c;
    const plain = t * cp;
    const pair = paired + (t >> 1) * cp * 2 + (t & 1);
    for (let ch = 0; ch < c; ch++) {
      const v = w[row + ch] - wzp;
      out[plain + ch] = v;
      out[pair + ch * 2] = v;
    }
  }
  return new Uint8Array(out.buffer);
}

/**
 * full-conv weights: per filter row, pairs of consecutive (kx, ic) taps, each pair for every
 * output channel: [ky][pair][outC rounded up to 8][2]; the odd last tap's partner is zero
 */
export function packConvWeights(w: (oc: number, ky: number, kx: number, ic: number) => number, outC: number, kh: number, kw: number, inC: number): Uint8Array {
  const ocp = roundUp(outC, 8);
  const rowLen = kw * inC;
  const pairs = Math.ceil(rowLen / 2);
  const out = new Int16Array(kh * pairs * ocp * 2);
  for (let ky = 0; ky < kh; ky++)
    for (let k = 0; k < rowLen; k++)
      for (let oc = 0; oc < outC; oc++) {
        out[((ky * pairs + (k >> 1)) * ocp + oc) * 2 + (k & 1)] = w(oc, ky, Math.floor(k / inC), k % inC);
      }
  return new Uint8Array(out.buffer);
}

/** int32 array padded with zeros */
export function packInt32(values: ArrayLike<number>, padded: number): Uint8Array {
  const out = new Int32Array(padded);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return new Uint8Array(out.buffer);
}
