/** SOFTMAX, quantized (TFLite's fixed-point exp table, q8_softmax). */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { sizeOf, type SoftmaxOp } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { softmaxParams } from '../../quant/softmax.js';
import { quantizedInOut } from '../q8-common.js';

export function prepareSoftmax(op: SoftmaxOp): PreparedOp {
  const { inQ, outQ } = quantizedInOut(op);
  if (Math.fround(outQ.scale) !== Math.fround(1 / 256) || outQ.zeroPoint !== (outQ.dtype === 'uint8' ? 0 : -128)) {
    throw unsupportedModel(`softmax output must have scale 1/256 and zero point ${outQ.dtype === 'uint8' ? 0 : -128} (got ${outQ.scale}, ${outQ.zeroPoint})`);
  }
  if (!(Number.isFinite(op.beta) && op.beta > 0)) throw invalidModel(`softmax beta ${op.beta} must be finite and > 0`);
  const shape = op.input.shape;
  if (shape.length === 0) throw invalidModel('softmax input has no dimensions');
  const depth = shape[shape.length - 1];
  const total = sizeOf(shape);
  if (sizeOf(op.output.shape) !== total) throw invalidModel('softmax output size differs from its input');
  let params;
  try {
    params = softmaxParams(op.beta, inQ.scale);
  } catch (e) {
    throw unsupportedModel(`softmax: ${(e as Error).message}`);
  }
  const rows = total / depth;
  return {
    kernel: 'q8_softmax',
    constants: [],
    scratchBytes: 0,
    macs: total,
    run(kx: KernelExports, p: RunPointers) {
      for (let r = 0; r < rows; r++) {
        kx.q8_softmax(p.input + r * depth, depth, params.inputMultiplier, params.inputLeftShift, params.diffMin, p.output + r * depth);
      }
    },
  };
}
