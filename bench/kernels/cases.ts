/**
 * Kernel microbenchmark cases (issue 11 item 7): synthetic ops on MobileNet v1 layer shapes,
 * prepared through the runtime's own entries (prepareOp / prepareFusedPair in src/ops), so the
 * packing measured is the packing shipped, whatever layout the packers use today.
 */
import type { Activation, DType, Op, TensorInfo, Weights } from '../../src/model/ir.js';
import { prepareFusedPair, prepareOp } from '../../src/ops/index.js';
import type { PreparedOp } from '../../src/ops/types.js';
import { mulberry32 } from '../../src/arch/random.js';

export type Precision = 'float32' | 'uint8' | 'int8';
/** the instruction whose register-only rate is the family's ceiling (bench/kernels/probe.ts) */
export type Core = 'f32' | 'dot_i16x8' | 'none';

export interface KernelCase {
  family: string;
  model: string;
  layer: string;
  precision: Precision;
  core: Core;
  prepared: PreparedOp;
  /** activation inputs in stored form (uint8 shifted by -128) */
  inputs: (Int8Array | Float32Array)[];
  outBytes: number;
  /** ops per run: 2 per multiply-add, 1 per add of average pooling */
  ops: number;
}

interface Block { h: number; w: number; c: number; stride: number; outC: number }

/** MobileNet v1 alpha/resolution: the stem, then the 13 depthwise + pointwise blocks */
function mobilenetV1(alpha: number, res: number) {
  const ch = (c: number) => Math.max(8, Math.round(c * alpha));
  const spec: [number, number][] = [[1, 64], [2, 128], [1, 128], [2, 256], [1, 256], [2, 512], [1, 512], [1, 512], [1, 512], [1, 512], [1, 512], [2, 1024], [1, 1024]];
  const blocks: Block[] = [];
  let h = Math.ceil(res / 2);
  let c = ch(32);
  for (const [stride, outC] of spec) {
    blocks.push({ h, w: h, c, stride, outC: ch(outC) });
    h = Math.ceil(h / stride);
    c = ch(outC);
  }
  return { stem: { res, outC: ch(32) }, blocks, last: { h, c } };
}

/** model name -> (alpha, resolution) */
export const MODELS: Record<string, [number, number]> = { '1.0/224': [1, 224], '0.25/128': [0.25, 128] };
/** blocks measured per model: the first (widest map), a stride-2 one, a 14x14 (or 8x8) and the last */
const BLOCKS = [0, 1, 6, 12];
const CLASSES = 1001;

const rand = mulberry32(20261201);
const randInts = <A extends Int8Array | Uint8Array>(n: number, lo: number, hi: number, Arr: new (n: number) => A): A => {
  const a = new Arr(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor(rand() * (hi - lo + 1));
  return a;
};
const randF32 = (n: number, scale: number) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
};

// Quantization as a uint8 MobileNet v1 has it (per-tensor weights with a zero point, ReLU6
// activations with zero point 0) or an int8 one (per-channel symmetric weights, zero point -128).
const ACT_SCALE = 6 / 255;
function qTensor(name: string, shape: number[], p: Precision): TensorInfo {
  if (p === 'float32') return { name, shape, dtype: 'float32' };
  return { name, shape, dtype: p as DType, quant: { scale: [ACT_SCALE], zeroPoint: [p === 'uint8' ? 0 : -128], axis: 0 } };
}
function filter(shape: number[], channels: number, axis: number, p: Precision): Weights {
  const n = shape.reduce((a, b) => a * b, 1);
  if (p === 'float32') return { data: randF32(n, 0.2), shape, dtype: 'float32' };
  if (p === 'uint8') return { data: randInts(n, 0, 255, Uint8Array), shape, dtype: 'uint8', quant: { scale: [0.004], zeroPoint: [121], axis: 0 } };
  const scale = Array.from({ length: channels }, () => 0.002 + rand() * 0.004);
  return { data: randInts(n, -127, 127, Int8Array), shape, dtype: 'int8', quant: { scale, zeroPoint: new Array(channels).fill(0), axis } };
}
function bias(n: number, p: Precision) {
  if (p === 'float32') return randF32(n, 1);
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.round((rand() * 2 - 1) * 2000);
  return b;
}
function input(shape: number[], p: Precision): Int8Array | Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return p === 'float32' ? randF32(n, 1) : randInts(n, -128, 127, Int8Array);
}
const elemBytes = (p: Precision) => (p === 'float32' ? 4 : 1);
const RELU6: Activation = 'relu6';

function conv(h: number, w: number, c: number, outC: number, k: number, stride: number, p: Precision): Op {
  const oh = Math.ceil(h / stride), ow = Math.ceil(w / stride);
  return {
    op: 'conv2d', input: qTensor('x', [1, h, w, c], p), output: qTensor('y', [1, oh, ow, outC], p),
    filter: filter([outC, k, k, c], outC, 0, p), bias: bias(outC, p), strides: [stride, stride], padding: 'same', activation: RELU6,
  };
}
function depthwise(b: Block, p: Precision): Op {
  const oh = Math.ceil(b.h / b.stride), ow = Math.ceil(b.w / b.stride);
  return {
    op: 'depthwise_conv2d', input: qTensor('x', [1, b.h, b.w, b.c], p), output: qTensor('d', [1, oh, ow, b.c], p),
    filter: filter([1, 3, 3, b.c], b.c, 3, p), bias: bias(b.c, p), strides: [b.stride, b.stride], padding: 'same', activation: RELU6,
  };
}

function make(family: string, model: string, layer: string, p: Precision, core: Core, prepared: PreparedOp, inShape: number[], outShape: number[], ops = 2 * prepared.macs): KernelCase {
  const outBytes = outShape.reduce((a, b) => a * b, 1) * elemBytes(p);
  return { family, model, layer, precision: p, core, prepared, inputs: [input(inShape, p)], outBytes, ops };
}

/** every case of the given precisions and models */
export function kernelCases(precisions: Precision[], models = Object.keys(MODELS)): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const model of models) {
    const [alpha, res] = MODELS[model];
    const net = mobilenetV1(alpha, res);
    for (const p of precisions) {
      const pre = p === 'float32' ? 'f32' : 'q8';
      const core: Core = p === 'float32' ? 'f32' : 'dot_i16x8';
      const tag = p === 'float32' ? '' : ` ${p}`;
      if (p !== 'float32') {
        // QUANTIZE of a float input (TFLite's full-integer files start with it); one op per element
        const n = res * res * 3;
        const quantize: Op = { op: 'quantize', input: { name: 'f', shape: [1, res, res, 3], dtype: 'float32' }, output: qTensor('x', [1, res, res, 3], p) };
        cases.push({ family: `q8 quantize float input${tag}`, model, layer: `${res}x${res}x3`, precision: p, core: 'none', prepared: prepareOp(quantize), inputs: [randF32(n, 1)], outBytes: n, ops: n });
      }
      const stemOp = conv(res, res, 3, net.stem.outC, 3, 2, p);
      const so = Math.ceil(res / 2);
      cases.push(make(`${pre} stem conv${tag}`, model, `${res}x${res} 3->${net.stem.outC} 3x3 s2`, p, core, prepareOp(stemOp), [1, res, res, 3], [1, so, so, net.stem.outC]));
      for (const i of BLOCKS) {
        const b = net.blocks[i];
        const oh = Math.ceil(b.h / b.stride);
        const dw = depthwise(b, p);
        const pw = conv(oh, oh, b.c, b.outC, 1, 1, p);
        cases.push(make(`${pre} depthwise${tag}`, model, `${b.h}x${b.w}x${b.c} 3x3 s${b.stride}`, p, core, prepareOp(dw), [1, b.h, b.w, b.c], [1, oh, oh, b.c]));
        cases.push(make(`${pre} gemm (pointwise)${tag}`, model, `${oh}x${oh} ${b.c}->${b.outC}`, p, core, prepareOp(pw), [1, oh, oh, b.c], [1, oh, oh, b.outC]));
        const fused = prepareFusedPair(dw, pw);
        if (fused) cases.push(make(`${pre} fused dw+pw${tag}`, model, `${b.h}x${b.w}x${b.c} s${b.stride} -> ${b.outC}`, p, core, fused, [1, b.h, b.w, b.c], [1, oh, oh, b.outC]));
      }
      const { h, c } = net.last;
      const pool: Op = { op: 'average_pool2d', input: qTensor('x', [1, h, h, c], p), output: qTensor('y', [1, 1, 1, c], p), filterSize: [h, h], strides: [h, h], padding: 'valid', activation: 'none' };
      cases.push(make(`${pre} avgpool${tag}`, model, `${h}x${h}x${c}`, p, 'none', prepareOp(pool), [1, h, h, c], [1, 1, 1, c], h * h * c));
      // the classifier's softmax over 1001 classes (the same for every model: measured once); one op per element
      if (model !== models[0]) continue;
      const probs = qTensor('p', [1, CLASSES], p);
      if (probs.quant) probs.quant = { scale: [1 / 256], zeroPoint: [p === 'uint8' ? 0 : -128], axis: 0 };
      const softmax: Op = { op: 'softmax', input: { ...qTensor('l', [1, CLASSES], p), quant: p === 'float32' ? undefined : { scale: [0.1], zeroPoint: [p === 'uint8' ? 128 : 0], axis: 0 } }, output: probs, beta: 1 };
      cases.push(make(`${pre} softmax${tag}`, model, `${CLASSES} classes`, p, 'none', prepareOp(softmax), [1, CLASSES], [1, CLASSES], CLASSES));
    }
  }
  return cases;
}
