/** SOFTMAX: one prepare for every dtype. */
import type { SoftmaxOp } from '../../model/ir.js';
import type { PreparedOp } from '../types.js';
import { checkFloatOp } from '../f32-common.js';
import { prepareSoftmax as prepareF32 } from './f32.js';
import { prepareSoftmax as prepareQ8 } from './q8.js';

export function prepareSoftmax(op: SoftmaxOp): PreparedOp {
  return op.input.dtype === 'float32' ? prepareF32(op, checkFloatOp(op)) : prepareQ8(op);
}
