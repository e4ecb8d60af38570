/**
 * Runs a prepared op alone in kernel memory, as the runtime would: its constants and every
 * activation input placed by a TestHeap, RunPointers with `inputs` / `outputs` (and `input` /
 * `output` = the first of each), garbage after every input so over-reads meet noise rather than
 * zeros, and guard bytes after the output so an overrun shows.
 */
import type { Kernels } from '../../src/runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../../src/ops/types.js';
import { TestHeap } from './kernels.js';

const GUARD = 0x5a;

export function runOp(k: Kernels, prepared: PreparedOp, inputs: (Int8Array | Float32Array)[], outBytes: number): { out: Uint8Array; overrun: boolean } {
  const heap = new TestHeap(k);
  const constants = prepared.constants.map((c) => heap.put(c));
  const inputPtrs = inputs.map((x) => {
    const ptr = heap.put(x);
    new Uint8Array(k.memory.buffer, ptr + x.byteLength, 64).fill(0xa5);
    return ptr;
  });
  const outPtr = heap.alloc(outBytes);
  const scratch = heap.alloc(prepared.scratchBytes);
  new Uint8Array(k.memory.buffer, outPtr, outBytes + 64).fill(GUARD);
  const p: RunPointers = { input: inputPtrs[0] ?? 0, output: outPtr, inputs: inputPtrs, outputs: [outPtr], constants, scratch };
  prepared.run(k.exports, p);
  const out = new Uint8Array(k.memory.buffer, outPtr, outBytes).slice();
  const overrun = new Uint8Array(k.memory.buffer, outPtr + outBytes, 64).some((b) => b !== GUARD);
  return { out, overrun };
}
