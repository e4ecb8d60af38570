/**
 * Post-training quantization of a float MobileNet-style chain into TFLite's full-integer int8
 * layout, the way TensorFlow Lite's converter does it:
 * - CONV_2D / DEPTHWISE_CONV_2D weights: int8, symmetric per output channel (quantized
 *   dimension 0 for OHWI, 3 for 1HWC), scale max|w_c| / 127, values in [-127, 127];
 * - FULLY_CONNECTED weights: int8, symmetric per tensor;
 * - biases: int32, scale input_scale * weight_scale[c], zero point 0;
 * - activations: int8, asymmetric per tensor, from the calibration range (clipped by the
 *   method; a fused ReLU / ReLU6 folds its clamp into the range);
 * - AVERAGE_POOL_2D and RESHAPE keep their input's parameters; SOFTMAX writes scale 1/256,
 *   zero point -128 (TFLite's int8 softmax requires it);
 * - I/O: float in and out through QUANTIZE / DEQUANTIZE (default), or int8 / uint8 tensors
 *   (uint8 through a requantizing QUANTIZE at each end, as the converter writes it).
 */
import { invalidModel, invalidOption, unsupportedModel } from '../errors.js';
import type { Activation, Graph, Op, Quant, TensorInfo, Weights } from '../model/ir.js';
import { sizeOf } from '../model/ir.js';
import { asymmetricParams, CALIBRATION_METHODS, type CalibrationMethod, type Range, type TensorStats } from './stats.js';
import type { CalibrationStats } from './calibrate.js';

export type QuantizedIo = 'float' | 'int8' | 'uint8';
export const QUANTIZED_IOS: readonly QuantizedIo[] = ['float', 'int8', 'uint8'];

export interface QuantizeOptions {
  /** how activation ranges are chosen (default 'minmax') */
  method?: CalibrationMethod;
  /** for method 'percentile': the share of values kept on each side, in percent (default 99.99) */
  percentile?: number;
  /** the model's input and output type (default 'float') */
  io?: QuantizedIo;
  /**
   * correct each conv / fully-connected bias for the mean shift its weights' rounding causes
   * (Nagel et al. 2019, "Data-Free Quantization", analytic bias correction with the calibration
   * set's per-channel input means): bias_c -= sum_k (w_q - w)[c, k] * E[x_k]. Default true.
   */
  biasCorrection?: boolean;
}

/** the ops quantize() converts */
const QUANTIZABLE = ['conv2d', 'depthwise_conv2d', 'average_pool2d', 'fully_connected', 'reshape', 'softmax'] as const;
type QuantizableOp = Extract<Op, { op: (typeof QUANTIZABLE)[number] }>;

const INT8_WEIGHT_MAX = 127;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** TFLite's int8 SOFTMAX output: scale 1/256, zero point -128 */
const SOFTMAX_QUANT = { scale: 1 / 256, zeroPoint: -128 };
/** the clamp of each fused activation, folded into the output range */
const ACTIVATION_RANGE: Record<Activation, Range> = {
  none: { min: -Infinity, max: Infinity },
  relu: { min: 0, max: Infinity },
  relu6: { min: 0, max: 6 },
  relu_n1_to_1: { min: -1, max: 1 },
};

const opLabel = (i: number, op: Op) => `op ${i} (${op.op})`;

/**
 * Checks that `graph` is a float32 chain of ops quantize() converts, with finite weights.
 * UNSUPPORTED_MODEL for an integer model, another op, or several inputs/outputs; INVALID_MODEL
 * for NaN or infinite weights.
 */
export function checkQuantizable(graph: Graph): asserts graph is Graph & { ops: QuantizableOp[] } {
  if (graph.ops.length === 0) throw invalidModel('the model has no ops');
  if (graph.input.dtype !== 'float32') {
    throw unsupportedModel(`quantize needs a float32 model; this one's input is ${graph.input.dtype} (it is already quantized)`);
  }
  if ((graph.inputs?.length ?? 1) !== 1 || (graph.outputs?.length ?? 1) !== 1) {
    throw unsupportedModel(`quantize converts single-input, single-output models; this one has ${graph.inputs?.length ?? 1} inputs and ${graph.outputs?.length ?? 1} outputs`);
  }
  let prev: TensorInfo = graph.input;
  graph.ops.forEach((op, i) => {
    if (!(QUANTIZABLE as readonly string[]).includes(op.op)) {
      throw unsupportedModel(`${opLabel(i, op)}: quantize converts only ${QUANTIZABLE.join(', ')} (MobileNet v1's ops)`);
    }
    const q = op as QuantizableOp;
    const linked = q.input === prev || (q.input.id !== undefined && q.input.id === prev.id) || (q.input.id === undefined && sizeOf(q.input.shape) === sizeOf(prev.shape));
    if (!linked) throw unsupportedModel(`${opLabel(i, op)} does not read the previous op's output: quantize converts chains of ops`);
    if (q.input.dtype !== 'float32' || q.output.dtype !== 'float32') {
      throw unsupportedModel(`quantize needs a float32 model; ${opLabel(i, op)} works on ${q.input.dtype} (the model is already quantized)`);
    }
    if (q.op === 'conv2d' || q.op === 'depthwise_conv2d' || q.op === 'fully_connected') {
      if (q.filter.dtype !== 'float32') throw unsupportedModel(`quantize needs a float32 model; ${opLabel(i, op)} has ${q.filter.dtype} weights`);
      checkFinite(q.filter.data, `${opLabel(i, op)} weights${q.filter.name ? ` '${q.filter.name}'` : ''}`);
      checkFinite(q.bias, `${opLabel(i, op)} bias`);
      if (q.op === 'depthwise_conv2d' && q.filter.shape[3] !== q.input.shape[3]) {
        throw unsupportedModel(`${opLabel(i, op)} has depth multiplier ${q.filter.shape[3] / q.input.shape[3]}; quantize converts depth multiplier 1`);
      }
    }
    prev = q.output;
  });
}

function checkFinite(data: ArrayLike<number>, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw invalidModel(`${what} hold ${data[i]} at index ${i}: a float model to quantize needs finite weights`);
  }
}

function checkOptions(options: QuantizeOptions): Required<Omit<QuantizeOptions, 'percentile'>> & { percentile?: number } {
  if (options === null || typeof options !== 'object') throw invalidOption(`quantize options must be an object, got ${options === null ? 'null' : typeof options}`);
  const method = options.method ?? 'minmax';
  if (!CALIBRATION_METHODS.includes(method)) throw invalidOption(`method must be one of ${CALIBRATION_METHODS.join(', ')}, got ${String(method)}`);
  const io = options.io ?? 'float';
  if (!QUANTIZED_IOS.includes(io)) throw invalidOption(`io must be one of ${QUANTIZED_IOS.join(', ')}, got ${String(io)}`);
  const biasCorrection = options.biasCorrection ?? true;
  if (typeof biasCorrection !== 'boolean') throw invalidOption(`biasCorrection must be a boolean, got ${String(biasCorrection)}`);
  return { method, io, percentile: options.percentile, biasCorrection };
}

const roundAway = (x: number) => (x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5));

/** symmetric int8 weights, one scale per index of `axis` (the whole tensor when axis is -1) */
function quantizeWeights(w: Weights, axis: number): Weights {
  const channels = axis < 0 ? 1 : w.shape[axis];
  const inner = axis < 0 ? w.data.length : sizeOf(w.shape.slice(axis + 1));
  const channelOf = (i: number) => (axis < 0 ? 0 : Math.floor(i / inner) % channels);
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < w.data.length; i++) maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(w.data[i]));
  // an all-zero channel gets scale 1: its values are 0 whatever the scale, and TFLite refuses scale 0
  const scale = Array.from(maxAbs, (m) => (m > 0 ? Math.fround(m / INT8_WEIGHT_MAX) : 1));
  const data = new Int8Array(w.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.max(-INT8_WEIGHT_MAX, Math.min(INT8_WEIGHT_MAX, roundAway(w.data[i] / scale[channelOf(i)])));
  }
  const quant: Quant = { scale, zeroPoint: scale.map(() => 0), axis: Math.max(axis, 0) };
  return { data, shape: w.shape.slice(), dtype: 'int8', quant };
}

/**
 * The float bias minus the mean output shift of the quantized weights (see
 * QuantizeOptions.biasCorrection): `inputMeans` per input channel (the last dimension of
 * the filter, which every layout here ends with: OHWI, 1HWC, [O, I]); `depthwise`: output channel
 * c reads input channel c only. Border padding is ignored (the mean is taken as everywhere).
 */
function correctBias(bias: Float32Array | Int32Array, float: Weights, quantized: Weights, inputMeans: Float64Array, depthwise: boolean): Float32Array {
  const out = Float32Array.from(bias);
  const inChannels = float.shape[float.shape.length - 1];
  if (inputMeans.length !== inChannels) return out;
  const perOut = float.data.length / bias.length;
  const { scale } = quantized.quant!;
  for (let i = 0; i < float.data.length; i++) {
    const c = depthwise ? i % inChannels : Math.floor(i / perOut);
    const s = scale[scale.length === 1 ? 0 : depthwise ? i % inChannels : c];
    out[c] -= (quantized.data[i] * s - float.data[i]) * inputMeans[i % inChannels];
  }
  return out;
}

/** int32 biases with scale input_scale * weight_scale[c] (TFLite computes the product in float32) */
function quantizeBias(bias: Float32Array | Int32Array, inputScale: number, weightScales: number[]): Int32Array {
  const out = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = Math.fround(inputScale * weightScales[weightScales.length === 1 ? 0 : c]);
    out[c] = Math.max(INT32_MIN, Math.min(INT32_MAX, roundAway(bias[c] / s)));
  }
  return out;
}

/**
 * The int8 graph of a float chain, from its calibration statistics. The statistics must come
 * from this graph (Calibrator over the same graph).
 */
export function quantizeGraph(graph: Graph, stats: CalibrationStats, options: QuantizeOptions = {}): Graph {
  checkQuantizable(graph);
  const { method, io, percentile, biasCorrection } = checkOptions(options);
  if (stats.samples === 0) throw invalidOption('calibration saw no inputs: give at least one calibration image');
  if (stats.outputs.length !== graph.ops.length) throw invalidOption(`the calibration statistics cover ${stats.outputs.length} ops, the model has ${graph.ops.length}`);

  // The tensor a softmax reads (through reshapes) is never clipped: its largest values are the
  // answer, and clipping them would make the top classes tie.
  const feedsSoftmax = new Set<number>();
  for (let i = graph.ops.length - 1, chain = false; i >= 0; i--) {
    const op = graph.ops[i].op;
    if (chain) feedsSoftmax.add(i);
    chain = op === 'softmax' || (chain && op === 'reshape');
  }
  const rangeOf = (s: TensorStats, activation: Activation, unclipped: boolean): Range => {
    const r = s.range(unclipped ? 'minmax' : method, percentile);
    const a = ACTIVATION_RANGE[activation];
    return { min: Math.max(r.min, a.min), max: Math.min(r.max, a.max) };
  };

  let nextId = 0;
  const tensor = (name: string, shape: number[], dtype: TensorInfo['dtype'], q?: { scale: number; zeroPoint: number }): TensorInfo => {
    const t: TensorInfo = { id: nextId++, name, shape: shape.slice(), dtype };
    if (q) t.quant = { scale: [q.scale], zeroPoint: [q.zeroPoint], axis: 0 };
    return t;
  };
  const asUint8 = (q: { scale: number; zeroPoint: number }) => ({ scale: q.scale, zeroPoint: q.zeroPoint + 128 });

  const ops: Op[] = [];
  // the graph input is not clipped: its range is the preprocessing's
  const inQ = asymmetricParams(stats.input.range('minmax'));
  const inName = graph.input.name;
  let graphInput: TensorInfo;
  let current: TensorInfo;
  if (io === 'int8') {
    graphInput = current = tensor(inName, graph.input.shape, 'int8', inQ);
  } else {
    graphInput = io === 'float' ? tensor(inName, graph.input.shape, 'float32') : tensor(inName, graph.input.shape, 'uint8', asUint8(inQ));
    current = tensor(`${inName}_int8`, graph.input.shape, 'int8', inQ);
    ops.push({ op: 'quantize', input: graphInput, output: current });
  }

  (graph.ops as QuantizableOp[]).forEach((op, i) => {
    const out = op.output;
    const inScale = current.quant!.scale[0];
    const inputStats = i === 0 ? stats.input : stats.outputs[i - 1];
    const biasFor = (o: { bias: Float32Array | Int32Array; filter: Weights }, filter: Weights, depthwise: boolean) => {
      const means = biasCorrection ? inputStats.channelMeans() : undefined;
      const bias = means ? correctBias(o.bias, o.filter, filter, means, depthwise) : o.bias;
      return quantizeBias(bias, inScale, filter.quant!.scale);
    };
    const params = (activation: Activation) => asymmetricParams(rangeOf(stats.outputs[i], activation, feedsSoftmax.has(i)));
    let next: QuantizableOp;
    switch (op.op) {
      case 'conv2d':
      case 'depthwise_conv2d': {
        // per output channel: dimension 0 of OHWI, 3 of 1HWC
        const filter = quantizeWeights(op.filter, op.op === 'conv2d' ? 0 : 3);
        const output = tensor(out.name, out.shape, 'int8', params(op.activation));
        next = { ...op, input: current, output, filter, bias: biasFor(op, filter, op.op === 'depthwise_conv2d') };
        break;
      }
      case 'fully_connected': {
        const filter = quantizeWeights(op.filter, -1);
        const output = tensor(out.name, out.shape, 'int8', params(op.activation));
        next = { ...op, input: current, output, filter, bias: biasFor(op, filter, false) };
        break;
      }
      case 'average_pool2d':
      case 'reshape': {
        const output = tensor(out.name, out.shape, 'int8', { scale: inScale, zeroPoint: current.quant!.zeroPoint[0] });
        next = { ...op, input: current, output };
        break;
      }
      case 'softmax':
        next = { ...op, input: current, output: tensor(out.name, out.shape, 'int8', SOFTMAX_QUANT) };
        break;
    }
    ops.push(next);
    current = next.output;
  });

  let graphOutput = current;
  const outName = graph.output.name;
  if (io !== 'int8') {
    current.name = `${outName}_int8`;
    const q = { scale: current.quant!.scale[0], zeroPoint: current.quant!.zeroPoint[0] };
    graphOutput = io === 'float' ? tensor(outName, current.shape, 'float32') : tensor(outName, current.shape, 'uint8', asUint8(q));
    ops.push(io === 'float' ? { op: 'dequantize', input: current, output: graphOutput } : { op: 'quantize', input: current, output: graphOutput });
  }
  return { ops, input: graphInput, output: graphOutput, inputs: [graphInput], outputs: [graphOutput], source: graph.source };
}
