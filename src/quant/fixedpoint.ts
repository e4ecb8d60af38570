/**
 * TFLite's integer requantization arithmetic (quantization_util.cc, common.h, gemmlowp
 * fixedpoint.h) in exact JavaScript number arithmetic. Everything here is int32 semantics
 * (C's wrap-around where TFLite relies on it) and is shared by the host (multiplier
 * computation, packing) and the plain-loop reference used in tests.
 */

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

export interface QuantizedMultiplier {
  /** Q0.31 significand in [2^30, 2^31), or 0 */
  multiplier: number;
  /** power of two: positive = left shift, negative = right shift */
  shift: number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** std::frexp for finite positive/negative doubles: x = q * 2^e with |q| in [0.5, 1). */
export function frexp(x: number): { q: number; e: number } {
  if (x === 0 || !Number.isFinite(x)) return { q: x, e: 0 };
  f64[0] = x;
  let exp = (u32[1] >>> 20) & 0x7ff;
  if (exp === 0) {
    // subnormal: scale into the normal range first
    const r = frexp(x * 2 ** 64);
    return { q: r.q, e: r.e - 64 };
  }
  const e = exp - 1022;
  u32[1] = (u32[1] & 0x800fffff) | (1022 << 20);
  return { q: f64[0], e };
}

/** TFLite QuantizeMultiplier: double -> (Q31 significand, shift), with its edge-case fix-ups. */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (real === 0) return { multiplier: 0, shift: 0 };
  if (!Number.isFinite(real) || real < 0) throw new RangeError(`multiplier ${real} must be finite and >= 0`);
  let { q, e: shift } = frexp(real);
  // TfLiteRound = std::round (half away from zero); q > 0 here so floor(x + 0.5) is exact
  let qFixed = Math.floor(q * 2 ** 31 + 0.5);
  if (qFixed === 2 ** 31) {
    qFixed /= 2;
    shift++;
  }
  if (shift < -31) {
    shift = 0;
    qFixed = 0;
  }
  return { multiplier: qFixed, shift };
}

/**
 * floor((a * b + 2^30) / 2^31) exactly, for int32 a and b (b of either sign). Splits b into
 * 16-bit halves so every intermediate stays below 2^53.
 */
function highMulFloor(a: number, b: number): number {
  const bh = b >> 16; // signed
  const bl = b & 0xffff;
  const x = a * bh; // |x| <= 2^46
  const y = a * bl + 2 ** 30; // |y| < 2^48
  return Math.floor((x + Math.floor(y / 65536)) / 32768);
}

/**
 * gemmlowp SaturatingRoundingDoublingHighMul. The nudge-and-truncate definition equals
 * floor((a*b + 2^30) / 2^31) for every product (proved in test/quant); only -2^31 * -2^31
 * saturates.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  return highMulFloor(a, b);
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero, exponent in [0, 31]. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  const mask = exponent === 31 ? 0x7fffffff : (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite MultiplyByQuantizedMultiplier (double rounding), int32 wrap on the left shift as in C. */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(Math.imul(x, 2 ** left | 0), multiplier), right);
}

/** TFLite's float32 round: std::round on a float, i.e. half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/**
 * Per-tensor (uint8, and int8 FULLY_CONNECTED) real multiplier: the scale product is taken in
 * float32, then divided in double (TFLite GetQuantizedConvolutionMultipler).
 */
export function perTensorRealMultiplier(inputScale: number, filterScale: number, outputScale: number): number {
  return Math.fround(Math.fround(inputScale) * Math.fround(filterScale)) / Math.fround(outputScale);
}

/** Per-channel int8 conv/depthwise multiplier: all in double (PopulateConvolutionQuantizationParams). */
export function perChannelRealMultiplier(inputScale: number, filterScale: number, outputScale: number): number {
  return (Math.fround(inputScale) * Math.fround(filterScale)) / Math.fround(outputScale);
}

export type ActivationName = 'none' | 'relu' | 'relu6' | 'relu_n1_to_1';

/**
 * TFLite CalculateActivationRangeQuantized in the tensor's own integer range [qmin, qmax]:
 * quantize(f) = zp + round(f / scale) with the division in float32.
 */
export function activationRange(act: ActivationName, scale: number, zeroPoint: number, qmin: number, qmax: number): { min: number; max: number } {
  const s = Math.fround(scale);
  const quantize = (f: number) => zeroPoint + roundHalfAway(Math.fround(f / s));
  switch (act) {
    case 'none':
      return { min: qmin, max: qmax };
    case 'relu':
      return { min: Math.max(qmin, quantize(0)), max: qmax };
    case 'relu6':
      return { min: Math.max(qmin, quantize(0)), max: Math.min(qmax, quantize(6)) };
    case 'relu_n1_to_1':
      return { min: Math.max(qmin, quantize(-1)), max: Math.min(qmax, quantize(1)) };
  }
}

export const dtypeRange = (dtype: 'uint8' | 'int8') => (dtype === 'uint8' ? { qmin: 0, qmax: 255 } : { qmin: -128, qmax: 127 });
