/**
 * TFLite's reference fixed-point softmax for uint8/int8 (reference/softmax.h with gemmlowp's
 * exp_on_negative_values and one_over_one_plus_x_for_x_in_0_1), and its Prepare-time
 * parameters (PreprocessSoftmaxScaling, CalculateInputRadius). The kernel in
 * assembly/q8/softmax.ts is the same computation; this one serves the host and the reference.
 */
import {
  INT32_MAX,
  INT32_MIN,
  quantizeMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul as mul,
} from './fixedpoint.js';

/** Q5.26 for the scaled input differences, Q12.19 for the sum of exponentials */
export const SCALED_DIFF_INTEGER_BITS = 5;
export const ACCUMULATION_INTEGER_BITS = 12;

export interface SoftmaxParams {
  inputMultiplier: number;
  inputLeftShift: number;
  /** most negative input difference that still contributes (<= 0) */
  diffMin: number;
}

export function preprocessSoftmaxScaling(beta: number, inputScale: number, inputIntegerBits: number): { multiplier: number; leftShift: number } {
  const maxReal = 2 ** 31 - 1;
  const real = Math.min(Math.fround(beta) * Math.fround(inputScale) * 2 ** (31 - inputIntegerBits), maxReal);
  if (!(real > 1)) throw new RangeError(`softmax input multiplier ${real} must be > 1 (beta * input scale too small)`);
  const q = quantizeMultiplier(real);
  return { multiplier: q.multiplier, leftShift: q.shift };
}

export function calculateInputRadius(inputIntegerBits: number, inputLeftShift: number, totalSignedBits = 31): number {
  const maxInputRescaled = (((1 << inputIntegerBits) - 1) * 2 ** (totalSignedBits - inputIntegerBits)) / 2 ** inputLeftShift;
  return Math.floor(maxInputRescaled);
}

export function softmaxParams(beta: number, inputScale: number): SoftmaxParams {
  const { multiplier, leftShift } = preprocessSoftmaxScaling(beta, inputScale, SCALED_DIFF_INTEGER_BITS);
  return { inputMultiplier: multiplier, inputLeftShift: leftShift, diffMin: -calculateInputRadius(SCALED_DIFF_INTEGER_BITS, leftShift) };
}

/** RoundingDivideByPOT for a negative compile-time exponent; saturating shift for a positive one. */
function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x << exponent;
}

/** exp(x) for x in [-1/4, 0), Q0.31 in and out */
function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const constantTerm = 1895147668; // exp(-1/8)
  const constant1Over3 = 715827883;
  const x = (a + (1 << 28)) | 0;
  const x2 = mul(x, x);
  const x3 = mul(x2, x);
  const x4 = mul(x2, x2);
  const x4Over4 = saturatingRoundingMultiplyByPOT(x4, -2);
  const poly = saturatingRoundingMultiplyByPOT((mul((x4Over4 + x3) | 0, constant1Over3) + x2) | 0, -1);
  return (constantTerm + mul(constantTerm, (x + poly) | 0)) | 0;
}

/** gemmlowp exp_on_negative_values for a Q(integerBits) input, Q0.31 result */
export function expOnNegativeValues(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 1 << (fractionalBits - 2);
  const mask = oneQuarter - 1;
  const aModQuarterMinusOneQuarter = ((a & mask) - oneQuarter) | 0;
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(saturatingRoundingMultiplyByPOT(aModQuarterMinusOneQuarter, integerBits));
  const remainder = (aModQuarterMinusOneQuarter - a) | 0;
  const barrel: Array<[number, number]> = [
    [-2, 1672461947],
    [-1, 1302514674],
    [0, 790015084],
    [1, 290630308],
    [2, 39332535],
    [3, 720401],
    [4, 242],
  ];
  for (const [exponent, multiplier] of barrel) {
    if (integerBits > exponent) {
      const shiftAmount = fractionalBits + exponent;
      if (remainder & (1 << shiftAmount)) result = mul(result, multiplier);
    }
  }
  if (integerBits > 5) {
    const clamp = -(1 << (36 - integerBits));
    if (a < clamp) result = 0;
  }
  if (a === 0) result = INT32_MAX;
  return result;
}

/** gemmlowp one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out */
export function oneOverOnePlusXForXIn01(a: number): number {
  // RoundingHalfSum(a, One) with One = INT32_MAX
  const sum = a + INT32_MAX;
  const halfDenominator = Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
  const constant48Over17 = 1515870810; // Q2.29
  const constantNeg32Over17 = -1010580540;
  const oneQ2 = 1 << 29;
  let x = (constant48Over17 + mul(halfDenominator, constantNeg32Over17)) | 0;
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = mul(halfDenominator, x);
    const oneMinus = (oneQ2 - halfDenominatorTimesX) | 0;
    x = (x + saturatingRoundingMultiplyByPOT(mul(x, oneMinus), 2)) | 0;
  }
  // Rescale<0>(ExactMulByPot<-1>(x)): Q1.30 -> Q0.31 is a saturating left shift by 1
  return saturatingRoundingMultiplyByPOT(x, 1);
}

/** TFLite GetReciprocal */
export function getReciprocal(x: number, xIntegerDigits: number): { reciprocal: number; numBitsOverUnit: number } {
  const headroomPlusOne = Math.clz32(x);
  const numBitsOverUnit = xIntegerDigits - headroomPlusOne;
  const shiftedSumMinusOne = ((x << headroomPlusOne) - INT32_MIN) | 0; // (u32(x) << h) - 2^31, as int32
  return { reciprocal: oneOverOnePlusXForXIn01(shiftedSumMinusOne), numBitsOverUnit };
}

/**
 * One softmax row. `input` holds the raw quantized values of either dtype (only differences
 * matter); the result is written as raw values of the output dtype: uint8 [0, 255] when
 * outMin = 0, int8 when outMin = -128.
 */
export function softmaxRow(input: ArrayLike<number>, p: SoftmaxParams, outMin: number, out: { [i: number]: number; length: number }): void {
  const n = input.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (input[i] > max) max = input[i];
  let sumOfExps = 0;
  const exps = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const diff = input[i] - max;
    if (diff >= p.diffMin) {
      const rescaled = mul(Math.imul(diff, 2 ** p.inputLeftShift | 0), p.inputMultiplier);
      exps[i] = expOnNegativeValues(rescaled, SCALED_DIFF_INTEGER_BITS);
      sumOfExps = (sumOfExps + saturatingRoundingMultiplyByPOT(exps[i], -ACCUMULATION_INTEGER_BITS)) | 0;
    }
  }
  const { reciprocal, numBitsOverUnit } = getReciprocal(sumOfExps, ACCUMULATION_INTEGER_BITS);
  const exponent = numBitsOverUnit + 31 - 8;
  for (let i = 0; i < n; i++) {
    const diff = input[i] - max;
    if (diff >= p.diffMin) {
      const unsat = roundingDivideByPOT(mul(reciprocal, exps[i]), exponent);
      out[i] = Math.max(outMin, Math.min(outMin + 255, unsat + outMin));
    } else {
      out[i] = outMin;
    }
  }
}
