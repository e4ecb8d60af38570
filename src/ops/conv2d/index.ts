/** CONV_2D: one prepare for every dtype (float32 kernels or the int8-stored quantized ones). */
import type { Conv2DOp } from '../../model/ir.js';
import type { PreparedOp } from '../types.js';
import { checkFloatOp } from '../f32-common.js';
import { prepareConv as prepareConvF32 } from './f32.js';
import { prepareConv as prepareConvQ8 } from './q8.js';

export function prepareConv2d(op: Conv2DOp): PreparedOp {
  return op.input.dtype === 'float32' ? prepareConvF32(op, checkFloatOp(op)) : prepareConvQ8(op);
}
