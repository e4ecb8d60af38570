import { describe, it, expect } from 'vitest';
import { prepareOp as prepareQ8 } from '../../../src/ops/index.js';
import { MobileNetError } from '../../../src/errors.js';
import type { Op } from '../../../src/model/ir.js';
import { rng } from '../../helpers/kernels.js';
import { convOp, tensor, type ConvCase } from './helpers.js';

const base: ConvCase = {
  dtype: 'uint8',
  h: 5,
  w: 5,
  ic: 3,
  oc: 4,
  kh: 3,
  kw: 3,
  stride: 1,
  padding: 'same',
  activation: 'relu6',
  depthwise: false,
  log2Mult: [-10, -6],
  biasMagnitude: 100,
};

function expectError(op: Op, code: 'INVALID_MODEL' | 'UNSUPPORTED_MODEL', pattern: RegExp) {
  let err: unknown;
  try {
    prepareQ8(op);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MobileNetError);
  expect((err as MobileNetError).code).toBe(code);
  expect((err as MobileNetError).message).toMatch(pattern);
}

describe('prepareQ8 validation', () => {
  const fresh = (c: Partial<ConvCase> = {}) => convOp(rng(1), { ...base, ...c }) as Op & { [k: string]: unknown };

  it('accepts well-formed ops', () => {
    // short filter rows (kw * ic <= 16, the stem) go through im2col + the int16 GEMM
    expect(prepareQ8(fresh()).kernel).toBe('q8_im2col+gemm16');
    expect(prepareQ8(fresh({ ic: 8 })).kernel).toBe('q8_conv');
    expect(prepareQ8(fresh({ kh: 1, kw: 1 })).kernel).toBe('q8_gemm');
    expect(prepareQ8(fresh({ depthwise: true, dtype: 'int8' })).kernel).toBe('q8_dwconv');
  });

  it('rejects missing or bad quantization parameters', () => {
    const a = fresh();
    a.input.quant = undefined;
    expectError(a, 'INVALID_MODEL', /no quantization parameters/);
    const b = fresh();
    b.output.quant!.scale = [0];
    expectError(b, 'INVALID_MODEL', /scale 0/);
    const c = fresh();
    c.output.quant!.scale = [NaN];
    expectError(c, 'INVALID_MODEL', /scale NaN/);
    const d = fresh();
    d.input.quant!.zeroPoint = [300];
    expectError(d, 'INVALID_MODEL', /zero point 300/);
    const e = fresh() as Op & { filter: { quant: { zeroPoint: number[] } } };
    e.filter.quant.zeroPoint = [-1];
    expectError(e, 'INVALID_MODEL', /filter zero point -1/);
    const f = fresh({ dtype: 'int8' }) as Op & { filter: { quant: { zeroPoint: number[] } } };
    f.filter.quant.zeroPoint = [3, 0, 0, 0];
    expectError(f, 'UNSUPPORTED_MODEL', /non-zero zero point/);
    const h = fresh();
    h.input.quant!.scale = [1e30];
    expectError(h, 'UNSUPPORTED_MODEL', /multiplier/);
    const g = fresh({ dtype: 'int8' }) as Op & { filter: { quant: { scale: number[] } } };
    g.filter.quant.scale = [0.1, 0.2];
    expectError(g, 'INVALID_MODEL', /2 scales for 4 output channels/);
  });

  it('rejects shape problems', () => {
    const a = fresh() as Op & { bias: Int32Array };
    a.bias = new Int32Array(3);
    expectError(a, 'INVALID_MODEL', /bias has 3 values, expected 4/);
    const b = fresh();
    b.output.shape = [1, 4, 5, 4];
    expectError(b, 'INVALID_MODEL', /output is 4x5, expected 5x5/);
    const c = fresh({ depthwise: true }) as Op & { filter: { shape: number[]; data: Uint8Array } };
    c.filter.shape = [1, 3, 3, 6];
    c.filter.data = new Uint8Array(54);
    expectError(c, 'INVALID_MODEL', /depthwise output has 3 channels, the filter 6/);
    const d = fresh() as Op & { filter: { data: Uint8Array } };
    d.filter.data = d.filter.data.subarray(1);
    expectError(d, 'INVALID_MODEL', /filter data has/);
    const e = fresh() as Op & { bias: unknown };
    e.bias = new Float32Array(4);
    expectError(e, 'INVALID_MODEL', /bias must be int32/);
  });

  it('rejects unsupported activations, dtype mixes and softmax / pool parameters', () => {
    const a = fresh() as Op & { activation: string };
    a.activation = 'tanh';
    expectError(a, 'UNSUPPORTED_MODEL', /activation 'tanh'/);
    const b = fresh();
    b.output.dtype = 'int8';
    b.output.quant!.zeroPoint = [0];
    expectError(b, 'UNSUPPORTED_MODEL', /uint8 input and int8 output/);
    const sm: Op = { op: 'softmax', input: tensor('x', [1, 10], 'uint8', 0.1, 0), output: tensor('y', [1, 10], 'uint8', 0.1, 0), beta: 1 };
    expectError(sm, 'UNSUPPORTED_MODEL', /scale 1\/256/);
    const pool: Op = {
      op: 'average_pool2d',
      input: tensor('x', [1, 4, 4, 2], 'int8', 0.1, 0),
      output: tensor('y', [1, 1, 1, 2], 'int8', 0.2, 0),
      filterSize: [4, 4],
      strides: [1, 1],
      padding: 'valid',
      activation: 'none',
    };
    expectError(pool, 'UNSUPPORTED_MODEL', /different input and output quantization/);
    const fl: Op = { op: 'conv2d', ...(fresh() as object) } as Op;
    (fl as { input: { dtype: string } }).input.dtype = 'float32';
    // a float input takes the float kernels, which refuse the uint8 output
    expectError(fl, 'UNSUPPORTED_MODEL', /output must be float32, got uint8/);
  });
});
