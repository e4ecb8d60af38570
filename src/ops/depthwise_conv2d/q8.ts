/** DEPTHWISE_CONV_2D on the q8 kernels (q8_dwconv). */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { type DepthwiseConv2DOp } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { depthwiseScratchBytes, packDepthwiseRows, packRequantFor, roundUp } from '../../quant/pack.js';
import { checkBias, filterInfo, geometry, requantEpilogue, quantizedInOut } from '../q8-common.js';

export function depthwiseParts(op: DepthwiseConv2DOp) {
  const { inQ, outQ } = quantizedInOut(op, 4);
  if (op.filter.shape.length !== 4 || op.filter.shape[0] !== 1) throw invalidModel(`depthwise filter shape [${op.filter.shape}] must be [1, KH, KW, C]`);
  const [, kh, kw, fc] = op.filter.shape;
  const c = op.input.shape[3];
  if (fc !== c) throw unsupportedModel(`depthwise filter has ${fc} channels for ${c} input channels: only depth multiplier 1 is supported`);
  if (op.output.shape[3] !== c) throw invalidModel(`output has ${op.output.shape[3]} channels, expected ${c}`);
  const g = geometry(op, kh, kw);
  const f = filterInfo(op.filter, inQ, outQ, c, 3, false);
  const bias = checkBias(op.bias, c);
  const { act, xzp, yzp, mode } = requantEpilogue(op, inQ, outQ, f.multipliers);
  const taps = kh * kw;
  const cp = roundUp(c, 8);
  // packed and summed per channel in one pass over the raw filter (packing is most of the load time)
  const sums = new Int32Array(c);
  const weights = packDepthwiseRows(f.stored, taps, c, sums);
  // one bias, with the input zero point folded in (the kernel reads x_zp for taps outside the image)
  const folded = new Int32Array(cp);
  for (let ch = 0; ch < c; ch++) folded[ch] = (bias[ch] - Math.imul(xzp, sums[ch])) | 0;
  const constants = [weights, new Uint8Array(folded.buffer), packRequantFor(f.multipliers, cp, mode)];
  const wZp = f.stored.zp;
  return { c, kh, kw, g, act, xzp, yzp, mode, wZp, constants, macs: g.oh * g.ow * c * taps };
}

export function prepareDepthwise(op: DepthwiseConv2DOp): PreparedOp {
  const { c, kh, kw, g, act, xzp, yzp, mode, wZp, constants, macs } = depthwiseParts(op);
  return {
    kernel: 'q8_dwconv',
    constants,
    scratchBytes: depthwiseScratchBytes(kh * kw, c),
    macs,
    run(kx: KernelExports, p: RunPointers) {
      kx.q8_dwconv(p.input, g.h, g.w, c, p.constants[0], wZp, p.constants[1], p.constants[2], mode, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow, xzp, yzp, act.min, act.max, p.output, p.scratch);
    },
  };
}
