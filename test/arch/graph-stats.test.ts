/**
 * graphStats counts any graph with the architecture counter's rules (src/arch/mobilenet.ts):
 * a v1 graph gives exactly mobilenetV1Layers' totals, MobileNet v2 its published figures.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { graphStats } from '../../src/arch/graph-stats.js';
import { buildMobileNetV1, mobilenetV1Layers } from '../../src/arch/mobilenet.js';
import { readTflite } from '../../src/formats/tflite.js';
import { MobileNetError } from '../../src/errors.js';
import type { Graph, Op, TensorInfo } from '../../src/model/ir.js';
import { MODELS_DIR, SHARED_MISSING } from '../helpers/kernels.js';

const f32 = (name: string, shape: number[]): TensorInfo => ({ name, shape, dtype: 'float32' });
const weights = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, dtype: 'float32' as const });

describe('graphStats on hand-made graphs', () => {
  it('counts conv, depthwise and fully-connected weights x output positions, and weights + biases', () => {
    const x = f32('x', [1, 4, 4, 2]);
    const conv = f32('conv', [1, 4, 4, 3]);
    const dw = f32('dw', [1, 2, 2, 3]);
    const flat = f32('flat', [1, 12]);
    const fc = f32('fc', [1, 5]);
    const probs = f32('probs', [1, 5]);
    const ops: Op[] = [
      // 16 positions x (3 x 1 x 1 x 2) weights = 96; 6 weights + 3 biases
      { op: 'conv2d', input: x, output: conv, filter: weights([3, 1, 1, 2]), bias: new Float32Array(3), strides: [1, 1], padding: 'same', activation: 'relu6' },
      // 4 positions x (1 x 3 x 3 x 3) = 108; 27 + 3
      { op: 'depthwise_conv2d', input: conv, output: dw, filter: weights([1, 3, 3, 3]), bias: new Float32Array(3), strides: [2, 2], padding: 'same', activation: 'none' },
      { op: 'reshape', input: dw, output: flat },
      // 5 x 12 = 60; 60 + 5
      { op: 'fully_connected', input: flat, output: fc, filter: weights([5, 12]), bias: new Float32Array(5), activation: 'none' },
      { op: 'softmax', input: fc, output: probs, beta: 1 },
    ];
    const s = graphStats({ ops, input: x, output: probs, source: 'random' });
    expect(s.layers.map((l) => [l.index, l.name, l.op, l.outputShape, l.macs, l.params])).toEqual([
      [0, 'conv', 'conv2d', [1, 4, 4, 3], 96, 9],
      [1, 'dw', 'depthwise_conv2d', [1, 2, 2, 3], 108, 30],
      [2, 'flat', 'reshape', [1, 12], 0, 0],
      [3, 'fc', 'fully_connected', [1, 5], 60, 65],
      [4, 'probs', 'softmax', [1, 5], 0, 0],
    ]);
    expect(s.macs).toBe(96 + 108 + 60);
    expect(s.params).toBe(9 + 30 + 65);
  });

  it('a fully-connected op over several rows counts each row; elementwise ops and their constants count 0', () => {
    const x = f32('x', [3, 4]);
    const y = f32('y', [3, 2]);
    const scale = { ...f32('scale', [2]), constant: new Float32Array([1, 2]) };
    const z = f32('z', [3, 2]);
    const ops: Op[] = [
      { op: 'fully_connected', input: x, output: y, filter: weights([2, 4]), bias: new Float32Array(2), activation: 'none' },
      { op: 'mul', inputs: [y, scale], output: z, activation: 'none' },
    ];
    const s = graphStats({ ops, input: x, output: z, source: 'random' } as Graph);
    expect(s.layers.map((l) => [l.op, l.macs, l.params])).toEqual([
      ['fully_connected', 3 * 8, 8 + 2],
      ['mul', 0, 0],
    ]);
  });
});

describe('graphStats agrees with the MobileNet v1 architecture counter', () => {
  it.each([
    [1, 224, 1001, 'float32', 'conv'],
    [1, 224, 1000, 'uint8', 'conv'],
    [0.5, 160, 1000, 'int8', 'fc'],
    [0.25, 128, 10, 'float32', 'fc'],
  ] as const)('built v1 %f/%i with %i classes (%s, %s head)', (alpha, resolution, classes, precision, head) => {
    const arch = mobilenetV1Layers(alpha, resolution, classes);
    const s = graphStats(buildMobileNetV1({ alpha, resolution, classes, precision, head }));
    expect([s.macs, s.params]).toEqual([arch.macs, arch.params]);
    // layer by layer too: the counted ops in order are the architecture's counted layers
    const counted = s.layers.filter((l) => l.op === 'conv2d' || l.op === 'depthwise_conv2d' || l.op === 'fully_connected');
    const archCounted = arch.layers.filter((l) => l.kind !== 'avgpool' && l.kind !== 'softmax');
    expect(counted.map((l) => [l.macs, l.params])).toEqual(archCounted.map((l) => [l.macs, l.params]));
  });
});

describe.skipIf(!MODELS_DIR)('graphStats on the shared .tflite models', () => {
  const stats = (file: string) => graphStats(readTflite(readFileSync(join(MODELS_DIR!, file))));

  it.each([
    ['mobilenet_v1_1.0_224_quant.tflite', 1, 224],
    ['mobilenet_v1_0.75_192_quant.tflite', 0.75, 192],
    ['mobilenet_v1_0.5_160_quant.tflite', 0.5, 160],
    ['mobilenet_v1_0.25_128_quant.tflite', 0.25, 128],
    ['mobilenet_v1_0.25_128.tflite', 0.25, 128],
  ] as const)('%s: exactly mobilenetV1Layers(%f, %i, 1001)', (file, alpha, resolution) => {
    const arch = mobilenetV1Layers(alpha, resolution, 1001);
    const s = stats(file);
    expect([s.macs, s.params]).toEqual([arch.macs, arch.params]);
    if (alpha === 1) expect([s.macs, s.params]).toEqual([568_741_376, 4_222_057]);
  });

  it('MobileNet v2 1.0/224 (uint8 and the TF2 int8 file alike): 300.8 M mult-adds, 3.49 M params', () => {
    // The MobileNetV2 README gives 300 M MACs and 3.47 M parameters for 1.0/224 (the paper's
    // Table 4: 300 M, 3.4 M). The mult-adds are the same count (weights x output positions of
    // every conv, 1001-class classifier included; 300.78 M printed as 300). The published
    // parameters are weights only: 3,471,040 here; our params add one bias per output channel
    // (18,057 of them, the batch-norm-folded model's), as the v1 counter does.
    for (const file of ['mobilenet_v2_1.0_224_quant.tflite', 'tf2_mobilenet_v2_1.0_224_ptq.tflite']) {
      const s = stats(file);
      expect([s.macs, s.params], file).toEqual([300_775_552, 3_489_097]);
    }
    const g = readTflite(readFileSync(join(MODELS_DIR!, 'mobilenet_v2_1.0_224_quant.tflite')));
    let weightCount = 0;
    let biasCount = 0;
    for (const op of g.ops) {
      if ('filter' in op) {
        weightCount += op.filter.data.length;
        biasCount += op.bias.length;
      }
    }
    expect(weightCount).toBe(3_471_040);
    expect(weightCount + biasCount).toBe(3_489_097);
    // the residual ADDs are listed, at no cost
    const adds = stats('mobilenet_v2_1.0_224_quant.tflite').layers.filter((l) => l.op === 'add');
    expect(adds).toHaveLength(10);
    expect(adds.every((l) => l.macs === 0 && l.params === 0)).toBe(true);
  });

  it('SSD: every op listed, the post-processing last at no cost', () => {
    const s = stats('ssd_mobilenet_v1_coco_quant.tflite');
    expect(s.layers).toHaveLength(64);
    expect(s.layers.at(-1)).toMatchObject({ name: 'TFLite_Detection_PostProcess', op: 'detection_postprocess', outputShape: [1, 10, 4], macs: 0, params: 0 });
    expect(s.layers.filter((l) => l.op === 'logistic' || l.op === 'concatenation').every((l) => l.macs === 0 && l.params === 0)).toBe(true);
    expect([s.macs, s.params]).toEqual([728_036_496, 4_101_231]);
    expect(s.macs).toBe(s.layers.reduce((t, l) => t + l.macs, 0));
  });

  it('person detector (int8, 96x96 grayscale, 2 classes)', () => {
    const s = stats('person_detect_int8.tflite');
    expect([s.layers.length, s.macs, s.params]).toEqual([31, 7_157_888, 210_706]);
    expect(s.layers.at(-1)).toMatchObject({ op: 'softmax', outputShape: [1, 2] });
  });
});

it.skipIf(!!MODELS_DIR)('graphStats on the shared models', () => console.warn(SHARED_MISSING));

describe('graphStats on malformed graphs', () => {
  const x = f32('x', [1, 4, 4, 2]);
  const y = f32('y', [1, 4, 4, 3]);
  const conv = (filter: unknown): Op => ({ op: 'conv2d', input: x, output: y, filter, bias: new Float32Array(3), strides: [1, 1], padding: 'same', activation: 'none' }) as Op;
  it.each([
    ['not a graph', null, /graph must be an object/],
    ['no ops', { ops: [], input: x, output: x, source: 'random' }, /no operators/],
    ['a conv without its filter', { ops: [conv(undefined)], input: x, output: y, source: 'random' }, /filter/],
    ['an op we do not know', { ops: [{ op: 'lstm', input: x, output: y }], input: x, output: y, source: 'random' }, /lstm/],
  ])('%s: a MobileNetError naming the problem', (_, graph, message) => {
    let err: unknown;
    try {
      graphStats(graph as unknown as Graph);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MobileNetError);
    expect(['INVALID_MODEL', 'UNSUPPORTED_MODEL']).toContain((err as MobileNetError).code);
    expect((err as Error).message).toMatch(message);
  });
});
