/**
 * The model as the runtime sees it, whatever file it came from (.tflite, TF.js layers model,
 * or the random-weight architecture builder): a chain of ops, each reading the previous op's
 * output. Layouts are TFLite's: activations NHWC with batch 1, conv filters OHWI,
 * depthwise filters 1HWC (depth multiplier 1), fully-connected weights [out, in].
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
  name: string;
  /** NHWC for 4-D activations, [1, N] for vectors */
  shape: number[];
  dtype: DType;
  quant?: Quant;
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
  filter: Weights; // [1, KH, KW, C]
  bias: Float32Array | Int32Array; // length C
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

export type Op =
  | Conv2DOp
  | DepthwiseConv2DOp
  | AveragePool2DOp
  | FullyConnectedOp
  | SoftmaxOp
  | ReshapeOp
  | QuantizeOp
  | DequantizeOp;

export interface Graph {
  ops: Op[];
  input: TensorInfo;
  output: TensorInfo;
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
