/** SOFTMAX, float32. */
import type { SoftmaxOp } from '../../model/ir.js';
import { sizeOf } from '../../model/ir.js';
import { unsupportedModel } from '../../errors.js';
import type { PreparedOp } from '../types.js';

export function prepareSoftmax(op: SoftmaxOp, where: string): PreparedOp {
  const n = op.input.shape[op.input.shape.length - 1];
  const size = sizeOf(op.input.shape);
  if (sizeOf(op.output.shape) !== size) {
    throw unsupportedModel(`${where}: output shape [${op.output.shape}] differs in size from input [${op.input.shape}]`);
  }
  if (typeof op.beta !== 'number' || !Number.isFinite(op.beta)) throw unsupportedModel(`${where}: beta ${op.beta} must be a finite number`);
  const rows = size / n;
  const beta = op.beta;
  return {
    kernel: 'f32_softmax',
    constants: [],
    scratchBytes: 0,
    macs: size,
    run(k, p) {
      k.f32_softmax(p.input, p.output, rows, n, beta);
    },
  };
}
