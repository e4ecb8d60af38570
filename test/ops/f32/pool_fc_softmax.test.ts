import { describe, it, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { AveragePool2DOp, FullyConnectedOp, ReshapeOp, SoftmaxOp } from '../../../src/model/ir.js';
import { ACTIVATIONS, CHANNELS, PADDINGS, SIZES, checkOp, f32, pick, spatialOut, uniform } from './harness.js';

for (const flavour of FLAVOURS) {
  describe(`f32 average_pool2d / fully_connected / softmax / reshape (${flavour})`, () => {
    let k: Kernels;
    beforeAll(async () => {
      k = await loadKernels(flavour);
    });

    it('average pool: sizes, windows, strides, padding, activations', () => {
      const r = rng(21);
      let n = 0;
      while (n < 80) {
        const inH = pick(r, SIZES), inW = pick(r, SIZES), C = pick(r, CHANNELS);
        const filterSize: [number, number] = [pick(r, [1, 2, 3, 7]), pick(r, [1, 2, 3, 7])];
        const strides: [number, number] = [pick(r, [1, 2]), pick(r, [1, 2])];
        const padding = pick(r, PADDINGS);
        const o = spatialOut(inH, inW, filterSize[0], filterSize[1], strides, padding);
        if (!o) continue;
        n++;
        const op: AveragePool2DOp = {
          op: 'average_pool2d', input: f32('in', [1, inH, inW, C]), output: f32('out', [1, o[0], o[1], C]),
          filterSize, strides, padding, activation: pick(r, ACTIVATIONS),
        };
        checkOp(k, op, uniform(r, inH * inW * C, 8), `pool ${inH}x${inW}x${C} k${filterSize} s${strides} ${padding} ${op.activation}`);
      }
    });

    it('average pool: MobileNet global 7x7 VALID over 1024 channels', () => {
      const r = rng(22);
      const op: AveragePool2DOp = {
        op: 'average_pool2d', input: f32('in', [1, 7, 7, 1024]), output: f32('out', [1, 1, 1, 1024]),
        filterSize: [7, 7], strides: [2, 2], padding: 'valid', activation: 'none',
      };
      checkOp(k, op, uniform(r, 49 * 1024, 6), 'global pool');
    });

    it('fully connected (GEMV): [1, K] and [1, 1, 1, K] inputs, odd sizes', () => {
      const r = rng(23);
      for (const [K, N] of [[1, 1], [3, 5], [13, 11], [33, 22], [1024, 1001], [257, 9]]) {
        for (const shape of [[1, K], [1, 1, 1, K]]) {
          const op: FullyConnectedOp = {
            op: 'fully_connected', input: f32('in', shape), output: f32('out', [1, N]),
            filter: { data: uniform(r, N * K, 2 / Math.sqrt(K)), shape: [N, K], dtype: 'float32' },
            bias: uniform(r, N, 1), activation: pick(r, ACTIVATIONS),
          };
          checkOp(k, op, uniform(r, K, 4), `fc ${K}->${N} ${op.activation}`);
        }
      }
    });

    it('softmax: widths, beta, several rows', () => {
      const r = rng(24);
      for (const [rows, n, beta] of [[1, 1, 1], [1, 5, 1], [1, 1001, 1], [3, 7, 0.5], [2, 33, 2]]) {
        const op: SoftmaxOp = { op: 'softmax', input: f32('in', [rows, n]), output: f32('out', [rows, n]), beta };
        checkOp(k, op, uniform(r, rows * n, 10), `softmax ${rows}x${n} beta ${beta}`);
      }
    });

    it('reshape copies the values when it has its own output buffer', () => {
      const op: ReshapeOp = { op: 'reshape', input: f32('in', [1, 1, 1, 1001]), output: f32('out', [1, 1001]) };
      checkOp(k, op, uniform(rng(25), 1001, 3), 'reshape');
    });
  });
}
