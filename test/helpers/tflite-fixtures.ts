/**
 * Helpers for .tflite tests: small deterministic IR chains in every precision (written to
 * .tflite with the writer, then edited to make bad models), a one-line-per-op description
 * of a graph, and an assertion for MobileNetError codes and messages.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { MobileNetError, type ErrorCode } from '../../src/errors.js';
import { convGeometry, type DType, type Graph, type Op, type Quant, type TensorInfo, type Weights } from '../../src/model/ir.js';
import { MODELS_DIR, rng } from './kernels.js';

export const SHARED_TFLITE = [
  'mobilenet_v1_0.25_128.tflite',
  'mobilenet_v1_0.25_128_quant.tflite',
  'mobilenet_v1_0.5_160_quant.tflite',
  'mobilenet_v1_0.75_192_quant.tflite',
  'mobilenet_v1_1.0_224_quant.tflite',
  'vww_96_float.tflite',
  'vww_96_int8.tflite',
] as const;

/** bytes of a shared model, or undefined when ../shared is absent */
export function sharedModel(name: string): Uint8Array | undefined {
  if (!MODELS_DIR) return undefined;
  const p = join(MODELS_DIR, name);
  return existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined;
}

/** "conv2d 3x3 s2 same relu6 [1,128,128,3]->[1,64,64,8] uint8 filter uint8[8,3,3,3]" */
export function describeOp(op: Op): string {
  const shape = (t: TensorInfo) => `[${t.shape.join(',')}]`;
  const io = `${shape(op.input)}->${shape(op.output)} ${op.input.dtype}${op.input.dtype !== op.output.dtype ? `->${op.output.dtype}` : ''}`;
  const w = (f: Weights) => `${f.dtype}[${f.shape.join(',')}]${f.quant && f.quant.scale.length > 1 ? ` per-channel axis ${f.quant.axis}` : ''}`;
  switch (op.op) {
    case 'conv2d':
    case 'depthwise_conv2d':
      return `${op.op} ${op.filter.shape[1]}x${op.filter.shape[2]} s${op.strides[0]} ${op.padding} ${op.activation} ${io} filter ${w(op.filter)}`;
    case 'average_pool2d':
      return `${op.op} ${op.filterSize[0]}x${op.filterSize[1]} s${op.strides[0]} ${op.padding} ${op.activation} ${io}`;
    case 'fully_connected':
      return `${op.op} ${op.activation} ${io} weights ${w(op.filter)}`;
    case 'softmax':
      return `${op.op} beta ${op.beta} ${io}`;
    default:
      return `${op.op} ${io}`;
  }
}

export function describeTensor(t: TensorInfo): string {
  const q = t.quant ? ` scale ${t.quant.scale[0]} zp ${t.quant.zeroPoint[0]}` : '';
  return `'${t.name}' ${t.dtype} [${t.shape.join(',')}]${q}`;
}

/** run fn, expect a MobileNetError with this code and a message matching every pattern */
export function expectModelError(fn: () => unknown, code: ErrorCode, ...patterns: RegExp[]): MobileNetError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a MobileNetError to be thrown').toBeInstanceOf(MobileNetError);
  const m = err as MobileNetError;
  expect(m.code, m.message).toBe(code);
  for (const p of patterns) expect(m.message).toMatch(p);
  return m;
}

// ---- small deterministic chains -------------------------------------------------------------

interface ChainOptions {
  dtype: DType;
  /** input side (square) */
  size?: number;
  classes?: number;
  seed?: number;
}

/**
 * A tiny MobileNet-shaped chain: conv 3x3 s2 SAME relu6 -> depthwise 3x3 s1 SAME relu6 ->
 * conv 1x1 relu6 -> average pool (whole map, VALID) -> conv 1x1 logits -> reshape [1, classes]
 * -> softmax. Float weights are random; quantized ones random with plausible scales (int8
 * filters per channel like TFLite full-integer models, uint8 per tensor).
 */
export function tinyChain({ dtype, size = 8, classes = 5, seed = 1 }: ChainOptions): Graph {
  const rand = rng(seed);
  const quantized = dtype !== 'float32';
  // scales are float32 in the file, so the fixture uses float32-representable ones
  const actQuant = (scale: number): Quant | undefined =>
    quantized ? { scale: [Math.fround(scale)], zeroPoint: [dtype === 'uint8' ? 128 : -1], axis: 0 } : undefined;
  const tensor = (name: string, shape: number[], scale: number): TensorInfo => {
    const t: TensorInfo = { name, shape, dtype };
    const q = actQuant(scale);
    if (q) t.quant = q;
    return t;
  };
  const weights = (shape: number[], axis: number): Weights => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (dtype === 'float32') return { data: Float32Array.from({ length: n }, () => rand() * 2 - 1), shape, dtype };
    const channels = shape[axis];
    if (dtype === 'uint8') {
      return {
        data: Uint8Array.from({ length: n }, () => Math.floor(rand() * 256)),
        shape,
        dtype,
        quant: { scale: [Math.fround(0.01 + rand() * 0.01)], zeroPoint: [100 + Math.floor(rand() * 50)], axis: 0 },
      };
    }
    return {
      data: Int8Array.from({ length: n }, () => Math.floor(rand() * 255) - 127),
      shape,
      dtype,
      quant: {
        scale: Array.from({ length: channels }, () => Math.fround(0.005 + rand() * 0.01)),
        zeroPoint: Array.from({ length: channels }, () => 0),
        axis,
      },
    };
  };
  const bias = (n: number) =>
    quantized ? Int32Array.from({ length: n }, () => Math.floor(rand() * 2000) - 1000) : Float32Array.from({ length: n }, () => rand() - 0.5);

  const c1 = 4;
  const c2 = 6;
  const input = tensor('input', [1, size, size, 3], 1 / 128);
  const s1 = convGeometry(size, 3, 2, 'same').out;
  const t1 = tensor('conv1/Relu6', [1, s1, s1, c1], 6 / 255);
  const t2 = tensor('dw1/Relu6', [1, s1, s1, c1], 6 / 255);
  const t3 = tensor('pw1/Relu6', [1, s1, s1, c2], 6 / 255);
  const t4 = tensor('pool/AvgPool', [1, 1, 1, c2], 6 / 255);
  const t5 = tensor('logits/BiasAdd', [1, 1, 1, classes], 0.1);
  const t6 = tensor('logits/Reshape', [1, classes], 0.1);
  const t7 = tensor('Predictions', [1, classes], 1 / 256);
  if (t7.quant) t7.quant.zeroPoint = [dtype === 'uint8' ? 0 : -128];
  const ops: Op[] = [
    { op: 'conv2d', input, output: t1, filter: weights([c1, 3, 3, 3], 0), bias: bias(c1), strides: [2, 2], padding: 'same', activation: 'relu6' },
    { op: 'depthwise_conv2d', input: t1, output: t2, filter: weights([1, 3, 3, c1], 3), bias: bias(c1), strides: [1, 1], padding: 'same', activation: 'relu6' },
    { op: 'conv2d', input: t2, output: t3, filter: weights([c2, 1, 1, c1], 0), bias: bias(c2), strides: [1, 1], padding: 'same', activation: 'relu6' },
    { op: 'average_pool2d', input: t3, output: t4, filterSize: [s1, s1], strides: [2, 2], padding: 'valid', activation: 'none' },
    { op: 'conv2d', input: t4, output: t5, filter: weights([classes, 1, 1, c2], 0), bias: bias(classes), strides: [1, 1], padding: 'same', activation: 'none' },
    { op: 'reshape', input: t5, output: t6 },
    { op: 'softmax', input: t6, output: t7, beta: 1 },
  ];
  return { ops, input, output: t7, source: 'random' };
}

/** float chain with QUANTIZE in front and DEQUANTIZE behind an int8 fully-connected layer */
export function quantizeChain(seed = 3): Graph {
  const rand = rng(seed);
  const input: TensorInfo = { name: 'x', shape: [1, 16], dtype: 'float32' };
  const q: TensorInfo = { name: 'x_int8', shape: [1, 16], dtype: 'int8', quant: { scale: [Math.fround(0.02)], zeroPoint: [3], axis: 0 } };
  const fc: TensorInfo = { name: 'fc', shape: [1, 4], dtype: 'int8', quant: { scale: [Math.fround(0.05)], zeroPoint: [-2], axis: 0 } };
  const out: TensorInfo = { name: 'y', shape: [1, 4], dtype: 'float32' };
  const filter: Weights = {
    data: Int8Array.from({ length: 64 }, () => Math.floor(rand() * 255) - 127),
    shape: [4, 16],
    dtype: 'int8',
    quant: { scale: [Math.fround(0.01)], zeroPoint: [0], axis: 0 },
  };
  return {
    ops: [
      { op: 'quantize', input, output: q },
      { op: 'fully_connected', input: q, output: fc, filter, bias: Int32Array.from([5, -7, 100, 0]), activation: 'relu' },
      { op: 'dequantize', input: fc, output: out },
    ],
    input,
    output: out,
    source: 'random',
  };
}

/**
 * First difference between two values (graphs), as "path: a vs b", or null when equal.
 * Typed arrays must match in kind, length and bytes; compared with a plain loop because
 * generic deep equality is slow on multi-megabyte weights.
 */
export function firstDifference(a: unknown, b: unknown, path = 'graph'): string | null {
  if (path === 'graph') {
    // tensor ids are the file's numbering (a written file renumbers); a chain built without
    // inputs / outputs lists has one of each
    const norm = (g: unknown) => {
      if (!g || typeof g !== 'object' || !('ops' in g)) return g;
      const x = g as Graph;
      return { ...x, inputs: x.inputs ?? [x.input], outputs: x.outputs ?? [x.output] };
    };
    a = norm(a);
    b = norm(b);
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b)) return `${path}: typed array vs ${typeof b}`;
    if (a.constructor !== b.constructor) return `${path}: ${a.constructor.name} vs ${b.constructor.name}`;
    if (a.byteLength !== b.byteLength) return `${path}: ${a.byteLength} bytes vs ${b.byteLength}`;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${path}: byte ${i} differs (${x[i]} vs ${y[i]})`;
    return null;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path}: array vs ${typeof b}`;
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).filter((k) => k !== 'id').sort();
    const kb = Object.keys(b).filter((k) => k !== 'id').sort();
    if (ka.join() !== kb.join()) return `${path}: keys {${ka.join()}} vs {${kb.join()}}`;
    for (const k of ka) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path}: ${String(a)} vs ${String(b)}`;
}
