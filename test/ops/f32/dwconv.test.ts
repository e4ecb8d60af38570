import { describe, it, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { DepthwiseConv2DOp } from '../../../src/model/ir.js';
import { ACTIVATIONS, CHANNELS, PADDINGS, SIZES, checkOp, f32, pick, spatialOut, uniform } from './harness.js';

function depthwise(r: () => number, inH: number, inW: number, C: number, kh: number, kw: number, strides: [number, number], padding: 'same' | 'valid') {
  const o = spatialOut(inH, inW, kh, kw, strides, padding);
  if (!o) return null;
  const op: DepthwiseConv2DOp = {
    op: 'depthwise_conv2d',
    input: f32('in', [1, inH, inW, C]),
    output: f32('out', [1, o[0], o[1], C]),
    filter: { data: uniform(r, kh * kw * C, 2 / Math.sqrt(kh * kw)), shape: [1, kh, kw, C], dtype: 'float32' },
    bias: uniform(r, C, 1),
    strides,
    padding,
    activation: pick(r, ACTIVATIONS),
  };
  return { op, input: uniform(r, inH * inW * C, 4) };
}

const label = (op: DepthwiseConv2DOp) =>
  `${op.input.shape.slice(1)} -> ${op.output.shape.slice(1)} k${op.filter.shape.slice(1, 3)} s${op.strides} ${op.padding} ${op.activation}`;

for (const flavour of FLAVOURS) {
  describe(`f32 depthwise_conv2d (${flavour})`, () => {
    let k: Kernels;
    beforeAll(async () => {
      k = await loadKernels(flavour);
    });

    it('3x3, every channel count, size, stride and padding', () => {
      const r = rng(11);
      for (const C of CHANNELS) {
        for (const size of SIZES) {
          for (const s of [1, 2]) {
            for (const padding of ['same', 'valid'] as const) {
              const d = depthwise(r, size, pick(r, SIZES), C, 3, 3, [s, s], padding);
              if (d) checkOp(k, d.op, d.input, label(d.op));
            }
          }
        }
      }
    });

    it('3x3 on larger maps (interior fast path with borders on both sides)', () => {
      const r = rng(12);
      for (const [h, w, C, s] of [[15, 17, 64, 1], [16, 16, 22, 2], [9, 30, 13, 2], [12, 5, 8, 1]]) {
        for (const padding of ['same', 'valid'] as const) {
          const d = depthwise(r, h, w, C, 3, 3, [s, s], padding)!;
          checkOp(k, d.op, d.input, label(d.op));
        }
      }
    });

    it('other kernel sizes and mixed strides', () => {
      const r = rng(13);
      let n = 0;
      while (n < 60) {
        const d = depthwise(r, pick(r, SIZES), pick(r, SIZES), pick(r, CHANNELS), pick(r, [1, 2, 3, 5]), pick(r, [1, 2, 3, 5]),
          [pick(r, [1, 2]), pick(r, [1, 2, 3])], pick(r, PADDINGS));
        if (!d) continue;
        n++;
        checkOp(k, d.op, d.input, label(d.op));
      }
    });
  });
}
