import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Jimp } from 'jimp';
import { loadTfjsLayers, readTfjsLayers, TFJS_LABEL_OFFSET } from '../../src/formats/tfjs.js';
import { MobileNetError } from '../../src/errors.js';
import type { Graph, Op } from '../../src/model/ir.js';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING, rng } from '../helpers/kernels.js';
import { refF32 } from '../reference/f32.js';

const TFJS_DIR = MODELS_DIR ? join(MODELS_DIR, 'tfjs', 'mobilenet_v1_0.25_224') : undefined;
const HAVE_MODEL = !!TFJS_DIR && existsSync(join(TFJS_DIR, 'model.json'));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs a float graph op by op through the plain-loop reference. */
function runRef(g: Graph, input: Float32Array): Float32Array {
  return g.ops.reduce<Float32Array>((x, op) => refF32(op, x), input);
}

/** Raw manifest weights by name, read independently of the reader under test. */
function rawWeights(json: Json, data: Uint8Array): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  for (const group of json.weightsManifest) {
    for (const w of group.weights) {
      const n = w.shape.reduce((a: number, b: number) => a * b, 1);
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getFloat32(at + 4 * i, true);
      out.set(w.name, { shape: w.shape, values });
      at += 4 * n;
    }
  }
  return out;
}

function errorOf(f: () => unknown): MobileNetError {
  try {
    f();
  } catch (e) {
    if (e instanceof MobileNetError) return e;
    throw e;
  }
  throw new Error('expected a MobileNetError');
}

async function asyncErrorOf(p: Promise<unknown>): Promise<MobileNetError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MobileNetError) return e;
    throw e;
  }
  throw new Error('expected a MobileNetError');
}

describe.skipIf(!HAVE_MODEL)('TF.js layers model: shared mobilenet_v1_0.25_224', () => {
  const dir = TFJS_DIR!;
  const json = HAVE_MODEL ? JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) : {};
  const shards = HAVE_MODEL ? json.weightsManifest.flatMap((g: Json) => g.paths.map((p: string) => readFileSync(join(dir, p)))) : [];
  const data = HAVE_MODEL ? new Uint8Array(Buffer.concat(shards)) : new Uint8Array(0);
  const load = () => loadTfjsLayers(json, async (p) => new Uint8Array(readFileSync(join(dir, p))));

  it('reads into 27 conv layers + pool + classifier + reshape + softmax', async () => {
    const g = await load();
    expect(g.source).toBe('tfjs');
    expect(g.input).toMatchObject({ shape: [1, 224, 224, 3], dtype: 'float32' });
    expect(g.output.shape).toEqual([1, 1000]);
    expect(g.ops.map((o) => o.op)).toEqual([
      'conv2d',
      ...Array.from({ length: 13 }, () => ['depthwise_conv2d', 'conv2d']).flat(),
      'average_pool2d',
      'conv2d',
      'reshape',
      'softmax',
    ]);
    const channels = [8, 16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 256, 256];
    const convs = g.ops.filter((o, i) => o.op === 'conv2d' && i < 27);
    expect(convs.map((o) => o.output.shape[3])).toEqual(channels);
    for (const op of g.ops.slice(0, 27)) {
      if (op.op !== 'conv2d' && op.op !== 'depthwise_conv2d') throw new Error(`expected a conv, got ${op.op}`);
      expect(op.activation).toBe('relu6');
      expect(op.padding).toBe('same');
    }
    expect(g.ops[0].output.shape).toEqual([1, 112, 112, 8]);
    const first = g.ops[0] as Extract<Op, { op: 'conv2d' }>;
    expect(first.filter.shape).toEqual([8, 3, 3, 3]);
    expect(first.strides).toEqual([2, 2]);
    const pool = g.ops[27] as Extract<Op, { op: 'average_pool2d' }>;
    expect(pool.input.shape).toEqual([1, 7, 7, 256]);
    expect(pool.filterSize).toEqual([7, 7]);
    const cls = g.ops[28] as Extract<Op, { op: 'conv2d' }>;
    expect(cls.filter.shape).toEqual([1000, 1, 1, 256]);
    expect(cls.activation).toBe('none');
    // consistent chain
    for (let i = 1; i < g.ops.length; i++) expect(g.ops[i].input).toBe(g.ops[i - 1].output);
    // the bytes path gives the same graph
    const direct = readTfjsLayers(json, data);
    expect((direct.ops[5] as Extract<Op, { op: 'conv2d' }>).filter.data).toEqual((g.ops[5] as Extract<Op, { op: 'conv2d' }>).filter.data);
  });

  it('folds batch norm and converts layouts exactly as computed from the raw manifest', () => {
    const g = readTfjsLayers(json, data);
    const raw = rawWeights(json, data);
    const eps = 0.001;
    const bn = (layer: string, c: number) => {
      const [gamma, beta, mean, variance] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) => raw.get(`${layer}_bn/${p}`)!.values[c]);
      const k = gamma / Math.sqrt(variance + eps);
      return { k, b: beta - mean * k };
    };
    // pointwise conv_pw_6 (op 12), output channel 37: HWIO [1,1,64,128] -> OHWI [128,1,1,64]
    const pw = g.ops[12] as Extract<Op, { op: 'conv2d' }>;
    expect(pw.output.name).toContain('conv_pw_6');
    const pwRaw = raw.get('conv_pw_6/kernel')!;
    const o = 37;
    const f = bn('conv_pw_6', o);
    for (let i = 0; i < 64; i++) expect(pw.filter.data[o * 64 + i]).toBeCloseTo(pwRaw.values[i * 128 + o] * f.k, 5);
    expect(pw.bias[o]).toBeCloseTo(f.b, 5);
    // depthwise conv_dw_2 (op 3), channel 5: HWC1 [3,3,16,1] -> 1HWC [1,3,3,16]
    const dw = g.ops[3] as Extract<Op, { op: 'depthwise_conv2d' }>;
    const dwRaw = raw.get('conv_dw_2/depthwise_kernel')!;
    const d = bn('conv_dw_2', 5);
    for (let t = 0; t < 9; t++) expect(dw.filter.data[t * 16 + 5]).toBeCloseTo(dwRaw.values[t * 16 + 5] * d.k, 5);
    expect(dw.bias[5]).toBeCloseTo(d.b, 5);
    // stem conv1 channel 2, tap (ky 1, kx 2), input channel 1
    const stem = g.ops[0] as Extract<Op, { op: 'conv2d' }>;
    const s = bn('conv1', 2);
    expect(stem.filter.data[((2 * 3 + 1) * 3 + 2) * 3 + 1]).toBeCloseTo(raw.get('conv1/kernel')!.values[((1 * 3 + 2) * 3 + 1) * 8 + 2] * s.k, 5);
    // the classifier keeps its own bias, untouched
    const cls = g.ops[28] as Extract<Op, { op: 'conv2d' }>;
    expect(Array.from(cls.bias.subarray(0, 5))).toEqual(Array.from(raw.get('conv_preds/bias')!.values.subarray(0, 5)));
  });

  it('gives a probability vector on a simple input (float reference)', () => {
    const g = readTfjsLayers(json, data);
    const x = new Float32Array(224 * 224 * 3);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i / 997); // smooth pattern in [-1, 1]
    const p = runRef(g, x);
    expect(p).toHaveLength(1000);
    expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  it.skipIf(!SHARED_DIR || !existsSync(join(SHARED_DIR ?? '', 'images', 'samples', 'grace_hopper.bmp')))(
    'classifies grace_hopper.bmp as a military uniform (top 5, Keras index = label line - 1)',
    async () => {
      const img = await Jimp.read(join(SHARED_DIR!, 'images', 'samples', 'grace_hopper.bmp'));
      img.resize({ w: 224, h: 224 });
      const px = img.bitmap.data;
      const x = new Float32Array(224 * 224 * 3);
      for (let p = 0; p < 224 * 224; p++) for (let c = 0; c < 3; c++) x[p * 3 + c] = px[p * 4 + c] / 127.5 - 1;
      const probs = runRef(readTfjsLayers(json, data), x);
      const top5 = [...probs.keys()].sort((a, b) => probs[b] - probs[a]).slice(0, 5);
      const labels = readFileSync(join(SHARED_DIR!, 'labels', 'imagenet_1001_short.txt'), 'utf8').split('\n');
      expect(top5.map((i) => labels[i + TFJS_LABEL_OFFSET].trim())).toContain('military uniform');
    },
  );

  it('names the problem in a corrupted manifest', async () => {
    const clone = (): Json => JSON.parse(JSON.stringify(json));
    // a weight left out of the manifest (and its bytes with it)
    const missing = clone();
    const groupIndex = missing.weightsManifest.findIndex((gr: Json) => gr.weights[0].name === 'conv_dw_3/depthwise_kernel');
    const removed = missing.weightsManifest.splice(groupIndex, 1)[0];
    let offset = 0;
    for (const gr of json.weightsManifest.slice(0, groupIndex)) for (const w of gr.weights) offset += 4 * w.shape.reduce((a: number, b: number) => a * b, 1);
    const size = 4 * removed.weights[0].shape.reduce((a: number, b: number) => a * b, 1);
    const trimmed = new Uint8Array(data.length - size);
    trimmed.set(data.subarray(0, offset));
    trimmed.set(data.subarray(offset + size), offset);
    let e = errorOf(() => readTfjsLayers(missing, trimmed));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toMatch(/conv_dw_3\/depthwise_kernel.*missing/);
    // ... and with its bytes still there
    e = errorOf(() => readTfjsLayers(missing, data));
    expect(e.message).toMatch(new RegExp(`${data.length} bytes.*describes ${data.length - size}`));
    // a wrong shape with the same byte count
    const reshaped = clone();
    const w = reshaped.weightsManifest.flatMap((gr: Json) => gr.weights).find((x: Json) => x.name === 'conv_pw_1/kernel');
    w.shape = [1, 1, 16, 8];
    e = errorOf(() => readTfjsLayers(reshaped, data));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toMatch(/conv_pw_1.*\[1, 1, 16, 8\].*expected \[1, 1, 8, 16\]/);
    // a shard of the wrong length, through the loader
    e = await asyncErrorOf(loadTfjsLayers(json, async (p) => (p === 'group7-shard1of1' ? new Uint8Array(10) : new Uint8Array(readFileSync(join(dir, p))))));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toMatch(/group7-shard1of1 hold 10 bytes/);
    // an unreadable shard
    e = await asyncErrorOf(loadTfjsLayers(json, async () => Promise.reject(new Error('ENOENT'))));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/ENOENT/);
  });
});

describe.skipIf(HAVE_MODEL)('TF.js layers model (shared model absent)', () => {
  it('skips the shared-model tests', () => console.warn(SHARED_MISSING));
});

// ---------------------------------------------------------------------------------------------
// Small synthetic Keras models: always available, with a Keras-semantics forward pass to match.

interface LayerSpec {
  cls: string;
  name: string;
  config?: Json;
}

interface Built {
  json: Json;
  data: Uint8Array;
  weights: Map<string, Float32Array>;
}

/** A functional Keras chain as tfjs-converter writes it, with random weights from `seed`. */
function kerasModel(input: number[], layers: LayerSpec[], weightShapes: [string, number[]][], seed = 1): Built {
  const next = rng(seed);
  const all: LayerSpec[] = [{ cls: 'InputLayer', name: 'input_1', config: { batch_input_shape: [null, ...input], dtype: 'float32' } }, ...layers];
  const json: Json = {
    modelTopology: {
      keras_version: '2.1.4',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Model',
        config: {
          name: 'tiny',
          layers: all.map((l, i) => ({
            class_name: l.cls,
            name: l.name,
            config: { name: l.name, ...(l.config ?? {}) },
            inbound_nodes: i === 0 ? [] : [[[all[i - 1].name, 0, 0, {}]]],
          })),
          input_layers: [['input_1', 0, 0]],
          output_layers: [[all[all.length - 1].name, 0, 0]],
        },
      },
    },
    weightsManifest: [] as Json[],
  };
  const weights = new Map<string, Float32Array>();
  const chunks: Float32Array[] = [];
  for (const [name, shape] of weightShapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    // variances must stay positive; everything else in [-1, 1]
    const v = Float32Array.from({ length: n }, () => (name.endsWith('variance') ? 0.2 + next() : next() * 2 - 1));
    weights.set(name, v);
    chunks.push(v);
    json.weightsManifest.push({ paths: [`w-${name.replace('/', '_')}`], weights: [{ name, shape, dtype: 'float32' }] });
  }
  const data = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    data.set(new Uint8Array(c.buffer), at);
    at += c.byteLength;
  }
  return { json, data, weights };
}

/** Keras semantics, straight: conv over an explicitly zero-padded HWC image with an HWIO kernel. */
function kerasConv(x: Float64Array, [H, W, C]: number[], k: Float32Array, [KH, KW, , O]: number[], stride: number, pads: number[], depthwise: boolean) {
  const [top, bottom, left, right] = pads;
  const OH = Math.floor((H + top + bottom - KH) / stride) + 1;
  const OW = Math.floor((W + left + right - KW) / stride) + 1;
  const outC = depthwise ? C : O;
  const y = new Float64Array(OH * OW * outC);
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++)
      for (let o = 0; o < outC; o++) {
        let s = 0;
        for (let ky = 0; ky < KH; ky++)
          for (let kx = 0; kx < KW; kx++) {
            const iy = oy * stride + ky - top;
            const ix = ox * stride + kx - left;
            if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
            if (depthwise) s += x[(iy * W + ix) * C + o] * k[(ky * KW + kx) * C + o];
            else for (let i = 0; i < C; i++) s += x[(iy * W + ix) * C + i] * k[((ky * KW + kx) * C + i) * O + o];
          }
        y[(oy * OW + ox) * outC + o] = s;
      }
  return { y, shape: [OH, OW, outC] };
}

function kerasBn(x: Float64Array, C: number, w: Map<string, Float32Array>, layer: string, eps: number) {
  const [g, b, m, v] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) => w.get(`${layer}/${p}`)!);
  return x.map((val, j) => {
    const c = j % C;
    return ((val - m[c]) / Math.sqrt(v[c] + eps)) * g[c] + b[c];
  });
}

describe('TF.js layers reader on synthetic Keras chains', () => {
  const layers: LayerSpec[] = [
    { cls: 'ZeroPadding2D', name: 'pad', config: { padding: [[0, 1], [0, 1]], data_format: 'channels_last' } },
    { cls: 'Conv2D', name: 'c1', config: { filters: 3, kernel_size: [3, 3], strides: [2, 2], padding: 'valid', use_bias: false, activation: 'linear', dilation_rate: [1, 1] } },
    { cls: 'BatchNormalization', name: 'c1_bn', config: { epsilon: 0.001, axis: -1, center: true, scale: true } },
    { cls: 'ReLU', name: 'c1_relu', config: { max_value: 6 } },
    { cls: 'DepthwiseConv2D', name: 'dw', config: { kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 1, use_bias: true, activation: 'linear' } },
    { cls: 'BatchNormalization', name: 'dw_bn', config: { epsilon: 0.01 } },
    { cls: 'Activation', name: 'dw_relu', config: { activation: 'relu' } },
    { cls: 'GlobalAveragePooling2D', name: 'gap', config: {} },
    { cls: 'Dropout', name: 'drop', config: { rate: 0.5 } },
    { cls: 'Dense', name: 'fc', config: { units: 4, use_bias: true, activation: 'linear' } },
    { cls: 'Activation', name: 'probs', config: { activation: 'softmax' } },
  ];
  const bnShapes = (l: string, c: number): [string, number[]][] => ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) => [`${l}/${p}`, [c]]);
  const shapes: [string, number[]][] = [
    ['c1/kernel', [3, 3, 2, 3]],
    ...bnShapes('c1_bn', 3),
    ['dw/depthwise_kernel', [3, 3, 3, 1]],
    ['dw/bias', [3]],
    ...bnShapes('dw_bn', 3),
    ['fc/kernel', [3, 4]],
    ['fc/bias', [4]],
  ];

  it('matches a Keras-semantics forward pass (padding fold, BN fold, layouts, fused activations)', () => {
    const m = kerasModel([6, 6, 2], layers, shapes, 7);
    const g = readTfjsLayers(m.json, m.data);
    expect(g.ops.map((o) => o.op)).toEqual(['conv2d', 'depthwise_conv2d', 'average_pool2d', 'reshape', 'fully_connected', 'softmax']);
    expect((g.ops[0] as Extract<Op, { op: 'conv2d' }>).padding).toBe('same'); // ((0,1),(0,1)) + VALID == SAME at 6, stride 2
    const next = rng(3);
    const x = Float32Array.from({ length: 6 * 6 * 2 }, () => next() * 2 - 1);
    // Keras, directly
    let a = kerasConv(Float64Array.from(x), [6, 6, 2], m.weights.get('c1/kernel')!, [3, 3, 2, 3], 2, [0, 1, 0, 1], false);
    let h = kerasBn(a.y, 3, m.weights, 'c1_bn', 0.001).map((v) => Math.min(6, Math.max(0, v)));
    a = kerasConv(h, a.shape, m.weights.get('dw/depthwise_kernel')!, [3, 3, 3, 1], 1, [1, 1, 1, 1], true);
    const dwBias = m.weights.get('dw/bias')!;
    h = kerasBn(a.y.map((v, j) => v + dwBias[j % 3]), 3, m.weights, 'dw_bn', 0.01).map((v) => Math.max(0, v));
    const pooled = [0, 1, 2].map((c) => h.filter((_, j) => j % 3 === c).reduce((s, v) => s + v, 0) / 9);
    const fcK = m.weights.get('fc/kernel')!;
    const fcB = m.weights.get('fc/bias')!;
    const logits = [0, 1, 2, 3].map((o) => fcB[o] + pooled.reduce((s, v, i) => s + v * fcK[i * 4 + o], 0));
    const e = logits.map((v) => Math.exp(v - Math.max(...logits)));
    const want = e.map((v) => v / e.reduce((s, u) => s + u, 0));
    const got = runRef(g, x);
    expect(got).toHaveLength(4);
    for (let i = 0; i < 4; i++) expect(got[i]).toBeCloseTo(want[i], 5);
  });

  it('loads shards through the callback in manifest order', async () => {
    const m = kerasModel([6, 6, 2], layers, shapes, 8);
    const files = new Map<string, Uint8Array>();
    let at = 0;
    for (const gr of m.json.weightsManifest) {
      const n = 4 * gr.weights[0].shape.reduce((s: number, d: number) => s * d, 1);
      files.set(gr.paths[0], m.data.slice(at, at + n));
      at += n;
    }
    const asked: string[] = [];
    const g = await loadTfjsLayers(m.json, async (p) => {
      asked.push(p);
      return files.get(p)!;
    });
    expect(asked.sort()).toEqual([...files.keys()].sort());
    const direct = readTfjsLayers(m.json, m.data);
    expect(g.ops[4]).toEqual(direct.ops[4]);
  });

  it('folds symmetric ZeroPadding2D before a stride-1 conv into SAME, rejects paddings SAME cannot express', () => {
    const withPad = (pad: unknown, stride: number) =>
      kerasModel(
        [6, 6, 2],
        [
          { cls: 'ZeroPadding2D', name: 'pad', config: { padding: pad } },
          { cls: 'Conv2D', name: 'c1', config: { filters: 3, kernel_size: [3, 3], strides: [stride, stride], padding: 'valid', use_bias: false } },
        ],
        [['c1/kernel', [3, 3, 2, 3]]],
      );
    const ok = withPad(1, 1);
    expect((readTfjsLayers(ok.json, ok.data).ops[0] as Extract<Op, { op: 'conv2d' }>).padding).toBe('same');
    const bad = withPad([[1, 1], [1, 1]], 2); // TFLite SAME at 6, stride 2 pads 0 before, 1 after
    const e = errorOf(() => readTfjsLayers(bad.json, bad.data));
    expect(e.code).toBe('UNSUPPORTED_MODEL');
    expect(e.message).toMatch(/ZeroPadding2D "pad".*no explicit padding/);
  });

  it('rejects unknown layers, non-float dtypes, non-chains and malformed input with typed errors', () => {
    const base = () => kerasModel([6, 6, 2], layers, shapes, 9);
    let m = base();
    m.json.modelTopology.model_config.config.layers[5].class_name = 'LSTM';
    let e = errorOf(() => readTfjsLayers(m.json, m.data));
    expect(e.code).toBe('UNSUPPORTED_MODEL');
    expect(e.message).toMatch(/"dw".*LSTM/);

    m = base();
    m.json.weightsManifest[1].weights[0].dtype = 'int32';
    e = errorOf(() => readTfjsLayers(m.json, m.data));
    expect(e.code).toBe('UNSUPPORTED_MODEL');
    expect(e.message).toMatch(/c1_bn\/gamma.*int32/);

    m = base();
    m.json.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 0.1, min: -1 };
    expect(errorOf(() => readTfjsLayers(m.json, m.data)).message).toMatch(/quantized/);

    m = base();
    // a skip connection: dw reads c1_bn instead of c1_relu
    m.json.modelTopology.model_config.config.layers[5].inbound_nodes = [[['c1_bn', 0, 0, {}]]];
    e = errorOf(() => readTfjsLayers(m.json, m.data));
    expect(e.code).toBe('UNSUPPORTED_MODEL');
    expect(e.message).toMatch(/"dw".*not the previous layer "c1_relu"/);

    m = base();
    m.json.modelTopology.model_config.config.layers[7].inbound_nodes = [[['dw_bn', 0, 0, {}], ['c1_relu', 0, 0, {}]]];
    expect(errorOf(() => readTfjsLayers(m.json, m.data)).message).toMatch(/"dw_relu" has 2 inputs/);

    m = base();
    m.json.modelTopology.model_config.config.layers[0].config.batch_input_shape = [null, null, null, 2];
    expect(errorOf(() => readTfjsLayers(m.json, m.data)).message).toMatch(/fixed height/);

    m = base();
    m.json.modelTopology.model_config.config.layers[2].config.dilation_rate = [2, 2];
    expect(errorOf(() => readTfjsLayers(m.json, m.data)).message).toMatch(/"c1" uses dilation/);

    m = base();
    m.json.modelTopology.model_config.config.layers[3].config.axis = 1;
    expect(errorOf(() => readTfjsLayers(m.json, m.data)).message).toMatch(/c1_bn.*axis/);

    expect(errorOf(() => readTfjsLayers('nope', new Uint8Array(0))).code).toBe('INVALID_MODEL');
    expect(errorOf(() => readTfjsLayers({ weightsManifest: [] }, new Uint8Array(0))).message).toMatch(/modelTopology/);
    m = base();
    expect(errorOf(() => readTfjsLayers(m.json, m.data.subarray(4))).message).toMatch(/bytes but weightsManifest describes/);
  });

  it('accepts a Sequential model without an InputLayer', () => {
    const m = kerasModel([4, 4, 1], [{ cls: 'Conv2D', name: 'c', config: { filters: 2, kernel_size: 1, strides: 1, padding: 'same', activation: 'relu6' } }], [
      ['c/kernel', [1, 1, 1, 2]],
      ['c/bias', [2]],
    ]);
    const layersJson = m.json.modelTopology.model_config.config.layers.slice(1);
    layersJson[0].config.batch_input_shape = [null, 4, 4, 1];
    m.json.modelTopology = { class_name: 'Sequential', config: { name: 'seq', layers: layersJson } };
    const g = readTfjsLayers(m.json, m.data);
    expect(g.ops).toHaveLength(1);
    expect(g.ops[0]).toMatchObject({ op: 'conv2d', activation: 'relu6', output: { shape: [1, 4, 4, 2] } });
  });
});
