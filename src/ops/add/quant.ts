/**
 * Quantization checks of ADD / MUL / LOGISTIC on top of src/ops/q8-common.ts: the per-tensor
 * parameters with the float32 scale TFLite computes with and the stored zero point, the
 * activation range with the op named, and constant operands in int8 storage.
 */
import { invalidModel } from '../../errors.js';
import type { Activation, TensorInfo } from '../../model/ir.js';
import { isQ, storedActivationRange as q8ActivationRange, storedZp, tensorQuant, type QDType } from '../q8-common.js';

export type { QDType };
export const isQuantized = isQ;

export interface ElementQuant {
  dtype: QDType;
  /** the scale as TFLite holds it: float32 */
  scale: number;
  /** the file's (raw) zero point */
  zeroPoint: number;
  /** the zero point in int8 storage (uint8 shifted by -128) */
  storedZp: number;
}

/** raw uint8/int8 value -> its int8 storage */
export const toStoredValue = storedZp;

export function elementQuant(t: TensorInfo, what: string): ElementQuant {
  const q = tensorQuant(t, what);
  return { dtype: q.dtype, scale: Math.fround(q.scale), zeroPoint: q.zeroPoint, storedZp: storedZp(q.dtype, q.zeroPoint) };
}

/** the fused activation's clamp range in storage (int8) space; errors name the op */
export function storedActivationRange(activation: Activation, out: ElementQuant, what: string): { min: number; max: number } {
  try {
    return q8ActivationRange({ activation }, out);
  } catch (e) {
    if (e instanceof Error) e.message = `${what}: ${e.message}`;
    throw e;
  }
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
  for (let i = 0; i < n; i++) out[i] = storedZp(t.dtype, c[i]);
  return out;
}
