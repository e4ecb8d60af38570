/** AVERAGE_POOL_2D: one prepare for every dtype. */
import type { AveragePool2DOp } from '../../model/ir.js';
import type { PreparedOp } from '../types.js';
import { checkFloatOp } from '../f32-common.js';
import { prepareAvgPool as prepareF32 } from './f32.js';
import { prepareAveragePool as prepareQ8 } from './q8.js';

export function prepareAveragePool2d(op: AveragePool2DOp): PreparedOp {
  return op.input.dtype === 'float32' ? prepareF32(op, checkFloatOp(op)) : prepareQ8(op);
}
