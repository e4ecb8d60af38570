/**
 * Plain-loop references of ADD, MUL and LOGISTIC on raw values (uint8 0..255 / int8 with the
 * file's zero points, or float32), straight from TFLite, independent of src/ops/add and
 * src/ops/logistic:
 *  - add.cc Prepare + reference_ops / integer_ops add.h AddElementwise, mul.cc + mul.h
 *    MulElementwise, BroadcastAdd4DSlow / BroadcastMul4DSlow index arithmetic;
 *  - activations.cc SigmoidPrepare (kReference and the default kGenericOptimized alike):
 *    8-bit LOGISTIC is PopulateLookupTable's float32 arithmetic, evaluated here per element.
 * Float results are float64 arithmetic on the float32 inputs.
 */
import type { Activation, BinaryOp, LogisticOp, TensorInfo } from '../../src/model/ir.js';
import {
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundHalfAway,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from '../../src/quant/fixedpoint.js';

export type Raw = Float32Array | Uint8Array | Int8Array;
const f32 = Math.fround;

const limits = (dtype: string) => (dtype === 'uint8' ? [0, 255] : [-128, 127]);

/** TFLite CalculateActivationRangeQuantized */
function quantizedActivation(act: Activation, scale: number, zp: number, dtype: string): [number, number] {
  const [qmin, qmax] = limits(dtype);
  const q = (v: number) => zp + roundHalfAway(f32(v / f32(scale)));
  if (act === 'relu') return [Math.max(qmin, q(0)), qmax];
  if (act === 'relu6') return [Math.max(qmin, q(0)), Math.min(qmax, q(6))];
  if (act === 'relu_n1_to_1') return [Math.max(qmin, q(-1)), Math.min(qmax, q(1))];
  return [qmin, qmax];
}

function floatActivation(v: number, act: Activation): number {
  if (act === 'relu') return Math.max(v, 0);
  if (act === 'relu6') return Math.min(Math.max(v, 0), 6);
  if (act === 'relu_n1_to_1') return Math.min(Math.max(v, -1), 1);
  return v;
}

const pad4 = (s: number[]) => [...new Array(4 - s.length).fill(1), ...s];

/** QuantizeMultiplierSmallerThanOneExp (TFLite CHECKs 0 < m < 1 and exponent <= 0) */
function smallerThanOne(m: number): { multiplier: number; shift: number } {
  if (!(m > 0 && m < 1)) throw new Error(`reference: multiplier ${m} not in (0, 1)`);
  const q = quantizeMultiplier(m);
  if (q.shift > 0) throw new Error(`reference: multiplier ${m} exponent > 0`);
  return q;
}

const qparams = (t: TensorInfo) => ({ scale: f32(t.quant!.scale[0]), zp: t.quant!.zeroPoint[0] });

/**
 * The op's output for raw inputs `a` and `b` (a constant operand's values are taken from its
 * tensor when the argument is omitted). Quantized: raw uint8/int8; float: Float64Array.
 */
export function refBinary(op: BinaryOp, a?: Raw, b?: Raw): Uint8Array | Int8Array | Float64Array {
  const [t1, t2] = op.inputs;
  const x1 = (a ?? t1.constant) as Raw;
  const x2 = (b ?? t2.constant) as Raw;
  const s1 = pad4(t1.shape), s2 = pad4(t2.shape), so = pad4(op.output.shape);
  const n = so.reduce((p, d) => p * d, 1);
  // BroadcastAdd4DSlow: NdArrayDesc strides, 0 along a stretched dimension
  const strides = (s: number[]) => {
    const st = [0, 0, 0, 0];
    let m = 1;
    for (let i = 3; i >= 0; i--) {
      st[i] = s[i] === 1 ? 0 : m;
      m *= s[i];
    }
    return st;
  };
  const st1 = strides(s1), st2 = strides(s2);
  const index = (o: number, st: number[]) => {
    let rem = o, idx = 0;
    for (let i = 3; i >= 0; i--) {
      const c = rem % so[i];
      rem = (rem - c) / so[i];
      idx += c * st[i];
    }
    return idx;
  };

  let element: (v1: number, v2: number) => number;
  const dtype = op.output.dtype;
  let out: Uint8Array | Int8Array | Float64Array;
  if (dtype === 'float32') {
    out = new Float64Array(n);
    element = (v1, v2) => floatActivation(op.op === 'add' ? v1 + v2 : v1 * v2, op.activation);
  } else {
    out = dtype === 'uint8' ? new Uint8Array(n) : new Int8Array(n);
    const q1 = qparams(t1), q2 = qparams(t2), qo = qparams(op.output);
    const [actMin, actMax] = quantizedActivation(op.activation, qo.scale, qo.zp, dtype);
    const clamp = (v: number) => Math.min(actMax, Math.max(actMin, v));
    if (op.op === 'add') {
      const leftShift = 20;
      const twiceMax = f32(2 * Math.max(q1.scale, q2.scale));
      const m1 = smallerThanOne(q1.scale / twiceMax);
      const m2 = smallerThanOne(q2.scale / twiceMax);
      const mo = smallerThanOne(twiceMax / f32((1 << leftShift) * qo.scale));
      // MultiplyByQuantizedMultiplierSmallerThanOneExp
      const scaleDown = (x: number, m: { multiplier: number; shift: number }) => roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, m.multiplier), -m.shift);
      element = (v1, v2) => {
        const in1 = -q1.zp + v1;
        const in2 = -q2.zp + v2;
        const shifted1 = in1 * (1 << leftShift);
        const shifted2 = in2 * (1 << leftShift);
        const rawSum = scaleDown(shifted1, m1) + scaleDown(shifted2, m2);
        return clamp(scaleDown(rawSum, mo) + qo.zp);
      };
    } else {
      const real = f32(f32(q1.scale * q2.scale) / qo.scale);
      const m = quantizeMultiplier(real);
      element = (v1, v2) => clamp(qo.zp + multiplyByQuantizedMultiplier((v1 - q1.zp) * (v2 - q2.zp), m.multiplier, m.shift));
    }
  }
  for (let o = 0; o < n; o++) out[o] = element(x1[index(o, st1)], x2[index(o, st2)]);
  return out;
}

/** LOGISTIC as TFLite's 8-bit kernels (LUT) and float kernel compute it */
export function refLogistic(op: LogisticOp, x: Raw): Uint8Array | Int8Array | Float64Array {
  const dtype = op.input.dtype;
  if (dtype === 'float32') return Float64Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
  const qi = qparams(op.input), qo = qparams(op.output);
  const [qmin, qmax] = limits(dtype);
  const out = dtype === 'uint8' ? new Uint8Array(x.length) : new Int8Array(x.length);
  const inverseScale = f32(1 / qo.scale);
  for (let i = 0; i < x.length; i++) {
    const dequantized = f32(qi.scale * (x[i] - qi.zp));
    const transformed = f32(1 / f32(1 + f32(Math.exp(-dequantized))));
    const rescaled = roundHalfAway(f32(transformed * inverseScale));
    out[i] = Math.max(Math.min(qmax, rescaled + qo.zp), qmin);
  }
  return out;
}

// ---- gemmlowp fixed point (fixedpoint.h) on int32 raw values, for refLogisticFixedPoint ----

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;
const highMul = saturatingRoundingDoublingHighMul;
/** SaturatingRoundingMultiplyByPOT<e>: e > 0 saturating left shift, e < 0 rounding right shift */
function mulByPOT(x: number, e: number): number {
  if (e < 0) return roundingDivideByPOT(x, -e);
  const threshold = 2 ** (31 - e) - 1;
  if (x > threshold) return I32_MAX;
  if (x < -threshold) return I32_MIN;
  return (x * 2 ** e) | 0;
}
/** Rescale<dst> of a value with `src` integer bits */
const rescaleBits = (x: number, src: number, dst: number) => mulByPOT(x, src - dst);

/** exp on [-1/4, 0), Q0.31 in and out */
function expOnInterval(a: number): number {
  const constantTerm = 1895147668; // exp(-1/8)
  const oneThird = 715827883;
  const x = (a + (1 << 28)) | 0; // + 1/8
  const x2 = highMul(x, x);
  const x3 = highMul(x2, x);
  const x4 = highMul(x2, x2);
  const x4Over4 = mulByPOT(x4, -2);
  const poly = mulByPOT((highMul((x4Over4 + x3) | 0, oneThird) + x2) | 0, -1);
  return (constantTerm + highMul(constantTerm, (x + poly) | 0)) | 0;
}

/** exp_on_negative_values for a value with `intBits` integer bits (<= 5: no clamp), Q0.31 out */
function expOnNegativeValues(a: number, intBits: number): number {
  const fracBits = 31 - intBits;
  const oneQuarter = 1 << (fracBits - 2);
  const aModQuarterMinusQuarter = ((a & (oneQuarter - 1)) - oneQuarter) | 0;
  let result = expOnInterval(rescaleBits(aModQuarterMinusQuarter, intBits, 0));
  const remainder = (aModQuarterMinusQuarter - a) | 0;
  const barrel: [number, number][] = [[-2, 1672461947], [-1, 1302514674], [0, 790015084], [1, 290630308], [2, 39332535], [3, 720401], [4, 242]];
  for (const [exponent, multiplier] of barrel) {
    if (intBits > exponent && remainder & (1 << (fracBits + exponent))) result = highMul(result, multiplier);
  }
  return a === 0 ? I32_MAX : result;
}

/** one_over_one_plus_x_for_x_in_0_1: Q0.31 in and out, Newton-Raphson in Q2.29 */
function oneOverOnePlusX(a: number): number {
  const sum = a + I32_MAX;
  const halfDenominator = Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2); // RoundingHalfSum(a, One)
  let x = (1515870810 + highMul(halfDenominator, -1010580540)) | 0; // 48/17 - 32/17 d
  const one = 1 << 29;
  for (let i = 0; i < 3; i++) {
    const oneMinus = (one - highMul(halfDenominator, x)) | 0;
    x = (x + rescaleBits(highMul(x, oneMinus), 4, 2)) | 0;
  }
  // ExactMulByPot<-1> keeps the raw value and drops one integer bit (Q2.29 -> Q1.30)
  return rescaleBits(x, 1, 0);
}

/** gemmlowp logistic of a Q4.27 value, Q0.31 result */
function fixedLogistic(a: number): number {
  if (a === 0) return 1 << 30;
  const positive = oneOverOnePlusX(expOnNegativeValues(-Math.abs(a) | 0, 4));
  return a > 0 ? positive : (I32_MAX - positive) | 0;
}

/**
 * The fixed-point 8-bit LOGISTIC (reference_integer_ops::Logistic for int8 as TFLite Micro
 * prepares it; the legacy reference_ops::Logistic for uint8): the input rescaled to Q4.27
 * (multiplier from scale * 2^27, CalculateInputRadius saturation), gemmlowp logistic, output
 * scale 1/256. Not what TFLite's interpreter runs (see refLogistic): for comparison only.
 */
export function refLogisticFixedPoint(dtype: 'uint8' | 'int8', scale: number, zp: number, x: ArrayLike<number>): Int32Array {
  const kInputIntegerBits = 4;
  const real = f32(scale) * 2 ** (31 - kInputIntegerBits);
  // std::frexp: real = q * 2^shift, q in [0.5, 1)
  let shift = Math.floor(Math.log2(real)) + 1;
  let q = real / 2 ** shift;
  if (q >= 1) { q /= 2; shift++; }
  if (q < 0.5) { q *= 2; shift--; }
  const multiplier = roundHalfAway(q * 2 ** 31);
  const radius = Math.floor((((1 << kInputIntegerBits) - 1) * 2 ** (31 - kInputIntegerBits)) / 2 ** shift);
  const [qmin, qmax] = limits(dtype);
  const out = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const centered = x[i] - zp;
    let y: number;
    if (centered <= -radius) y = qmin;
    else if (centered >= radius) y = qmax;
    else {
      const inQ4 = multiplyByQuantizedMultiplier(centered, multiplier, shift);
      const outQ23 = roundingDivideByPOT(fixedLogistic(inQ4), 31 - 8);
      y = Math.min(Math.max(outQ23 + (dtype === 'uint8' ? 0 : -128), qmin), qmax);
    }
    out[i] = y;
  }
  return out;
}
