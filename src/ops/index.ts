/**
 * Chooses the prepared form of each IR op by dtype. Float ops go to the f32 kernels, uint8 and
 * int8 ops (and the QUANTIZE / DEQUANTIZE edges) to the quantized ones.
 */
import type { Op } from '../model/ir.js';
import type { PreparedOp } from './types.js';
import { prepareF32 } from './f32/index.js';
import { prepareFusedF32 } from './f32/fused.js';
import { prepareQ8, prepareFusedQ8 } from './q8/index.js';

export function prepareOp(op: Op): PreparedOp {
  if (op.op === 'quantize' || op.op === 'dequantize') return prepareQ8(op);
  return op.input.dtype === 'float32' ? prepareF32(op) : prepareQ8(op);
}

/**
 * A depthwise conv followed by a pointwise (1x1) conv can run as one step whose depthwise
 * output never leaves cache. Returns null when no fused kernel applies; the schedule then
 * runs the two ops separately.
 */
export function prepareFusedPair(first: Op, second: Op): PreparedOp | null {
  if (first.input.dtype === 'float32') return prepareFusedF32(first, second);
  return prepareFusedQ8(first, second);
}
