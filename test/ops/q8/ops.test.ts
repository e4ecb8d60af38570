import { describe, it, expect, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels, Flavour } from '../../../src/runtime/kernels.js';
import { prepareOp as prepareQ8 } from '../../../src/ops/index.js';
import { refQ8 } from '../../reference/q8.js';
import { sizeOf, type Activation, type Op, type Padding } from '../../../src/model/ir.js';
import {
  ACTIVATIONS,
  convOp,
  fromStored,
  pick,
  randInt,
  randomActivations,
  randomBias,
  randomFilter,
  runPrepared,
  tensor,
  toStored,
  type ConvCase,
  type QType,
} from './helpers.js';

const CHANNELS = [1, 3, 5, 8, 11, 13, 16, 22, 33];

/** runs op through kernels and reference, returns raw outputs for comparison */
function check(k: Kernels, op: Op, input: Uint8Array | Int8Array | Float32Array) {
  const prepared = prepareQ8(op);
  const outBytes = sizeOf(op.output.shape) * (op.output.dtype === 'float32' ? 4 : 1);
  const { out, overrun } = runPrepared(k, prepared, toStored(input, op.input.dtype), outBytes);
  const expected = refQ8(op, input);
  const got =
    op.output.dtype === 'float32'
      ? new Float32Array(out.buffer)
      : fromStored(new Int8Array(out.buffer), op.output.dtype as QType);
  return { got: Array.from(got), expected: Array.from(expected), overrun, kernel: prepared.kernel };
}

function expectExact(k: Kernels, op: Op, input: Uint8Array | Int8Array | Float32Array, label: string) {
  const { got, expected, overrun } = check(k, op, input);
  expect(overrun, `${label}: wrote past the output`).toBe(false);
  if (got.some((v, i) => !Object.is(v, expected[i]))) {
    const i = got.findIndex((v, j) => !Object.is(v, expected[j]));
    expect.fail(`${label}: first mismatch at ${i}: got ${got[i]}, expected ${expected[i]}`);
  }
}

describe.each(FLAVOURS)('q8 ops, %s kernels, bit-exact vs TFLite reference', (flavour: Flavour) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels(flavour);
  });

  it('pointwise conv (GEMM) on odd shapes, both dtypes, every activation, multipliers < 1 and > 1', () => {
    const r = rng(101);
    for (let t = 0; t < 60; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const c: ConvCase = {
        dtype,
        h: randInt(r, 1, 9),
        w: randInt(r, 1, 9),
        ic: pick(r, CHANNELS),
        oc: pick(r, CHANNELS),
        kh: 1,
        kw: 1,
        stride: 1,
        padding: pick(r, ['same', 'valid'] as Padding[]),
        activation: ACTIVATIONS[t % 4],
        depthwise: false,
        log2Mult: t % 5 === 0 ? [-2, 3] : [-14, -5],
        biasMagnitude: 3000,
      };
      const op = convOp(r, c);
      expectExact(k, op, randomActivations(r, c.h * c.w * c.ic, dtype), `case ${t} ${JSON.stringify(c)}`);
    }
  });

  it('depthwise KxK, strides 1 and 2, SAME and VALID, odd channels', () => {
    const r = rng(202);
    for (let t = 0; t < 80; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const kh = pick(r, [3, 3, 3, 1, 2, 5]);
      const stride = pick(r, [1, 2]);
      const padding = pick(r, ['same', 'valid'] as Padding[]);
      const minSize = padding === 'valid' ? kh : 1;
      const c: ConvCase = {
        dtype,
        h: randInt(r, minSize, 11),
        w: randInt(r, minSize, 11),
        ic: pick(r, CHANNELS),
        oc: 0,
        kh,
        kw: kh,
        stride,
        padding,
        activation: ACTIVATIONS[t % 4],
        depthwise: true,
        log2Mult: t % 5 === 0 ? [-1, 4] : [-12, -4],
        biasMagnitude: 2000,
      };
      const op = convOp(r, c);
      expectExact(k, op, randomActivations(r, c.h * c.w * c.ic, dtype), `case ${t} ${JSON.stringify(c)}`);
    }
  });

  it('full conv (stem-like 3x3 s2, and other kernels / strides)', () => {
    const r = rng(303);
    for (let t = 0; t < 60; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const kh = pick(r, [3, 3, 1, 2, 5]);
      const stride = pick(r, [1, 2]);
      const padding = pick(r, ['same', 'valid'] as Padding[]);
      const minSize = padding === 'valid' ? kh : 1;
      const c: ConvCase = {
        dtype,
        h: randInt(r, minSize, 10),
        w: randInt(r, minSize, 10),
        ic: pick(r, [1, 3, 3, 4, 7]),
        oc: pick(r, [...CHANNELS, 27, 31, 32, 40, 64]),
        kh,
        kw: kh,
        stride,
        padding,
        activation: ACTIVATIONS[t % 4],
        depthwise: false,
        log2Mult: t % 5 === 0 ? [-1, 3] : [-13, -5],
        biasMagnitude: 2000,
      };
      if (kh === 1 && stride === 1) c.stride = 2; // stride-1 1x1 goes to the GEMM, tested above
      const op = convOp(r, c);
      expectExact(k, op, randomActivations(r, c.h * c.w * c.ic, dtype), `case ${t} ${JSON.stringify(c)}`);
    }
  });

  it('accumulators near the int32 extremes wrap exactly like TFLite', () => {
    const r = rng(404);
    for (let t = 0; t < 24; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const depthwise = t % 3 === 1;
      const gemm = t % 3 === 0;
      const c: ConvCase = {
        dtype,
        h: randInt(r, 2, 6),
        w: randInt(r, 2, 6),
        ic: pick(r, CHANNELS),
        oc: pick(r, CHANNELS),
        kh: gemm ? 1 : 3,
        kw: gemm ? 1 : 3,
        stride: gemm ? 1 : 2,
        padding: 'same',
        activation: 'none',
        depthwise,
        // tiny multipliers so outputs near +-2^31 land inside the int8 range
        log2Mult: [-32, -24],
        biasMagnitude: 2 ** 31 - 1,
      };
      const op = convOp(r, c);
      const b = (op as { bias: Int32Array }).bias;
      for (let i = 0; i < b.length; i++) b[i] = i % 2 ? 2 ** 31 - 1 - randInt(r, 0, 3000) : -(2 ** 31) + randInt(r, 0, 3000);
      expectExact(k, op, randomActivations(r, c.h * c.w * c.ic, dtype), `case ${t}`);
    }
  });

  it('fully connected, M = 1 and M > 1', () => {
    const r = rng(505);
    for (let t = 0; t < 40; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const m = t % 3 === 0 ? randInt(r, 2, 7) : 1;
      const kk = pick(r, [1, 3, 8, 13, 64, 100, 256]);
      const n = pick(r, [1, 2, 5, 11, 16, 33, 101]);
      const inScale = 0.05;
      const outScale = 0.1 + r() * 0.1;
      const filter = randomFilter(r, { dtype, shape: [n, kk], channels: n, axis: 0, inputScale: inScale, outputScale: outScale, log2Mult: t % 5 === 0 ? [0, 2] : [-12, -6] });
      if (dtype === 'int8') filter.quant = { scale: [filter.quant!.scale[0]], zeroPoint: [0], axis: 0 };
      const op: Op = {
        op: 'fully_connected',
        input: tensor('x', [m, kk], dtype, inScale, dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127)),
        output: tensor('y', [m, n], dtype, outScale, dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127)),
        filter,
        bias: randomBias(r, n, 5000),
        activation: ACTIVATIONS[t % 4],
      };
      expectExact(k, op, randomActivations(r, m * kk, dtype), `case ${t}`);
    }
  });

  it('average pool (global and KxK, SAME/VALID), uint8 and int8 rounding', () => {
    const r = rng(606);
    for (let t = 0; t < 40; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const global = t % 4 === 0;
      const h = randInt(r, 1, 8);
      const w = randInt(r, 1, 8);
      const kh = global ? h : randInt(r, 1, Math.min(h, 4));
      const kw = global ? w : randInt(r, 1, Math.min(w, 4));
      const stride = global ? 1 : pick(r, [1, 2]);
      const padding: Padding = global ? 'valid' : pick(r, ['same', 'valid']);
      const c = pick(r, CHANNELS);
      const scale = 0.02 + r() * 0.05;
      const zp = dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127);
      const oh = padding === 'same' ? Math.ceil(h / stride) : Math.floor((h - kh) / stride) + 1;
      const ow = padding === 'same' ? Math.ceil(w / stride) : Math.floor((w - kw) / stride) + 1;
      const op: Op = {
        op: 'average_pool2d',
        input: tensor('x', [1, h, w, c], dtype, scale, zp),
        output: tensor('y', [1, oh, ow, c], dtype, scale, zp),
        filterSize: [kh, kw],
        strides: [stride, stride],
        padding,
        activation: ACTIVATIONS[t % 4] as Activation,
      };
      expectExact(k, op, randomActivations(r, h * w * c, dtype), `case ${t}`);
    }
  });

  it('softmax (1001 classes and odd sizes, various input scales and betas)', () => {
    const r = rng(707);
    for (let t = 0; t < 24; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const n = pick(r, [1, 2, 5, 10, 1001]);
      const rows = t % 5 === 0 ? 2 : 1;
      const op: Op = {
        op: 'softmax',
        input: tensor('x', [rows, n], dtype, pick(r, [0.01, 0.05, 0.13083283603191376, 0.3, 1.5]), dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127)),
        output: tensor('y', [rows, n], dtype, 1 / 256, dtype === 'uint8' ? 0 : -128),
        beta: pick(r, [1, 1, 0.5, 2]),
      };
      expectExact(k, op, randomActivations(r, rows * n, dtype), `case ${t}`);
    }
  });

  it('quantize float -> uint8/int8, requantize int8 <-> uint8, dequantize', () => {
    const r = rng(808);
    for (let t = 0; t < 12; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const n = randInt(r, 1, 200);
      const scale = pick(r, [1 / 128, 0.0078125, 0.02, 0.1]);
      const zp = dtype === 'uint8' ? 128 : randInt(r, -10, 10);
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = (r() * 2 - 1) * 1.5;
      // exact halves must round away from zero
      if (n > 2) {
        x[0] = 2.5 * scale;
        x[1] = -2.5 * scale;
      }
      const q: Op = { op: 'quantize', input: tensor('x', [1, n], 'float32'), output: tensor('q', [1, n], dtype, scale, zp) };
      expectExact(k, q, x, `quantize ${t}`);
      const other: QType = dtype === 'uint8' ? 'int8' : 'uint8';
      const rq: Op = { op: 'quantize', input: tensor('q', [1, n], dtype, scale, zp), output: tensor('q2', [1, n], other, scale * pick(r, [1, 0.7, 1.9]), other === 'uint8' ? 128 : 0) };
      expectExact(k, rq, randomActivations(r, n, dtype), `requantize ${t}`);
      const dq: Op = { op: 'dequantize', input: tensor('q', [1, n], dtype, scale, zp), output: tensor('f', [1, n], 'float32') };
      expectExact(k, dq, randomActivations(r, n, dtype), `dequantize ${t}`);
    }
  });
});
