/**
 * Raw <-> arena conversions for the ADD / MUL / LOGISTIC tests; ops run through
 * test/helpers/run-op.ts.
 */
import type { DType } from '../../../src/model/ir.js';
import type { Raw } from '../../reference/elementwise.js';

/** raw values -> arena bytes (uint8 shifted by -128) */
export function stored(raw: Raw, dtype: DType): Int8Array | Float32Array {
  if (dtype === 'float32') return raw as Float32Array;
  return Int8Array.from(raw, (v) => (dtype === 'uint8' ? v - 128 : v));
}

/** arena bytes -> raw values */
export function raw(bytes: Uint8Array, dtype: DType): Raw {
  if (dtype === 'float32') return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const s = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return dtype === 'uint8' ? Uint8Array.from(s, (v) => v + 128) : s.slice();
}

export { runOp } from '../../helpers/run-op.js';
