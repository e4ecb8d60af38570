// prepareF32 rejects what the kernels cannot run with a MobileNetError naming the op and problem.
import { describe, it, expect } from 'vitest';
import { prepareOp as prepareF32 } from '../../../src/ops/index.js';
import { packGemmB, packDepthwise } from '../../../src/ops/f32-common.js';
import { MobileNetError } from '../../../src/errors.js';
import type { Conv2DOp, DepthwiseConv2DOp, FullyConnectedOp, Op } from '../../../src/model/ir.js';
import { f32 } from './harness.js';

const conv = (over: Partial<Conv2DOp> = {}): Conv2DOp => ({
  op: 'conv2d',
  input: f32('in', [1, 8, 8, 3]),
  output: f32('stem', [1, 4, 4, 16]),
  filter: { data: new Float32Array(16 * 27), shape: [16, 3, 3, 3], dtype: 'float32' },
  bias: new Float32Array(16),
  strides: [2, 2],
  padding: 'same',
  activation: 'relu6',
  ...over,
});

const dw = (over: Partial<DepthwiseConv2DOp> = {}): DepthwiseConv2DOp => ({
  op: 'depthwise_conv2d',
  input: f32('in', [1, 8, 8, 4]),
  output: f32('dw', [1, 8, 8, 4]),
  filter: { data: new Float32Array(36), shape: [1, 3, 3, 4], dtype: 'float32' },
  bias: new Float32Array(4),
  strides: [1, 1],
  padding: 'same',
  activation: 'relu6',
  ...over,
});

function rejects(op: Op, pattern: RegExp): void {
  let err: unknown;
  try {
    prepareF32(op);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MobileNetError);
  expect((err as MobileNetError).code).toBe('UNSUPPORTED_MODEL');
  expect((err as Error).message).toMatch(pattern);
}

describe('prepareF32 validation', () => {
  it('accepts well-formed ops and routes 1x1 stride-1 conv and FC to the GEMM', () => {
    expect(prepareF32(conv()).kernel).toBe('f32_convgemm');
    expect(prepareF32(dw()).kernel).toBe('f32_dwconv');
    const pw = conv({
      output: f32('pw', [1, 8, 8, 5]),
      filter: { data: new Float32Array(15), shape: [5, 1, 1, 3], dtype: 'float32' },
      bias: new Float32Array(5), strides: [1, 1],
    });
    expect(prepareF32(pw).kernel).toBe('f32_gemm');
    expect(prepareF32(pw).macs).toBe(64 * 3 * 5);
    const fc: FullyConnectedOp = {
      op: 'fully_connected', input: f32('in', [1, 1, 1, 6]), output: f32('fc', [1, 2]),
      filter: { data: new Float32Array(12), shape: [2, 6], dtype: 'float32' }, bias: new Float32Array(2), activation: 'none',
    };
    expect(prepareF32(fc).kernel).toBe('f32_gemm');
  });

  it('takes a whole depth multiplier (repeating input channels), refuses a fractional one', () => {
    expect(prepareF32(dw({ output: f32('dw', [1, 8, 8, 8]), filter: { data: new Float32Array(72), shape: [1, 3, 3, 8], dtype: 'float32' }, bias: new Float32Array(8) })).kernel).toBe('repeat_channels+f32_dwconv');
    const bad = dw({ output: f32('dw', [1, 8, 8, 6]), filter: { data: new Float32Array(54), shape: [1, 3, 3, 6], dtype: 'float32' }, bias: new Float32Array(6) });
    expect(() => prepareF32(bad)).toThrow(expect.objectContaining({ code: 'INVALID_MODEL', message: expect.stringMatching(/6 channels, not a multiple of the input's 4/) }));
  });
  it('rejects an output shape that does not match the geometry', () => {
    rejects(conv({ output: f32('stem', [1, 3, 4, 16]) }), /conv2d 'stem'.*gives 4x4/);
    rejects(dw({ padding: 'valid' }), /depthwise_conv2d 'dw'.*valid padding/);
  });
  it('rejects filter / bias / channel mismatches', () => {
    rejects(conv({ bias: new Float32Array(15) }), /bias has 15 values, expected 16/);
    rejects(conv({ input: f32('in', [1, 8, 8, 4]) }), /filter has 3 input channels, input has 4/);
    rejects(conv({ filter: { data: new Float32Array(10), shape: [16, 3, 3, 3], dtype: 'float32' } }), /filter has 10 values/);
    rejects(conv({ bias: new Int32Array(16) }), /bias must be float32/);
  });
  it('rejects dilation, batch > 1, non-float tensors, bad strides and unknown ops', () => {
    rejects({ ...conv(), dilations: [2, 2] } as Conv2DOp, /dilation/);
    rejects(conv({ input: f32('in', [2, 8, 8, 3]) }), /must be \[1, H, W, C\]/);
    // an int8 input takes the quantized kernels, which need its quantization
    expect(() => prepareF32(conv({ input: { name: 'in', shape: [1, 8, 8, 3], dtype: 'int8' } }))).toThrow(expect.objectContaining({ code: 'INVALID_MODEL', message: expect.stringMatching(/no quantization parameters/) }));
    rejects(conv({ strides: [0, 2] }), /strides/);
    expect(() => prepareF32({ op: 'quantize', input: f32('a', [1, 4]), output: f32('q', [1, 4]) })).toThrow(expect.objectContaining({ message: expect.stringMatching(/float32, expected uint8 or int8/) }));
  });
});

describe('packers', () => {
  it('packGemmB puts B[n][k] at panel n/8, row k, lane n%8 and zero-pads columns', () => {
    const N = 10, K = 3;
    const w = Float32Array.from({ length: N * K }, (_, i) => i + 1);
    const p = packGemmB(w, N, K);
    expect(p.length).toBe(16 * K);
    for (let n = 0; n < 16; n++) {
      for (let k = 0; k < K; k++) expect(p[(n >> 3) * K * 8 + k * 8 + (n & 7)]).toBe(n < N ? w[n * K + k] : 0);
    }
  });
  it('packDepthwise groups 4 channels with their taps contiguous', () => {
    const taps = 9, C = 5;
    const w = Float32Array.from({ length: taps * C }, (_, i) => i + 1);
    const p = packDepthwise(w, taps, C);
    for (let c = 0; c < 8; c++) {
      for (let t = 0; t < taps; t++) expect(p[(c >> 2) * taps * 4 + t * 4 + (c & 3)]).toBe(c < C ? w[t * C + c] : 0);
    }
  });
});
