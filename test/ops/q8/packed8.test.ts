/**
 * 8-bit packed weights (src/quant/pack.ts): the kernels widen int8-storage weights and subtract
 * the stored weight zero point, and read requantization blocks holding only the fields of the
 * layer's mode. Every mode, on every weighted kernel, with weights at the 8-bit extremes and
 * the zero points at the ends of their range, is bit-exact with the reference on every build.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels, Flavour } from '../../../src/runtime/kernels.js';
import { prepareOp } from '../../../src/ops/index.js';
import { prepareFusedQ8 } from '../../../src/ops/fused/q8.js';
import { refQ8 } from '../../reference/q8.js';
import { sizeOf, type Conv2DOp, type DepthwiseConv2DOp, type Op } from '../../../src/model/ir.js';
import { RequantMode, packGemmRows, packGemm16Rows, packDepthwiseRows, packConvWeights, requantMode, storedFilter } from '../../../src/quant/pack.js';
import { quantizeMultiplier } from '../../../src/quant/fixedpoint.js';
import { convOp, fromStored, randInt, randomActivations, runPrepared, toStored, type QType } from './helpers.js';

/** real multipliers per channel that give each requantization mode */
const MODES: Record<string, (ch: number) => number> = {
  // every channel right-shifts by the same amount (uint8 per-tensor layers)
  shared: () => 2 ** -9 * 1.37,
  // per-channel right shifts in [1, 22]
  short: (ch) => [2 ** -2 * 1.1, 2 ** -9 * 1.5, 2 ** -21 * 1.9][ch % 3],
  // per-channel right shifts including 0 and 23..31
  anyRight: (ch) => [0.7, 2 ** -27 * 1.3, 2 ** -5 * 1.6, 2 ** -31 * 1.01][ch % 4],
  // some channel shifts left
  general: (ch) => [3.1, 2 ** -9 * 1.2][ch % 2],
};
const EXPECTED_MODE = { shared: 8, short: RequantMode.PER_CHANNEL_SHORT_RIGHT_SHIFTS, anyRight: RequantMode.PER_CHANNEL_RIGHT_SHIFTS, general: RequantMode.GENERAL };

/** set the filter's scales so the layer's multipliers are `mult(ch)` (uint8: one per-tensor scale) */
function forceMultipliers(op: Conv2DOp | DepthwiseConv2DOp, mult: (ch: number) => number): number[] {
  const q = op.filter.quant!;
  const ratio = op.output.quant!.scale[0] / op.input.quant!.scale[0];
  const channels = op.output.shape[3];
  const n = op.filter.dtype === 'uint8' ? 1 : channels;
  q.scale = Array.from({ length: n }, (_, ch) => mult(ch) * ratio);
  q.zeroPoint = new Array(n).fill(op.filter.dtype === 'uint8' ? q.zeroPoint[0] : 0);
  return Array.from({ length: channels }, (_, ch) => mult(n === 1 ? 0 : ch));
}

/** weights at the 8-bit extremes half of the time; a uint8 zero point at an end of its range */
function extremeWeights(r: () => number, op: Conv2DOp | DepthwiseConv2DOp, t: number): void {
  const d = op.filter.data;
  const [lo, hi] = op.filter.dtype === 'uint8' ? [0, 255] : [-128, 127];
  for (let i = 0; i < d.length; i++) if (r() < 0.5) d[i] = r() < 0.5 ? lo : hi;
  if (op.filter.dtype === 'uint8') op.filter.quant!.zeroPoint = [t % 2 ? 0 : 255];
}

function expectExact(k: Kernels, op: Op, prepared: ReturnType<typeof prepareOp>, input: Uint8Array | Int8Array, expected: ArrayLike<number>, label: string) {
  const dtype = op.output.dtype as QType;
  const { out, overrun } = runPrepared(k, prepared, toStored(input, op.input.dtype), expected.length);
  expect(overrun, `${label}: wrote past the output`).toBe(false);
  const got = Array.from(fromStored(new Int8Array(out.buffer), dtype));
  const i = got.findIndex((v, j) => v !== expected[j]);
  if (i >= 0) expect.fail(`${label} (${prepared.kernel}): first mismatch at ${i}: got ${got[i]}, expected ${expected[i]}`);
}

describe.each(FLAVOURS)('8-bit packed weights, every requantization mode, %s kernels', (flavour: Flavour) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels(flavour);
  });

  // kernel shapes: pointwise (q8_gemm), the stem (im2col + gemm16), a full conv with long rows
  // (q8_conv), depthwise 3x3 and 5x5 (q8_dwconv: interior and border paths)
  const SHAPES = [
    { what: 'pointwise', kh: 1, ic: 13, oc: 11, depthwise: false, stride: 1 },
    { what: 'stem', kh: 3, ic: 3, oc: 10, depthwise: false, stride: 2 },
    { what: 'full conv', kh: 3, ic: 7, oc: 37, depthwise: false, stride: 1 },
    { what: 'depthwise 3x3', kh: 3, ic: 19, oc: 0, depthwise: true, stride: 1 },
    { what: 'depthwise 5x5', kh: 5, ic: 11, oc: 0, depthwise: true, stride: 2 },
  ];

  for (const [modeName, mult] of Object.entries(MODES)) {
    it(`${modeName} multipliers: every weighted kernel, both dtypes`, () => {
      const r = rng(77);
      let t = 0;
      for (const s of SHAPES)
        for (const dtype of ['int8', 'uint8'] as QType[]) {
          // uint8 layers are per-tensor: one multiplier, so only the shared and general modes
          if (dtype === 'uint8' && (modeName === 'short' || modeName === 'anyRight')) continue;
          t++;
          const op = convOp(r, {
            dtype, h: randInt(r, 5, 9), w: randInt(r, 5, 9), ic: s.ic, oc: s.oc, kh: s.kh, kw: s.kh, stride: s.stride,
            padding: 'same', activation: 'none', depthwise: s.depthwise, log2Mult: [-9, -8], biasMagnitude: 3000,
          }) as Conv2DOp | DepthwiseConv2DOp;
          const mults = forceMultipliers(op, mult);
          extremeWeights(r, op, t);
          expect(requantMode(mults.map(quantizeMultiplier)), `${s.what} ${dtype}`).toBe(EXPECTED_MODE[modeName as keyof typeof MODES]);
          const input = randomActivations(r, sizeOf(op.input.shape), dtype);
          expectExact(k, op, prepareOp(op), input, refQ8(op, input), `${s.what} ${dtype}`);
        }
    });

    it(`${modeName} multipliers: fused depthwise + pointwise`, () => {
      const r = rng(78);
      for (const dtype of ['int8', 'uint8'] as QType[]) {
        if (dtype === 'uint8' && (modeName === 'short' || modeName === 'anyRight')) continue;
        const dw = convOp(r, {
          dtype, h: 9, w: 7, ic: 21, oc: 0, kh: 3, kw: 3, stride: 1, padding: 'same', activation: 'relu6', depthwise: true,
          log2Mult: [-9, -8], biasMagnitude: 2000,
        }) as DepthwiseConv2DOp;
        const pw = convOp(r, {
          dtype, h: 9, w: 7, ic: 21, oc: 19, kh: 1, kw: 1, stride: 1, padding: 'same', activation: 'none', depthwise: false,
          log2Mult: [-9, -8], biasMagnitude: 3000,
        }) as Conv2DOp;
        pw.input = dw.output;
        forceMultipliers(dw, mult);
        forceMultipliers(pw, mult);
        extremeWeights(r, dw, 0);
        extremeWeights(r, pw, 1);
        const input = randomActivations(r, sizeOf(dw.input.shape), dtype);
        const mid = refQ8(dw, input);
        const prepared = prepareFusedQ8(dw, pw)!;
        expect(prepared.kernel).toBe('q8_dw+gemm16');
        expectExact(k, pw, prepared, input, refQ8(pw, mid as Uint8Array | Int8Array), `fused ${dtype}`);
      }
    });
  }
});

describe('8-bit weight packers', () => {
  const raw = (n: number, dtype: QType) => {
    const a = dtype === 'uint8' ? new Uint8Array(n) : new Int8Array(n);
    for (let i = 0; i < n; i++) a[i] = dtype === 'uint8' ? (i * 37) & 255 : ((i * 37) & 255) - 128;
    return a;
  };

  it('store one byte per weight (uint8 as w - 128), padding with the stored zero point', () => {
    const n = 5, k = 11;
    const u = raw(n * k, 'uint8');
    const f = storedFilter(u, 200);
    expect(f.zp).toBe(72);
    const gemm = new Int8Array(packGemmRows(f, n, k).buffer);
    expect(gemm.length).toBe(2 * 16 * 4); // 2 panels of 4 columns x K rounded up to 8
    // column 1, k 9: panel 0, block 1, row 1
    expect(gemm[32 + 8 + 1]).toBe(u[1 * k + 9] - 128);
    expect(gemm[32 + 8 + 5]).toBe(72); // k = 13 > K: the zero point
    const g16 = new Int8Array(packGemm16Rows(f, n, k).buffer);
    expect(g16.length).toBe(6 * 16); // 1 panel of 8 columns x 6 pairs of k
    expect(g16[(9 >> 1) * 16 + 3 * 2 + 1]).toBe(u[3 * k + 9] - 128);
    expect(g16[5 * 16 + 3 * 2 + 1]).toBe(72); // k = 11, the pad of the last pair
    const i8 = raw(9 * 5, 'int8');
    const dw = new Int8Array(packDepthwiseRows(storedFilter(i8, 0), 9, 5).buffer);
    expect(dw.length).toBe(5 * 8 * 2); // 5 tap pairs x 8 channels x 2
    expect(dw[(3 >> 1) * 16 + 4 * 2 + 1]).toBe(i8[3 * 5 + 4]);
    expect(dw[4 * 16 + 2 * 2 + 1]).toBe(0); // the 9th tap's partner
    const conv = new Int8Array(packConvWeights(storedFilter(raw(3 * 2 * 2 * 3, 'int8'), 0), 3, 2, 2, 3).buffer);
    expect(conv.length).toBe(2 * 3 * 8 * 2); // [ky][3 pairs][8 channels][2]
  });
});
