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
