/**
 * Runs a prepared shape op (PAD, MEAN, CONCATENATION) with any number of activation inputs:
 * RunPointers.inputs / outputs as the runtime passes them, the bytes after every input set to
 * garbage and the 64 bytes after the output guarded, so an overrun shows.
 */
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../../../src/ops/types.js';
import { TestHeap } from '../../helpers/kernels.js';
import type { DType } from '../../../src/model/ir.js';

const GUARD = 0x5a;

export function runMulti(k: Kernels, prepared: PreparedOp, inputs: (Int8Array | Float32Array)[], outBytes: number) {
  const heap = new TestHeap(k);
  const constants = prepared.constants.map((c) => heap.put(c));
  const inPtrs = inputs.map((x) => {
    const ptr = heap.put(x);
    new Uint8Array(k.memory.buffer, ptr + x.byteLength, 64).fill(0xa5);
    return ptr;
  });
  const outPtr = heap.alloc(outBytes);
  const scratch = heap.alloc(prepared.scratchBytes);
  new Uint8Array(k.memory.buffer, outPtr, outBytes + 64).fill(GUARD);
  const pointers: RunPointers = { input: inPtrs[0], output: outPtr, inputs: inPtrs, outputs: [outPtr], constants, scratch };
  prepared.run(k.exports, pointers);
  const out = new Uint8Array(k.memory.buffer, outPtr, outBytes).slice();
  const overrun = new Uint8Array(k.memory.buffer, outPtr + outBytes, 64).some((b) => b !== GUARD);
  return { out, overrun };
}

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
