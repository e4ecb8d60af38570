/** FULLY_CONNECTED: one prepare for every dtype. */
import type { FullyConnectedOp } from '../../model/ir.js';
import type { PreparedOp } from '../types.js';
import { checkFloatOp } from '../f32-common.js';
import { prepareFullyConnected as prepareF32 } from './f32.js';
import { prepareFullyConnected as prepareQ8 } from './q8.js';

export function prepareFullyConnected(op: FullyConnectedOp): PreparedOp {
  return op.input.dtype === 'float32' ? prepareF32(op, checkFloatOp(op)) : prepareQ8(op);
}
