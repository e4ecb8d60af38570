import { describe, it, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { Conv2DOp } from '../../../src/model/ir.js';
import { ACTIVATIONS, CHANNELS, PADDINGS, SIZES, checkOp, f32, pick, spatialOut, uniform } from './harness.js';

function randomConv(r: () => number, kSizes: number[], strideChoices: number[]): { op: Conv2DOp; input: Float32Array } | null {
  const inH = pick(r, SIZES), inW = pick(r, SIZES);
  const inC = pick(r, CHANNELS), outC = pick(r, CHANNELS);
  const kh = pick(r, kSizes), kw = pick(r, kSizes);
  const strides: [number, number] = [pick(r, strideChoices), pick(r, strideChoices)];
  const padding = pick(r, PADDINGS);
  const o = spatialOut(inH, inW, kh, kw, strides, padding);
  if (!o) return null;
  const fan = kh * kw * inC;
  const op: Conv2DOp = {
    op: 'conv2d',
    input: f32('in', [1, inH, inW, inC]),
    output: f32('out', [1, o[0], o[1], outC]),
    filter: { data: uniform(r, outC * fan, 2 / Math.sqrt(fan)), shape: [outC, kh, kw, inC], dtype: 'float32' },
    bias: uniform(r, outC, 1),
    strides,
    padding,
    activation: pick(r, ACTIVATIONS),
  };
  return { op, input: uniform(r, inH * inW * inC, 4) };
}

const describeLabel = (op: Conv2DOp) =>
  `${op.input.shape.slice(1)} -> ${op.output.shape.slice(1)} k${op.filter.shape.slice(1, 3)} s${op.strides} ${op.padding} ${op.activation}`;

for (const flavour of FLAVOURS) {
  describe(`f32 conv2d (${flavour})`, () => {
    let k: Kernels;
    beforeAll(async () => {
      k = await loadKernels(flavour);
    });

    it('general KxK conv (stem-like) matches the reference', () => {
      const r = rng(101);
      let n = 0;
      while (n < 60) {
        const c = randomConv(r, [1, 2, 3, 5], [1, 2]);
        if (!c) continue;
        n++;
        checkOp(k, c.op, c.input, describeLabel(c.op));
      }
    });

    it('pointwise 1x1 stride 1 (GEMM path) matches the reference', () => {
      const r = rng(202);
      for (let n = 0; n < 60; n++) {
        const c = randomConv(r, [1], [1])!;
        checkOp(k, c.op, c.input, describeLabel(c.op));
      }
    });

    it('GEMM with M % 4 != 0, N % 8 != 0 and several cache blocks of A', () => {
      const r = rng(303);
      for (const [h, w, inC, outC] of [[7, 7, 1024, 19], [15, 15, 600, 13], [9, 3, 64, 8], [5, 5, 17, 40], [1, 1, 1, 1]]) {
        const fan = inC;
        const op: Conv2DOp = {
          op: 'conv2d',
          input: f32('in', [1, h, w, inC]),
          output: f32('out', [1, h, w, outC]),
          filter: { data: uniform(r, outC * fan, 2 / Math.sqrt(fan)), shape: [outC, 1, 1, inC], dtype: 'float32' },
          bias: uniform(r, outC, 1),
          strides: [1, 1],
          padding: 'same',
          activation: 'relu6',
        };
        checkOp(k, op, uniform(r, h * w * inC, 4), describeLabel(op));
      }
    });

    it('general conv over several pixel blocks (large K makes blocks of a few pixels)', () => {
      const r = rng(505);
      for (const [h, w, inC, outC, s, padding] of [[9, 7, 300, 11, 1, 'same'], [12, 11, 160, 20, 2, 'valid'], [6, 13, 520, 9, 2, 'same']] as const) {
        const o = spatialOut(h, w, 3, 3, [s, s], padding)!;
        const fan = 9 * inC;
        const op: Conv2DOp = {
          op: 'conv2d',
          input: f32('in', [1, h, w, inC]),
          output: f32('out', [1, o[0], o[1], outC]),
          filter: { data: uniform(r, outC * fan, 2 / Math.sqrt(fan)), shape: [outC, 3, 3, inC], dtype: 'float32' },
          bias: uniform(r, outC, 1),
          strides: [s, s],
          padding,
          activation: pick(r, ACTIVATIONS),
        };
        checkOp(k, op, uniform(r, h * w * inC, 4), describeLabel(op));
      }
    });

    it('MobileNet stem shape (3x3 s2 SAME, 3 -> 32) matches the reference', () => {
      const r = rng(404);
      const op: Conv2DOp = {
        op: 'conv2d',
        input: f32('in', [1, 33, 31, 3]),
        output: f32('out', [1, 17, 16, 32]),
        filter: { data: uniform(r, 32 * 27, 0.4), shape: [32, 3, 3, 3], dtype: 'float32' },
        bias: uniform(r, 32, 1),
        strides: [2, 2],
        padding: 'same',
        activation: 'relu6',
      };
      checkOp(k, op, uniform(r, 33 * 31 * 3, 4), 'stem');
    });
  });
}
