import { describe, it, expect, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels, Flavour } from '../../../src/runtime/kernels.js';
import { foldPaddedDims, preparePad } from '../../../src/ops/pad/index.js';
import { MobileNetError } from '../../../src/errors.js';
import { sizeOf, type DType, type PadOp, type TensorInfo } from '../../../src/model/ir.js';
import { refPad } from '../../reference/shape-ops.js';
import { raw, runMulti, stored } from '../concatenation/run.js';

type Rand = () => number;
const randInt = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

function tensor(name: string, shape: number[], dtype: DType, scale?: number, zeroPoint?: number): TensorInfo {
  return { name, shape, dtype, quant: dtype === 'float32' ? undefined : { scale: [scale ?? 0.05], zeroPoint: [zeroPoint ?? 0], axis: 0 } };
}

function padOp(shape: number[], paddings: [number, number][], dtype: DType, zp = 0, value?: number): PadOp {
  const outShape = shape.map((s, d) => s + paddings[d][0] + paddings[d][1]);
  return { op: 'pad', input: tensor('x', shape, dtype, 0.05, zp), output: tensor('y', outShape, dtype, 0.05, zp), paddings, value };
}

function randomValues(r: Rand, n: number, dtype: DType): number[] {
  return Array.from({ length: n }, () => (dtype === 'float32' ? (r() * 2 - 1) * 10 : dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127)));
}

function expectSame(got: number[], expected: number[], label: string) {
  expect(got.length, label).toBe(expected.length);
  const i = got.findIndex((v, j) => !Object.is(v, expected[j]));
  if (i >= 0) expect.fail(`${label}: first mismatch at ${i}: got ${got[i]}, expected ${expected[i]}`);
}

function check(k: Kernels, op: PadOp, input: number[], label: string) {
  const prepared = preparePad(op);
  const eb = op.input.dtype === 'float32' ? 4 : 1;
  const { out, overrun } = runMulti(k, prepared, [stored(input, op.input.dtype)], sizeOf(op.output.shape) * eb);
  expect(overrun, `${label}: wrote past the output`).toBe(false);
  const zp = op.output.quant?.zeroPoint[0] ?? 0;
  const fill = op.value ?? (op.input.dtype === 'float32' ? 0 : zp);
  const expected = refPad(input, op.input.shape, op.paddings, op.input.dtype === 'float32' ? Math.fround(fill) : fill);
  expectSame(raw(out, op.output.dtype), op.input.dtype === 'float32' ? expected.map(Math.fround) : expected, label);
}

describe.each(FLAVOURS)('PAD, %s kernels, exact vs reference', (flavour: Flavour) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels(flavour);
  });

  it('Keras MobileNet v2 stride-2 pad (0,1,1,0 on H and W) of a 112x112x96 uint8/int8 tensor', () => {
    for (const dtype of ['uint8', 'int8'] as const) {
      const r = rng(7);
      const shape = [1, 112, 112, 96];
      const op = padOp(shape, [[0, 0], [0, 1], [0, 1], [0, 0]], dtype, dtype === 'uint8' ? 131 : -5);
      check(k, op, randomValues(r, sizeOf(shape), dtype), `${dtype} 112x112x96`);
    }
  });

  it('random shapes, ranks 1-6, paddings, dtypes and PADV2 values', () => {
    const r = rng(42);
    for (let t = 0; t < 150; t++) {
      const dtype = (['float32', 'uint8', 'int8'] as const)[t % 3];
      const rank = randInt(r, 1, 6);
      const shape = Array.from({ length: rank }, () => randInt(r, 1, rank > 4 ? 3 : 6));
      // at most 4 padded dimensions once the unpadded ones merge, so every case is supported
      const paddedDims = new Set<number>();
      while (paddedDims.size < Math.min(rank, randInt(r, 0, 3))) paddedDims.add(randInt(r, 0, rank - 1));
      const paddings = shape.map((_, d) => (paddedDims.has(d) ? [randInt(r, 0, 3), randInt(r, 0, 3)] : [0, 0]) as [number, number]);
      const zp = dtype === 'uint8' ? randInt(r, 0, 255) : dtype === 'int8' ? randInt(r, -128, 127) : 0;
      const value = r() < 0.4 ? (dtype === 'float32' ? (r() - 0.5) * 100 : dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127)) : undefined;
      const op = padOp(shape, paddings, dtype, zp, value);
      check(k, op, randomValues(r, sizeOf(shape), dtype), `case ${t}: ${dtype} [${shape}] pad ${JSON.stringify(paddings)} value ${value}`);
    }
  });

  it('channel padding and a float fill whose bytes differ (store loop, not memory.fill)', () => {
    const r = rng(3);
    const op = padOp([2, 3, 4, 5], [[1, 0], [0, 2], [1, 1], [2, 3]], 'float32', 0, 1.5);
    check(k, op, randomValues(r, 2 * 3 * 4 * 5, 'float32'), 'float NHWC all padded');
    const q = padOp([1, 3, 4, 5], [[0, 0], [2, 1], [0, 3], [1, 2]], 'uint8', 77);
    check(k, q, randomValues(r, 60, 'uint8'), 'uint8 NHWC all padded');
  });
});

describe('PAD folding and validation', () => {
  it('folds unpadded inner dimensions into their neighbour', () => {
    const d = (size: number, before = 0, after = 0) => ({ size, before, after });
    expect(foldPaddedDims([d(2, 1, 1), d(3), d(4)])).toEqual([d(1), d(1), d(1), d(24, 12, 12)]);
    expect(foldPaddedDims([d(1), d(5, 1, 0), d(5, 0, 1), d(3)])).toEqual([d(1), d(1), d(5, 1, 0), d(15, 0, 3)]);
    expect(foldPaddedDims([d(2, 1, 0), d(2, 1, 0), d(2, 1, 0), d(2, 1, 0), d(2, 1, 0)])).toBeNull();
  });

  function expectError(op: PadOp, code: 'INVALID_MODEL' | 'UNSUPPORTED_MODEL', pattern: RegExp) {
    let err: unknown;
    try {
      preparePad(op);
    } catch (e) {
      err = e;
    }
    expect(err, 'expected a MobileNetError').toBeInstanceOf(MobileNetError);
    expect((err as MobileNetError).code).toBe(code);
    expect((err as MobileNetError).message).toMatch(pattern);
  }

  it('rejects bad paddings, shapes, values and quantization', () => {
    const ok = () => padOp([1, 4, 4, 2], [[0, 0], [1, 1], [1, 1], [0, 0]], 'uint8', 10);
    expect(() => preparePad(ok())).not.toThrow();
    expectError({ ...ok(), paddings: [[0, 0], [-1, 1], [1, 1], [0, 0]] }, 'INVALID_MODEL', /paddings\[1\] = \[-1, 1\]/);
    expectError({ ...ok(), paddings: [[0, 0], [1.5, 1], [1, 1], [0, 0]] }, 'INVALID_MODEL', /non-negative integers/);
    expectError({ ...ok(), paddings: [[0, 0], [1, 1]] }, 'INVALID_MODEL', /has 2 \[before, after\] paddings, expected 4/);
    expectError(padOp([1, 4, 4, 2], [[0, 0], [2 ** 20, 2 ** 20], [2 ** 20, 0], [0, 0]], 'int8'), 'INVALID_MODEL', /more than the \d+ allowed/);
    expectError({ ...ok(), output: tensor('y', [1, 6, 5, 2], 'uint8', 0.05, 10) }, 'INVALID_MODEL', /output 'y' has shape \[1,6,5,2\], the paddings give \[1,6,6,2\]/);
    expectError({ ...ok(), output: tensor('y', [1, 6, 6, 2], 'uint8', 0.05, 11) }, 'UNSUPPORTED_MODEL', /TFLite requires them equal/);
    expectError({ ...ok(), output: tensor('y', [1, 6, 6, 2], 'uint8', 0.06, 10) }, 'UNSUPPORTED_MODEL', /input 'x'.*output 'y'.*differ/);
    expectError({ ...ok(), output: tensor('y', [1, 6, 6, 2], 'int8', 0.05, 10) }, 'UNSUPPORTED_MODEL', /uint8 input 'x' and int8 output/);
    expectError({ ...ok(), value: 300 }, 'INVALID_MODEL', /pad value 300 .* is not a uint8 value/);
    expectError({ ...ok(), value: -1 }, 'INVALID_MODEL', /pad value -1/);
    expectError({ ...ok(), input: { ...ok().input, quant: undefined } }, 'INVALID_MODEL', /no quantization parameters/);
    const five = padOp([2, 2, 2, 2, 2], [[1, 0], [1, 0], [1, 0], [1, 0], [1, 0]], 'float32');
    expectError(five, 'UNSUPPORTED_MODEL', /more than 4 separable dimensions/);
  });
});
