/** CONV_2D on the f32 kernels: pointwise as a GEMM, any other window through f32_convgemm. */
import type { Conv2DOp } from '../../model/ir.js';
import { unsupportedModel } from '../../errors.js';
import type { PreparedOp } from '../types.js';
import { activationRange, bytes, checkNoDilation, checkStrides, floatBias, floatWeights, gemmBlockPixels, gemmOp, geometry, nhwc, packGemmB, paddedBias, roundUp } from '../f32-common.js';

export function prepareConv(op: Conv2DOp, where: string): PreparedOp {
  checkNoDilation(op, where);
  checkStrides(op.strides, where);
  const [inH, inW, inC] = nhwc(op.input, 'input', where);
  const [outH, outW, outC] = nhwc(op.output, 'output', where);
  const w = floatWeights(op.filter, 4, where);
  const [O, KH, KW, I] = op.filter.shape;
  if (I !== inC) throw unsupportedModel(`${where}: filter has ${I} input channels, input has ${inC}`);
  if (O !== outC) throw unsupportedModel(`${where}: filter has ${O} output channels, output has ${outC}`);
  const bias = floatBias(op.bias, O, where);
  const { padTop, padLeft } = geometry(inH, inW, KH, KW, op.strides, op.padding, outH, outW, where);
  if (KH === 1 && KW === 1 && op.strides[0] === 1 && op.strides[1] === 1) {
    // pointwise: every pixel is a GEMM row
    return gemmOp('f32_gemm', inH * inW, inC, O, w, bias, op.activation, where);
  }
  // any other window: gathered 5 pixels at a time into the packed GEMM layout (f32_convgemm)
  const [lo, hi] = activationRange(op.activation, where);
  const K = KH * KW * I;
  const packed = packGemmB(w, O, K); // OHWI rows are already (ky, kx, ic)-major
  const b = paddedBias(bias, 8);
  const [sH, sW] = op.strides;
  const blockPixels = Math.min(gemmBlockPixels(K), roundUp(outH * outW, 5));
  return {
    kernel: 'f32_convgemm',
    constants: [bytes(packed), bytes(b)],
    scratchBytes: blockPixels * K * 4,
    macs: outH * outW * O * KH * KW * I,
    run(k, p) {
      k.f32_convgemm(p.input, p.constants[0], p.constants[1], p.output, p.scratch, inH, inW, inC, outH, outW, outC, KH, KW, sH, sW, padTop, padLeft, lo, hi, blockPixels);
    },
  };
}
