/**
 * MobileNet v1 (Howard et al. 2017, TF-slim mobilenet_v1.py): layer-by-layer cost figures and
 * random-weight graphs in the model IR, for any width multiplier and input resolution.
 *
 * Counting convention (graph-stats.ts layerCost, the one rule `stats` uses for built graphs,
 * files and written-down architectures alike):
 * - mult-adds = one per weight per output position, for the stem conv, the 13 depthwise and
 *   13 pointwise convs AND the 1x1 classifier (FC). Bias / batch-norm adds, ReLU6, pooling and
 *   softmax are not counted. Without the classifier, 1.0/224 gives 567.7 M (paper: 569); with
 *   it 568.7 M. Counting bias adds (~5 M at 1.0/224) would overshoot.
 * - params = weights plus one bias per output channel (the deployed, batch-norm-folded model,
 *   as in a .tflite file). Weights alone (4.209 M at 1.0/224) and Keras' trainable count
 *   (4.232 M, BN gamma/beta) round to the same 4.2 M; counting BN's moving statistics too
 *   (4.254 M) would not.
 * src/arch/paper.ts sets these counts beside every figure of the paper's Tables 4-8 and says how
 * the three the plain count misses (1.0/160's 290 M among them) were obtained.
 */
import { invalidOption } from '../errors.js';
import { guard } from '../runtime/guard.js';
import { describeValue } from '../runtime/typed.js';
import {
  type Activation,
  type DType,
  type Graph,
  type Op,
  type Quant,
  type TensorInfo,
  type Weights,
  convGeometry,
} from '../model/ir.js';
import { clampedNormalMoments, mulberry32, normalSource } from './random.js';
import { layerCost } from './graph-stats.js';

/** Output channels of the 13 pointwise convs at alpha 1 (TF-slim MOBILENETV1_CONV_DEFS). */
export const POINTWISE_CHANNELS = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024] as const;
/** Strides of the 13 depthwise convs. */
export const DEPTHWISE_STRIDES = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1] as const;
export const STEM_CHANNELS = 32;

/** TF-slim's width rule: depth(d) = max(int(d * depth_multiplier), min_depth = 8). */
export const scaledDepth = (d: number, alpha: number): number => Math.max(8, Math.floor(d * alpha));

export type LayerKind = 'conv' | 'depthwise' | 'pointwise' | 'avgpool' | 'classifier' | 'softmax';

export interface LayerStats {
  /** TF-slim scope name, e.g. Conv2d_3_depthwise */
  name: string;
  kind: LayerKind;
  /** NHWC, batch 1 */
  inputShape: number[];
  outputShape: number[];
  /** [h, w] kernel or pool window; null for softmax */
  kernel: [number, number] | null;
  stride: number | null;
  macs: number;
  params: number;
}

export interface ArchStats {
  alpha: number;
  resolution: number;
  classes: number;
  layers: LayerStats[];
  macs: number;
  params: number;
}

function checkArch(alpha: number, resolution: number, classes: number): void {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) {
    throw invalidOption(`alpha must be a positive finite number, got ${describeValue(alpha)}`);
  }
  if (!Number.isInteger(resolution) || resolution < 1 || resolution > 8192) {
    throw invalidOption(`resolution must be an integer in 1..8192, got ${describeValue(resolution)}`);
  }
  if (!Number.isInteger(classes) || classes < 1 || classes > 100_000) {
    throw invalidOption(`classes must be an integer in 1..100000, got ${describeValue(classes)}`);
  }
}

/**
 * The paper's two structural variants of MobileNet v1 (Tables 4 and 5):
 * - convolution 'full': each depthwise separable pair (3x3 depthwise + 1x1 pointwise) becomes
 *   one full 3x3 convolution with the pair's stride and output channels ("Conv MobileNet",
 *   4866 M mult-adds, 29.3 M params);
 * - shallow: without the five separable layers of 14x14x512 (TF-slim's Conv2d_7 .. Conv2d_11),
 *   "Shallow MobileNet" (307 M, 2.9 M).
 */
export interface ArchVariant {
  convolution?: 'separable' | 'full';
  shallow?: boolean;
}

/** The pointwise layers (0-based, in POINTWISE_CHANNELS) a shallow MobileNet leaves out: the 5 repeated 14x14x512 ones. */
export const SHALLOW_REMOVED = [6, 7, 8, 9, 10] as const;

/** Per-layer shapes, mult-adds and params of MobileNet v1 (see the convention above). */
export function mobilenetV1Layers(alpha: number, resolution: number, classes = 1000, variant: ArchVariant = {}): ArchStats {
  return guard('INVALID_OPTION', 'mobilenetV1Layers', () => layersOf(alpha, resolution, classes, variant));
}

function checkVariant(variant: ArchVariant): Required<ArchVariant> {
  if (variant === null || typeof variant !== 'object') throw invalidOption(`the variant must be an object { convolution, shallow }, got ${describeValue(variant)}`);
  const { convolution = 'separable', shallow = false } = variant;
  if (convolution !== 'separable' && convolution !== 'full') throw invalidOption(`convolution must be 'separable' or 'full', got ${describeValue(convolution)}`);
  if (typeof shallow !== 'boolean') throw invalidOption(`shallow must be true or false, got ${describeValue(shallow)}`);
  return { convolution, shallow };
}

function layersOf(alpha: number, resolution: number, classes: number, variant: ArchVariant): ArchStats {
  checkArch(alpha, resolution, classes);
  const { convolution, shallow } = checkVariant(variant);
  const layers: LayerStats[] = [];
  let h = resolution;
  let c = 3;
  const conv = (name: string, kind: LayerKind, k: number, stride: number, outC: number) => {
    const out = convGeometry(h, k, stride, 'same').out;
    const depthwise = kind === 'depthwise';
    const outputShape = [1, out, out, outC];
    // counted by the graph counter's own rule (one counter for built graphs and architectures)
    const cost = layerCost({
      name,
      op: depthwise ? 'depthwise_conv2d' : 'conv2d',
      outputShape,
      filterShape: depthwise ? [1, k, k, outC] : [outC, k, k, c],
      biasLength: outC,
    });
    layers.push({ name, kind, inputShape: [1, h, h, c], outputShape, kernel: [k, k], stride, ...cost });
    h = out;
    c = outC;
  };
  conv('Conv2d_0', 'conv', 3, 2, scaledDepth(STEM_CHANNELS, alpha));
  for (let i = 0; i < POINTWISE_CHANNELS.length; i++) {
    if (shallow && (SHALLOW_REMOVED as readonly number[]).includes(i)) continue;
    const outC = scaledDepth(POINTWISE_CHANNELS[i], alpha);
    if (convolution === 'full') {
      conv(`Conv2d_${i + 1}`, 'conv', 3, DEPTHWISE_STRIDES[i], outC);
    } else {
      conv(`Conv2d_${i + 1}_depthwise`, 'depthwise', 3, DEPTHWISE_STRIDES[i], c);
      conv(`Conv2d_${i + 1}_pointwise`, 'pointwise', 1, 1, outC);
    }
  }
  // global average pool: TF-slim's 7x7 VALID at 224, in general a window the size of the map
  layers.push({ name: 'AvgPool_1a', kind: 'avgpool', inputShape: [1, h, h, c], outputShape: [1, 1, 1, c], kernel: [h, h], stride: 2, macs: 0, params: 0 });
  const logits = [1, 1, 1, classes];
  const classifier = layerCost({ name: 'Conv2d_1c_1x1', op: 'conv2d', outputShape: logits, filterShape: [classes, 1, 1, c], biasLength: classes });
  layers.push({ name: 'Conv2d_1c_1x1', kind: 'classifier', inputShape: [1, 1, 1, c], outputShape: logits, kernel: [1, 1], stride: 1, ...classifier });
  layers.push({ name: 'Predictions', kind: 'softmax', inputShape: [1, classes], outputShape: [1, classes], kernel: null, stride: null, macs: 0, params: 0 });
  return {
    alpha,
    resolution,
    classes,
    layers,
    macs: layers.reduce((s, l) => s + l.macs, 0),
    params: layers.reduce((s, l) => s + l.params, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Random-weight graphs

export type Precision = 'float32' | 'uint8' | 'int8';

export interface BuildOptions {
  alpha: number;
  resolution: number;
  classes?: number;
  precision: Precision;
  /** PRNG seed; the same seed gives the same graph. Default 1. */
  seed?: number;
  weights?: 'random';
  /** classifier as a 1x1 conv (TF-slim / 2018 TFLite models, default) or a fully-connected op */
  head?: 'conv' | 'fc';
  /** 'full': the paper's Conv MobileNet, full 3x3 convolutions instead of depthwise separable ones (ArchVariant) */
  convolution?: 'separable' | 'full';
  /** the paper's Shallow MobileNet: without the five 14x14x512 separable layers (ArchVariant) */
  shallow?: boolean;
}

/** Pre-activation distribution every random layer is calibrated to, like a trained batch norm. */
const GAMMA_RANGE = [0.8, 1.5] as const; // per-channel std of the pre-activation
const BETA_RANGE = [-0.2, 0.8] as const; // per-channel mean of the pre-activation
/** Std of the logits across classes: softmax peaks near 0.05-0.1 over 1000 classes. */
const LOGIT_SPREAD = 2;
/** The input is assumed uniform in [-1, 1] per channel. */
const INPUT_VARIANCE = 1 / 3;

const RELU6_SCALE = 6 / 255;
const SOFTMAX_SCALE = 1 / 256;
const INPUT_SCALE = 1 / 128;

/** Float layer as drawn, before quantization. */
interface FloatLayer {
  stats: LayerStats;
  kind: 'conv' | 'depthwise' | 'pointwise' | 'classifier';
  filter: Float32Array; // OHWI, or 1HWC for depthwise
  filterShape: number[];
  bias: Float32Array;
  /** classifier only: expected logit range over classes */
  logitRange?: [number, number];
}

/**
 * Draws He-uniform weights and then rescales each output channel the way a folded batch norm
 * would: the weights are scaled so the channel's predicted pre-activation std is gamma and the
 * bias sets its mean to beta (gamma, beta drawn per channel). The predictions propagate
 * per-channel mean and variance analytically (independent inputs, ReLU6 of a normal), so no
 * forward pass is needed and 1.0/224 builds in well under a second, while activations neither
 * vanish nor saturate through the 27 layers.
 */
function drawFloatLayers(arch: ArchStats, seed: number): FloatLayer[] {
  const uniform = mulberry32(seed);
  const normal = normalSource(uniform);
  const between = (r: readonly [number, number]) => r[0] + (r[1] - r[0]) * uniform();
  let mean = new Float64Array(3); // per-channel activation mean of the current layer input
  let variance = new Float64Array(3).fill(INPUT_VARIANCE);
  const result: FloatLayer[] = [];

  for (const stats of arch.layers) {
    if (stats.kind === 'avgpool' || stats.kind === 'softmax') continue; // pooling keeps the channel means
    const inC = stats.inputShape[3];
    const outC = stats.outputShape[3];
    const k = stats.kernel![0];
    const depthwise = stats.kind === 'depthwise';
    const taps = k * k;
    const fanIn = depthwise ? taps : taps * inC;
    // He-uniform: U(-l, l) with variance 2 / fanIn (uniform draws: 10x cheaper than normal ones)
    const limit = Math.sqrt(6 / fanIn);
    const filter = new Float32Array(depthwise ? taps * outC : outC * fanIn);
    for (let j = 0; j < filter.length; j++) filter[j] = (2 * uniform() - 1) * limit;
    const bias = new Float32Array(outC);
    const preMean = new Float64Array(outC);
    const preVar = new Float64Array(outC);
    if (depthwise) {
      // 1HWC: element (t, c) at t * C + c
      for (let t = 0; t < taps; t++) {
        for (let ch = 0; ch < outC; ch++) {
          const w = filter[t * outC + ch];
          preMean[ch] += w * mean[ch];
          preVar[ch] += w * w * variance[ch];
        }
      }
    } else {
      // OHWI: element (o, t, i) at (o * taps + t) * I + i
      for (let o = 0; o < outC; o++) {
        let m = 0;
        let v = 0;
        for (let t = 0; t < taps; t++) {
          const base = (o * taps + t) * inC;
          for (let i = 0; i < inC; i++) {
            const w = filter[base + i];
            m += w * mean[i];
            v += w * w * variance[i];
          }
        }
        preMean[o] = m;
        preVar[o] = v;
      }
    }

    const layer: FloatLayer = {
      stats,
      kind: stats.kind as FloatLayer['kind'],
      filter,
      filterShape: depthwise ? [1, k, k, outC] : [outC, k, k, inC],
      bias,
    };
    const channelScale = new Float64Array(outC);
    const nextMean = new Float64Array(outC);
    const nextVar = new Float64Array(outC);
    if (stats.kind === 'classifier') {
      // Logits for a typical input are about W . mean(features): spread them to LOGIT_SPREAD
      // across classes, centred on 0, plus small per-class biases.
      let sum = 0;
      let sumSq = 0;
      for (let o = 0; o < outC; o++) {
        sum += preMean[o];
        sumSq += preMean[o] * preMean[o];
      }
      const avg = sum / outC;
      const spread = Math.sqrt(Math.max(sumSq / outC - avg * avg, 1e-12));
      const s = LOGIT_SPREAD / spread;
      let lo = Infinity;
      let hi = -Infinity;
      for (let o = 0; o < outC; o++) {
        channelScale[o] = s;
        bias[o] = -avg * s + 0.1 * normal();
        const logit = preMean[o] * s + bias[o];
        lo = Math.min(lo, logit);
        hi = Math.max(hi, logit);
      }
      layer.logitRange = [lo, hi];
    } else {
      for (let o = 0; o < outC; o++) {
        const gamma = between(GAMMA_RANGE);
        const beta = between(BETA_RANGE);
        const s = gamma / Math.sqrt(Math.max(preVar[o], 1e-12));
        channelScale[o] = s;
        bias[o] = beta - preMean[o] * s;
        const post = clampedNormalMoments(beta, gamma, 0, 6);
        nextMean[o] = post.mean;
        nextVar[o] = post.variance;
      }
    }
    if (depthwise) {
      for (let t = 0; t < taps; t++) for (let ch = 0; ch < outC; ch++) filter[t * outC + ch] *= channelScale[ch];
    } else {
      for (let o = 0; o < outC; o++) {
        const s = channelScale[o];
        for (let j = o * fanIn, end = j + fanIn; j < end; j++) filter[j] *= s;
      }
    }
    result.push(layer);
    mean = nextMean;
    variance = nextVar;
  }
  return result;
}

const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);

/** uint8 per-tensor asymmetric, the range widened to include 0 (as TFLite requires). */
function quantizeUint8PerTensor(w: Float32Array, shape: number[]): Weights {
  let lo = 0;
  let hi = 0;
  for (let j = 0; j < w.length; j++) {
    const v = w[j];
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  const zeroPoint = clamp(Math.round(-lo / scale), 0, 255);
  const data = new Uint8Array(w.length);
  const inv = 1 / scale;
  for (let j = 0; j < w.length; j++) {
    const v = Math.round(w[j] * inv) + zeroPoint;
    data[j] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { data, shape, dtype: 'uint8', quant: { scale: [scale], zeroPoint: [zeroPoint], axis: 0 } };
}

/** int8 symmetric per-channel along `axis` (0 for OHWI / [O, I], 3 for 1HWC), values in [-127, 127]. */
function quantizeInt8PerChannel(w: Float32Array, shape: number[], axis: 0 | 3): Weights {
  const channels = shape[axis];
  // axis 0: channel c is the c-th contiguous block; axis 3 (last): element j is channel j % channels
  const block = axis === 0 ? w.length / channels : 1;
  const stride = axis === 0 ? 1 : channels;
  const count = w.length / channels;
  const scale: number[] = [];
  const data = new Int8Array(w.length);
  for (let c = 0; c < channels; c++) {
    const first = axis === 0 ? c * block : c;
    let maxAbs = 0;
    for (let n = 0, j = first; n < count; n++, j += stride) maxAbs = Math.max(maxAbs, Math.abs(w[j]));
    const s = maxAbs > 0 ? maxAbs / 127 : 1;
    scale.push(s);
    const inv = 1 / s;
    for (let n = 0, j = first; n < count; n++, j += stride) {
      const v = Math.round(w[j] * inv);
      data[j] = v < -127 ? -127 : v > 127 ? 127 : v;
    }
  }
  return { data, shape, dtype: 'int8', quant: { scale, zeroPoint: new Array(channels).fill(0), axis } };
}

/** int8 symmetric per-tensor, values in [-127, 127]. */
function quantizeInt8PerTensor(w: Float32Array, shape: number[]): Weights {
  let maxAbs = 0;
  for (let j = 0; j < w.length; j++) maxAbs = Math.max(maxAbs, Math.abs(w[j]));
  const scale = maxAbs > 0 ? maxAbs / 127 : 1;
  const data = new Int8Array(w.length);
  for (let j = 0; j < w.length; j++) data[j] = clamp(Math.round(w[j] / scale), -127, 127);
  return { data, shape, dtype: 'int8', quant: { scale: [scale], zeroPoint: [0], axis: 0 } };
}

function quantizeBias(b: Float32Array, inputScale: number, filterScale: number[]): Int32Array {
  const out = new Int32Array(b.length);
  for (let j = 0; j < b.length; j++) {
    const s = inputScale * filterScale[filterScale.length === 1 ? 0 : j];
    out[j] = clamp(Math.round(b[j] / s), -2147483648, 2147483647);
  }
  return out;
}

/**
 * A MobileNet v1 graph with random but well-behaved weights, in float32, uint8 per-tensor
 * (like the 2018 TFLite quantized models) or int8 per-channel (like current full-integer
 * TFLite models). Op sequence as in TFLite's MobileNet v1: conv2d, (depthwise_conv2d, conv2d)
 * x 13, average_pool2d (window = final map, VALID), classifier (1x1 conv2d, or reshape +
 * fully_connected with head 'fc'), reshape, softmax. The quantized graphs quantize the same
 * float weights as the float graph of the same seed. int8 weights are per-channel (axis 0 for
 * conv, 3 for depthwise) except a fully_connected head, which is per-tensor like TFLite's.
 */
export function buildMobileNetV1(options: BuildOptions): Graph {
  return guard('INVALID_OPTION', 'buildMobileNetV1', () => build(options));
}

/** most weights a random graph may have: 2^27 floats (512 MiB), 30x MobileNet v1 1.0 */
export const MAX_BUILD_PARAMS = 2 ** 27;

function build(opts: BuildOptions): Graph {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw invalidOption(`buildMobileNetV1 needs an options object { alpha, resolution, precision, ... }, got ${describeValue(opts)}`);
  }
  // each option read once
  const { alpha, resolution, precision, weights } = opts;
  const classes = opts.classes ?? 1000;
  const seed = opts.seed ?? 1;
  const head = opts.head ?? 'conv';
  if (precision !== 'float32' && precision !== 'uint8' && precision !== 'int8') {
    throw invalidOption(`precision must be 'float32', 'uint8' or 'int8', got ${describeValue(precision)}`);
  }
  if (weights !== undefined && weights !== 'random') {
    throw invalidOption(`weights must be 'random' (the builder has no pretrained weights), got ${describeValue(weights)}`);
  }
  if (head !== 'conv' && head !== 'fc') throw invalidOption(`head must be 'conv' or 'fc', got ${describeValue(head)}`);
  if (!(typeof seed === 'number' && Number.isInteger(seed))) throw invalidOption(`seed must be an integer, got ${describeValue(seed)}`);
  const arch = mobilenetV1Layers(alpha, resolution, classes, { convolution: opts.convolution, shallow: opts.shallow });
  if (arch.params > MAX_BUILD_PARAMS) {
    throw invalidOption(`alpha ${alpha} with ${classes} classes gives ${arch.params} parameters, more than the ${MAX_BUILD_PARAMS} the builder makes`);
  }
  const floats = drawFloatLayers(arch, seed);

  const dtype: DType = precision;
  const quantized = precision !== 'float32';
  // Activation quantization: ReLU6 outputs cover [0, 6] in 255 steps.
  const zpShift = precision === 'int8' ? -128 : 0;
  const q = (scale: number, zeroPoint: number): Quant | undefined =>
    quantized ? { scale: [scale], zeroPoint: [zeroPoint + zpShift], axis: 0 } : undefined;
  const tensor = (name: string, shape: number[], quant?: Quant): TensorInfo =>
    quant ? { name, shape, dtype, quant } : { name, shape, dtype };
  const scaleOf = (t: TensorInfo) => (t.quant ? t.quant.scale[0] : 1);

  const ops: Op[] = [];
  const input = tensor('input', [1, resolution, resolution, 3], q(INPUT_SCALE, 128));
  let current = input;
  const pool = arch.layers.find((l) => l.kind === 'avgpool')!;

  for (const layer of floats) {
    const st = layer.stats;
    if (layer.kind === 'classifier') {
      // pool, then the classifier
      const pooled = tensor(`MobilenetV1/Logits/${pool.name}/AvgPool`, pool.outputShape, current.quant);
      ops.push({
        op: 'average_pool2d',
        input: current,
        output: pooled,
        filterSize: [pool.kernel![0], pool.kernel![1]],
        strides: [2, 2],
        padding: 'valid',
        activation: 'none',
      });
      current = pooled;
      const [lo, hi] = layer.logitRange!;
      // room for inputs whose logits stray from the typical ones
      const margin = Math.max(hi - lo, 1);
      const logitScale = (hi - lo + 2 * margin) / 255;
      const logitZero = clamp(Math.round(-(lo - margin) / logitScale), 0, 255);
      const logitQuant = q(logitScale, logitZero);
      const inC = st.inputShape[3];
      const w: Weights = quantized
        ? precision === 'uint8'
          ? quantizeUint8PerTensor(layer.filter, head === 'fc' ? [classes, inC] : layer.filterShape)
          : head === 'fc'
            ? // int8 FULLY_CONNECTED per-tensor, as TFLite's converter writes it (e.g. vww_96_int8)
              quantizeInt8PerTensor(layer.filter, [classes, inC])
            : quantizeInt8PerChannel(layer.filter, layer.filterShape, 0)
        : { data: layer.filter, shape: head === 'fc' ? [classes, inC] : layer.filterShape, dtype: 'float32' };
      const bias = quantized ? quantizeBias(layer.bias, scaleOf(current), w.quant!.scale) : layer.bias;
      if (head === 'conv') {
        const logits = tensor(`MobilenetV1/Logits/Conv2d_1c_1x1/BiasAdd`, [1, 1, 1, classes], logitQuant);
        ops.push({ op: 'conv2d', input: current, output: logits, filter: w, bias, strides: [1, 1], padding: 'same', activation: 'none' });
        const squeezed = tensor('MobilenetV1/Logits/SpatialSqueeze', [1, classes], logitQuant);
        ops.push({ op: 'reshape', input: logits, output: squeezed });
        current = squeezed;
      } else {
        const flat = tensor('MobilenetV1/Logits/Flatten', [1, inC], current.quant);
        ops.push({ op: 'reshape', input: current, output: flat });
        const logits = tensor('MobilenetV1/Logits/FullyConnected', [1, classes], logitQuant);
        ops.push({ op: 'fully_connected', input: flat, output: logits, filter: w, bias, activation: 'none' });
        current = logits;
      }
      const probs = tensor('MobilenetV1/Predictions/Softmax', [1, classes], q(SOFTMAX_SCALE, 0));
      ops.push({ op: 'softmax', input: current, output: probs, beta: 1 });
      current = probs;
      continue;
    }
    const depthwise = layer.kind === 'depthwise';
    const w: Weights = quantized
      ? precision === 'uint8'
        ? quantizeUint8PerTensor(layer.filter, layer.filterShape)
        : quantizeInt8PerChannel(layer.filter, layer.filterShape, depthwise ? 3 : 0)
      : { data: layer.filter, shape: layer.filterShape, dtype: 'float32' };
    const bias = quantized ? quantizeBias(layer.bias, scaleOf(current), w.quant!.scale) : layer.bias;
    const output = tensor(`MobilenetV1/${st.name}/Relu6`, st.outputShape, q(RELU6_SCALE, 0));
    const strides: [number, number] = [st.stride!, st.stride!];
    const activation: Activation = 'relu6';
    ops.push(
      depthwise
        ? { op: 'depthwise_conv2d', input: current, output, filter: w, bias, strides, padding: 'same', activation }
        : { op: 'conv2d', input: current, output, filter: w, bias, strides, padding: 'same', activation },
    );
    current = output;
  }
  return { ops, input, output: current, source: 'random' };
}
