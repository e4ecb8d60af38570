import { describe, it, expect, beforeAll } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels, Flavour } from '../../../src/runtime/kernels.js';
import { prepareConcatenation } from '../../../src/ops/concatenation/index.js';
import { MobileNetError } from '../../../src/errors.js';
import { sizeOf, type ConcatenationOp, type DType, type TensorInfo } from '../../../src/model/ir.js';
import { refConcatenation, type QParams } from '../../reference/shape-ops.js';
import { raw, runMulti, stored } from './run.js';

type Rand = () => number;
const randInt = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

function tensor(name: string, shape: number[], dtype: DType, q?: QParams): TensorInfo {
  return { name, shape, dtype, quant: dtype === 'float32' ? undefined : { scale: [q?.scale ?? 0.05], zeroPoint: [q?.zeroPoint ?? 0], axis: 0 } };
}

function concatOp(shapes: number[][], axis: number, dtype: DType, inQ: QParams[] = [], outQ?: QParams): ConcatenationOp {
  const outShape = shapes[0].slice();
  outShape[axis] = shapes.reduce((a, s) => a + s[axis], 0);
  return {
    op: 'concatenation',
    inputs: shapes.map((s, i) => tensor(`in${i}`, s, dtype, inQ[i])),
    output: tensor('out', outShape, dtype, outQ),
    axis,
    activation: 'none',
  };
}

function randomValues(r: Rand, n: number, dtype: DType): number[] {
  return Array.from({ length: n }, () => (dtype === 'float32' ? Math.fround((r() * 2 - 1) * 10) : dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127)));
}

function check(k: Kernels, op: ConcatenationOp, inputs: number[][], label: string) {
  const dtype = op.output.dtype;
  const prepared = prepareConcatenation(op);
  const eb = dtype === 'float32' ? 4 : 1;
  const { out, overrun } = runMulti(k, prepared, inputs.map((x) => stored(x, dtype)), sizeOf(op.output.shape) * eb);
  expect(overrun, `${label}: wrote past the output`).toBe(false);
  const q = (t: TensorInfo) => ({ scale: t.quant!.scale[0], zeroPoint: t.quant!.zeroPoint[0] });
  const quant = dtype === 'uint8' ? { inputs: op.inputs.map(q), output: q(op.output) } : undefined;
  const expected = refConcatenation(inputs, op.inputs.map((t) => t.shape), op.axis, op.output.shape, quant);
  const got = raw(out, dtype);
  expect(got.length, label).toBe(expected.length);
  const i = got.findIndex((v, j) => !Object.is(v, expected[j]));
  if (i >= 0) expect.fail(`${label}: first mismatch at ${i}: got ${got[i]}, expected ${expected[i]}`);
}

// SSD MobileNet v1 (ssd_mobilenet_v1_coco_quant.tflite): the class-score concatenation
const SSD_ANCHORS = [1083, 600, 150, 54, 24, 6];
const SSD_CLASS_Q: QParams[] = [
  { scale: 0.04824, zeroPoint: 230 },
  { scale: 0.04122, zeroPoint: 216 },
  { scale: 0.03624, zeroPoint: 213 },
  { scale: 0.03564, zeroPoint: 215 },
  { scale: 0.02721, zeroPoint: 226 },
  { scale: 0.02773, zeroPoint: 214 },
];
const SSD_BOX_Q: QParams[] = [
  { scale: 0.07903, zeroPoint: 191 },
  { scale: 0.03146, zeroPoint: 138 },
  { scale: 0.02928, zeroPoint: 126 },
  { scale: 0.02743, zeroPoint: 126 },
  { scale: 0.02066, zeroPoint: 138 },
  { scale: 0.02005, zeroPoint: 152 },
];

describe.each(FLAVOURS)('CONCATENATION, %s kernels, exact vs reference', (flavour: Flavour) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await loadKernels(flavour);
  });

  it('SSD class scores: uint8 [1,A,91] x 6 with different params, axis 1', () => {
    const r = rng(1);
    const op = concatOp(SSD_ANCHORS.map((a) => [1, a, 91]), 1, 'uint8', SSD_CLASS_Q, { scale: 0.04974, zeroPoint: 223 });
    check(k, op, op.inputs.map((t) => randomValues(r, sizeOf(t.shape), 'uint8')), 'SSD classes');
  });

  it('SSD boxes: uint8 [1,A,1,4] x 6, axis 1, the first input sharing the output params (copied)', () => {
    const r = rng(2);
    const op = concatOp(SSD_ANCHORS.map((a) => [1, a, 1, 4]), 1, 'uint8', SSD_BOX_Q, { ...SSD_BOX_Q[0] });
    check(k, op, op.inputs.map((t) => randomValues(r, sizeOf(t.shape), 'uint8')), 'SSD boxes');
  });

  it('uint8 requantization ties (input scale exactly half the output scale) round half away from zero', () => {
    const r = rng(4);
    const op = concatOp([[2, 3, 5], [2, 4, 5]], 1, 'uint8', [{ scale: 0.25, zeroPoint: 7 }, { scale: 0.125, zeroPoint: 100 }], { scale: 0.5, zeroPoint: 128 });
    const inputs = op.inputs.map((t) => randomValues(r, sizeOf(t.shape), 'uint8'));
    check(k, op, inputs, 'ties');
    // the table really is not a copy: 7 -> 128, 8 -> round(0.5) + 128 = 129, 6 -> round(-0.5) + 128 = 127
    const { out } = runMulti(k, prepareConcatenation(concatOp([[1, 3]], 1, 'uint8', [{ scale: 0.25, zeroPoint: 7 }], { scale: 0.5, zeroPoint: 128 })), [stored([7, 8, 6], 'uint8')], 3);
    expect(raw(out, 'uint8')).toEqual([128, 129, 127]);
  });

  it('uint8 requantization rounds each float32 operation (not in double, not fused)', () => {
    // search params where x * scale + bias rounds differently in float32 than in one rounding
    // (double here; a fused multiply-add behaves the same), so the test can tell them apart
    const f = Math.fround;
    const half = (x: number) => (x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5));
    const r = rng(12);
    let hit: { inQ: QParams; outS: number; x: number; single: number; twice: number } | undefined;
    for (let t = 0; t < 100000 && !hit; t++) {
      const outS = f(0.01 + r() * 0.1);
      const inQ = { scale: f(outS * 2 ** (r() * 6 - 3)), zeroPoint: randInt(r, 0, 255) };
      const scale = f(inQ.scale * f(1 / outS));
      const bias = f(-inQ.zeroPoint * scale);
      for (let x = 0; x < 256 && !hit; x++) {
        const twice = half(f(f(x * scale) + bias));
        const single = half(x * scale + bias);
        // the output zero point 128 - twice must be a uint8
        if (twice !== single && Math.abs(twice) <= 127) hit = { inQ, outS, x, single, twice };
      }
    }
    expect(hit, 'no float32-sensitive params found').toBeDefined();
    const { inQ, outS, x, twice } = hit!;
    const outQ = { scale: outS, zeroPoint: 128 - twice };
    const op = concatOp([[1, 256]], 1, 'uint8', [inQ], outQ);
    const all = Array.from({ length: 256 }, (_, i) => i);
    check(k, op, [all], 'float32-sensitive');
    const { out } = runMulti(k, prepareConcatenation(op), [stored(all, 'uint8')], 256);
    expect(raw(out, 'uint8')[x]).toBe(128);
  });

  it('constant inputs come from their own constant blob, activations from RunPointers.inputs in order', () => {
    const r = rng(21);
    for (const dtype of ['float32', 'uint8', 'int8'] as const) {
      const shapes = [[2, 3, 4], [2, 1, 4], [2, 2, 4]];
      const outQ = { scale: 0.1, zeroPoint: dtype === 'int8' ? -3 : 120 };
      const inQ = shapes.map((_, i) => (dtype === 'uint8' && i !== 2 ? { scale: 0.07 + i * 0.01, zeroPoint: 100 + i } : { ...outQ }));
      const op = concatOp(shapes, 1, dtype, inQ, outQ);
      const values = op.inputs.map((t) => randomValues(r, sizeOf(t.shape), dtype));
      // the middle input is a constant in the file
      const TypedFor = dtype === 'float32' ? Float32Array : dtype === 'uint8' ? Uint8Array : Int8Array;
      op.inputs[1] = { ...op.inputs[1], constant: TypedFor.from(values[1]) };
      const prepared = prepareConcatenation(op);
      const eb = dtype === 'float32' ? 4 : 1;
      const { out } = runMulti(k, prepared, [stored(values[0], dtype), stored(values[2], dtype)], sizeOf(op.output.shape) * eb);
      const q = (t: TensorInfo) => ({ scale: t.quant!.scale[0], zeroPoint: t.quant!.zeroPoint[0] });
      const quant = dtype === 'uint8' ? { inputs: op.inputs.map(q), output: q(op.output) } : undefined;
      expect(raw(out, dtype), dtype).toEqual(refConcatenation(values, shapes, 1, op.output.shape, quant));
    }
  });

  it('random ranks, axes, input counts, dtypes and quantization', () => {
    const r = rng(8);
    for (let t = 0; t < 200; t++) {
      const dtype = (['float32', 'uint8', 'int8'] as const)[t % 3];
      const rank = randInt(r, 1, 5);
      const axis = randInt(r, 0, rank - 1);
      const base = Array.from({ length: rank }, () => randInt(r, 1, 5));
      const count = randInt(r, 1, 5);
      const shapes = Array.from({ length: count }, () => base.map((d, i) => (i === axis ? randInt(r, 1, 6) : d)));
      const outQ: QParams = { scale: 0.01 + r() * 0.1, zeroPoint: dtype === 'int8' ? randInt(r, -128, 127) : randInt(r, 0, 255) };
      // int8 needs the output's params (TFLite); uint8 mixes equal and different ones
      const inQ = shapes.map(() => (dtype !== 'uint8' || r() < 0.3 ? { ...outQ } : { scale: outQ.scale * 2 ** (r() * 6 - 3), zeroPoint: randInt(r, 0, 255) }));
      const op = concatOp(shapes, axis, dtype, inQ, outQ);
      check(k, op, op.inputs.map((x) => randomValues(r, sizeOf(x.shape), dtype)), `case ${t}: ${dtype} ${JSON.stringify(shapes)} axis ${axis}`);
    }
  });
});

describe('CONCATENATION validation', () => {
  function expectError(op: ConcatenationOp, code: 'INVALID_MODEL' | 'UNSUPPORTED_MODEL', pattern: RegExp) {
    let err: unknown;
    try {
      prepareConcatenation(op);
    } catch (e) {
      err = e;
    }
    expect(err, 'expected a MobileNetError').toBeInstanceOf(MobileNetError);
    expect((err as MobileNetError).code).toBe(code);
    expect((err as MobileNetError).message).toMatch(pattern);
  }

  it('rejects mismatched ranks, shapes, axes, dtypes, int8 rescaling and activations', () => {
    const ok = () => concatOp([[1, 4, 3], [1, 2, 3]], 1, 'uint8', [{ scale: 0.1, zeroPoint: 3 }, { scale: 0.2, zeroPoint: 4 }], { scale: 0.3, zeroPoint: 5 });
    expect(() => prepareConcatenation(ok())).not.toThrow();
    const o = ok();
    expectError({ ...o, inputs: [o.inputs[0], tensor('in1', [1, 2, 3, 1], 'uint8')] }, 'INVALID_MODEL', /input 1 'in1' has rank 4, the output has 3/);
    expectError({ ...o, inputs: [o.inputs[0], tensor('in1', [1, 2, 4], 'uint8')] }, 'INVALID_MODEL', /input 1 'in1' has shape \[1,2,4\], which differs from the output \[1,6,3\] outside axis 1/);
    expectError({ ...o, output: tensor('out', [1, 7, 3], 'uint8') }, 'INVALID_MODEL', /inputs sum to 6 along axis 1, the output has 7/);
    expectError({ ...o, axis: 3 }, 'INVALID_MODEL', /axis 3 is out of range for rank 3/);
    expectError({ ...o, axis: -1 }, 'INVALID_MODEL', /axis -1 is out of range/);
    expectError({ ...o, inputs: [] }, 'INVALID_MODEL', /has no inputs/);
    expectError({ ...o, activation: 'relu' }, 'UNSUPPORTED_MODEL', /fused activation 'relu'/);
    expectError({ ...o, inputs: [o.inputs[0], tensor('in1', [1, 2, 3], 'int8')] }, 'UNSUPPORTED_MODEL', /input 1 'in1' is int8, the output uint8/);
    const i8 = concatOp([[1, 4], [1, 2]], 1, 'int8', [{ scale: 0.3, zeroPoint: 5 }, { scale: 0.3, zeroPoint: 6 }], { scale: 0.3, zeroPoint: 5 });
    expectError(i8, 'UNSUPPORTED_MODEL', /int8 input 1 'in1' .* differs from the output .*TFLite requires them equal/);
    expectError({ ...o, inputs: [o.inputs[0], { ...o.inputs[1], quant: undefined }] }, 'INVALID_MODEL', /input 1 tensor 'in1' \(uint8\) has no quantization parameters/);
    expectError({ ...o, inputs: [o.inputs[0], tensor('in1', [1, 0, 3], 'uint8')] }, 'INVALID_MODEL', /positive dimensions/);
    expectError({ ...o, inputs: [o.inputs[0], { ...o.inputs[1], constant: new Uint8Array(5) }] }, 'INVALID_MODEL', /input 1 'in1' has 5 constant values, shape \[1,2,3\] needs 6/);
    expectError({ ...o, inputs: [o.inputs[0], { ...o.inputs[1], constant: new Float32Array(6) }] }, 'INVALID_MODEL', /uint8 constant holding a Float32Array/);
  });
});
