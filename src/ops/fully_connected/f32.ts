/** FULLY_CONNECTED as an f32 GEMM. */
import type { FullyConnectedOp } from '../../model/ir.js';
import { sizeOf } from '../../model/ir.js';
import { unsupportedModel } from '../../errors.js';
import type { PreparedOp } from '../types.js';
import { floatBias, floatWeights, gemmOp } from '../f32-common.js';

export function prepareFullyConnected(op: FullyConnectedOp, where: string): PreparedOp {
  const w = floatWeights(op.filter, 2, where);
  const [N, K] = op.filter.shape;
  const inSize = sizeOf(op.input.shape);
  const inLast = op.input.shape[op.input.shape.length - 1];
  if (inLast !== K || inSize % K !== 0) {
    throw unsupportedModel(`${where}: input shape [${op.input.shape}] does not end in the filter's ${K} inputs`);
  }
  const M = inSize / K; // rows (batch); 1 for MobileNet
  if (sizeOf(op.output.shape) !== M * N || op.output.shape[op.output.shape.length - 1] !== N) {
    throw unsupportedModel(`${where}: output shape [${op.output.shape}] must hold ${M} x ${N} values`);
  }
  const bias = floatBias(op.bias, N, where);
  return gemmOp('f32_gemm', M, K, N, w, bias, op.activation, where);
}
