/** A quantized depthwise conv and the pointwise conv on its output as one banded step (q8_dwconv16 + q8_gemm16). */
import { type Op } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { depthwiseScratchBytes, gemm16ScratchBytes, packGemm16Rows, packInt32, packRequantFor, roundUp } from '../../quant/pack.js';
import { FUSED_BAND_BYTES, isQ, gemm16For } from '../q8-common.js';
import { depthwiseParts } from '../depthwise_conv2d/q8.js';
import { convParts } from '../conv2d/q8.js';

/**
 * A quantized depthwise conv followed by a pointwise conv on its output, as one step: the
 * depthwise writes a band of output rows into scratch as int16 (y - x_zp of the pointwise) in
 * the tile layout of assembly/q8/gemm16.ts, and the GEMM consumes the band while it is in
 * cache. Bit-exact with the two ops run separately. null when the pair is not of that form.
 */
export function prepareFusedQ8(first: Op, second: Op, bandBytes = FUSED_BAND_BYTES): PreparedOp | null {
  if (first.op !== 'depthwise_conv2d' || second.op !== 'conv2d') return null;
  if (!isQ(first.input.dtype) || !isQ(second.input.dtype)) return null;
  const [d0, d1, d2, d3] = first.output.shape;
  const s = second.input.shape;
  if (s.length !== 4 || s[0] !== d0 || s[1] !== d1 || s[2] !== d2 || s[3] !== d3) return null;
  const dw = depthwiseParts(first);
  const pw = convParts(second);
  if (!pw.pointwise) return null;
  const { c, kh, kw, g } = dw;
  const n = pw.oc;
  const k = pw.ic;
  const np = roundUp(n, 8);
  const constants = [...dw.constants, packGemm16Rows(pw.f.stored, n, k), packInt32(pw.bias, np), packRequantFor(pw.f.multipliers, np, pw.mode)];
  const tileBytes = Math.ceil(k / 2) * 16;
  const bandRows = Math.max(1, Math.min(g.oh, Math.floor(bandBytes / ((g.ow * tileBytes) / 4))));
  const bandTiles = Math.ceil((bandRows * g.ow) / 4);
  // scratch: the band's tiles, the depthwise's widened weights, the GEMM's widened weight panel
  const dwAt = roundUp(bandTiles * tileBytes, 16);
  const panelAt = dwAt + depthwiseScratchBytes(kh * kw, c);
  const yzp = pw.yzp, act = pw.act, mode = pw.mode;
  // the entry points specialised for each requantization mode (assembly/q8/gemm16.ts)
  const gemm = gemm16For(mode);
  return {
    kernel: 'q8_dw+gemm16',
    constants,
    scratchBytes: panelAt + gemm16ScratchBytes(k),
    macs: dw.macs + pw.macs,
    run(kx: KernelExports, p: RunPointers) {
      const [dwW, dwB, dwRq, pwW, pwB, pwRq] = p.constants;
      for (let oy0 = 0; oy0 < g.oh; oy0 += bandRows) {
        const oy1 = Math.min(g.oh, oy0 + bandRows);
        // one banded depthwise entry for every requantization mode (it branches on the mode per 8
        // channels; copies specialised per mode measured no faster and cost 8 KB of wasm)
        kx.q8_dwconv16(p.input, g.h, g.w, c, dwW, dw.wZp, dwB, dwRq, dw.mode, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow, dw.xzp, dw.yzp, dw.act.min, dw.act.max, p.scratch, oy0, oy1, pw.xzp, p.scratch + dwAt);
        kx[gemm](p.scratch, (oy1 - oy0) * g.ow, k, pwW, pw.f.stored.zp, n, pwB, pwRq, mode, yzp, act.min, act.max, p.output + oy0 * g.ow * n, p.scratch + panelAt);
      }
    },
  };
}
