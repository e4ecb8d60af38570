import { describe, it, expect, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels, Flavour } from '../../../src/runtime/kernels.js';
import { meanMultiplier, prepareMean } from '../../../src/ops/mean/index.js';
import { MobileNetError } from '../../../src/errors.js';
import { sizeOf, type DType, type MeanOp, type TensorInfo } from '../../../src/model/ir.js';
import { refMeanFloat, refMeanQuant } from '../../reference/shape-ops.js';
import { raw, runMulti, stored } from '../concatenation/run.js';

type Rand = () => number;
type QType = 'uint8' | 'int8';
const randInt = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

function tensor(name: string, shape: number[], dtype: DType, scale?: number, zeroPoint?: number): TensorInfo {
  return { name, shape, dtype, quant: dtype === 'float32' ? undefined : { scale: [scale ?? 0.05], zeroPoint: [zeroPoint ?? 0], axis: 0 } };
}

function meanOp(shape: number[], dtype: DType, keepDims: boolean, axes = [1, 2], inQ = { scale: 0.05, zeroPoint: 0 }, outQ = { scale: 0.05, zeroPoint: 0 }): MeanOp {
  const [n, , , c] = shape;
  return {
    op: 'mean',
    input: tensor('x', shape, dtype, inQ.scale, inQ.zeroPoint),
    output: tensor('y', keepDims ? [n, 1, 1, c] : [n, c], dtype, outQ.scale, outQ.zeroPoint),
    axes,
    keepDims,
  };
}

function randomRaw(r: Rand, n: number, dtype: QType): number[] {
  return Array.from({ length: n }, () => (dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127)));
}

function runMean(k: Kernels, op: MeanOp, input: number[]) {
  const prepared = prepareMean(op);
  const eb = op.input.dtype === 'float32' ? 4 : 1;
  const { out, overrun } = runMulti(k, prepared, [stored(input, op.input.dtype)], sizeOf(op.output.shape) * eb);
  expect(overrun, 'wrote past the output').toBe(false);
  return raw(out, op.output.dtype);
}

function checkQuant(k: Kernels, op: MeanOp, input: number[], label: string) {
  const dtype = op.input.dtype as QType;
  const q = (t: TensorInfo) => ({ scale: t.quant!.scale[0], zeroPoint: t.quant!.zeroPoint[0] });
  const expected = refMeanQuant(input, op.input.shape, dtype, q(op.input), q(op.output));
  const got = runMean(k, op, input);
  const i = got.findIndex((v, j) => v !== expected[j]);
  if (i >= 0) expect.fail(`${label}: first mismatch at ${i}: got ${got[i]}, expected ${expected[i]}`);
  expect(got.length).toBe(expected.length);
}

const zpFor = (r: Rand, dtype: QType) => (dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127));

describe.each(FLAVOURS)('MEAN, %s kernels', (flavour: Flavour) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels(flavour);
  });

  it('the TF2 MobileNet v2 global pool: int8 [1,7,7,1280], (0.02353, -128) -> (0.01908, -128)', () => {
    const r = rng(11);
    const shape = [1, 7, 7, 1280];
    for (const keepDims of [true, false]) {
      const op = meanOp(shape, 'int8', keepDims, [1, 2], { scale: 0.02353, zeroPoint: -128 }, { scale: 0.01908, zeroPoint: -128 });
      checkQuant(k, op, randomRaw(r, sizeOf(shape), 'int8'), `keepDims ${keepDims}`);
    }
  });

  it('quantized: random shapes, axes orders, keepDims, scales (incl. clamped shifts) and zero points, bit-exact', () => {
    const r = rng(5);
    const axesChoices = [[1, 2], [2, 1], [-3, -2], [2, -3], [1, 2, 1]];
    for (let t = 0; t < 300; t++) {
      const dtype: QType = t % 2 ? 'uint8' : 'int8';
      const big = t % 10 === 0;
      const shape = [randInt(r, 1, 2), randInt(r, 1, big ? 40 : 9), randInt(r, 1, big ? 40 : 9), randInt(r, 1, 20)];
      // real multiplier in/out from 2^-34 (the 1/N shift gets clamped to 31 + shift) to 2^8
      const log2Ratio = t % 7 === 0 ? -34 + r() * 8 : -3 + r() * 11;
      const inScale = 0.001 + r() * 0.1;
      const inQ = { scale: inScale, zeroPoint: zpFor(r, dtype) };
      const outQ = t % 13 === 0 ? { ...inQ } : { scale: inScale / 2 ** log2Ratio, zeroPoint: zpFor(r, dtype) };
      const axes = axesChoices[t % axesChoices.length];
      const op = meanOp(shape, dtype, r() < 0.5, axes, inQ, outQ);
      checkQuant(k, op, randomRaw(r, sizeOf(shape), dtype), `case ${t}: ${dtype} [${shape}] axes [${axes}] in ${JSON.stringify(inQ)} out ${JSON.stringify(outQ)}`);
    }
  });

  it('float32 within 1e-5 of a float64 mean', () => {
    const r = rng(9);
    for (let t = 0; t < 60; t++) {
      const shape = t === 0 ? [1, 7, 7, 1280] : [randInt(r, 1, 2), randInt(r, 1, 12), randInt(r, 1, 12), randInt(r, 1, 24)];
      const input = Array.from({ length: sizeOf(shape) }, () => Math.fround((r() * 2 - 1) * 8 + (t % 3) * 4));
      const op = meanOp(shape, 'float32', t % 2 === 0);
      const got = runMean(k, op, input);
      const expected = refMeanFloat(input, shape);
      const scaleOf = input.reduce((a, b) => a + Math.abs(b), 0) / input.length || 1;
      got.forEach((v, i) => {
        if (!(Math.abs(v - expected[i]) <= 1e-5 * Math.max(Math.abs(expected[i]), scaleOf))) {
          expect.fail(`case ${t} [${shape}] output ${i}: got ${v}, expected ${expected[i]}`);
        }
      });
    }
  });
});

describe('MEAN multiplier and validation', () => {
  it('folds 1/N into the multiplier as QuantizedMeanOrSum does', () => {
    // M = 2^30 (0.5), N = 49: t = 5, M' = floor(2^35 / 49), shift 0 - 5
    expect(meanMultiplier({ multiplier: 2 ** 30, shift: 0 }, 49)).toEqual({ multiplier: Math.floor(2 ** 35 / 49), shift: -5 });
    // power of two N: exact
    expect(meanMultiplier({ multiplier: 2 ** 30, shift: 1 }, 64)).toEqual({ multiplier: 2 ** 30, shift: -5 });
    // t clamped to 31 + shift
    expect(meanMultiplier({ multiplier: 1500000000, shift: -29 }, 49)).toEqual({ multiplier: Math.floor((1500000000 * 4) / 49), shift: -31 });
    // t clamped to 32 for huge N
    expect(meanMultiplier({ multiplier: 2 ** 30, shift: 3 }, 2 ** 33 + 1).shift).toBe(3 - 32);
  });

  function expectError(op: MeanOp, code: 'INVALID_MODEL' | 'UNSUPPORTED_MODEL', pattern: RegExp) {
    let err: unknown;
    try {
      prepareMean(op);
    } catch (e) {
      err = e;
    }
    expect(err, 'expected a MobileNetError').toBeInstanceOf(MobileNetError);
    expect((err as MobileNetError).code).toBe(code);
    expect((err as MobileNetError).message).toMatch(pattern);
  }

  it('rejects other axes, shapes and mismatched tensors', () => {
    const ok = () => meanOp([1, 7, 7, 8], 'int8', false);
    expect(() => prepareMean(ok())).not.toThrow();
    expectError({ ...ok(), axes: [1] }, 'UNSUPPORTED_MODEL', /axes \[1\] are not supported/);
    expectError({ ...ok(), axes: [1, 2, 3] }, 'UNSUPPORTED_MODEL', /axes \[1,2,3\]/);
    expectError({ ...ok(), axes: [0, 1] }, 'UNSUPPORTED_MODEL', /axes \[0,1\]/);
    expectError({ ...ok(), axes: [] }, 'UNSUPPORTED_MODEL', /without axes/);
    expectError({ ...ok(), axes: [1, 4] }, 'INVALID_MODEL', /axis 4 is out of range/);
    expectError({ ...ok(), axes: [1, 2.5] }, 'INVALID_MODEL', /axis 2.5/);
    expectError({ ...ok(), input: tensor('x', [7, 7, 8], 'int8') }, 'UNSUPPORTED_MODEL', /\[7,7,8\] is not a 4-D NHWC/);
    expectError({ ...ok(), output: tensor('y', [1, 1, 1, 8], 'int8') }, 'INVALID_MODEL', /output 'y' has shape \[1,1,1,8\], expected \[1,8\]/);
    expectError({ ...ok(), keepDims: true }, 'INVALID_MODEL', /expected \[1,1,1,8\]/);
    expectError({ ...ok(), output: tensor('y', [1, 8], 'uint8') }, 'UNSUPPORTED_MODEL', /int8 input and uint8 output/);
    expectError({ ...ok(), output: { ...tensor('y', [1, 8], 'int8'), quant: undefined } }, 'INVALID_MODEL', /no quantization parameters/);
    expectError({ ...ok(), output: tensor('y', [1, 8], 'int8', 1e-12, 0) }, 'UNSUPPORTED_MODEL', /too large/);
  });
});
