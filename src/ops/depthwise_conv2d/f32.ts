/** DEPTHWISE_CONV_2D on the f32 kernels (f32_dwconv). */
import type { DepthwiseConv2DOp } from '../../model/ir.js';
import { unsupportedModel } from '../../errors.js';
import type { PreparedOp } from '../types.js';
import { activationRange, bytes, checkNoDilation, checkStrides, floatBias, floatWeights, geometry, nhwc, packDepthwise, paddedBias } from '../f32-common.js';

export function prepareDepthwise(op: DepthwiseConv2DOp, where: string): PreparedOp {
  checkNoDilation(op, where);
  checkStrides(op.strides, where);
  const [inH, inW, C] = nhwc(op.input, 'input', where);
  const [outH, outW, outC] = nhwc(op.output, 'output', where);
  const w = floatWeights(op.filter, 4, where);
  const [one, KH, KW, FC] = op.filter.shape;
  if (one !== 1) throw unsupportedModel(`${where}: depthwise filter shape [${op.filter.shape}] must start with 1`);
  if (outC !== C || FC !== C) {
    throw unsupportedModel(`${where}: depth multiplier must be 1 (input ${C}, filter ${FC}, output ${outC} channels)`);
  }
  const bias = floatBias(op.bias, C, where);
  const { padTop, padLeft } = geometry(inH, inW, KH, KW, op.strides, op.padding, outH, outW, where);
  const [lo, hi] = activationRange(op.activation, where);
  const packed = packDepthwise(w, KH * KW, C);
  const b = paddedBias(bias, 4);
  const [sH, sW] = op.strides;
  return {
    kernel: 'f32_dwconv',
    constants: [bytes(packed), bytes(b)],
    scratchBytes: 0,
    macs: outH * outW * C * KH * KW,
    run(k, p) {
      k.f32_dwconv(p.input, p.constants[0], p.constants[1], p.output, inH, inW, C, outH, outW, KH, KW, sH, sW, padTop, padLeft, lo, hi);
    },
  };
}
