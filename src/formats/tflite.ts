/**
 * .tflite reader: TensorFlow Lite flatbuffer (schema version 3, identifier "TFL3") to the
 * model IR. Reads subgraph 0: a graph of supported ops in execution order (each op reads model
 * inputs, earlier ops' outputs and constants), with its inputs and outputs. Every byte access is bounds-checked by
 * FlatBufferReader, and every tensor is checked against the op that uses it, so bad files
 * give a MobileNetError (INVALID_MODEL for corrupt or inconsistent bytes, UNSUPPORTED_MODEL
 * for valid models we do not run) naming the op, tensor and numbers involved.
 *
 * No Node built-ins: runs in browsers and edge runtimes.
 *
 * Constant tensors are returned as views into `bytes` when alignment allows (copies
 * otherwise), so the caller must not modify `bytes` while the graph is in use.
 */
import { invalidModel, unsupportedModel } from '../errors.js';
import {
  convGeometry,
  opOutputs as opOutputsOf,
  sizeOf,
  type Activation,
  type DType,
  type Graph,
  type Op,
  type Padding,
  type Quant,
  type TensorInfo,
  type Weights,
} from '../model/ir.js';
import { FlatBufferReader, type Table } from './flatbuffer.js';
import { readFlexbufferMap } from './flexbuffer.js';
import { detectionOptions, detectionOutputShapes } from '../ops/detection_postprocess/options.js';
import { MIN_NORMAL_F32, nameWeights, zeroPointRange } from '../model/validate.js';
import { bufferBytes, plainView } from '../runtime/typed.js';
import {
  ACTIVATION_NAMES,
  BuiltinOperator,
  BuiltinOptionsType,
  F,
  FullyConnectedWeightsFormat,
  TFLITE_FILE_IDENTIFIER,
  TFLITE_SCHEMA_VERSION,
  TensorType,
  builtinOperatorName,
  tensorTypeName,
} from './tflite-schema.js';

/** Sanity limits: far above any MobileNet, far below what would exhaust memory. */
export const MAX_DIM = 65536;
export const MAX_ELEMENTS = 2 ** 28;
const MAX_RANK = 6;

const SUPPORTED_OPS = [
  'CONV_2D',
  'DEPTHWISE_CONV_2D',
  'AVERAGE_POOL_2D',
  'FULLY_CONNECTED',
  'SOFTMAX',
  'RESHAPE',
  'SQUEEZE',
  'QUANTIZE',
  'DEQUANTIZE',
  'ADD',
  'MUL',
  'PAD',
  'PADV2',
  'MEAN',
  'CONCATENATION',
  'LOGISTIC',
  "CUSTOM 'TFLite_Detection_PostProcess'",
];
/** graph inputs / outputs we accept (SSD has 4 outputs) */
const MAX_GRAPH_IO = 16;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type ElemType = DType | 'int32';

const ELEM_TYPES: Record<number, ElemType> = {
  [TensorType.FLOAT32]: 'float32',
  [TensorType.UINT8]: 'uint8',
  [TensorType.INT8]: 'int8',
  [TensorType.INT32]: 'int32',
};

interface RawQuant {
  scale: number[];
  zeroPoint: number[];
  axis: number;
}

interface RawTensor {
  index: number;
  name: string;
  /** "tensor 12 'conv1/weights'" */
  label: string;
  type: number;
  shape: number[];
  buffer: number;
  quant: RawQuant | null;
}

/** constant bytes of a tensor: position in the file and length */
interface ConstData {
  start: number;
  length: number;
}

const fmtShape = (s: readonly number[]) => `[${s.join(',')}]`;

class TfliteReader {
  private readonly fb: FlatBufferReader;
  private readonly tensorsVec: { length: number; get(i: number): Table };
  private readonly buffersVec: { length: number; get(i: number): Table };
  private readonly opcodes: { code: number; name: string }[] = [];
  private readonly subgraph: Table;
  private readonly rawTensors = new Map<number, RawTensor>();
  private readonly infos = new Map<number, TensorInfo>();
  /** 'model input' / 'model output' by tensor index, for messages */
  private readonly ioRoles = new Map<number, string>();

  constructor(private readonly bytes: Uint8Array) {
    this.fb = new FlatBufferReader(bytes);
    const model = this.fb.root('model');
    const version = model.u32(F.Model.version, 'version');
    if (version !== TFLITE_SCHEMA_VERSION) {
      throw unsupportedModel(`.tflite schema version is ${version}; mobilenet-wasm reads version ${TFLITE_SCHEMA_VERSION}`);
    }
    const codes = model.tables(F.Model.operator_codes, 'operator_codes');
    for (let i = 0; i < codes.length; i++) {
      const oc = codes.get(i);
      const deprecated = oc.i8(F.OperatorCode.deprecated_builtin_code, 'deprecated_builtin_code');
      const builtin = oc.i32(F.OperatorCode.builtin_code, 'builtin_code');
      // Old files only have the byte-sized deprecated field; new ones may hold codes >= 127
      // only in builtin_code (the deprecated one then says 127): the real code is the larger.
      const code = Math.max(deprecated, builtin);
      let name = builtinOperatorName(code);
      if (code === BuiltinOperator.CUSTOM) name = `CUSTOM '${oc.string(F.OperatorCode.custom_code, 'custom_code')}'`;
      this.opcodes.push({ code, name });
    }
    const subgraphs = model.tables(F.Model.subgraphs, 'subgraphs');
    if (subgraphs.length === 0) throw invalidModel('.tflite has no subgraphs');
    this.subgraph = subgraphs.get(0);
    this.tensorsVec = this.subgraph.tables(F.SubGraph.tensors, 'tensors');
    this.buffersVec = model.tables(F.Model.buffers, 'buffers');
  }

  // ---- tensors ------------------------------------------------------------------------

  private tensor(index: number, usedBy: string): RawTensor {
    const cached = this.rawTensors.get(index);
    if (cached) return cached;
    if (!Number.isInteger(index) || index < 0 || index >= this.tensorsVec.length) {
      throw invalidModel(`${usedBy} refers to tensor ${index}, but subgraph 0 has ${this.tensorsVec.length} tensors`);
    }
    const t = this.tensorsVec.get(index);
    const name = t.string(F.Tensor.name, 'name');
    const label = `tensor ${index} '${name}'`;
    const shape = t.i32Array(F.Tensor.shape, 'shape');
    if (shape.length > MAX_RANK) throw unsupportedModel(`${label} has rank ${shape.length}; at most ${MAX_RANK} is supported`);
    let elements = 1;
    for (const d of shape) {
      if (d < 1 || d > MAX_DIM) {
        throw invalidModel(`${label} has shape ${fmtShape(shape)}: every dimension must be between 1 and ${MAX_DIM}`);
      }
      elements *= d;
    }
    if (elements > MAX_ELEMENTS) {
      throw invalidModel(`${label} has shape ${fmtShape(shape)}: ${elements} elements is more than the ${MAX_ELEMENTS} allowed`);
    }
    if (t.table(F.Tensor.sparsity, 'sparsity')) throw unsupportedModel(`${label} is sparse; only dense tensors are supported`);
    const q = t.table(F.Tensor.quantization, 'quantization');
    let quant: RawQuant | null = null;
    if (q) {
      const scale = q.f32Array(F.QuantizationParameters.scale, 'scale');
      if (scale.length > 0) {
        if (q.u8(F.QuantizationParameters.details_type, 'details_type') !== 0) {
          throw unsupportedModel(`${label} uses custom quantization details; only affine (scale, zero point) is supported`);
        }
        let zeroPoint = q.i64Array(F.QuantizationParameters.zero_point, 'zero_point');
        if (zeroPoint.length === 0) zeroPoint = scale.map(() => 0);
        if (zeroPoint.length !== scale.length) {
          throw invalidModel(`${label} has ${scale.length} quantization scales but ${zeroPoint.length} zero points`);
        }
        let axis = q.i32(F.QuantizationParameters.quantized_dimension, 'quantized_dimension');
        // a per-channel vector (a bias) has one axis, whatever quantized_dimension says: the
        // converter copies the filter's (3 for depthwise), as in TFLite Micro's person detector
        if (scale.length > 1 && shape.length === 1 && shape[0] === scale.length) axis = 0;
        if (scale.length > 1 && (axis < 0 || axis >= shape.length || shape[axis] !== scale.length)) {
          throw invalidModel(
            `${label} has ${scale.length} per-channel scales along axis ${axis}, which does not match its shape ${fmtShape(shape)}`,
          );
        }
        quant = { scale, zeroPoint, axis };
      }
    }
    const raw: RawTensor = {
      index,
      name,
      label,
      type: t.u8(F.Tensor.type, 'type'),
      shape,
      buffer: t.u32(F.Tensor.buffer, 'buffer'),
      quant,
    };
    this.rawTensors.set(index, raw);
    return raw;
  }

  /** the constant bytes of a tensor, or null for an activation (buffer 0 / empty buffer) */
  private constData(t: RawTensor): ConstData | null {
    if (t.buffer === 0) return null;
    if (t.buffer >= this.buffersVec.length) {
      throw invalidModel(`${t.label} refers to buffer ${t.buffer}, but the model has ${this.buffersVec.length} buffers`);
    }
    const b = this.buffersVec.get(t.buffer);
    const data = b.vector(F.Buffer.data, 'data', 1);
    if (data && data.length > 0) return { start: data.start, length: data.length };
    // Models over 2 GB (schema 3c) keep data after the flatbuffer: offset from the file start.
    const offset = b.u64(F.Buffer.offset, 'offset');
    if (offset > 1) {
      const size = b.u64(F.Buffer.size, 'size');
      if (offset + size > this.bytes.length) {
        throw invalidModel(
          `${t.label} buffer ${t.buffer} claims ${size} bytes at offset ${offset}, past the end of the ${this.bytes.length}-byte file`,
        );
      }
      return size > 0 ? { start: offset, length: size } : null;
    }
    return null;
  }

  private elemType(t: RawTensor, allowed: readonly ElemType[], role: string): ElemType {
    const et = ELEM_TYPES[t.type];
    if (et === undefined || !allowed.includes(et)) {
      const names = allowed.map((a) => a.toUpperCase()).join(', ');
      throw unsupportedModel(`${t.label} (${role}) has type ${tensorTypeName(t.type)}; mobilenet-wasm supports ${names} here`);
    }
    return et;
  }

  private checkQuant(t: RawTensor, dtype: DType | 'int32', perChannelAxis: number | null): Quant | undefined {
    if (dtype === 'float32') return undefined; // float tensors may carry min/max; unused
    const q = t.quant;
    const role = this.ioRoles.get(t.index);
    const label = role ? `${t.label} (the ${role})` : t.label;
    if (!q) {
      if (dtype === 'int32') return undefined;
      throw invalidModel(`${t.label} is ${dtype} but has no quantization parameters`);
    }
    for (const s of q.scale) {
      if (!(s > 0) || !Number.isFinite(s)) throw invalidModel(`${label} has quantization scale ${s}; scales must be positive and finite`);
      // subnormal float32 scales (1e-45) make TFLite's multipliers and 1 / scale overflow or vanish
      if (!(s >= MIN_NORMAL_F32)) {
        throw invalidModel(`${label} has quantization scale ${s}; scales must be positive and finite, and normal in float32 (at least 2^-126 = 1.18e-38), not subnormal`);
      }
    }
    {
      const [lo, hi] = zeroPointRange(dtype);
      for (const z of q.zeroPoint) {
        if (z < lo || z > hi) {
          throw invalidModel(dtype === 'int32' ? `${label} is an int32 bias with zero point ${z}; TFLite requires 0` : `${label} is ${dtype} but has zero point ${z}, outside [${lo}, ${hi}]`);
        }
      }
    }
    if (q.scale.length > 1) {
      if (perChannelAxis === null) {
        throw unsupportedModel(`${label} is quantized per channel (${q.scale.length} scales); only per-tensor quantization is supported here`);
      }
      if (q.axis !== perChannelAxis) {
        throw unsupportedModel(`${label} is quantized per channel along axis ${q.axis}; expected axis ${perChannelAxis}`);
      }
    }
    return { scale: q.scale.slice(), zeroPoint: q.zeroPoint.slice(), axis: q.scale.length > 1 ? q.axis : 0 };
  }

  /** an activation tensor (non-constant) as TensorInfo */
  private activation(index: number, usedBy: string): TensorInfo {
    const cached = this.infos.get(index);
    if (cached) return cached;
    const t = this.tensor(index, usedBy);
    if (this.constData(t)) throw unsupportedModel(`${usedBy} reads ${t.label} as its data input, but it is a constant`);
    const dtype = this.elemType(t, ['float32', 'uint8', 'int8'], `activation of ${usedBy}`) as DType;
    if (t.shape.length === 0) throw unsupportedModel(`${t.label} is a scalar; ${usedBy} needs a tensor`);
    if (t.shape.length >= 2 && t.shape[0] !== 1) {
      throw unsupportedModel(`${t.label} has batch ${t.shape[0]} (shape ${fmtShape(t.shape)}); mobilenet-wasm runs batch 1`);
    }
    const info: TensorInfo = { id: index, name: t.name, shape: t.shape.slice(), dtype };
    const quant = this.checkQuant(t, dtype, null);
    if (quant) info.quant = quant;
    this.infos.set(index, info);
    return info;
  }

  /** an elementwise operand: an activation, or a constant (float32 / uint8 / int8) held in the file */
  private operand(index: number, usedBy: string): TensorInfo {
    const t = this.tensor(index, usedBy);
    if (!this.constData(t)) return this.activation(index, usedBy);
    const c = this.constant(index, usedBy, 'constant operand', ['float32', 'uint8', 'int8']);
    const dtype = c.et as DType;
    const info: TensorInfo = { id: index, name: t.name, shape: t.shape.length === 0 ? [1] : t.shape.slice(), dtype, constant: c.data as Float32Array | Uint8Array | Int8Array };
    const quant = this.checkQuant(t, dtype, null);
    if (quant) info.quant = quant;
    return info;
  }

  /** a constant int32 vector (PAD's paddings, MEAN's axes) */
  private int32Constant(index: number, usedBy: string, role: string): Int32Array {
    if (index < 0) throw invalidModel(`${usedBy} has no ${role} input`);
    return this.constant(index, usedBy, role, ['int32']).data as Int32Array;
  }

  /** typed view (or aligned copy) of a constant's bytes */
  private typedData(c: ConstData, et: ElemType, count: number): Float32Array | Int32Array | Uint8Array | Int8Array {
    const abs = this.bytes.byteOffset + c.start;
    if (et === 'uint8') return this.bytes.subarray(c.start, c.start + count);
    if (et === 'int8') return new Int8Array(this.bytes.buffer, abs, count);
    if (abs % 4 === 0 && LITTLE_ENDIAN) {
      return et === 'float32' ? new Float32Array(this.bytes.buffer, abs, count) : new Int32Array(this.bytes.buffer, abs, count);
    }
    const dv = new DataView(this.bytes.buffer, abs, count * 4);
    if (et === 'float32') {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    }
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = dv.getInt32(4 * i, true);
    return out;
  }

  /** a constant operand: checks it has data of exactly product(shape) * element size bytes */
  private constant(index: number, usedBy: string, role: string, allowed: readonly ElemType[]) {
    const t = this.tensor(index, usedBy);
    const c = this.constData(t);
    if (!c) {
      throw unsupportedModel(
        `${usedBy} takes its ${role} from ${t.label}, which is not a constant: mobilenet-wasm runs single-chain graphs whose weights are stored in the file`,
      );
    }
    const et = this.elemType(t, allowed, `${role} of ${usedBy}`);
    const count = sizeOf(t.shape);
    const need = count * (et === 'float32' || et === 'int32' ? 4 : 1);
    if (c.length !== need) {
      throw invalidModel(
        `${t.label} buffer ${t.buffer} has ${c.length} bytes but shape ${fmtShape(t.shape)} ${et} needs ${need}`,
      );
    }
    return { t, et, count, data: this.typedData(c, et, count) };
  }

  // ---- ops --------------------------------------------------------------------------------

  /**
   * Every op the model uses that mobilenet-wasm does not run, in one error, before anything
   * else is checked: a user learns all the blockers at once (an SSD detector's CONCATENATION,
   * LOGISTIC and custom post-processing), not only the first one or the input/output count.
   */
  private checkOpsSupported(operators: { length: number; get(i: number): { u32(field: number, what: string): number } }): void {
    const unsupported = new Map<string, number[]>();
    for (let i = 0; i < operators.length; i++) {
      const opcodeIndex = operators.get(i).u32(F.Operator.opcode_index, 'opcode_index');
      if (opcodeIndex >= this.opcodes.length) {
        throw invalidModel(`op ${i} uses operator code ${opcodeIndex}, but the model has ${this.opcodes.length}`);
      }
      const { name } = this.opcodes[opcodeIndex];
      if (!SUPPORTED_OPS.includes(name)) unsupported.set(name, [...(unsupported.get(name) ?? []), i]);
    }
    if (unsupported.size === 0) return;
    const list = [...unsupported].map(([name, at]) =>
      at.length === 1 ? `op ${at[0]} is ${name}` : `${at.length} ops are ${name} (ops ${at.slice(0, 6).join(', ')}${at.length > 6 ? ', ...' : ''})`);
    const which = unsupported.size === 1 && [...unsupported.values()][0].length === 1 ? 'which mobilenet-wasm does not run' : 'which mobilenet-wasm does not run (all of them listed)';
    throw unsupportedModel(`${list.join('; ')}, ${which}; supported: ${SUPPORTED_OPS.join(', ')}`);
  }

  read(): Graph {
    const sg = this.subgraph;
    const inputs = sg.i32Array(F.SubGraph.inputs, 'inputs');
    const outputs = sg.i32Array(F.SubGraph.outputs, 'outputs');
    this.checkOpsSupported(sg.tables(F.SubGraph.operators, 'operators'));
    if (inputs.length < 1 || outputs.length < 1) throw invalidModel(`the model has ${inputs.length} inputs and ${outputs.length} outputs; it needs at least one of each`);
    if (inputs.length > MAX_GRAPH_IO || outputs.length > MAX_GRAPH_IO) {
      throw unsupportedModel(`the model has ${inputs.length} inputs and ${outputs.length} outputs; mobilenet-wasm runs models with at most ${MAX_GRAPH_IO} of each`);
    }
    inputs.forEach((t, j) => this.ioRoles.set(t, inputs.length === 1 ? 'model input' : `model input ${j}`));
    outputs.forEach((t, j) => this.ioRoles.set(t, outputs.length === 1 ? 'model output' : `model output ${j}`));
    const graphInputs = inputs.map((t, j) => this.activation(t, inputs.length === 1 ? 'the model input' : `model input ${j}`));
    if (new Set(inputs).size !== inputs.length) throw invalidModel(`the model lists tensor ${inputs.find((t, j) => inputs.indexOf(t) !== j)} twice among its inputs`);
    const operators = sg.tables(F.SubGraph.operators, 'operators');
    if (operators.length === 0) throw unsupportedModel('subgraph 0 has no operators');
    const ops: Op[] = [];
    // tensor index -> what wrote it (for messages); ops run in the file's order, so every
    // activation an op reads must be a model input or written by an earlier op
    const written = new Map<number, string>(inputs.map((t, j) => [t, inputs.length === 1 ? 'the model input' : `model input ${j}`]));
    for (let i = 0; i < operators.length; i++) {
      const opTable = operators.get(i);
      const opcodeIndex = opTable.u32(F.Operator.opcode_index, 'opcode_index');
      if (opcodeIndex >= this.opcodes.length) {
        throw invalidModel(`op ${i} uses operator code ${opcodeIndex}, but the model has ${this.opcodes.length}`);
      }
      const { code, name } = this.opcodes[opcodeIndex];
      const label = `op ${i} (${name})`;
      if (!SUPPORTED_OPS.includes(name)) {
        throw unsupportedModel(`op ${i} is ${name}, which mobilenet-wasm does not run; supported: ${SUPPORTED_OPS.join(', ')}`);
      }
      const opInputs = opTable.i32Array(F.Operator.inputs, 'inputs');
      const opOutputs = opTable.i32Array(F.Operator.outputs, 'outputs');
      const wantOutputs = name === DETECTION_POSTPROCESS ? 4 : 1;
      if (opInputs.length < 1 || opOutputs.length !== wantOutputs) {
        throw invalidModel(`${label} has ${opInputs.length} inputs and ${opOutputs.length} outputs`);
      }
      // checked before the op's own shape checks, so an out-of-order file is named as such
      for (const index of opInputs) {
        if (index < 0 || written.has(index)) continue;
        const t = this.tensor(index, label);
        if (!this.constData(t)) {
          throw invalidModel(`${label} reads ${t.label}, which is neither a model input nor written by an earlier op (ops must be in execution order)`);
        }
      }
      const op = this.readOp(opTable, code, name, label, opInputs, opOutputs);
      for (const t of opOutputsOf(op)) {
        const before = written.get(t.id!);
        if (before) throw invalidModel(`${label} writes tensor ${t.id} '${t.name}', which ${before} already wrote`);
        written.set(t.id!, `op ${i}`);
      }
      ops.push(op);
    }
    const graphOutputs = outputs.map((t, j) => {
      const what = outputs.length === 1 ? 'the model output' : `model output ${j}`;
      if (!written.has(t)) {
        const raw = this.tensor(t, what);
        throw invalidModel(`${what} is ${raw.label}, which no op writes`);
      }
      return this.infos.get(t) ?? this.activation(t, what);
    });
    return { ops, input: graphInputs[0], output: graphOutputs[0], inputs: graphInputs, outputs: graphOutputs, source: 'tflite' };
  }

  private options(op: Table, label: string, type: number, typeName: string, required: boolean): Table | null {
    const actual = op.u8(F.Operator.builtin_options_type, 'builtin_options_type');
    if (actual === BuiltinOptionsType.NONE && !required) return null;
    if (actual !== type) {
      throw invalidModel(`${label} has builtin options of union type ${actual}; expected ${typeName} (${type})`);
    }
    const t = op.table(F.Operator.builtin_options, 'builtin_options');
    if (!t) {
      if (required) throw invalidModel(`${label} has no ${typeName}`);
      return null;
    }
    return t;
  }

  private activationFn(code: number, label: string): Activation {
    switch (code) {
      case 0:
        return 'none';
      case 1:
        return 'relu';
      case 2:
        return 'relu_n1_to_1';
      case 3:
        return 'relu6';
    }
    const name = ACTIVATION_NAMES[code];
    if (name) throw unsupportedModel(`${label} has fused activation ${name}; supported: NONE, RELU, RELU6, RELU_N1_TO_1`);
    throw invalidModel(`${label} has fused activation code ${code}, which is not in the TFLite schema`);
  }

  private padding(code: number, label: string): Padding {
    if (code === 0) return 'same';
    if (code === 1) return 'valid';
    throw invalidModel(`${label} has padding code ${code}; TFLite defines SAME (0) and VALID (1)`);
  }

  private strides(o: Table, label: string, table: { stride_h: number; stride_w: number }): [number, number] {
    const sh = o.i32(table.stride_h, 'stride_h');
    const sw = o.i32(table.stride_w, 'stride_w');
    if (sh < 1 || sw < 1 || sh > MAX_DIM || sw > MAX_DIM) throw invalidModel(`${label} has strides [${sh}, ${sw}]; strides must be at least 1`);
    return [sh, sw];
  }

  /** optional bias (input 2): int32 for quantized ops, float32 for float; zeros when absent */
  private bias(inputs: number[], label: string, n: number, quantized: boolean): Float32Array | Int32Array {
    const idx = inputs.length > 2 ? inputs[2] : -1;
    if (idx < 0) return quantized ? new Int32Array(n) : new Float32Array(n);
    const b = this.constant(idx, label, 'bias', quantized ? ['int32'] : ['float32']);
    if (quantized) this.checkQuant(b.t, 'int32', 0);
    if (b.count !== n) throw invalidModel(`${b.t.label} (bias of ${label}) has ${b.count} values, expected ${n}`);
    return b.data as Float32Array | Int32Array;
  }

  private filterWeights(
    idx: number,
    label: string,
    input: TensorInfo,
    rank: number,
    perChannelAxis: number,
  ): Weights {
    const filterTypes: ElemType[] = input.dtype === 'float32' ? ['float32'] : [input.dtype];
    const t0 = this.tensor(idx, label);
    if (input.dtype === 'float32' && (t0.type === TensorType.INT8 || t0.type === TensorType.UINT8)) {
      throw unsupportedModel(`${label} is a hybrid op (float input, ${tensorTypeName(t0.type)} ${t0.label}); only fully float or fully quantized ops are supported`);
    }
    const f = this.constant(idx, label, 'filter', filterTypes);
    if (f.t.shape.length !== rank) {
      throw invalidModel(`${f.t.label} (filter of ${label}) has shape ${fmtShape(f.t.shape)}; expected rank ${rank}`);
    }
    const dtype = f.et as DType;
    // int8 filters may be per channel; uint8 ones are per tensor in TFLite
    const quant = this.checkQuant(f.t, dtype, dtype === 'int8' ? perChannelAxis : null);
    const w: Weights = { data: f.data as Float32Array | Uint8Array | Int8Array, shape: f.t.shape.slice(), dtype };
    if (quant) w.quant = quant;
    nameWeights(w, f.t.name);
    return w;
  }

  /**
   * The custom op TFLite_Detection_PostProcess: box encodings and class scores (activations),
   * anchors (a constant), options from its flexbuffer map (src/formats/flexbuffer.ts, bounded);
   * its four float32 outputs have no shape in the file (TFLite sizes them at run time), so
   * they get the shapes the options give.
   */
  private detectionPostprocess(opTable: Table, label: string, inputs: number[], outputIndices: number[]): Op {
    if (inputs.length !== 3) throw invalidModel(`${label} has ${inputs.length} inputs; it takes box encodings, class scores and anchors`);
    const boxes = this.activation(inputs[0], label);
    const scores = this.activation(inputs[1], label);
    const anchors = this.operand(inputs[2], label);
    if (!anchors.constant) throw unsupportedModel(`${label} reads its anchors from an activation; they must be a constant in the file`);
    const bytes = opTable.vector(F.Operator.custom_options, 'custom_options', 1);
    if (!bytes || bytes.length === 0) throw invalidModel(`${label} has no custom options (its flexbuffer of NMS settings)`);
    const options = detectionOptions(readFlexbufferMap(this.bytes.subarray(bytes.start, bytes.start + bytes.length), `${label} custom options`), label);
    const shapes = detectionOutputShapes(options);
    const outputs = outputIndices.map((index, j) => {
      const t = this.tensor(index, label);
      if (this.constData(t)) throw invalidModel(`${label} writes ${t.label}, which is a constant`);
      if (ELEM_TYPES[t.type] !== 'float32') throw unsupportedModel(`${label} output ${t.label} is ${tensorTypeName(t.type)}; TFLite_Detection_PostProcess writes float32`);
      const info: TensorInfo = { id: index, name: t.name, shape: shapes[j], dtype: 'float32' };
      this.infos.set(index, info);
      return info;
    }) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo];
    return { op: 'detection_postprocess', inputs: [boxes, scores, anchors], outputs, options };
  }

  private sameDtype(input: TensorInfo, output: TensorInfo, label: string): void {
    if (input.dtype !== output.dtype) {
      throw unsupportedModel(`${label} reads ${input.dtype} and writes ${output.dtype}; it must keep the dtype`);
    }
  }

  private expectShape(output: TensorInfo, expected: number[], label: string, why: string): void {
    if (output.shape.length !== expected.length || output.shape.some((d, i) => d !== expected[i])) {
      throw invalidModel(`${label} output '${output.name}' has shape ${fmtShape(output.shape)}, but ${why} gives ${fmtShape(expected)}`);
    }
  }

  private readOp(opTable: Table, code: number, name: string, label: string, inputs: number[], outputIndices: number[]): Op {
    switch (name) {
      case 'ADD':
      case 'MUL': {
        if (inputs.length !== 2) throw invalidModel(`${label} has ${inputs.length} inputs; ${name} takes 2`);
        const a = this.operand(inputs[0], label);
        const b = this.operand(inputs[1], label);
        const output = this.activation(outputIndices[0], label);
        if (a.constant && b.constant) throw unsupportedModel(`${label} adds two constants; a converter folds those`);
        const o = this.options(opTable, label, name === 'ADD' ? BuiltinOptionsType.AddOptions : BuiltinOptionsType.MulOptions, `${name === 'ADD' ? 'Add' : 'Mul'}Options`, false);
        const activation = this.activationFn(o ? o.i8(0, 'fused_activation_function') : 0, label);
        for (const t of [a, b]) if (t.dtype !== output.dtype) throw unsupportedModel(`${label} mixes ${t.dtype} '${t.name}' with a ${output.dtype} output`);
        return { op: name === 'ADD' ? 'add' : 'mul', inputs: [a, b], output, activation };
      }
      case 'PAD':
      case 'PADV2': {
        const input = this.activation(inputs[0], label);
        const output = this.activation(outputIndices[0], label);
        const p = this.int32Constant(inputs[1] ?? -1, label, 'paddings');
        const rank = input.shape.length;
        if (p.length !== rank * 2) throw invalidModel(`${label} paddings have ${p.length} values; a rank-${rank} input needs ${rank * 2}`);
        const paddings = Array.from({ length: rank }, (_, d) => [p[2 * d], p[2 * d + 1]] as [number, number]);
        this.sameDtype(input, output, label);
        if (name === 'PADV2' && inputs.length > 2 && inputs[2] >= 0) {
          const v = this.constant(inputs[2], label, 'constant value', [input.dtype]);
          if (v.count !== 1) throw invalidModel(`${label} pad value has ${v.count} values; it must be a scalar`);
          return { op: 'pad', input, output, paddings, value: v.data[0] };
        }
        return { op: 'pad', input, output, paddings };
      }
      case 'MEAN': {
        const input = this.activation(inputs[0], label);
        const output = this.activation(outputIndices[0], label);
        const axes = Array.from(this.int32Constant(inputs[1] ?? -1, label, 'axes'));
        const rank = input.shape.length;
        for (const a of axes) if (a < -rank || a >= rank) throw invalidModel(`${label} averages over axis ${a} of a rank-${rank} input`);
        const o = this.options(opTable, label, BuiltinOptionsType.ReducerOptions, 'ReducerOptions', false);
        const keepDims = o ? o.bool(0, 'keep_dims') : false;
        this.sameDtype(input, output, label);
        return { op: 'mean', input, output, axes: axes.map((a) => (a < 0 ? a + rank : a)), keepDims };
      }
      case 'CONCATENATION': {
        const ins = inputs.map((t) => this.activation(t, label));
        const output = this.activation(outputIndices[0], label);
        const o = this.options(opTable, label, BuiltinOptionsType.ConcatenationOptions, 'ConcatenationOptions', true)!;
        const rank = output.shape.length;
        let axis = o.i32(0, 'axis');
        if (axis < -rank || axis >= rank) throw invalidModel(`${label} concatenates along axis ${axis} of a rank-${rank} output`);
        if (axis < 0) axis += rank;
        const activation = this.activationFn(o.i8(1, 'fused_activation_function'), label);
        for (const t of ins) this.sameDtype(t, output, label);
        return { op: 'concatenation', inputs: ins, output, axis, activation };
      }
      case 'LOGISTIC': {
        const input = this.activation(inputs[0], label);
        const output = this.activation(outputIndices[0], label);
        this.sameDtype(input, output, label);
        this.expectShape(output, input.shape, label, 'an element-wise op');
        return { op: 'logistic', input, output };
      }
      case DETECTION_POSTPROCESS:
        return this.detectionPostprocess(opTable, label, inputs, outputIndices);
    }
    const input = this.activation(inputs[0], label);
    const output = this.activation(outputIndices[0], label);
    switch (code) {
      case BuiltinOperator.CONV_2D:
      case BuiltinOperator.DEPTHWISE_CONV_2D: {
        const depthwise = code === BuiltinOperator.DEPTHWISE_CONV_2D;
        const o = depthwise
          ? this.options(opTable, label, BuiltinOptionsType.DepthwiseConv2DOptions, 'DepthwiseConv2DOptions', true)!
          : this.options(opTable, label, BuiltinOptionsType.Conv2DOptions, 'Conv2DOptions', true)!;
        const slots = depthwise ? F.DepthwiseConv2DOptions : F.Conv2DOptions;
        const dil = [o.i32(slots.dilation_h_factor, 'dilation_h_factor', 1), o.i32(slots.dilation_w_factor, 'dilation_w_factor', 1)];
        if (dil[0] !== 1 || dil[1] !== 1) throw unsupportedModel(`${label} has dilation [${dil.join(', ')}]; only 1 is supported`);
        const strides = this.strides(o, label, slots);
        const padding = this.padding(o.i8(slots.padding, 'padding'), label);
        const activation = this.activationFn(o.i8(slots.fused_activation_function, 'fused_activation_function'), label);
        if (inputs.length < 2 || inputs[1] < 0) throw invalidModel(`${label} has no filter input`);
        if (input.shape.length !== 4) throw unsupportedModel(`${label} input '${input.name}' has shape ${fmtShape(input.shape)}; expected NHWC`);
        this.sameDtype(input, output, label);
        const filter = this.filterWeights(inputs[1], label, input, 4, depthwise ? 3 : 0);
        const [, h, w, c] = input.shape;
        const [fo, kh, kw, fi] = filter.shape;
        let outC: number;
        if (depthwise) {
          if (fo !== 1) throw invalidModel(`${label} filter has shape ${fmtShape(filter.shape)}; depthwise filters are [1, KH, KW, C * depth multiplier]`);
          if (fi % c !== 0) {
            throw invalidModel(`${label} has ${fi} output channels for ${c} input channels: not a whole depth multiplier`);
          }
          const dm = o.i32(F.DepthwiseConv2DOptions.depth_multiplier, 'depth_multiplier');
          // The field is redundant with the shapes (TF >= 2.1 ignores it); 0 means unset.
          if (dm !== 0 && dm !== fi / c) throw invalidModel(`${label} has depth_multiplier ${dm}, but its filter has ${fi} channels for ${c} input channels`);
          outC = fi;
        } else {
          if (fi !== c) {
            throw unsupportedModel(`${label} filter has ${fi} input channels but input '${input.name}' has ${c}; grouped convolution is not supported`);
          }
          outC = fo;
        }
        const oh = convGeometry(h, kh, strides[0], padding).out;
        const ow = convGeometry(w, kw, strides[1], padding).out;
        if (oh < 1 || ow < 1) throw invalidModel(`${label} has a ${kh}x${kw} filter larger than its ${h}x${w} input with VALID padding`);
        this.expectShape(output, [1, oh, ow, outC], label, `a ${kh}x${kw} stride ${strides.join('x')} ${padding.toUpperCase()} filter with ${outC} outputs`);
        const bias = this.bias(inputs, label, outC, input.dtype !== 'float32');
        return depthwise
          ? { op: 'depthwise_conv2d', input, output, filter, bias, strides, padding, activation }
          : { op: 'conv2d', input, output, filter, bias, strides, padding, activation };
      }
      case BuiltinOperator.AVERAGE_POOL_2D: {
        const o = this.options(opTable, label, BuiltinOptionsType.Pool2DOptions, 'Pool2DOptions', true)!;
        const S = F.Pool2DOptions;
        const fh = o.i32(S.filter_height, 'filter_height');
        const fw = o.i32(S.filter_width, 'filter_width');
        if (fh < 1 || fw < 1 || fh > MAX_DIM || fw > MAX_DIM) throw invalidModel(`${label} has filter size [${fh}, ${fw}]`);
        const strides = this.strides(o, label, S);
        const padding = this.padding(o.i8(S.padding, 'padding'), label);
        const activation = this.activationFn(o.i8(S.fused_activation_function, 'fused_activation_function'), label);
        if (input.shape.length !== 4) throw unsupportedModel(`${label} input '${input.name}' has shape ${fmtShape(input.shape)}; expected NHWC`);
        this.sameDtype(input, output, label);
        const [, h, w, c] = input.shape;
        const oh = convGeometry(h, fh, strides[0], padding).out;
        const ow = convGeometry(w, fw, strides[1], padding).out;
        if (oh < 1 || ow < 1) throw invalidModel(`${label} has a ${fh}x${fw} window larger than its ${h}x${w} input with VALID padding`);
        this.expectShape(output, [1, oh, ow, c], label, `a ${fh}x${fw} stride ${strides.join('x')} ${padding.toUpperCase()} pool`);
        return { op: 'average_pool2d', input, output, filterSize: [fh, fw], strides, padding, activation };
      }
      case BuiltinOperator.FULLY_CONNECTED: {
        const o = this.options(opTable, label, BuiltinOptionsType.FullyConnectedOptions, 'FullyConnectedOptions', false);
        const activation = this.activationFn(o ? o.i8(F.FullyConnectedOptions.fused_activation_function, 'fused_activation_function') : 0, label);
        const format = o ? o.i8(F.FullyConnectedOptions.weights_format, 'weights_format') : 0;
        if (format !== FullyConnectedWeightsFormat.DEFAULT) {
          throw unsupportedModel(`${label} has weights_format ${format === 1 ? 'SHUFFLED4x16INT8' : format}; only DEFAULT is supported`);
        }
        if (inputs.length < 2 || inputs[1] < 0) throw invalidModel(`${label} has no weights input`);
        this.sameDtype(input, output, label);
        const filter = this.filterWeights(inputs[1], label, input, 2, 0);
        const [outN, inN] = filter.shape;
        if (sizeOf(input.shape) !== inN) {
          throw invalidModel(`${label} weights are ${fmtShape(filter.shape)} but input '${input.name}' ${fmtShape(input.shape)} has ${sizeOf(input.shape)} values`);
        }
        if (sizeOf(output.shape) !== outN || output.shape[output.shape.length - 1] !== outN) {
          throw invalidModel(`${label} weights are ${fmtShape(filter.shape)} but output '${output.name}' has shape ${fmtShape(output.shape)}`);
        }
        const bias = this.bias(inputs, label, outN, input.dtype !== 'float32');
        return { op: 'fully_connected', input, output, filter, bias, activation };
      }
      case BuiltinOperator.SOFTMAX: {
        const o = this.options(opTable, label, BuiltinOptionsType.SoftmaxOptions, 'SoftmaxOptions', false);
        const beta = o ? o.f32(F.SoftmaxOptions.beta, 'beta') : 0;
        if (!(beta > 0) || !Number.isFinite(beta)) throw unsupportedModel(`${label} has beta ${beta}; a positive finite beta is required`);
        this.sameDtype(input, output, label);
        this.expectShape(output, input.shape, label, 'softmax of the input');
        return { op: 'softmax', input, output, beta };
      }
      case BuiltinOperator.RESHAPE:
      case BuiltinOperator.SQUEEZE: {
        // The target shape (ReshapeOptions.new_shape or a constant shape input) must agree
        // with the output tensor's shape, which is what we use.
        const agrees = (target: number[]) =>
          target.length === output.shape.length &&
          target.filter((d) => d === -1).length <= 1 &&
          target.every((d, j) => d === -1 || d === output.shape[j]);
        if (code === BuiltinOperator.RESHAPE) {
          if (inputs.length > 1 && inputs[1] >= 0) {
            const s = this.constant(inputs[1], label, 'shape', ['int32']);
            if (!agrees(Array.from(s.data as Int32Array))) {
              throw invalidModel(`${label} target shape ${fmtShape(Array.from(s.data))} disagrees with its output shape ${fmtShape(output.shape)}`);
            }
          }
          const o = this.options(opTable, label, BuiltinOptionsType.ReshapeOptions, 'ReshapeOptions', false);
          const newShape = o ? o.i32Array(F.ReshapeOptions.new_shape, 'new_shape') : [];
          if (newShape.length > 0 && !agrees(newShape)) {
            throw invalidModel(`${label} new_shape ${fmtShape(newShape)} disagrees with its output shape ${fmtShape(output.shape)}`);
          }
        } else {
          const o = this.options(opTable, label, BuiltinOptionsType.SqueezeOptions, 'SqueezeOptions', false);
          const dims = o ? o.i32Array(F.SqueezeOptions.squeeze_dims, 'squeeze_dims') : [];
          for (const d of dims) {
            const axis = d < 0 ? d + input.shape.length : d;
            if (axis < 0 || axis >= input.shape.length || input.shape[axis] !== 1) {
              throw invalidModel(`${label} squeezes dimension ${d} of ${fmtShape(input.shape)}, which is not 1`);
            }
          }
        }
        this.sameDtype(input, output, label);
        if (sizeOf(input.shape) !== sizeOf(output.shape)) {
          throw invalidModel(`${label} turns ${fmtShape(input.shape)} into ${fmtShape(output.shape)}, which has a different number of values`);
        }
        if (input.quant && output.quant && (input.quant.scale[0] !== output.quant.scale[0] || input.quant.zeroPoint[0] !== output.quant.zeroPoint[0])) {
          throw unsupportedModel(`${label} changes quantization parameters; a reshape must keep them`);
        }
        return { op: 'reshape', input, output };
      }
      case BuiltinOperator.QUANTIZE:
      case BuiltinOperator.DEQUANTIZE: {
        const quantize = code === BuiltinOperator.QUANTIZE;
        if (quantize ? output.dtype === 'float32' : input.dtype === 'float32' || output.dtype !== 'float32') {
          throw unsupportedModel(
            `${label} converts ${input.dtype} to ${output.dtype}; ${quantize ? 'QUANTIZE must write uint8 or int8' : 'DEQUANTIZE must read uint8 or int8 and write float32'}`,
          );
        }
        this.expectShape(output, input.shape, label, 'an element-wise conversion');
        return { op: quantize ? 'quantize' : 'dequantize', input, output };
      }
    }
    throw unsupportedModel(`${label} is not supported`);
  }
}

const DETECTION_POSTPROCESS = "CUSTOM 'TFLite_Detection_PostProcess'";

/** Parse a .tflite model into the IR; throws MobileNetError (INVALID_MODEL / UNSUPPORTED_MODEL). */
export function readTflite(model: Uint8Array): Graph {
  // through the intrinsic getters: a Proxy or a subclass with a lying length cannot reach the reader
  const bytes = plainView(model, 'Uint8Array') ?? bufferBytes(model);
  if (!bytes) throw invalidModel('readTflite expects the model bytes as a Uint8Array (or an ArrayBuffer)');
  if (bytes.length < 8) {
    throw invalidModel(`.tflite is ${bytes.length} bytes: too short to be a TensorFlow Lite model (the header alone is 8 bytes)`);
  }
  const id = String.fromCharCode(...bytes.subarray(4, 8));
  if (id !== TFLITE_FILE_IDENTIFIER) {
    const shown = JSON.stringify(id.replace(/[^\x20-\x7e]/g, '?'));
    throw invalidModel(`not a TensorFlow Lite model: the file identifier (bytes 4..7) is ${shown}, expected "${TFLITE_FILE_IDENTIFIER}"`);
  }
  return new TfliteReader(bytes).read();
}
