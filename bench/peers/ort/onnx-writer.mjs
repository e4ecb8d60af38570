/**
 * Writes MobileNet v1 as an ONNX ModelProto (opset 13) with a minimal protobuf encoder, from the
 * seeded random-weight network in bench/lib/mobilenet-v1.mjs. No dependency: the subset of
 * onnx.proto needed here is small (field numbers below are onnx.proto's).
 *
 *   float32: Conv (group=C for depthwise) + Clip(0,6), GlobalAveragePool, Conv 1x1, Flatten, Softmax.
 *   int8:    QOperator form, as onnxruntime's quantizer emits it: QuantizeLinear on the float input,
 *            QLinearConv everywhere with int8 per-channel symmetric weights and int32 bias; ReLU6 is
 *            the quantized output range [0, 6] (as TFLite does); GlobalAveragePool in float between
 *            Dequantize/QuantizeLinear; the 1x1 classifier QLinearConv; DequantizeLinear; Softmax.
 *            Activations uint8 (zero point 0 / 128) or int8 (`activations: 's8'`, zero points -128 / 0).
 * Activations are NCHW (the ONNX convention); the input is float32 [1, 3, R, R] for both.
 *
 * CLI: node bench/peers/ort/onnx-writer.mjs <alpha> <res> <float32|int8> <out.onnx> [seed]
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMobileNetV1, samePadding } from '../../lib/mobilenet-v1.mjs';

// ---------------- protobuf encoding ----------------
class Writer {
  constructor() {
    this.chunks = [];
    this.length = 0;
  }
  bytes(b) {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }
  varint(v) {
    let x = BigInt.asUintN(64, BigInt(v)); // negative int64 -> 10-byte two's complement, as protobuf does
    const out = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      out.push(byte);
    } while (x);
    return this.bytes(Uint8Array.from(out));
  }
  tag(field, wire) {
    return this.varint((field << 3) | wire);
  }
  int(field, v) {
    return this.tag(field, 0).varint(v);
  }
  float(field, v) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.tag(field, 5).bytes(b);
  }
  lenDelim(field, b) {
    return this.tag(field, 2).varint(b.length).bytes(b);
  }
  string(field, s) {
    return this.lenDelim(field, new TextEncoder().encode(s));
  }
  message(field, build) {
    const w = new Writer();
    build(w);
    return this.lenDelim(field, w.finish());
  }
  finish() {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

const DT = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7 };
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 };

function tensorProto(w, { name, dims, dtype, data }) {
  for (const d of dims) w.int(1, d); // dims
  w.int(2, DT[dtype]); // data_type
  w.string(8, name);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // raw_data is little-endian
  w.lenDelim(9, bytes);
}

function attribute(w, name, value) {
  w.string(1, name);
  if (Array.isArray(value)) {
    for (const v of value) w.int(8, v);
    w.int(20, ATTR.INTS);
  } else if (Number.isInteger(value)) {
    w.int(3, value);
    w.int(20, ATTR.INT);
  } else {
    w.float(2, value);
    w.int(20, ATTR.FLOAT);
  }
}

function valueInfo(w, name, dtype, dims) {
  w.string(1, name);
  w.message(2, (t) => t.message(1, (tt) => {
    tt.int(1, DT[dtype]);
    tt.message(2, (s) => { for (const d of dims) s.message(1, (dim) => dim.int(1, d)); });
  }));
}

/** Graph under construction: nodes + initializers, encoded into a ModelProto by encode(). */
class Graph {
  constructor() {
    this.nodes = [];
    this.inits = [];
    this.count = 0;
  }
  init(prefix, dtype, dims, data) {
    const name = `${prefix}_${this.count++}`;
    this.inits.push({ name, dtype, dims, data });
    return name;
  }
  node(op, inputs, attrs = {}, outName) {
    const output = outName ?? `${op}_${this.count++}`;
    this.nodes.push({ op, inputs, output, attrs });
    return output;
  }
  encode({ input, output, inputDims, outputDims, opset = 13, producer = 'mobilenet-wasm bench' }) {
    const m = new Writer();
    m.int(1, 7); // ir_version 7 (opset 13 era)
    m.string(2, producer);
    m.message(7, (g) => {
      for (const n of this.nodes) {
        g.message(1, (w) => {
          for (const i of n.inputs) w.string(1, i);
          w.string(2, n.output);
          w.string(3, n.output);
          w.string(4, n.op);
          for (const [k, v] of Object.entries(n.attrs)) w.message(5, (a) => attribute(a, k, v));
        });
      }
      g.string(2, 'mobilenet_v1');
      for (const t of this.inits) g.message(5, (w) => tensorProto(w, t));
      g.message(11, (w) => valueInfo(w, input, 'float32', inputDims));
      g.message(12, (w) => valueInfo(w, output, 'float32', outputDims));
    });
    m.message(8, (o) => { o.string(1, ''); o.int(2, opset); });
    return m.finish();
  }
}

// ---------------- MobileNet v1 ----------------
/** OHWI -> OIHW (ONNX Conv weight layout). */
function ohwiToOihw(f, O, H, W, I) {
  const out = new Float32Array(f.length);
  for (let o = 0; o < O; o++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let i = 0; i < I; i++) out[((o * I + i) * H + h) * W + w] = f[((o * H + h) * W + w) * I + i];
  return out;
}
/** 1HWC -> [C, 1, H, W]. */
function dwToOihw(f, C, H, W) {
  const out = new Float32Array(f.length);
  for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) out[(c * H + h) * W + w] = f[(h * W + w) * C + c];
  return out;
}

function convParams(l) {
  const isDw = l.kind === 'dw';
  const O = isDw ? l.C : l.outC;
  const I = isDw ? 1 : l.inC;
  const weight = isDw ? dwToOihw(l.filter, l.C, 3, 3) : ohwiToOihw(l.filter, l.outC, l.k, l.k, l.inC);
  const [before, after] = samePadding(l.inSize, l.k, l.stride);
  const attrs = { kernel_shape: [l.k, l.k], strides: [l.stride, l.stride], pads: [before, before, after, after] };
  if (isDw) attrs.group = l.C;
  return { O, I, weight, attrs };
}

/** Per-output-channel symmetric int8 weights: scale[o] = max|w[o]| / 127. */
function quantizeWeights(weight, O) {
  const per = weight.length / O;
  const q = new Int8Array(weight.length);
  const scales = new Float32Array(O);
  for (let o = 0; o < O; o++) {
    let m = 0;
    for (let j = 0; j < per; j++) m = Math.max(m, Math.abs(weight[o * per + j]));
    const s = m > 0 ? m / 127 : 1;
    scales[o] = s;
    for (let j = 0; j < per; j++) q[o * per + j] = Math.max(-127, Math.min(127, Math.round(weight[o * per + j] / s)));
  }
  return { q, scales };
}

/**
 * Build the .onnx bytes for the seeded network of bench/lib/mobilenet-v1.mjs.
 * @param {{alpha:number, resolution:number, precision:'float32'|'int8', seed?:number, activations?:'u8'|'s8'}} opts
 */
export function mobileNetV1Onnx({ alpha, resolution, precision = 'float32', seed = 1, activations = 'u8', weights = 's8' }) {
  return networkToOnnx(buildMobileNetV1({ alpha, resolution, seed }), { precision, activations, weights });
}

/**
 * Encode a network given as bench/lib/mobilenet-v1.mjs describes it ({resolution, numClasses,
 * layers}); make-models.ts feeds the project's own random-weight graph through here too.
 */
export function networkToOnnx(net, { precision = 'float32', activations = 'u8', weights = 's8' } = {}) {
  const resolution = net.resolution;
  const g = new Graph();
  const scalar = (prefix, dtype, v) => g.init(prefix, dtype, [], dtype === 'float32' ? Float32Array.of(v) : dtype === 'uint8' ? Uint8Array.of(v) : dtype === 'int8' ? Int8Array.of(v) : Int32Array.of(v));
  let x = 'input';
  if (precision === 'float32') {
    const lo = scalar('clip_min', 'float32', 0);
    const hi = scalar('clip_max', 'float32', 6);
    for (const l of net.layers) {
      if (l.kind === 'avgpool') {
        x = g.node('GlobalAveragePool', [x]);
        continue;
      }
      const { O, I, weight, attrs } = convParams(l);
      const W = g.init('W', 'float32', [O, I, l.k, l.k], weight);
      const B = g.init('B', 'float32', [O], l.bias);
      x = g.node('Conv', [x, W, B], attrs);
      if (l.relu6) x = g.node('Clip', [x, lo, hi]);
    }
  } else if (precision === 'int8') {
    const act = activations === 's8' ? 'int8' : 'uint8';
    const shift = act === 'int8' ? -128 : 0; // int8 zero points are the uint8 ones minus 128
    const inScale = scalar('in_scale', 'float32', 2 / 255);
    const inZp = scalar('in_zp', act, 128 + shift);
    const reluScaleV = 6 / 255;
    const reluScale = scalar('relu6_scale', 'float32', reluScaleV);
    const reluZp = scalar('relu6_zp', act, 0 + shift);
    const logitScaleV = 0.1;
    const logitScale = scalar('logit_scale', 'float32', logitScaleV);
    const logitZp = scalar('logit_zp', act, 128 + shift);
    x = g.node('QuantizeLinear', [x, inScale, inZp]);
    let xScale = inScale;
    let xScaleV = 2 / 255;
    let xZp = inZp;
    for (const l of net.layers) {
      if (l.kind === 'avgpool') {
        // ORT has no standard-domain quantized global pool: dequantize, pool in float, requantize.
        x = g.node('DequantizeLinear', [x, xScale, xZp]);
        x = g.node('GlobalAveragePool', [x]);
        x = g.node('QuantizeLinear', [x, reluScale, reluZp]);
        continue;
      }
      const { O, I, weight, attrs } = convParams(l);
      const { q, scales } = quantizeWeights(weight, O);
      const bias = Int32Array.from(l.bias, (b, o) => Math.round(b / (xScaleV * scales[o])));
      // weights 'u8': the same values shifted by +128 with zero point 128 (ORT's older U8U8 form)
      const W = weights === 'u8' ? g.init('Wq', 'uint8', [O, I, l.k, l.k], Uint8Array.from(q, (v) => v + 128)) : g.init('Wq', 'int8', [O, I, l.k, l.k], q);
      const Ws = g.init('Ws', 'float32', [O], scales);
      const Wz = weights === 'u8' ? g.init('Wz', 'uint8', [O], new Uint8Array(O).fill(128)) : g.init('Wz', 'int8', [O], new Int8Array(O));
      const B = g.init('Bq', 'int32', [O], bias);
      const [yScale, yZp, yScaleV] = l.relu6 ? [reluScale, reluZp, reluScaleV] : [logitScale, logitZp, logitScaleV];
      x = g.node('QLinearConv', [x, xScale, xZp, W, Ws, Wz, yScale, yZp, B], attrs);
      [xScale, xZp, xScaleV] = [yScale, yZp, yScaleV];
    }
    x = g.node('DequantizeLinear', [x, xScale, xZp]);
  } else {
    throw new Error(`precision must be float32 or int8, got ${precision}`);
  }
  x = g.node('Flatten', [x], { axis: 1 });
  g.node('Softmax', [x], { axis: 1 }, 'output');
  return g.encode({ input: 'input', output: 'output', inputDims: [1, 3, resolution, resolution], outputDims: [1, net.numClasses] });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [alpha, res, precision, out, seed] = process.argv.slice(2);
  if (!out) {
    console.error('usage: node bench/peers/ort/onnx-writer.mjs <alpha> <res> <float32|int8> <out.onnx> [seed]');
    process.exit(2);
  }
  const bytes = mobileNetV1Onnx({ alpha: Number(alpha), resolution: Number(res), precision, seed: seed ? Number(seed) : 1 });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  console.error(`wrote ${out} (${bytes.length} bytes)`);
}
