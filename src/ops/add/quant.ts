/**
 * Per-tensor quantization checks shared by ADD / MUL / LOGISTIC.
 * TODO(lead): these mirror tensorQuant / storedZp / the activation range of src/ops/q8/index.ts,
 * which are not exported yet; swap them for the q8-common ones when those land.
 */
import { invalidModel, unsupportedModel } from '../../errors.js';
import type { Activation, TensorInfo } from '../../model/ir.js';
import { checkQuantScale } from '../../model/validate.js';
import { activationRange, dtypeRange } from '../../quant/fixedpoint.js';

export type QDType = 'uint8' | 'int8';

export interface ElementQuant {
  dtype: QDType;
  /** the scale as TFLite holds it: float32 */
  scale: number;
  /** the file's (raw) zero point */
  zeroPoint: number;
  /** the zero point in int8 storage (uint8 shifted by -128) */
  storedZp: number;
}

export const isQuantized = (dtype: string): dtype is QDType => dtype === 'uint8' || dtype === 'int8';

/** raw uint8/int8 value -> its int8 storage */
export const toStoredValue = (dtype: QDType, v: number) => (dtype === 'uint8' ? v - 128 : v);

export function elementQuant(t: TensorInfo, what: string): ElementQuant {
  if (!isQuantized(t.dtype)) throw unsupportedModel(`${what} tensor '${t.name}' is ${t.dtype}, expected uint8 or int8`);
  const q = t.quant;
  if (!q || q.scale.length === 0 || q.zeroPoint.length === 0) throw invalidModel(`${what} tensor '${t.name}' (${t.dtype}) has no quantization parameters`);
  if (q.scale.length !== 1 || q.zeroPoint.length !== 1) throw unsupportedModel(`${what} tensor '${t.name}' has per-channel quantization; only per-tensor is supported here`);
  checkQuantScale(q.scale[0], `${what} tensor '${t.name}'`);
  const { qmin, qmax } = dtypeRange(t.dtype);
  const zp = q.zeroPoint[0];
  if (!Number.isInteger(zp) || zp < qmin || zp > qmax) throw invalidModel(`${what} tensor '${t.name}' zero point ${zp} is outside the ${t.dtype} range`);
  return { dtype: t.dtype, scale: Math.fround(q.scale[0]), zeroPoint: zp, storedZp: toStoredValue(t.dtype, zp) };
}

/** the fused activation's clamp range in storage (int8) space */
export function storedActivationRange(activation: Activation, out: ElementQuant, what: string): { min: number; max: number } {
  if (!['none', 'relu', 'relu6', 'relu_n1_to_1'].includes(activation)) throw unsupportedModel(`${what}: activation '${activation}' is not supported`);
  const { qmin, qmax } = dtypeRange(out.dtype);
  const r = activationRange(activation, out.scale, out.zeroPoint, qmin, qmax);
  if (r.min > r.max) throw unsupportedModel(`${what}: activation '${activation}' gives an empty output range [${r.min}, ${r.max}]`);
  return { min: toStoredValue(out.dtype, r.min), max: toStoredValue(out.dtype, r.max) };
}

/** a constant operand's values checked against its tensor, in int8 storage */
export function storedConstant(t: TensorInfo, what: string): Int8Array | Float32Array {
  const c = t.constant!;
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (c.length !== n) throw invalidModel(`${what} constant '${t.name}' has ${c.length} values, shape [${t.shape}] needs ${n}`);
  if (t.dtype === 'float32') {
    if (!(c instanceof Float32Array)) throw invalidModel(`${what} constant '${t.name}' is float32 but holds ${c.constructor.name} values`);
    return c;
  }
  const expected = t.dtype === 'uint8' ? Uint8Array : Int8Array;
  if (!(c instanceof expected)) throw invalidModel(`${what} constant '${t.name}' is ${t.dtype} but holds ${c.constructor.name} values`);
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) out[i] = toStoredValue(t.dtype, c[i]);
  return out;
}
