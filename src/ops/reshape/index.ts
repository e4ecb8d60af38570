/**
 * RESHAPE / SQUEEZE: the planner gives the output the input's bytes (no step runs); this
 * prepare is for a caller that runs the op alone, and copies when the buffers differ.
 */
import type { ReshapeOp } from '../../model/ir.js';
import { bytesPerElement, sizeOf } from '../../model/ir.js';
import { invalidModel } from '../../errors.js';
import type { PreparedOp } from '../types.js';

export function prepareReshape(op: ReshapeOp): PreparedOp {
  const size = sizeOf(op.input.shape);
  if (sizeOf(op.output.shape) !== size || op.input.dtype !== op.output.dtype) {
    throw invalidModel(`reshape from ${op.input.dtype}[${op.input.shape}] to ${op.output.dtype}[${op.output.shape}] changes the size or dtype`);
  }
  const byteLength = size * bytesPerElement(op.input.dtype);
  return {
    kernel: 'reshape',
    constants: [],
    scratchBytes: 0,
    macs: 0,
    run(k, p) {
      if (p.input !== p.output) new Uint8Array(k.memory.buffer).copyWithin(p.output, p.input, p.input + byteLength);
    },
  };
}
