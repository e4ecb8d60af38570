/** AVERAGE_POOL_2D, float32. */
import type { AveragePool2DOp } from '../../model/ir.js';
import { unsupportedModel } from '../../errors.js';
import type { PreparedOp } from '../types.js';
import { activationRange, checkStrides, geometry, nhwc } from '../f32-common.js';

export function prepareAvgPool(op: AveragePool2DOp, where: string): PreparedOp {
  checkStrides(op.strides, where);
  const [inH, inW, C] = nhwc(op.input, 'input', where);
  const [outH, outW, outC] = nhwc(op.output, 'output', where);
  if (outC !== C) throw unsupportedModel(`${where}: output has ${outC} channels, input has ${C}`);
  const fs = op.filterSize;
  if (!Array.isArray(fs) || fs.length !== 2 || fs.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw unsupportedModel(`${where}: filter size [${fs}] must be two positive integers`);
  }
  const [KH, KW] = fs;
  const { padTop, padLeft } = geometry(inH, inW, KH, KW, op.strides, op.padding, outH, outW, where);
  const [lo, hi] = activationRange(op.activation, where);
  const [sH, sW] = op.strides;
  return {
    kernel: 'f32_avgpool',
    constants: [],
    scratchBytes: 0,
    macs: outH * outW * C * KH * KW,
    run(k, p) {
      k.f32_avgpool(p.input, p.output, inH, inW, C, outH, outW, KH, KW, sH, sW, padTop, padLeft, lo, hi);
    },
  };
}
