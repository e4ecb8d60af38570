/**
 * Post-training quantization (src/ptq): TFLite's parameter formulas, the histogram's ranges,
 * the int8 graph's layout, its outputs against the TFLite reference graph and across the
 * scalar / simd / relaxed builds, and hostile inputs. Random-weight MobileNets (no shared data).
 */
import { describe, expect, it } from 'vitest';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { readTflite } from '../../src/formats/tflite.js';
import type { Graph, Op, TensorInfo } from '../../src/model/ir.js';
import { sizeOf } from '../../src/model/ir.js';
import { nodeKernelModule, loadModel } from '../../src/node.js';
import { Calibrator, TensorStats, asymmetricParams, quantizeGraph, quantizeToTflite, type CalibrationStats } from '../../src/ptq/index.js';
import { runReferenceGraph } from '../reference/graph.js';
import { FLAVOURS, rng } from '../helpers/kernels.js';
import { expectModelError } from '../helpers/tflite-fixtures.js';

const LOAD = { wasm: nodeKernelModule };

function randomInput(t: TensorInfo, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: sizeOf(t.shape) }, () => r() * 2 - 1);
}

/** a float 0.25/32 MobileNet v1 and its calibration statistics over a few random inputs */
async function calibrated(opts: { head?: 'conv' | 'fc'; samples?: number } = {}): Promise<{ graph: Graph; stats: CalibrationStats }> {
  const graph = buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'float32', classes: 10, head: opts.head, seed: 3 });
  const cal = await Calibrator.create(graph, LOAD);
  for (let s = 0; s < (opts.samples ?? 8); s++) cal.add(randomInput(graph.input, 100 + s));
  cal.dispose();
  return { graph, stats: cal.stats };
}

describe('quantization parameters', () => {
  it('asymmetric int8 parameters follow TFLite (range widened to 0, zero point rounded half away)', () => {
    expect(asymmetricParams({ min: 0, max: 6 })).toEqual({ scale: Math.fround(6 / 255), zeroPoint: -128 });
    // [-1, 1]: -128 + 127.5 = -0.5 rounds away from zero to -1, as TF2's int8 MobileNet input has it
    expect(asymmetricParams({ min: -1, max: 1 })).toEqual({ scale: Math.fround(2 / 255), zeroPoint: -1 });
    expect(asymmetricParams({ min: 2, max: 4 })).toEqual({ scale: Math.fround(4 / 255), zeroPoint: -128 });
    expect(asymmetricParams({ min: -3, max: -1 }).zeroPoint).toBe(127);
    expect(asymmetricParams({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('histogram ranges: min/max exact, percentile and MSE clip a rare outlier, counts survive the range growing', () => {
    const s = new TensorStats();
    const r = rng(5);
    // 100 000 values in [0, 1), then one outlier at 50 that widens the histogram 50-fold
    for (let b = 0; b < 10; b++) s.add(Float32Array.from({ length: 10_000 }, () => r()));
    s.add([50]);
    expect(s.count).toBe(100_001);
    expect(s.range('minmax')).toEqual({ min: 0, max: 50 });
    const p = s.range('percentile', 99.99);
    expect(p.min).toBe(0);
    expect(p.max).toBeGreaterThan(0.9);
    expect(p.max).toBeLessThan(1.2);
    const m = s.range('mse');
    expect(m.max).toBeLessThan(50);
    expect(m.max).toBeGreaterThan(1);
    expectModelError(() => new TensorStats().range('minmax'), 'INVALID_OPTION', /no calibration values/);
    expectModelError(() => s.range('percentile', 20), 'INVALID_OPTION', /percentile/);
  });
});

describe('quantizeGraph: layout', () => {
  it('per-channel int8 conv / depthwise weights, int32 biases, int8 activations, softmax 1/256 -128, QUANTIZE ... DEQUANTIZE', async () => {
    const { graph, stats } = await calibrated();
    const q = quantizeGraph(graph, stats);
    expect(q.ops[0].op).toBe('quantize');
    expect(q.ops[q.ops.length - 1].op).toBe('dequantize');
    expect(q.input.dtype).toBe('float32');
    expect(q.output.dtype).toBe('float32');
    expect(q.ops.length).toBe(graph.ops.length + 2);
    for (const op of q.ops.slice(1, -1)) {
      const o = op as Extract<Op, { output: TensorInfo }>;
      expect(o.output.dtype).toBe('int8');
      if (op.op === 'conv2d' || op.op === 'depthwise_conv2d') {
        const axis = op.op === 'conv2d' ? 0 : 3;
        expect(op.filter.dtype).toBe('int8');
        expect(op.filter.quant!.axis).toBe(axis);
        expect(op.filter.quant!.scale.length).toBe(op.filter.shape[axis]);
        expect(op.filter.quant!.zeroPoint.every((z) => z === 0)).toBe(true);
        expect(op.bias).toBeInstanceOf(Int32Array);
        // symmetric: each channel reaches +-127 and never -128
        expect(Math.min(...op.filter.data)).toBeGreaterThanOrEqual(-127);
        if (op.activation === 'relu6') {
          expect(op.output.quant!.zeroPoint[0]).toBe(-128);
          expect(op.output.quant!.scale[0]).toBeLessThanOrEqual(Math.fround(6 / 255));
        }
      }
      if (op.op === 'average_pool2d' || op.op === 'reshape') expect(op.output.quant).toEqual(op.input.quant);
      if (op.op === 'softmax') expect(op.output.quant).toEqual({ scale: [1 / 256], zeroPoint: [-128], axis: 0 });
    }
  }, 60_000);

  it('fully-connected head: per-tensor symmetric weights', async () => {
    const { graph, stats } = await calibrated({ head: 'fc' });
    const fc = quantizeGraph(graph, stats).ops.find((o) => o.op === 'fully_connected') as Extract<Op, { op: 'fully_connected' }>;
    expect(fc.filter.quant!.scale.length).toBe(1);
    expect(fc.bias).toBeInstanceOf(Int32Array);
  }, 60_000);

  it('int8 and uint8 I/O: no QUANTIZE / DEQUANTIZE for int8; uint8 ends requantize with zero point + 128', async () => {
    const { graph, stats } = await calibrated();
    const i8 = quantizeGraph(graph, stats, { io: 'int8' });
    expect(i8.ops.length).toBe(graph.ops.length);
    expect(i8.input.dtype).toBe('int8');
    expect(i8.output.quant).toEqual({ scale: [1 / 256], zeroPoint: [-128], axis: 0 });
    const u8 = quantizeGraph(graph, stats, { io: 'uint8' });
    expect(u8.input.dtype).toBe('uint8');
    expect(u8.input.quant!.zeroPoint[0]).toBe(i8.input.quant!.zeroPoint[0] + 128);
    expect(u8.output.quant).toEqual({ scale: [1 / 256], zeroPoint: [0], axis: 0 });
    expect([u8.ops[0].op, u8.ops[u8.ops.length - 1].op]).toEqual(['quantize', 'quantize']);
  }, 60_000);

  it('the written .tflite reads back with the same parameters', async () => {
    const { graph, stats } = await calibrated();
    for (const method of ['minmax', 'percentile', 'mse'] as const) {
      const q = quantizeGraph(graph, stats, { method });
      const back = readTflite(quantizeToTflite(graph, stats, { method }));
      expect(back.ops.map((o) => o.op)).toEqual(q.ops.map((o) => o.op));
      back.ops.forEach((op, i) => {
        const want = q.ops[i] as Extract<Op, { output: TensorInfo }>;
        const got = op as Extract<Op, { output: TensorInfo }>;
        expect(got.output.quant?.zeroPoint).toEqual(want.output.quant?.zeroPoint);
        expect(got.output.quant?.scale.map(Math.fround)).toEqual(want.output.quant?.scale.map(Math.fround));
        if ('filter' in got && 'filter' in want) {
          expect(Array.from(got.filter.data)).toEqual(Array.from(want.filter.data));
          expect(Array.from(got.bias)).toEqual(Array.from(want.bias));
        }
      });
    }
  }, 60_000);
});

describe('bias correction', () => {
  it('subtracts the weights\' rounding times the calibration mean of each input channel', async () => {
    const input: TensorInfo = { name: 'x', shape: [1, 1, 1, 2], dtype: 'float32' };
    const output: TensorInfo = { name: 'y', shape: [1, 1, 1, 1], dtype: 'float32' };
    const w = Float32Array.from([0.3, -0.7001]);
    const graph: Graph = {
      ops: [{ op: 'conv2d', input, output, filter: { data: w, shape: [1, 1, 1, 2], dtype: 'float32' }, bias: Float32Array.from([0.1]), strides: [1, 1], padding: 'valid', activation: 'none' }],
      input,
      output,
      source: 'random',
    };
    const cal = await Calibrator.create(graph, LOAD);
    cal.add(Float32Array.from([1, 0.5]));
    cal.add(Float32Array.from([1, -0.5]));
    cal.dispose();
    const conv = (biasCorrection: boolean) => quantizeGraph(graph, cal.stats, { biasCorrection, io: 'int8' }).ops[0] as Extract<Op, { op: 'conv2d' }>;
    const on = conv(true);
    const s = on.filter.quant!.scale[0];
    const biasScale = Math.fround(on.input.quant!.scale[0] * s);
    // input channel means: 1 and 0
    const shift = (on.filter.data[0] * s - w[0]) * 1 + (on.filter.data[1] * s - w[1]) * 0;
    expect(shift).not.toBe(0);
    expect(Math.abs(on.bias[0] * biasScale - (0.1 - shift))).toBeLessThanOrEqual(biasScale / 2 + 1e-9);
    expect(Math.abs(conv(false).bias[0] * biasScale - 0.1)).toBeLessThanOrEqual(biasScale / 2 + 1e-9);
    expect(conv(false).bias[0]).not.toBe(on.bias[0]);
  });
});

describe('quantized model outputs', () => {
  it('equal the TFLite reference graph byte for byte and are identical on scalar, simd and relaxed; close to the float model', async () => {
    const { graph, stats } = await calibrated({ samples: 16 });
    const floatNet = await loadModel(graph);
    for (const io of ['int8', 'float'] as const) {
      const bytes = quantizeToTflite(graph, stats, { io, method: 'mse' });
      const qgraph = readTflite(bytes);
      for (let s = 0; s < 3; s++) {
        const x = randomInput(graph.input, 900 + s);
        const input = io === 'float' ? x : Int8Array.from(x, (v) => Math.max(-128, Math.min(127, Math.round(v / qgraph.input.quant!.scale[0]) + qgraph.input.quant!.zeroPoint[0])));
        const want = runReferenceGraph(qgraph, [input])[0];
        for (const flavour of FLAVOURS) {
          const net = await loadModel(bytes, { kernels: flavour });
          const got = net.run(input);
          expect(got.constructor).toBe(want.constructor);
          expect(Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `${io} I/O, ${flavour}`).toBe(0);
          net.dispose();
        }
        if (io === 'float') {
          const f = floatNet.run(x) as Float32Array;
          const maxDiff = Math.max(...Array.from(f, (v, i) => Math.abs(v - (want as Float32Array)[i])));
          // softmax over 10 classes in 1/256 steps: quantization error of a few steps at most
          expect(maxDiff).toBeLessThan(0.08);
        }
      }
    }
    floatNet.dispose();
  }, 60_000);
});

describe('hostile input', () => {
  it('an integer model is refused, naming its dtype', async () => {
    const g = buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'int8', classes: 10 });
    await expect(Calibrator.create(g, LOAD)).rejects.toThrow(/float32 model.*int8.*already quantized/);
    const { stats } = await calibrated();
    expectModelError(() => quantizeGraph(g, stats), 'UNSUPPORTED_MODEL', /float32 model/);
  }, 60_000);

  it('NaN or infinite weights are INVALID_MODEL naming the op and index', async () => {
    const g = buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'float32', classes: 10 });
    const conv = g.ops[2] as Extract<Op, { op: 'conv2d' }>;
    (conv.filter.data as Float32Array)[5] = NaN;
    await expect(Calibrator.create(g, LOAD)).rejects.toThrow(/op 2 \(conv2d\) weights.*NaN at index 5/);
    (conv.filter.data as Float32Array)[5] = 0;
    (conv.bias as Float32Array)[1] = Infinity;
    await expect(Calibrator.create(g, LOAD)).rejects.toMatchObject({ code: 'INVALID_MODEL', message: expect.stringMatching(/op 2 \(conv2d\) bias hold Infinity at index 1/) });
  });

  it('an op quantize does not convert is UNSUPPORTED_MODEL naming it', async () => {
    const g = buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'float32', classes: 10 });
    const last = g.ops[g.ops.length - 1] as Extract<Op, { output: TensorInfo }>;
    const out: TensorInfo = { name: 'sigmoid', shape: last.output.shape.slice(), dtype: 'float32' };
    const bad: Graph = { ...g, ops: [...g.ops, { op: 'logistic', input: last.output, output: out }], output: out, outputs: [out] };
    await expect(Calibrator.create(bad, LOAD)).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/op \d+ \(logistic\): quantize converts only/) });
  });

  it('statistics without any calibration input, or from another graph, are refused', async () => {
    const g = buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'float32', classes: 10 });
    const cal = await Calibrator.create(g, LOAD);
    expectModelError(() => quantizeGraph(g, cal.stats), 'INVALID_OPTION', /calibration saw no inputs/);
    expect(() => cal.add(new Uint8Array(3) as unknown as Float32Array)).toThrow(/Float32Array/);
    cal.add(randomInput(g.input, 1));
    const shorter: Graph = { ...g, ops: g.ops.slice(0, -1) };
    const prev = g.ops[g.ops.length - 2] as Extract<Op, { output: TensorInfo }>;
    shorter.output = prev.output;
    shorter.outputs = [prev.output];
    expectModelError(() => quantizeGraph(shorter, cal.stats), 'INVALID_OPTION', /statistics cover \d+ ops, the model has \d+/);
    expectModelError(() => quantizeGraph(g, cal.stats, { method: 'kl' as never }), 'INVALID_OPTION', /method must be one of/);
    expectModelError(() => quantizeGraph(g, cal.stats, { io: 'int16' as never }), 'INVALID_OPTION', /io must be one of/);
    cal.dispose();
  });
});
