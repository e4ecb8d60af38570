/**
 * Test plumbing for the q8 ops: random quantized ops in the IR, a runner that places a prepared
 * op's constants and activations in kernel memory (guarding the bytes after the output), and the
 * raw <-> stored (uint8 shifted by -128) conversions.
 */
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { PreparedOp } from '../../../src/ops/types.js';
import { runOp } from '../../helpers/run-op.js';
import type { Activation, DType, Op, Padding, Quant, TensorInfo, Weights } from '../../../src/model/ir.js';
import { convGeometry, sizeOf } from '../../../src/model/ir.js';

export type QType = 'uint8' | 'int8';
export type Rand = () => number;

export const randInt = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** raw values (uint8 0..255 or int8) -> arena bytes */
export function toStored(raw: Uint8Array | Int8Array | Float32Array, dtype: DType): Int8Array | Float32Array {
  if (dtype === 'float32') return raw as Float32Array;
  const out = new Int8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = dtype === 'uint8' ? raw[i] - 128 : raw[i];
  return out;
}

export function fromStored(stored: Int8Array, dtype: QType): Uint8Array | Int8Array {
  if (dtype === 'int8') return stored;
  const out = new Uint8Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = stored[i] + 128;
  return out;
}


/**
 * Runs a prepared op; returns the output bytes and whether anything past the output (the
 * 64-byte slack the heap leaves) was written.
 */
export function runPrepared(k: Kernels, prepared: PreparedOp, input: Int8Array | Float32Array, outBytes: number) {
  return runOp(k, prepared, [input], outBytes);
}

export function tensor(name: string, shape: number[], dtype: DType, scale?: number, zeroPoint?: number): TensorInfo {
  return { name, shape, dtype, quant: scale === undefined ? undefined : { scale: [scale], zeroPoint: [zeroPoint ?? 0], axis: 0 } };
}

export function randomActivations(r: Rand, n: number, dtype: QType): Uint8Array | Int8Array {
  const a = dtype === 'uint8' ? new Uint8Array(n) : new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127);
  return a;
}

const zpFor = (r: Rand, dtype: QType) => (dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127));

export interface FilterOptions {
  dtype: QType;
  shape: number[];
  channels: number;
  axis: number;
  inputScale: number;
  outputScale: number;
  /** log2 range of the real multiplier (e.g. [-12, 2] includes left shifts) */
  log2Mult: [number, number];
}

/** filter with per-tensor uint8 (non-128 zero point) or per-channel int8 scales */
export function randomFilter(r: Rand, o: FilterOptions): Weights {
  const n = sizeOf(o.shape);
  const data = o.dtype === 'uint8' ? new Uint8Array(n) : new Int8Array(n);
  for (let i = 0; i < n; i++) data[i] = o.dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -127, 127);
  const scaleFor = () => (o.outputScale * 2 ** (o.log2Mult[0] + r() * (o.log2Mult[1] - o.log2Mult[0]))) / o.inputScale;
  const quant: Quant =
    o.dtype === 'uint8'
      ? { scale: [scaleFor()], zeroPoint: [pick(r, [0, 1, 37, 120, 127, 129, 200, 255])], axis: 0 }
      : { scale: Array.from({ length: o.channels }, scaleFor), zeroPoint: new Array(o.channels).fill(0), axis: o.axis };
  return { data, shape: o.shape, dtype: o.dtype, quant };
}

export function randomBias(r: Rand, n: number, magnitude: number): Int32Array {
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.round((r() * 2 - 1) * magnitude);
  return b;
}

export const ACTIVATIONS: Activation[] = ['none', 'relu', 'relu6', 'relu_n1_to_1'];

export interface ConvCase {
  dtype: QType;
  h: number;
  w: number;
  ic: number;
  oc: number;
  kh: number;
  kw: number;
  stride: number;
  padding: Padding;
  activation: Activation;
  depthwise: boolean;
  log2Mult: [number, number];
  biasMagnitude: number;
}

export function convOp(r: Rand, c: ConvCase): Op {
  const inScale = 0.02 + r() * 0.1;
  const outScale = c.activation === 'none' ? 0.05 + r() * 0.2 : 6 / 255 + r() * 0.01;
  const inZp = zpFor(r, c.dtype);
  const outZp = c.activation === 'none' ? zpFor(r, c.dtype) : c.dtype === 'uint8' ? randInt(r, 0, 40) : randInt(r, -128, -90);
  const oh = convGeometry(c.h, c.kh, c.stride, c.padding).out;
  const ow = convGeometry(c.w, c.kw, c.stride, c.padding).out;
  const oc = c.depthwise ? c.ic : c.oc;
  const filter = randomFilter(r, {
    dtype: c.dtype,
    shape: c.depthwise ? [1, c.kh, c.kw, c.ic] : [c.oc, c.kh, c.kw, c.ic],
    channels: oc,
    axis: c.depthwise ? 3 : 0,
    inputScale: inScale,
    outputScale: outScale,
    log2Mult: c.log2Mult,
  });
  const base = {
    input: tensor('x', [1, c.h, c.w, c.ic], c.dtype, inScale, inZp),
    output: tensor('y', [1, oh, ow, oc], c.dtype, outScale, outZp),
    filter,
    bias: randomBias(r, oc, c.biasMagnitude),
    strides: [c.stride, c.stride] as [number, number],
    padding: c.padding,
    activation: c.activation,
  };
  return c.depthwise ? { op: 'depthwise_conv2d', ...base } : { op: 'conv2d', ...base };
}
