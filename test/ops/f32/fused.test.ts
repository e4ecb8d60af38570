// Fused depthwise 3x3 + pointwise (f32_dwpw) against the reference chain refF32(pw, refF32(dw, x)),
// on odd shapes, strides 1 and 2, both paddings, several pixel blocks, every flavour.
import { describe, it, expect, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng, TestHeap } from '../../helpers/kernels.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { Conv2DOp, DepthwiseConv2DOp, Op } from '../../../src/model/ir.js';
import { sizeOf } from '../../../src/model/ir.js';
import { prepareFusedF32 } from '../../../src/ops/fused/f32.js';
import { refF32 } from '../../reference/f32.js';
import { ACTIVATIONS, f32, pick, spatialOut, uniform } from './harness.js';

type Rand = () => number;

function pair(r: Rand, inH: number, inW: number, C: number, N: number, s: number, padding: 'same' | 'valid') {
  const o = spatialOut(inH, inW, 3, 3, [s, s], padding);
  if (!o) return null;
  const dw: DepthwiseConv2DOp = {
    op: 'depthwise_conv2d',
    input: f32('in', [1, inH, inW, C]),
    output: f32('dw', [1, o[0], o[1], C]),
    filter: { data: uniform(r, 9 * C, 2 / 3), shape: [1, 3, 3, C], dtype: 'float32' },
    bias: uniform(r, C, 1),
    strides: [s, s],
    padding,
    activation: pick(r, ACTIVATIONS),
  };
  const pw: Conv2DOp = {
    op: 'conv2d',
    input: f32('dw', [1, o[0], o[1], C]),
    output: f32('pw', [1, o[0], o[1], N]),
    filter: { data: uniform(r, N * C, 1 / Math.sqrt(C)), shape: [N, 1, 1, C], dtype: 'float32' },
    bias: uniform(r, N, 1),
    strides: [1, 1],
    padding: 'same',
    activation: pick(r, ACTIVATIONS),
  };
  return { dw, pw, input: uniform(r, inH * inW * C, 4) };
}

const SENTINEL = 0xa5;

function checkPair(k: Kernels, dw: DepthwiseConv2DOp, pw: Conv2DOp, input: Float32Array, blockPixels?: number): void {
  const label = `${dw.input.shape.slice(1)} s${dw.strides[0]} ${dw.padding} ${dw.activation} -> ${pw.output.shape[3]} ${pw.activation} block ${blockPixels ?? 'default'}`;
  const prepared = prepareFusedF32(dw, pw, { blockPixels, always: true });
  expect(prepared, label).not.toBeNull();
  const heap = new TestHeap(k);
  const inPtr = heap.put(input);
  const constPtrs = prepared!.constants.map((c) => heap.put(c));
  const scratch = heap.alloc(prepared!.scratchBytes);
  const outLen = sizeOf(pw.output.shape);
  const outPtr = heap.alloc(outLen * 4);
  const mem = () => new Uint8Array(k.memory.buffer);
  mem().fill(0xff, outPtr, outPtr + outLen * 4); // NaN: an output never written fails
  mem().fill(SENTINEL, outPtr + outLen * 4, outPtr + outLen * 4 + 64);
  prepared!.run(k.exports, { input: inPtr, output: outPtr, constants: constPtrs, scratch });
  const got = heap.f32(outPtr, outLen);
  const mid = refF32(dw, input);
  const want = refF32(pw, mid);
  // the depthwise value may differ from the reference's by an ulp; bound the error by the
  // magnitude of the pointwise terms rather than of the (possibly cancelled) sum
  const C = dw.input.shape[3], N = pw.output.shape[3];
  const w = pw.filter.data as Float32Array;
  for (let i = 0; i < outLen; i++) {
    const m = Math.floor(i / N), n = i % N;
    let mag = Math.abs(pw.bias[n] as number);
    for (let c = 0; c < C; c++) mag += Math.abs(mid[m * C + c] * w[n * C + c]);
    if (!(Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, mag))) {
      expect.fail(`${label}: output[${i}] = ${got[i]}, reference ${want[i]}`);
    }
  }
  expect(heap.u8(outPtr + outLen * 4, 64).every((b) => b === SENTINEL), `${label}: wrote past the output`).toBe(true);
}

for (const flavour of FLAVOURS) {
  describe(`f32 fused depthwise + pointwise (${flavour})`, () => {
    let k: Kernels;
    beforeAll(async () => {
      k = await loadKernels(flavour);
    });

    it('odd shapes, strides 1 and 2, both paddings, default block', () => {
      const r = rng(31);
      for (const C of [1, 3, 5, 8, 13, 33]) {
        for (const [h, w] of [[1, 1], [2, 3], [7, 5], [9, 15]]) {
          for (const s of [1, 2]) {
            for (const padding of ['same', 'valid'] as const) {
              const p = pair(r, h, w, C, pick(r, [1, 5, 8, 13, 20]), s, padding);
              if (p) checkPair(k, p.dw, p.pw, p.input);
            }
          }
        }
      }
    });

    it('several pixel blocks, ragged last group, interior runs of 4', () => {
      const r = rng(32);
      for (const [h, w, C, N, s] of [[15, 17, 11, 9, 1], [16, 16, 22, 16, 2], [9, 30, 4, 24, 2], [12, 13, 64, 33, 1], [11, 9, 7, 3, 1]]) {
        for (const padding of ['same', 'valid'] as const) {
          for (const block of [4, 5, 12, 40]) {
            const p = pair(r, h, w, C, N, s, padding)!;
            checkPair(k, p.dw, p.pw, p.input, block);
          }
        }
      }
    });

    it('fuses by default only when the depthwise output is large', () => {
      const r = rng(34);
      const small = pair(r, 8, 8, 16, 16, 1, 'same')!;
      expect(prepareFusedF32(small.dw, small.pw)).toBeNull();
      const big = pair(r, 30, 30, 64, 8, 1, 'same')!; // 30*30*64*4 bytes = 225 KB
      expect(prepareFusedF32(big.dw, big.pw)?.kernel).toBe('f32_dwpw');
      const deep = pair(r, 3, 3, 512, 8, 1, 'same')!; // 18 KB but 512 channels
      expect(prepareFusedF32(deep.dw, deep.pw)?.kernel).toBe('f32_dwpw');
    });

    it('declines pairs it has no kernel for', () => {
      const r = rng(33);
      const p = pair(r, 8, 8, 4, 8, 1, 'same')!;
      const dw5: DepthwiseConv2DOp = { ...p.dw, filter: { ...p.dw.filter, shape: [1, 5, 5, 4], data: new Float32Array(100) } };
      expect(prepareFusedF32(dw5, p.pw, { always: true })).toBeNull();
      const pw3: Conv2DOp = { ...p.pw, filter: { ...p.pw.filter, shape: [8, 3, 3, 4], data: new Float32Array(288) } };
      expect(prepareFusedF32(p.dw, pw3, { always: true })).toBeNull();
      expect(prepareFusedF32(p.pw as Op, p.dw as Op, { always: true })).toBeNull();
      const q8: DepthwiseConv2DOp = { ...p.dw, input: { ...p.dw.input, dtype: 'int8' } };
      expect(prepareFusedF32(q8, p.pw, { always: true })).toBeNull();
    });
  });
}
