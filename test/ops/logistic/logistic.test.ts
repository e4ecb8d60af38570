/**
 * LOGISTIC on every kernel build against the plain-loop reference (test/reference/elementwise.ts):
 * quantized over all 256 input values for random input scales / zero points (and the SSD
 * head's), byte-equal; float within 1e-5 relative; hostile parameters rejected.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareLogistic } from '../../../src/ops/logistic/index.js';
import type { DType, LogisticOp, TensorInfo } from '../../../src/model/ir.js';
import { MobileNetError } from '../../../src/errors.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import { refLogistic, refLogisticFixedPoint, type Raw } from '../../reference/elementwise.js';
import { raw, runOp, stored } from '../add/run.js';

const kernels: Kernels[] = [];
beforeAll(async () => {
  for (const f of FLAVOURS) kernels.push(await loadKernels(f));
});

function tensor(name: string, shape: number[], dtype: DType, scale?: number, zp?: number): TensorInfo {
  return { name, shape, dtype, quant: scale === undefined ? undefined : { scale: [scale], zeroPoint: [zp ?? 0], axis: 0 } };
}

const OUT_ZP = { uint8: 0, int8: -128 } as const;

function quantizedOp(dtype: 'uint8' | 'int8', shape: number[], scale: number, zp: number): LogisticOp {
  return { op: 'logistic', input: tensor('x', shape, dtype, scale, zp), output: tensor('y', shape, dtype, 1 / 256, OUT_ZP[dtype]) };
}

/** every value of the dtype, then a few more so the length is not a multiple of 16 */
function allValues(dtype: 'uint8' | 'int8'): Raw {
  const n = 256 + 7;
  return dtype === 'uint8' ? Uint8Array.from({ length: n }, (_, i) => i % 256) : Int8Array.from({ length: n }, (_, i) => (i % 256) - 128);
}

function check(op: LogisticOp, x: Raw): void {
  const dtype = op.input.dtype;
  const expected = refLogistic(op, x);
  const prepared = prepareLogistic(op);
  for (const k of kernels) {
    const { out, overrun } = runOp(k, prepared, [stored(x, dtype)], x.length * (dtype === 'float32' ? 4 : 1));
    const label = `${k.flavour} ${dtype} scale ${op.input.quant?.scale[0]} zp ${op.input.quant?.zeroPoint[0]}`;
    expect(overrun, `${label}: wrote past the output`).toBe(false);
    const got = raw(out, dtype);
    for (let i = 0; i < x.length; i++) {
      const e = expected[i];
      const ok = dtype === 'float32' ? Math.abs(got[i] - e) <= 1e-5 * Math.abs(e) : got[i] === e;
      if (!ok) expect.fail(`${label}: LOGISTIC(${x[i]}) is ${got[i]}, expected ${e}`);
    }
  }
}

describe('LOGISTIC against the reference on scalar, simd and relaxed', () => {
  for (const dtype of ['uint8', 'int8'] as const) {
    it(`${dtype}: all 256 inputs, random input scales and zero points`, () => {
      const r = rng(dtype === 'uint8' ? 11 : 12);
      for (let t = 0; t < 200; t++) {
        const scale = 2 ** (r() * 14 - 10);
        const zp = dtype === 'uint8' ? Math.floor(r() * 256) : Math.floor(r() * 256) - 128;
        check(quantizedOp(dtype, [1, 263], scale, zp), allValues(dtype));
      }
    });
  }

  it('the SSD head: uint8 [1,1917,91], scale 0.04974 zp 223', () => {
    const r = rng(4);
    const n = 1917 * 91;
    const x = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
    check(quantizedOp('uint8', [1, 1917, 91], 0.04974, 223), x);
  });

  it('float32 within 1e-5 relative', () => {
    const r = rng(6);
    for (const n of [1, 7, 16, 1000, 1917 * 91]) {
      const x = Float32Array.from({ length: n }, () => (r() * 2 - 1) * 20);
      check({ op: 'logistic', input: tensor('x', [1, n], 'float32'), output: tensor('y', [1, n], 'float32') }, x);
    }
  });

  it('logs how close TFLite\'s table rounding comes to a tie for the SSD parameters (no assertion)', () => {
    // the table depends on float32 expf; an entry flips only if 256 * sigmoid lands within an
    // ulp of a half-integer, which this measures
    let closest = Infinity;
    for (let v = 0; v < 256; v++) {
      const y = 256 / (1 + Math.exp(-Math.fround(Math.fround(0.04974) * (v - 223))));
      closest = Math.min(closest, Math.abs(y - Math.floor(y) - 0.5));
    }
    console.log(`SSD LOGISTIC: closest distance of 256*sigmoid to a rounding tie over 256 inputs: ${closest.toExponential(2)}`);
  });
});

describe('TFLite table LOGISTIC vs the fixed-point one (TFLite Micro, legacy uint8 reference)', () => {
  const compare = (dtype: 'uint8' | 'int8', scale: number, zp: number) => {
    const x = allValues(dtype).slice(0, 256);
    const table = refLogistic(quantizedOp(dtype, [256], scale, zp), x);
    const fixed = refLogisticFixedPoint(dtype, scale, zp, x);
    let differing = 0, largest = 0;
    for (let i = 0; i < 256; i++) {
      if (table[i] !== fixed[i]) differing++;
      largest = Math.max(largest, Math.abs(table[i] - fixed[i]));
    }
    return { differing, largest };
  };
  it('agree on all 256 inputs of the SSD head; logs the rate over random scales', () => {
    expect(compare('uint8', 0.04973676800727844, 223)).toEqual({ differing: 0, largest: 0 });
    const r = rng(13);
    let differing = 0, largest = 0, worst = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const dtype = r() < 0.5 ? 'uint8' : 'int8';
      const c = compare(dtype, 2 ** (r() * 8 - 9), dtype === 'uint8' ? Math.floor(r() * 256) : Math.floor(r() * 256) - 128);
      differing += c.differing;
      worst = Math.max(worst, c.differing);
      largest = Math.max(largest, c.largest);
    }
    console.log(`fixed-point vs table LOGISTIC over ${trials} random scales 2^-9..2^-1: ${(differing / trials).toFixed(3)} of 256 inputs differ on average, at most ${worst} per scale, by at most ${largest}`);
  });
});

describe('LOGISTIC rejects bad models naming the problem', () => {
  const expectError = (op: LogisticOp, code: string, text: RegExp) => {
    let err: unknown;
    try {
      prepareLogistic(op);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MobileNetError);
    expect((err as MobileNetError).code).toBe(code);
    expect((err as Error).message).toMatch(text);
  };
  it('output quantization other than scale 1/256 and zero point 0 / -128', () => {
    expectError({ op: 'logistic', input: tensor('x', [4], 'uint8', 0.1, 128), output: tensor('y', [4], 'uint8', 1 / 255, 0) }, 'UNSUPPORTED_MODEL', /'y' has scale .* TFLite requires scale 1\/256 and zero point 0/);
    expectError({ op: 'logistic', input: tensor('x', [4], 'int8', 0.1, 0), output: tensor('y', [4], 'int8', 1 / 256, 0) }, 'UNSUPPORTED_MODEL', /zero point -128/);
  });
  it('mismatched dtypes and shapes', () => {
    expectError({ op: 'logistic', input: tensor('x', [4], 'uint8', 0.1, 128), output: tensor('y', [4], 'int8', 1 / 256, -128) }, 'UNSUPPORTED_MODEL', /'x' is uint8 but the output is int8/);
    expectError({ op: 'logistic', input: tensor('x', [4], 'float32'), output: tensor('y', [5], 'float32') }, 'INVALID_MODEL', /\[5\] does not match/);
    expectError({ op: 'logistic', input: tensor('x', [4], 'int8'), output: tensor('y', [4], 'int8', 1 / 256, -128) }, 'INVALID_MODEL', /'x' \(int8\) has no quantization/);
  });
});
