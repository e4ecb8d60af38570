/**
 * Raw <-> arena conversions for the PAD / MEAN / CONCATENATION tests; ops run through
 * test/helpers/run-op.ts.
 */
import type { DType } from '../../../src/model/ir.js';

export { runOp as runMulti } from '../../helpers/run-op.js';

/** raw values -> the arena's bytes (uint8 stored shifted by -128) */
export function stored(raw: ArrayLike<number>, dtype: DType): Int8Array | Float32Array {
  if (dtype === 'float32') return Float32Array.from(raw);
  return Int8Array.from(raw, (v) => (dtype === 'uint8' ? v - 128 : v));
}

/** arena bytes -> raw values */
export function raw(bytes: Uint8Array, dtype: DType): number[] {
  if (dtype === 'float32') return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
  return Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), (v) => (dtype === 'uint8' ? v + 128 : v));
}
