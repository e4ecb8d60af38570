/** CONV_2D on the q8 kernels: pointwise as a GEMM (q8_gemm), a short-row stem as im2col + GEMM, any other window with q8_conv. */
import { invalidModel } from '../../errors.js';
import { type Conv2DOp } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { gemm16ScratchBytes, gemmScratchBytes, packConvWeights, packGemmRows, packIm2colWeights, packInt32, packRequantFor, roundUp } from '../../quant/pack.js';
import { FUSED_BAND_BYTES, checkBias, filterInfo, foldInputZeroPointRows, geometry, gemm16For, requantEpilogue, quantizedInOut } from '../q8-common.js';

export function convParts(op: Conv2DOp) {
  const { inQ, outQ } = quantizedInOut(op, 4);
  if (op.filter.shape.length !== 4) throw invalidModel(`filter shape [${op.filter.shape}] must be [O, KH, KW, I]`);
  const [oc, kh, kw, ic] = op.filter.shape;
  const c = op.input.shape[3];
  if (ic !== c) throw invalidModel(`filter has ${ic} input channels, the input has ${c}`);
  if (op.output.shape[3] !== oc) throw invalidModel(`output has ${op.output.shape[3]} channels, the filter ${oc}`);
  const g = geometry(op, kh, kw);
  const f = filterInfo(op.filter, inQ, outQ, oc, 0, false);
  const bias = checkBias(op.bias, oc);
  const { act, xzp, yzp, mode } = requantEpilogue(op, inQ, outQ, f.multipliers);
  const macs = g.oh * g.ow * oc * kh * kw * ic;
  const pointwise = kh === 1 && kw === 1 && g.sh === 1 && g.sw === 1 && g.padTop === 0 && g.padLeft === 0;
  return { oc, kh, kw, ic, g, f, bias, act, xzp, yzp, mode, macs, pointwise };
}

export function prepareConv(op: Conv2DOp): PreparedOp {
  const { oc, kh, kw, ic, g, f, bias, act, xzp, yzp, mode, macs, pointwise } = convParts(op);
  if (pointwise) {
    // pointwise: a GEMM over the H*W rows, zero point folded into the bias
    const n = oc;
    const k = ic;
    const m = g.h * g.w;
    const rowSums = new Int32Array(n);
    const weights = packGemmRows(f.stored, n, k, rowSums);
    const folded = foldInputZeroPointRows(bias, rowSums, xzp);
    const np = roundUp(n, 4);
    const constants = [weights, packInt32(folded, np), packRequantFor(f.multipliers, np, mode)];
    return {
      kernel: 'q8_gemm',
      constants,
      scratchBytes: gemmScratchBytes(k),
      macs,
      run(kx: KernelExports, p: RunPointers) {
        kx.q8_gemm(p.input, m, k, p.constants[0], f.stored.zp, n, p.constants[1], p.constants[2], mode, yzp, act.min, act.max, p.output, p.scratch);
      },
    };
  }
  if (kw * ic <= 16) return prepareConvIm2col(op, convParts(op));
  const ocp = roundUp(oc, 8);
  const weights = packConvWeights(f.stored, oc, kh, kw, ic);
  const constants = [weights, packInt32(bias, ocp), packRequantFor(f.multipliers, ocp, mode)];
  return {
    kernel: 'q8_conv',
    constants,
    scratchBytes: 0,
    macs,
    run(kx: KernelExports, p: RunPointers) {
      kx.q8_conv(p.input, g.h, g.w, ic, p.constants[0], f.stored.zp, p.constants[1], p.constants[2], mode, oc, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow, xzp, yzp, act.min, act.max, p.output);
    },
  };
}

/**
 * A full conv whose filter rows are short (kw * ic <= 16: the stem) as im2col into int16 tiles
 * (assembly/q8/im2col.ts), a band of output rows at a time, and the GEMM of the fused steps.
 */
export function prepareConvIm2col(op: Conv2DOp, parts: ReturnType<typeof convParts>, bandBytes = FUSED_BAND_BYTES): PreparedOp {
  void op;
  const { oc, kh, kw, ic, g, f, bias, act, xzp, yzp, mode, macs } = parts;
  const rowLen = kw * ic;
  const rowPad = roundUp(rowLen, 2);
  const k = kh * rowPad;
  const weights = packIm2colWeights(f.stored, oc, kh, kw, ic);
  const np = roundUp(oc, 8);
  const tileBytes = (k / 2) * 16;
  const bandRows = Math.max(1, Math.min(g.oh, Math.floor(bandBytes / ((g.ow * tileBytes) / 4))));
  const bandTiles = Math.ceil((bandRows * g.ow) / 4);
  const gemm = gemm16For(mode);
  // scratch: the band's tiles, then the GEMM's widened weight panel
  const panelAt = roundUp(bandTiles * tileBytes, 16);
  return {
    kernel: 'q8_im2col+gemm16',
    constants: [weights, packInt32(bias, np), packRequantFor(f.multipliers, np, mode)],
    scratchBytes: panelAt + gemm16ScratchBytes(k),
    macs,
    run(kx: KernelExports, p: RunPointers) {
      const [w, b, rq] = p.constants;
      for (let oy0 = 0; oy0 < g.oh; oy0 += bandRows) {
        const oy1 = Math.min(g.oh, oy0 + bandRows);
        kx.q8_im2col16(p.input, g.h, g.w, ic, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.ow, oy0, oy1, xzp, p.scratch);
        kx[gemm](p.scratch, (oy1 - oy0) * g.ow, k, w, f.stored.zp, oc, b, rq, mode, yzp, act.min, act.max, p.output + oy0 * g.ow * oc, p.scratch + panelAt);
      }
    },
  };
}

/** The im2col form of a full conv with kw * ic <= 16, with a chosen band size (for tests); null otherwise. */
export function prepareConvBanded(op: Conv2DOp, bandBytes: number): PreparedOp | null {
  const parts = convParts(op);
  return !parts.pointwise && parts.kw * parts.ic <= 16 ? prepareConvIm2col(op, parts, bandBytes) : null;
}
