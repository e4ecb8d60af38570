/**
 * The model as the runtime sees it, whatever file it came from (.tflite, TF.js layers model,
 * or the random-weight architecture builder): a graph of ops over tensors. Every activation
 * tensor has an `id` (its index in the file for .tflite; src/model/validate.ts numbers the
 * tensors of graphs built without ids by object identity, and reads a graph whose tensors
 * share neither as a chain); an op reads the tensors in `inputs` (or its one `input`) and
 * writes `output` (or `outputs`). Tensors whose `constant` is set are weights stored in the
 * file, not activations. Layouts are TFLite's: activations NHWC with batch 1, conv filters
 * OHWI, depthwise filters 1HWC (channel = input channel * depth multiplier + m),
 * fully-connected weights [out, in].
 *
 * Quantized graphs keep the file's dtypes (uint8 or int8) and parameters untouched; the ops
 * layer decides how to pack them. Biases of quantized ops are int32 with scale
 * input_scale * filter_scale and zero point 0, as in TFLite.
 */
export type DType = 'float32' | 'uint8' | 'int8';
export type Activation = 'none' | 'relu' | 'relu6' | 'relu_n1_to_1';
export type Padding = 'same' | 'valid';

/** Affine quantization: real = scale * (q - zeroPoint). Per-tensor when length 1, else per `axis`. */
export interface Quant {
  scale: number[];
  zeroPoint: number[];
  axis: number;
}

export interface TensorInfo {
  /** the tensor's id in the graph (see the file comment); unique per tensor */
  id?: number;
  name: string;
  /** NHWC for 4-D activations, [1, N] for vectors */
  shape: number[];
  dtype: DType;
  quant?: Quant;
  /** set for a constant operand (e.g. the scalar of a preprocessing MUL): its values in `dtype` (int32 for quantized biases) */
  constant?: Float32Array | Uint8Array | Int8Array | Int32Array;
}

export interface Weights {
  /** the tensor's name in the file, when it has one (for messages; non-enumerable, see nameWeights in ./validate.ts) */
  name?: string;
  /** raw values in the file's dtype */
  data: Float32Array | Uint8Array | Int8Array;
  shape: number[];
  dtype: DType;
  quant?: Quant;
}

interface OpBase {
  input: TensorInfo;
  output: TensorInfo;
}

export interface Conv2DOp extends OpBase {
  op: 'conv2d';
  filter: Weights; // [O, KH, KW, I]
  bias: Float32Array | Int32Array; // length O (zeros when the model has none)
  strides: [number, number]; // [h, w]
  padding: Padding;
  activation: Activation;
}

export interface DepthwiseConv2DOp extends OpBase {
  op: 'depthwise_conv2d';
  filter: Weights; // [1, KH, KW, C * depthMultiplier]
  bias: Float32Array | Int32Array; // length C * depthMultiplier
  strides: [number, number];
  padding: Padding;
  activation: Activation;
}

export interface AveragePool2DOp extends OpBase {
  op: 'average_pool2d';
  filterSize: [number, number]; // [h, w]
  strides: [number, number];
  padding: Padding;
  activation: Activation;
}

export interface FullyConnectedOp extends OpBase {
  op: 'fully_connected';
  filter: Weights; // [O, I]
  bias: Float32Array | Int32Array; // length O
  activation: Activation;
}

export interface SoftmaxOp extends OpBase {
  op: 'softmax';
  beta: number;
}

/** RESHAPE / SQUEEZE: same bytes, new shape. */
export interface ReshapeOp extends OpBase {
  op: 'reshape';
}

/** QUANTIZE (float -> int, or requantize int -> int) and DEQUANTIZE (int -> float). */
export interface QuantizeOp extends OpBase {
  op: 'quantize';
}
export interface DequantizeOp extends OpBase {
  op: 'dequantize';
}

/** ADD / MUL: elementwise with TFLite's broadcasting (shapes right-aligned, size-1 dimensions stretch); either input may be a constant */
export interface BinaryOp {
  op: 'add' | 'mul';
  inputs: [TensorInfo, TensorInfo];
  output: TensorInfo;
  activation: Activation;
}

/** PAD / PADV2: `paddings[d]` = [before, after] for every dimension of the input; fills with `value` (PADV2) or 0 / the zero point (PAD) */
export interface PadOp extends OpBase {
  op: 'pad';
  paddings: [number, number][];
  /** PADV2's constant, in the input's dtype (quantized: the raw integer); undefined: 0 (float) or the zero point */
  value?: number;
}

/** MEAN over `axes` (for MobileNet: H and W of an NHWC tensor) */
export interface MeanOp extends OpBase {
  op: 'mean';
  axes: number[];
  keepDims: boolean;
}

/** CONCATENATION along `axis` (non-negative), quantized inputs rescaled to the output's parameters */
export interface ConcatenationOp {
  op: 'concatenation';
  inputs: TensorInfo[];
  output: TensorInfo;
  axis: number;
  activation: Activation;
}

/** LOGISTIC (sigmoid) */
export interface LogisticOp extends OpBase {
  op: 'logistic';
}

/** The options of the custom op TFLite_Detection_PostProcess (from its flexbuffer map) */
export interface DetectionOptions {
  maxDetections: number;
  maxClassesPerDetection: number;
  detectionsPerClass: number;
  useRegularNms: boolean;
  nmsScoreThreshold: number;
  nmsIouThreshold: number;
  numClasses: number;
  yScale: number;
  xScale: number;
  hScale: number;
  wScale: number;
}

/**
 * The custom op TFLite_Detection_PostProcess: inputs box encodings [1, A, 4+], class scores
 * [1, A, numClasses + 1 background] and anchors (a constant [A, 4], ycenter/xcenter/h/w);
 * outputs boxes [1, maxDetections, 4] (ymin, xmin, ymax, xmax, normalised), classes
 * [1, maxDetections], scores [1, maxDetections] and the count [1], all float32.
 */
export interface DetectionPostprocessOp {
  op: 'detection_postprocess';
  inputs: [TensorInfo, TensorInfo, TensorInfo];
  outputs: [TensorInfo, TensorInfo, TensorInfo, TensorInfo];
  options: DetectionOptions;
}

export type Op =
  | Conv2DOp
  | DepthwiseConv2DOp
  | AveragePool2DOp
  | FullyConnectedOp
  | SoftmaxOp
  | ReshapeOp
  | QuantizeOp
  | DequantizeOp
  | BinaryOp
  | PadOp
  | MeanOp
  | ConcatenationOp
  | LogisticOp
  | DetectionPostprocessOp;

export type OpName = Op['op'];

/** an op's tensor inputs in order (constants included) */
export function opInputs(op: Op): TensorInfo[] {
  return 'inputs' in op ? op.inputs : [op.input];
}

/** an op's outputs in order */
export function opOutputs(op: Op): TensorInfo[] {
  return 'outputs' in op ? op.outputs : [op.output];
}

export interface Graph {
  ops: Op[];
  /** the first of `inputs` (the image input of a classifier) */
  input: TensorInfo;
  /** the first of `outputs` */
  output: TensorInfo;
  /** every graph input, in the file's order (defaults to [input]) */
  inputs?: TensorInfo[];
  /** every graph output, in the file's order (defaults to [output]) */
  outputs?: TensorInfo[];
  /** where it came from, for messages and net.info */
  source: 'tflite' | 'tfjs' | 'random';
}

/** Element count of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const bytesPerElement = (dtype: DType): number => (dtype === 'float32' ? 4 : 1);

/**
 * TFLite output size and padding. SAME: out = ceil(in / stride), total padding
 * max((out-1)*stride + k - in, 0), the smaller half before (so stride-2 SAME pads more at
 * bottom/right). VALID: out = floor((in - k) / stride) + 1, no padding.
 */
export function convGeometry(inSize: number, k: number, stride: number, padding: Padding): { out: number; padBefore: number } {
  if (padding === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + k - inSize, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  return { out: Math.floor((inSize - k) / stride) + 1, padBefore: 0 };
}
