/**
 * .tflite writer: model IR chain to a TensorFlow Lite flatbuffer (schema version 3, "TFL3")
 * that TFLite itself loads, so random-weight MobileNets can be saved for the CLI and run in
 * TFLite's own builds for comparison, and tests can craft bad models.
 *
 * Two steps, both exported: graphToTfliteSpec() builds a plain description of the model
 * (tensors, buffers, operator codes, operators with option tables), and encodeTflite()
 * serializes any such description. Tests edit the description in between to make models
 * the IR cannot express (an ADD op, a float16 tensor, a non-chain graph...).
 *
 * Uses our own small flatbuffer builder (src/formats/flatbuffer.ts): no npm dependency.
 */
import { invalidModel, unsupportedModel } from '../errors.js';
import type { DType, Graph, Op, Quant, TensorInfo, Weights } from '../model/ir.js';
import { buildFlatBuffer, fb, type FbTable } from './flatbuffer.js';
import {
  BuiltinOperator,
  BuiltinOptionsType,
  F,
  PaddingType,
  TFLITE_FILE_IDENTIFIER,
  TFLITE_SCHEMA_VERSION,
  TensorType,
  ActivationFunctionType,
} from './tflite-schema.js';

export interface TfliteQuantSpec {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TfliteTensorSpec {
  name: string;
  shape: number[];
  /** TensorType code */
  type: number;
  /** index into buffers; 0 = no data (activation) */
  buffer: number;
  quantization?: TfliteQuantSpec;
}

export interface TfliteOperatorCodeSpec {
  /** BuiltinOperator code; written to builtin_code and (capped at 127) deprecated_builtin_code */
  builtinCode: number;
  version: number;
  customCode?: string;
}

export interface TfliteOperatorSpec {
  opcodeIndex: number;
  /** tensor indices; -1 = optional input omitted */
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions union type id (0 = none) */
  optionsType: number;
  options?: FbTable;
}

export interface TfliteModelSpec {
  version: number;
  description: string;
  operatorCodes: TfliteOperatorCodeSpec[];
  /** subgraph 0 */
  tensors: TfliteTensorSpec[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperatorSpec[];
  subgraphName: string;
  /** buffers[0] must be empty (TFLite's sentinel) */
  buffers: Uint8Array[];
  /** Model.metadata entries: a name and the index of the buffer holding its bytes (e.g. TFLITE_METADATA) */
  metadata?: { name: string; buffer: number }[];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** little-endian bytes of a typed array (a view on little-endian hosts) */
function leBytes(a: Float32Array | Int32Array | Uint8Array | Int8Array): Uint8Array {
  if (a.BYTES_PER_ELEMENT === 1 || LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) dv.setFloat32(4 * i, a[i], true);
    else dv.setInt32(4 * i, a[i], true);
  }
  return out;
}

const TYPE_OF: Record<DType, number> = { float32: TensorType.FLOAT32, uint8: TensorType.UINT8, int8: TensorType.INT8 };

const ACTIVATION_CODE = {
  none: ActivationFunctionType.NONE,
  relu: ActivationFunctionType.RELU,
  relu_n1_to_1: ActivationFunctionType.RELU_N1_TO_1,
  relu6: ActivationFunctionType.RELU6,
} as const;

const quantSpec = (q: Quant | undefined): TfliteQuantSpec | undefined =>
  q ? { scale: q.scale.slice(), zeroPoint: q.zeroPoint.slice(), quantizedDimension: q.axis } : undefined;

const fmtShape = (s: readonly number[]) => `[${s.join(',')}]`;

/** Describe an IR chain as a TFLite model (one subgraph, one buffer per constant). */
export function graphToTfliteSpec(graph: Graph): TfliteModelSpec {
  if (graph.ops.length === 0) throw invalidModel('writeTflite: the graph has no ops');
  const spec: TfliteModelSpec = {
    version: TFLITE_SCHEMA_VERSION,
    description: `mobilenet-wasm (from ${graph.source})`,
    operatorCodes: [],
    tensors: [],
    inputs: [],
    outputs: [],
    operators: [],
    subgraphName: 'main',
    buffers: [new Uint8Array(0)],
  };
  const opcodeIndex = (builtinCode: number, version: number): number => {
    let i = spec.operatorCodes.findIndex((c) => c.builtinCode === builtinCode && c.version === version);
    if (i < 0) i = spec.operatorCodes.push({ builtinCode, version }) - 1;
    return i;
  };
  const activation = (t: TensorInfo): number => {
    const tensor: TfliteTensorSpec = { name: t.name, shape: t.shape.slice(), type: TYPE_OF[t.dtype], buffer: 0 };
    const q = quantSpec(t.quant);
    if (q) tensor.quantization = q;
    return spec.tensors.push(tensor) - 1;
  };
  const constant = (name: string, shape: number[], type: number, data: Uint8Array, quant?: TfliteQuantSpec): number => {
    const buffer = spec.buffers.push(data) - 1;
    const tensor: TfliteTensorSpec = { name, shape, type, buffer };
    if (quant) tensor.quantization = quant;
    return spec.tensors.push(tensor) - 1;
  };
  const weights = (name: string, w: Weights): number =>
    constant(name, w.shape.slice(), TYPE_OF[w.dtype], leBytes(w.data), quantSpec(w.quant));
  /** int32 bias quantization as TFLite expects: scale input_scale * filter_scale, zero point 0 */
  const bias = (name: string, b: Float32Array | Int32Array, input: TensorInfo, filter: Weights): number => {
    if (b instanceof Float32Array) return constant(name, [b.length], TensorType.FLOAT32, leBytes(b));
    let quant: TfliteQuantSpec | undefined;
    if (input.quant && filter.quant) {
      const s = input.quant.scale[0];
      quant = {
        scale: filter.quant.scale.map((f) => s * f),
        zeroPoint: filter.quant.scale.map(() => 0),
        quantizedDimension: 0,
      };
    }
    return constant(name, [b.length], TensorType.INT32, leBytes(b), quant);
  };

  const first = graph.ops[0];
  if (!('input' in first)) throw unsupportedModel(`writeTflite: op 0 (${first.op}) has several inputs; the writer writes chains of single-input ops`);
  let current = activation(first.input);
  spec.inputs.push(current);
  let prevOut: TensorInfo = first.input;
  graph.ops.forEach((anyOp: Op, i) => {
    if (!('input' in anyOp) || !('output' in anyOp)) throw unsupportedModel(`writeTflite: op ${i} (${anyOp.op}) has several inputs or outputs; the writer writes chains of single-input ops`);
    const op = anyOp;
    const inp = op.input;
    if (inp.dtype !== prevOut.dtype || fmtShape(inp.shape) !== fmtShape(prevOut.shape)) {
      throw invalidModel(
        `writeTflite: op ${i} (${op.op}) reads ${inp.dtype} ${fmtShape(inp.shape)} but the previous tensor is ${prevOut.dtype} ${fmtShape(prevOut.shape)}`,
      );
    }
    const base = op.output.name || `op${i}`;
    const int8 = inp.dtype === 'int8';
    let code: number;
    let version = 1;
    const inputs = [current];
    let optionsType: number = BuiltinOptionsType.NONE;
    let options: FbTable | undefined;
    switch (op.op) {
      case 'conv2d':
      case 'depthwise_conv2d': {
        const dw = op.op === 'depthwise_conv2d';
        code = dw ? BuiltinOperator.DEPTHWISE_CONV_2D : BuiltinOperator.CONV_2D;
        version = int8 ? 3 : 1;
        inputs.push(weights(`${base}/${dw ? 'depthwise_weights' : 'weights'}`, op.filter));
        inputs.push(bias(`${base}/bias`, op.bias, inp, op.filter));
        const S = dw ? F.DepthwiseConv2DOptions : F.Conv2DOptions;
        const fields: Record<number, ReturnType<typeof fb.scalar>> = {
          [S.padding]: fb.scalar('i8', op.padding === 'same' ? PaddingType.SAME : PaddingType.VALID),
          [S.stride_w]: fb.scalar('i32', op.strides[1]),
          [S.stride_h]: fb.scalar('i32', op.strides[0]),
          [S.fused_activation_function]: fb.scalar('i8', ACTIVATION_CODE[op.activation]),
          [S.dilation_w_factor]: fb.scalar('i32', 1),
          [S.dilation_h_factor]: fb.scalar('i32', 1),
        };
        if (dw) fields[F.DepthwiseConv2DOptions.depth_multiplier] = fb.scalar('i32', 1);
        optionsType = dw ? BuiltinOptionsType.DepthwiseConv2DOptions : BuiltinOptionsType.Conv2DOptions;
        options = fb.table(fields);
        break;
      }
      case 'average_pool2d': {
        code = BuiltinOperator.AVERAGE_POOL_2D;
        version = int8 ? 2 : 1;
        const S = F.Pool2DOptions;
        optionsType = BuiltinOptionsType.Pool2DOptions;
        options = fb.table({
          [S.padding]: fb.scalar('i8', op.padding === 'same' ? PaddingType.SAME : PaddingType.VALID),
          [S.stride_w]: fb.scalar('i32', op.strides[1]),
          [S.stride_h]: fb.scalar('i32', op.strides[0]),
          [S.filter_width]: fb.scalar('i32', op.filterSize[1]),
          [S.filter_height]: fb.scalar('i32', op.filterSize[0]),
          [S.fused_activation_function]: fb.scalar('i8', ACTIVATION_CODE[op.activation]),
        });
        break;
      }
      case 'fully_connected': {
        code = BuiltinOperator.FULLY_CONNECTED;
        // keep_num_dims when the output keeps the input's rank (e.g. [1,1,1,1024] -> [1,1,1,N])
        const keepNumDims = op.output.shape.length === inp.shape.length && op.output.shape.length > 2;
        version = keepNumDims ? 5 : int8 ? 4 : 1;
        inputs.push(weights(`${base}/weights`, op.filter));
        inputs.push(bias(`${base}/bias`, op.bias, inp, op.filter));
        const S = F.FullyConnectedOptions;
        optionsType = BuiltinOptionsType.FullyConnectedOptions;
        options = fb.table({
          [S.fused_activation_function]: fb.scalar('i8', ACTIVATION_CODE[op.activation]),
          [S.weights_format]: fb.scalar('i8', 0),
          [S.keep_num_dims]: fb.scalar('bool', keepNumDims),
        });
        break;
      }
      case 'softmax':
        code = BuiltinOperator.SOFTMAX;
        version = int8 ? 2 : 1;
        optionsType = BuiltinOptionsType.SoftmaxOptions;
        options = fb.table({ [F.SoftmaxOptions.beta]: fb.scalar('f32', op.beta) });
        break;
      case 'reshape': {
        code = BuiltinOperator.RESHAPE;
        const shape = Int32Array.from(op.output.shape);
        // both forms: the shape tensor (used by TFLite when present) and new_shape (older readers)
        inputs.push(constant(`${base}/shape`, [shape.length], TensorType.INT32, leBytes(shape)));
        optionsType = BuiltinOptionsType.ReshapeOptions;
        options = fb.table({ [F.ReshapeOptions.new_shape]: fb.vector('i32', shape) });
        break;
      }
      case 'quantize':
        code = BuiltinOperator.QUANTIZE;
        break;
      case 'dequantize':
        code = BuiltinOperator.DEQUANTIZE;
        version = int8 ? 2 : 1;
        break;
      default:
        throw invalidModel(`writeTflite: op ${i} has unknown kind ${(op as { op: string }).op}`);
    }
    const out = activation(op.output);
    spec.operators.push({ opcodeIndex: opcodeIndex(code, version), inputs, outputs: [out], optionsType, options });
    current = out;
    prevOut = op.output;
  });
  spec.outputs.push(current);
  return spec;
}

export interface EncodeOptions {
  /**
   * Store constant data after the flatbuffer, referenced by Buffer.offset/size (schema 3c,
   * what the converter does for models over 2 GB; needs a recent TFLite to load).
   */
  externalBuffers?: boolean;
}

/** Serialize a model description to .tflite bytes. */
export function encodeTflite(spec: TfliteModelSpec, options: EncodeOptions = {}): Uint8Array {
  if (!options.externalBuffers) return buildFlatBuffer(modelTable(spec, null), TFLITE_FILE_IDENTIFIER);
  // Offsets are fixed-size inline fields, so the flatbuffer's size does not depend on their
  // values: lay it out once with placeholders to learn where the data will start.
  const align16 = (n: number) => Math.ceil(n / 16) * 16;
  const placeholder = spec.buffers.map(() => 2);
  const head = buildFlatBuffer(modelTable(spec, placeholder), TFLITE_FILE_IDENTIFIER).length;
  const offsets: number[] = [];
  let end = align16(head);
  for (const b of spec.buffers) {
    offsets.push(end);
    end = align16(end + b.length);
  }
  const fbBytes = buildFlatBuffer(modelTable(spec, offsets), TFLITE_FILE_IDENTIFIER);
  const out = new Uint8Array(end);
  out.set(fbBytes);
  spec.buffers.forEach((b, i) => out.set(b, offsets[i]));
  return out;
}

function modelTable(spec: TfliteModelSpec, externalOffsets: number[] | null): FbTable {
  const quantTable = (q: TfliteQuantSpec) =>
    fb.table({
      [F.QuantizationParameters.scale]: fb.vector('f32', q.scale),
      [F.QuantizationParameters.zero_point]: fb.vector('i64', q.zeroPoint),
      [F.QuantizationParameters.quantized_dimension]: fb.scalar('i32', q.quantizedDimension),
    });
  const tensors = spec.tensors.map((t) =>
    fb.table({
      [F.Tensor.shape]: fb.vector('i32', t.shape),
      [F.Tensor.type]: fb.scalar('i8', t.type),
      [F.Tensor.buffer]: fb.scalar('u32', t.buffer),
      [F.Tensor.name]: fb.string(t.name),
      [F.Tensor.quantization]: t.quantization ? quantTable(t.quantization) : undefined,
    }),
  );
  const operators = spec.operators.map((o) =>
    fb.table({
      [F.Operator.opcode_index]: fb.scalar('u32', o.opcodeIndex),
      [F.Operator.inputs]: fb.vector('i32', o.inputs),
      [F.Operator.outputs]: fb.vector('i32', o.outputs),
      [F.Operator.builtin_options_type]: o.options ? fb.scalar('u8', o.optionsType) : undefined,
      [F.Operator.builtin_options]: o.options,
    }),
  );
  const subgraph = fb.table({
    [F.SubGraph.tensors]: fb.tables(tensors),
    [F.SubGraph.inputs]: fb.vector('i32', spec.inputs),
    [F.SubGraph.outputs]: fb.vector('i32', spec.outputs),
    [F.SubGraph.operators]: fb.tables(operators),
    [F.SubGraph.name]: fb.string(spec.subgraphName),
  });
  const opcodes = spec.operatorCodes.map((c) =>
    fb.table({
      // deprecated_builtin_code is a byte: codes past 127 only fit in builtin_code
      [F.OperatorCode.deprecated_builtin_code]: fb.scalar('i8', Math.min(c.builtinCode, BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)),
      [F.OperatorCode.custom_code]: c.customCode !== undefined ? fb.string(c.customCode) : undefined,
      [F.OperatorCode.version]: fb.scalar('i32', c.version),
      [F.OperatorCode.builtin_code]: fb.scalar('i32', c.builtinCode),
    }),
  );
  const buffers = spec.buffers.map((b, i) => {
    if (!b.length) return fb.table({});
    if (externalOffsets) {
      return fb.table({ [F.Buffer.offset]: fb.scalar('u64', externalOffsets[i]), [F.Buffer.size]: fb.scalar('u64', b.length) });
    }
    return fb.table({ [F.Buffer.data]: fb.bytes(b, 16) });
  });
  const model = fb.table({
    [F.Model.version]: fb.scalar('u32', spec.version),
    [F.Model.operator_codes]: fb.tables(opcodes),
    [F.Model.subgraphs]: fb.tables([subgraph]),
    [F.Model.description]: fb.string(spec.description),
    [F.Model.buffers]: fb.tables(buffers),
    // schema.fbs `table Metadata { name: string; buffer: uint; }`
    [F.Model.metadata]: spec.metadata?.length ? fb.tables(spec.metadata.map((m) => fb.table({ 0: fb.string(m.name), 1: fb.scalar('u32', m.buffer) }))) : undefined,
  });
  return model;
}

/** Write an IR chain as a .tflite file. */
export function writeTflite(graph: Graph): Uint8Array {
  return encodeTflite(graphToTfliteSpec(graph));
}
