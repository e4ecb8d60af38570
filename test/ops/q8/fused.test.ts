import { describe, it, expect, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels, Flavour } from '../../../src/runtime/kernels.js';
import { prepareConvBanded } from '../../../src/ops/conv2d/q8.js';
import { prepareFusedQ8 } from '../../../src/ops/fused/q8.js';
import { refQ8 } from '../../reference/q8.js';
import { sizeOf, type Conv2DOp, type DepthwiseConv2DOp, type Padding } from '../../../src/model/ir.js';
import { ACTIVATIONS, convOp, fromStored, pick, randInt, randomActivations, runPrepared, toStored, type QType } from './helpers.js';

const CHANNELS = [1, 3, 5, 8, 11, 16, 22, 33];

interface Pair {
  dw: DepthwiseConv2DOp;
  pw: Conv2DOp;
}

function randomPair(r: () => number, t: number, pwLog2Mult?: [number, number]): Pair {
  const dtype: QType = t % 2 ? 'uint8' : 'int8';
  const kh = pick(r, [3, 3, 3, 1, 5]);
  const padding = pick(r, ['same', 'valid'] as Padding[]);
  const minSize = padding === 'valid' ? kh : 1;
  const ic = pick(r, CHANNELS);
  const dw = convOp(r, {
    dtype, h: randInt(r, minSize, 13), w: randInt(r, minSize, 13), ic, oc: 0, kh, kw: kh,
    stride: pick(r, [1, 2]), padding, activation: ACTIVATIONS[t % 4], depthwise: true,
    log2Mult: t % 5 === 0 ? [-1, 4] : [-12, -4], biasMagnitude: 2000,
  }) as DepthwiseConv2DOp;
  const [, oh, ow] = dw.output.shape;
  const pw = convOp(r, {
    dtype, h: oh, w: ow, ic, oc: pick(r, CHANNELS), kh: 1, kw: 1, stride: 1, padding: 'same',
    activation: ACTIVATIONS[(t >> 1) % 4], depthwise: false,
    log2Mult: pwLog2Mult ?? (t % 7 === 0 ? [-2, 3] : [-14, -5]), biasMagnitude: 3000,
  }) as Conv2DOp;
  // usually the pointwise reads the depthwise's own output tensor; sometimes the same bytes
  // with other quantization parameters (the fused kernel must use the pointwise's)
  if (t % 3 !== 0) pw.input = dw.output;
  return { dw, pw };
}

describe.each(FLAVOURS)('fused q8 depthwise + pointwise, %s kernels', (flavour: Flavour) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels(flavour);
  });

  it('matches the reference depthwise then pointwise byte for byte (odd shapes, both strides, bands of 1 row to whole)', () => {
    const r = rng(909);
    for (let t = 0; t < 60; t++) {
      const { dw, pw } = randomPair(r, t);
      const dtype = dw.input.dtype as QType;
      const input = randomActivations(r, sizeOf(dw.input.shape), dtype);
      const expected = refQ8(pw, refQ8(dw, input) as Uint8Array | Int8Array);
      // band sizes: one row per band, a few rows, everything at once
      const bandBytes = [1, 700, 1 << 20][t % 3];
      const prepared = prepareFusedQ8(dw, pw, bandBytes);
      expect(prepared, `case ${t}`).not.toBeNull();
      const outBytes = sizeOf(pw.output.shape);
      const { out, overrun } = runPrepared(k, prepared!, toStored(input, dtype), outBytes);
      expect(overrun, `case ${t}: wrote past the output`).toBe(false);
      const got = fromStored(new Int8Array(out.buffer), dtype);
      const i = got.findIndex((v, j) => v !== expected[j]);
      if (i >= 0) expect.fail(`case ${t} (dw ${dw.input.shape} k${dw.filter.shape[1]} s${dw.strides[0]} ${dw.padding}, pw ${pw.filter.shape}): first mismatch at ${i}: got ${got[i]}, expected ${expected[i]}`);
    }
  });
});

function expectFusedExact(k: Kernels, dw: DepthwiseConv2DOp, pw: Conv2DOp, input: Uint8Array | Int8Array, bandBytes: number, label: string) {
  const expected = refQ8(pw, refQ8(dw, input) as Uint8Array | Int8Array);
  const prepared = prepareFusedQ8(dw, pw, bandBytes);
  expect(prepared, label).not.toBeNull();
  const { out, overrun } = runPrepared(k, prepared!, toStored(input, dw.input.dtype), sizeOf(pw.output.shape));
  expect(overrun, `${label}: wrote past the output`).toBe(false);
  const got = fromStored(new Int8Array(out.buffer), dw.input.dtype as QType);
  const i = got.findIndex((v, j) => v !== expected[j]);
  if (i >= 0) expect.fail(`${label}: first mismatch at ${i}: got ${got[i]}, expected ${expected[i]}`);
}

describe.each(FLAVOURS)('fused q8 depthwise + pointwise near the int32 extremes, %s kernels', (flavour: Flavour) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels(flavour);
  });

  it('pointwise accumulators near +-2^31 (wrapping, clamped) match the reference for every requantization path', () => {
    const r = rng(1010);
    // right shifts 1..22 with uniform (uint8) or per-channel (int8) shifts take the rounding-add
    // paths, where h >= 2^30 is clamped; the others the general path
    const ranges: [number, number][] = [[-3, -1], [-12, -2], [-22, -14], [-32, -24], [-1, 2]];
    for (let t = 0; t < 30; t++) {
      const { dw, pw } = randomPair(r, t, ranges[t % ranges.length]);
      pw.activation = 'none';
      for (let i = 0; i < pw.bias.length; i++) pw.bias[i] = i % 2 ? 2 ** 31 - 1 - randInt(r, 0, 30000) : -(2 ** 31) + randInt(r, 0, 30000);
      const input = randomActivations(r, sizeOf(dw.input.shape), dw.input.dtype as QType);
      expectFusedExact(k, dw, pw, input, 1 << 20, `case ${t}`);
    }
  });
});

describe.each(FLAVOURS)('q8 full conv as im2col + int16 GEMM, %s kernels', (flavour: Flavour) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels(flavour);
  });

  it('matches the reference in bands of 1 row to whole (stem-like and other short filter rows)', () => {
    const r = rng(1111);
    for (let t = 0; t < 40; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const kh = pick(r, [3, 3, 1, 2, 5]);
      const ic = pick(r, [1, 2, 3, 3, 5]);
      const kw = Math.min(kh, Math.floor(16 / ic));
      const padding = pick(r, ['same', 'valid'] as Padding[]);
      const op = convOp(r, {
        dtype, h: randInt(r, Math.max(kh, kw), 14), w: randInt(r, Math.max(kh, kw), 14), ic, oc: pick(r, CHANNELS),
        kh, kw, stride: kh === 1 && kw === 1 ? 2 : pick(r, [1, 2]), padding, activation: ACTIVATIONS[t % 4], depthwise: false,
        log2Mult: t % 5 === 0 ? [-2, 3] : [-14, -5], biasMagnitude: 3000,
      }) as Conv2DOp;
      const input = randomActivations(r, sizeOf(op.input.shape), dtype);
      const prepared = prepareConvBanded(op, [1, 500, 1 << 20][t % 3]);
      expect(prepared, `case ${t}`).not.toBeNull();
      const { out, overrun } = runPrepared(k, prepared!, toStored(input, dtype), sizeOf(op.output.shape));
      expect(overrun, `case ${t}: wrote past the output`).toBe(false);
      const got = fromStored(new Int8Array(out.buffer), dtype);
      const expected = refQ8(op, input);
      const i = got.findIndex((v, j) => v !== expected[j]);
      if (i >= 0) expect.fail(`case ${t} (${op.input.shape} filter ${op.filter.shape} s${op.strides[0]} ${op.padding}): first mismatch at ${i}: got ${got[i]}, expected ${expected[i]}`);
    }
  });
});

describe('prepareFusedQ8 applies only to a quantized depthwise followed by a 1x1 stride-1 conv on its output', () => {
  const r = rng(17);
  const pair = () => randomPair(r, 1);
  it('fuses the plain pair', () => {
    const { dw, pw } = pair();
    expect(prepareFusedQ8(dw, pw)?.kernel).toBe('q8_dw+gemm16');
  });
  it('declines other pairs', () => {
    const { dw, pw } = pair();
    expect(prepareFusedQ8(pw, dw)).toBeNull();
    expect(prepareFusedQ8(dw, dw)).toBeNull();
    const strided: Conv2DOp = { ...pw, strides: [2, 2], output: { ...pw.output, shape: [1, Math.ceil(pw.input.shape[1] / 2), Math.ceil(pw.input.shape[2] / 2), pw.output.shape[3]] } };
    expect(prepareFusedQ8(dw, strided)).toBeNull();
    const otherShape: Conv2DOp = { ...pw, input: { ...pw.input, shape: [1, 1, sizeOf(pw.input.shape), 1] } };
    expect(prepareFusedQ8(dw, otherShape)).toBeNull();
    const float: DepthwiseConv2DOp = { ...dw, input: { ...dw.input, dtype: 'float32' } };
    expect(prepareFusedQ8(float, pw)).toBeNull();
  });
});
