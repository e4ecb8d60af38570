/**
 * Runs a prepared multi-input op (ADD / MUL / LOGISTIC) in kernel memory: constants and each
 * activation input placed by a TestHeap, RunPointers with `inputs` (the lead's coming field) and
 * `input` = inputs[0], guard bytes after the output to catch overruns.
 */
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../../../src/ops/types.js';
import type { DType } from '../../../src/model/ir.js';
import { TestHeap } from '../../helpers/kernels.js';
import type { Raw } from '../../reference/elementwise.js';

const GUARD = 0x5a;

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

export function runOp(k: Kernels, prepared: PreparedOp, inputs: (Int8Array | Float32Array)[], outBytes: number) {
  const heap = new TestHeap(k);
  const constants = prepared.constants.map((c) => heap.put(c));
  const inputPtrs = inputs.map((x) => {
    const ptr = heap.put(x);
    // garbage after every input, so over-reads meet noise rather than zeros
    new Uint8Array(k.memory.buffer, ptr + x.byteLength, 64).fill(0xa5);
    return ptr;
  });
  const outPtr = heap.alloc(outBytes);
  const scratch = heap.alloc(prepared.scratchBytes);
  new Uint8Array(k.memory.buffer, outPtr, outBytes + 64).fill(GUARD);
  const p: RunPointers & { inputs: number[]; outputs: number[] } = {
    input: inputPtrs[0] ?? 0,
    output: outPtr,
    inputs: inputPtrs,
    outputs: [outPtr],
    constants,
    scratch,
  };
  prepared.run(k.exports, p);
  const out = new Uint8Array(k.memory.buffer, outPtr, outBytes).slice();
  const overrun = new Uint8Array(k.memory.buffer, outPtr + outBytes, 64).some((b) => b !== GUARD);
  return { out, overrun };
}
