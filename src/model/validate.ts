/**
 * Structural validation of an IR graph, whatever produced it (.tflite reader, TF.js reader,
 * the random builder, or a caller's own object): every field the planner and the op
 * preparers read is checked for its type once, here, and the graph is rebuilt from plain
 * values (arrays copied, typed arrays re-viewed through the intrinsic getters, so a Proxy or
 * a subclass with a lying `length` cannot reach the kernels). Malformed graphs get
 * INVALID_MODEL naming the field; the op preparers then judge the values (shapes that do not
 * chain, unsupported activations, ...).
 *
 * Quantization parameters are checked here too, for every tensor and every weight:
 *   - scales are finite, positive, normal float32 numbers (>= 2^-126 once rounded to float32):
 *     TFLite computes with float32 scales, and a subnormal or zero scale makes its multipliers
 *     and reciprocals (1 / scale, input_scale * filter_scale) overflow or vanish;
 *   - zero points are integers in the dtype's range (uint8 0..255, int8 -128..127);
 *   - there are as many zero points as scales, and a per-channel array has exactly one scale
 *     per element of its quantized axis.
 * (int32 biases carry no quantization in the IR: the .tflite reader checks that theirs has
 * zero point 0.)
 */
import { invalidModel, unsupportedModel } from '../errors.js';
import { plainView, describeValue } from '../runtime/typed.js';
import { opOutputs, type Activation, type DetectionOptions, type DType, type Graph, type Op, type Padding, type Quant, type TensorInfo, type Weights } from './ir.js';

export const MAX_OPS = 10_000;
export const MAX_RANK = 8;
/** elements of one tensor: 2^29 float32 values are 2 GiB, the most a wasm32 byte offset can reach */
export const MAX_TENSOR_ELEMENTS = 2 ** 29;
/** smallest normal float32 */
export const MIN_NORMAL_F32 = 2 ** -126;
export const MAX_F32 = 3.4028234663852886e38;

const DTYPES: readonly DType[] = ['float32', 'uint8', 'int8'];
const OPS = [
  'conv2d', 'depthwise_conv2d', 'average_pool2d', 'fully_connected', 'softmax', 'reshape', 'quantize', 'dequantize',
  'add', 'mul', 'pad', 'mean', 'concatenation', 'logistic', 'detection_postprocess',
] as const;
const CONSTANT_TYPED = ['Float32Array', 'Uint8Array', 'Int8Array', 'Int32Array'] as const;
/** ids given to tensors that came without one start here, above any id a file uses */
const AUTO_ID_BASE = 2 ** 30;
const MAX_OP_INPUTS = 1024;

/**
 * Gives weights their tensor name for messages, as a non-enumerable property: graphs that
 * differ only in it still compare equal (structural comparisons list enumerable keys).
 */
export function nameWeights(w: Weights, name: string): void {
  Object.defineProperty(w, 'name', { value: name, enumerable: false, writable: true, configurable: true });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/**
 * A quantization scale as TFLite needs it: a finite, positive, normal float32 (see the file
 * comment). Throws INVALID_MODEL "<what> scale <s> ..." otherwise.
 */
export function checkQuantScale(s: unknown, what: string): number {
  if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) {
    throw invalidModel(`${what} scale ${describeValue(s)} must be finite and > 0`);
  }
  const f = Math.fround(s);
  if (f === Infinity) throw invalidModel(`${what} scale ${s} is not representable in float32 (over 3.4e38)`);
  if (!(f >= MIN_NORMAL_F32)) {
    throw invalidModel(`${what} scale ${s} is ${f === 0 ? 'zero' : 'subnormal'} in float32 (below 2^-126 = 1.18e-38); scales must be normal float32 numbers`);
  }
  return s;
}

export function zeroPointRange(dtype: 'uint8' | 'int8' | 'int32'): [number, number] {
  return dtype === 'uint8' ? [0, 255] : dtype === 'int8' ? [-128, 127] : [0, 0];
}

/** Checks a zero point for its dtype (int32: must be 0). */
export function checkZeroPoint(z: unknown, dtype: 'uint8' | 'int8' | 'int32', what: string): number {
  const [lo, hi] = zeroPointRange(dtype);
  if (typeof z !== 'number' || !Number.isInteger(z) || z < lo || z > hi) {
    throw invalidModel(`${what} zero point ${describeValue(z)} is outside the ${dtype} range [${lo}, ${hi}]`);
  }
  return z;
}

function numberArray(v: unknown, what: string, min: number, max: number): number[] {
  if (!Array.isArray(v)) throw invalidModel(`${what} must be an array of numbers, got ${describeValue(v)}`);
  const n = v.length;
  if (!(n >= min && n <= max)) throw invalidModel(`${what} has ${n} entries; expected ${min === max ? min : `${min} to ${max}`}`);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number') throw invalidModel(`${what}[${i}] must be a number, got ${describeValue(x)}`);
    out[i] = x;
  }
  return out;
}

function shapeOf(v: unknown, what: string): number[] {
  const s = numberArray(v, `${what} shape`, 1, MAX_RANK);
  let n = 1;
  for (let i = 0; i < s.length; i++) {
    if (!Number.isSafeInteger(s[i]) || s[i] < 1) throw invalidModel(`${what} shape [${s.join(',')}]: dimension ${i} must be a positive integer`);
    n *= s[i];
  }
  if (n > MAX_TENSOR_ELEMENTS) throw invalidModel(`${what} shape [${s.join(',')}] has ${n} elements, more than the ${MAX_TENSOR_ELEMENTS} allowed`);
  return s;
}

function dtypeOf(v: unknown, what: string): DType {
  if (!(DTYPES as readonly unknown[]).includes(v)) throw invalidModel(`${what} dtype must be 'float32', 'uint8' or 'int8', got ${describeValue(v)}`);
  return v as DType;
}

function quantOf(v: unknown, dtype: DType, shape: number[], what: string): Quant | undefined {
  if (dtype === 'float32') return undefined; // float tensors may carry min/max statistics; unused
  if (v === undefined || v === null) throw invalidModel(`${what} is ${dtype} but has no quantization parameters`);
  if (!isObject(v)) throw invalidModel(`${what} quantization must be an object { scale, zeroPoint, axis }, got ${describeValue(v)}`);
  const scale = numberArray(v.scale, `${what} quantization scale`, 1, 1 << 20);
  const zeroPoint = numberArray(v.zeroPoint, `${what} quantization zeroPoint`, 1, 1 << 20);
  if (zeroPoint.length !== scale.length) throw invalidModel(`${what} has ${scale.length} quantization scales but ${zeroPoint.length} zero points`);
  const axis = v.axis === undefined ? 0 : v.axis;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw invalidModel(`${what} quantization axis ${describeValue(axis)} is not a dimension of its shape [${shape.join(',')}]`);
  }
  for (let c = 0; c < scale.length; c++) checkQuantScale(scale[c], scale.length > 1 ? `${what} (channel ${c}) quantization` : `${what} quantization`);
  for (let c = 0; c < zeroPoint.length; c++) checkZeroPoint(zeroPoint[c], dtype, scale.length > 1 ? `${what} (channel ${c})` : what);
  if (scale.length > 1 && shape[axis] !== scale.length) {
    throw invalidModel(`${what} has ${scale.length} per-channel scales along axis ${axis}, but its shape [${shape.join(',')}] has ${shape[axis]} there`);
  }
  return { scale, zeroPoint, axis };
}

const TYPED_FOR: Record<DType, 'Float32Array' | 'Uint8Array' | 'Int8Array'> = { float32: 'Float32Array', uint8: 'Uint8Array', int8: 'Int8Array' };

class GraphValidator {
  private readonly tensors = new Map<object, TensorInfo>();
  /** first tensor seen with each explicit id: later objects with that id must describe the same tensor */
  private readonly byId = new Map<number, TensorInfo>();
  private nextAutoId = AUTO_ID_BASE;

  tensor(v: unknown, what: string): TensorInfo {
    if (!isObject(v)) throw invalidModel(`${what} must be a tensor { name, shape, dtype, quant? }, got ${describeValue(v)}`);
    const seen = this.tensors.get(v);
    if (seen) return seen;
    const t = this.readTensor(v, what);
    if (v.id === undefined) {
      t.id = this.nextAutoId++;
    } else {
      const id = v.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= AUTO_ID_BASE) {
        throw invalidModel(`${what} id ${describeValue(id)} must be an integer from 0 to ${AUTO_ID_BASE - 1}`);
      }
      t.id = id;
      const first = this.byId.get(id);
      if (first) {
        if (first.dtype !== t.dtype || first.shape.join(',') !== t.shape.join(',') || (first.constant === undefined) !== (t.constant === undefined)) {
          throw invalidModel(`${what} has id ${id}, which names ${first.dtype}[${first.shape}] '${first.name}' elsewhere in the graph, but it is ${t.dtype}[${t.shape}]`);
        }
      } else {
        this.byId.set(id, t);
      }
    }
    this.tensors.set(v, t);
    return t;
  }

  private readTensor(v: Record<string, unknown>, what: string): TensorInfo {
    const name = v.name;
    if (name !== undefined && typeof name !== 'string') throw invalidModel(`${what} name must be a string, got ${describeValue(name)}`);
    const label = name ? `${what} '${name}'` : what;
    const shape = shapeOf(v.shape, label);
    const dtype = dtypeOf(v.dtype, label);
    const quant = quantOf(v.quant, dtype, shape, label);
    const t: TensorInfo = quant ? { name: name ?? what, shape, dtype, quant } : { name: name ?? what, shape, dtype };
    if (v.constant !== undefined) {
      const data = plainView(v.constant, ...CONSTANT_TYPED);
      if (!data) throw invalidModel(`${label} constant must be a Float32Array, Uint8Array, Int8Array or Int32Array, got ${describeValue(v.constant)}`);
      const n = shape.reduce((a, b) => a * b, 1);
      if (data.length !== n) throw invalidModel(`${label} constant has ${data.length} values but its shape [${shape.join(',')}] needs ${n}`);
      const want = dtype === 'float32' ? ['Float32Array'] : dtype === 'uint8' ? ['Uint8Array'] : ['Int8Array', 'Int32Array'];
      if (!want.includes(data.constructor.name)) throw invalidModel(`${label} constant is a ${data.constructor.name}, but the tensor is ${dtype}`);
      t.constant = data;
    }
    return t;
  }

  tensorList(v: unknown, what: string, min: number, max: number): TensorInfo[] {
    if (!Array.isArray(v)) throw invalidModel(`${what} must be an array of tensors, got ${describeValue(v)}`);
    if (v.length < min || v.length > max) throw invalidModel(`${what} has ${v.length} tensors; expected ${min === max ? min : `${min} to ${max}`}`);
    return Array.from({ length: v.length }, (_, i) => this.tensor(v[i], `${what}[${i}]`));
  }

  weights(v: unknown, what: string): Weights {
    if (!isObject(v)) throw invalidModel(`${what} must be weights { data, shape, dtype, quant? }, got ${describeValue(v)}`);
    const name = v.name;
    if (name !== undefined && typeof name !== 'string') throw invalidModel(`${what} name must be a string, got ${describeValue(name)}`);
    const label = name ? `${what} '${name}'` : what;
    const shape = shapeOf(v.shape, label);
    const dtype = dtypeOf(v.dtype, label);
    const kind = TYPED_FOR[dtype];
    const data = plainView(v.data, kind);
    if (!data) throw invalidModel(`${label} data must be a ${kind} (dtype ${dtype}), got ${describeValue(v.data)}`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw invalidModel(`${label} has ${data.length} values but its shape [${shape.join(',')}] needs ${n}`);
    const quant = quantOf(v.quant, dtype, shape, label);
    const w: Weights = { data, shape, dtype };
    if (quant) w.quant = quant;
    if (name !== undefined) nameWeights(w, name);
    return w;
  }

  op(v: unknown, i: number): Op {
    if (!isObject(v)) throw invalidModel(`op ${i} must be an object, got ${describeValue(v)}`);
    const kind = v.op;
    if (typeof kind !== 'string') throw invalidModel(`op ${i} has no op name (field 'op' is ${describeValue(kind)})`);
    if (!(OPS as readonly string[]).includes(kind)) throw unsupportedModel(`op ${i} is '${kind.slice(0, 40)}', which mobilenet-wasm does not run; supported: ${OPS.join(', ')}`);
    const at = `op ${i} (${kind})`;
    switch (kind) {
      case 'add':
      case 'mul':
        return { op: kind, inputs: this.tensorList(v.inputs, `inputs of ${at}`, 2, 2) as [TensorInfo, TensorInfo], output: this.tensor(v.output, `output of ${at}`), activation: this.activation(v, at) };
      case 'concatenation': {
        const axis = v.axis;
        if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < 0 || axis >= MAX_RANK) throw invalidModel(`${at} axis ${describeValue(axis)} must be a non-negative dimension index`);
        return { op: kind, inputs: this.tensorList(v.inputs, `inputs of ${at}`, 1, MAX_OP_INPUTS), output: this.tensor(v.output, `output of ${at}`), axis, activation: this.activation(v, at) };
      }
      case 'detection_postprocess': {
        if (!isObject(v.options)) throw invalidModel(`${at} options must be an object, got ${describeValue(v.options)}`);
        const options = {} as Record<string, number | boolean>;
        for (const [key, value] of Object.entries(v.options)) {
          if (typeof value !== 'number' && typeof value !== 'boolean') throw invalidModel(`${at} option ${key} must be a number or boolean, got ${describeValue(value)}`);
          options[key] = value;
        }
        return {
          op: kind,
          inputs: this.tensorList(v.inputs, `inputs of ${at}`, 3, 3) as [TensorInfo, TensorInfo, TensorInfo],
          outputs: this.tensorList(v.outputs, `outputs of ${at}`, 4, 4) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo],
          options: options as unknown as DetectionOptions,
        };
      }
    }
    const input = this.tensor(v.input, `input of ${at}`);
    const output = this.tensor(v.output, `output of ${at}`);
    const activation = () => this.activation(v, at);
    const padding = (): Padding => {
      if (typeof v.padding !== 'string') throw invalidModel(`${at} padding must be 'same' or 'valid', got ${describeValue(v.padding)}`);
      return v.padding as Padding;
    };
    const pair = (key: string): [number, number] => numberArray(v[key], `${at} ${key}`, 2, 2) as [number, number];
    const bias = (): Float32Array | Int32Array => {
      const b = plainView(v.bias, 'Float32Array', 'Int32Array');
      if (!b) throw invalidModel(`${at} bias must be a Float32Array (float ops) or an Int32Array (quantized ops), got ${describeValue(v.bias)}`);
      return b;
    };
    const noDilation = () => {
      if (v.dilations === undefined) return;
      const d = numberArray(v.dilations, `${at} dilations`, 1, 4);
      if (d.some((x) => x !== 1)) throw unsupportedModel(`${at}: dilation [${d}] is not supported`);
    };
    switch (kind) {
      case 'conv2d':
      case 'depthwise_conv2d':
        noDilation();
        return { op: kind, input, output, filter: this.weights(v.filter, `filter of ${at}`), bias: bias(), strides: pair('strides'), padding: padding(), activation: activation() };
      case 'fully_connected':
        return { op: kind, input, output, filter: this.weights(v.filter, `filter of ${at}`), bias: bias(), activation: activation() };
      case 'average_pool2d':
        return { op: kind, input, output, filterSize: pair('filterSize'), strides: pair('strides'), padding: padding(), activation: activation() };
      case 'softmax':
        if (typeof v.beta !== 'number') throw invalidModel(`${at} beta must be a number, got ${describeValue(v.beta)}`);
        return { op: kind, input, output, beta: v.beta };
      case 'pad': {
        if (!Array.isArray(v.paddings)) throw invalidModel(`${at} paddings must be an array of [before, after] pairs, got ${describeValue(v.paddings)}`);
        const rows = v.paddings as unknown[];
        const paddings = Array.from({ length: Math.min(rows.length, MAX_RANK + 1) }, (_, d) => numberArray(rows[d], `${at} paddings[${d}]`, 2, 2) as [number, number]);
        if (rows.length > MAX_RANK) throw invalidModel(`${at} paddings has ${v.paddings.length} entries, more than ${MAX_RANK} dimensions`);
        if (v.value !== undefined && typeof v.value !== 'number') throw invalidModel(`${at} value must be a number, got ${describeValue(v.value)}`);
        return v.value === undefined ? { op: kind, input, output, paddings } : { op: kind, input, output, paddings, value: v.value };
      }
      case 'mean': {
        const axes = numberArray(v.axes, `${at} axes`, 1, MAX_RANK);
        if (typeof v.keepDims !== 'boolean') throw invalidModel(`${at} keepDims must be a boolean, got ${describeValue(v.keepDims)}`);
        return { op: kind, input, output, axes, keepDims: v.keepDims };
      }
      default:
        return { op: kind as 'reshape' | 'quantize' | 'dequantize' | 'logistic', input, output };
    }
  }

  private activation(v: Record<string, unknown>, at: string): Activation {
    const a = v.activation === undefined ? 'none' : v.activation;
    if (typeof a !== 'string') throw invalidModel(`${at} activation must be a string, got ${describeValue(a)}`);
    return a as Activation;
  }
}

/**
 * Checks the structure of a graph (see the file comment) and returns it rebuilt from plain
 * values. Throws INVALID_MODEL naming the first malformed field (UNSUPPORTED_MODEL for an op
 * name or dilation we do not run).
 */
export function validateGraph(graph: unknown): Graph {
  if (!isObject(graph)) throw invalidModel(`the model graph must be an object { ops, input, output }, got ${describeValue(graph)}`);
  const ops = graph.ops;
  if (!Array.isArray(ops)) throw invalidModel(`the model graph's ops must be an array, got ${describeValue(ops)}`);
  const n = ops.length;
  if (n === 0) throw invalidModel('the model has no operators');
  if (n > MAX_OPS) throw invalidModel(`the model has ${n} operators, more than the ${MAX_OPS} allowed`);
  const source = graph.source;
  if (source !== undefined && typeof source !== 'string') throw invalidModel(`the model graph's source must be a string, got ${describeValue(source)}`);
  const v = new GraphValidator();
  const inputs = ioList(v, graph.input, graph.inputs, 'input');
  const out: Op[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = v.op(ops[i], i);
  const outputs = ioList(v, graph.output, graph.outputs, 'output');
  const linked = linkChain(out, inputs, outputs);
  return { ops: linked.ops, input: linked.inputs[0], output: linked.outputs[0], inputs: linked.inputs, outputs: linked.outputs, source: source as Graph['source'] };
}

/**
 * The graph's inputs (or outputs): `inputs` when given, else [input]. A one-element list that
 * disagrees with `input` follows `input` (a graph spread and given a new output, such as a body
 * cut at its pool, means the new one); with several, `input` must be the first.
 */
function ioList(v: GraphValidator, one: unknown, list: unknown, what: 'input' | 'output'): TensorInfo[] {
  if (list === undefined) return [v.tensor(one, `model ${what}`)];
  const all = v.tensorList(list, `model ${what}s`, 1, MAX_OP_INPUTS);
  if (one === undefined) return all;
  const first = v.tensor(one, `model ${what}`);
  if (first === all[0]) return all;
  if (all.length === 1) return [first];
  throw invalidModel(`the model graph's ${what} is not the first of its ${all.length} ${what}s: set both, or only ${what}s`);
}

/**
 * Every op input must be a graph input, a constant or an earlier op's output, and every graph
 * output some op's output (or an input). Graphs built without shared tensor objects or ids
 * (a caller's own objects, a structured clone) are read as a chain, as they always were: an
 * input that nothing produced takes the storage (id) of the previous op's output -- or the
 * graph input, for the first op -- when its element count and dtype agree. INVALID_MODEL
 * otherwise, naming the op and the tensor.
 */
function linkChain(ops: Op[], inputs: TensorInfo[], outputs: TensorInfo[]): { ops: Op[]; inputs: TensorInfo[]; outputs: TensorInfo[] } {
  const produced = new Map<number, TensorInfo>();
  for (const t of inputs) produced.set(t.id!, t);
  const count = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);
  const relink = (t: TensorInfo, prev: TensorInfo | undefined, what: string): TensorInfo => {
    if (t.constant !== undefined || produced.has(t.id!)) return t;
    if (prev && count(prev) === count(t) && prev.dtype === t.dtype) return { ...t, id: prev.id };
    throw invalidModel(`${what} reads ${t.dtype}[${t.shape}] '${t.name}', which is neither a model input nor written by an earlier op`);
  };
  let prev: TensorInfo | undefined = inputs.length === 1 ? inputs[0] : undefined;
  const linked = ops.map((op, i) => {
    let next: Op;
    if ('inputs' in op) {
      const ins = op.inputs.map((t, j) => relink(t, op.inputs.length === 1 ? prev : undefined, `op ${i} (${op.op}) input ${j}`));
      next = { ...op, inputs: ins } as Op;
    } else {
      next = { ...op, input: relink(op.input, prev, `op ${i} (${op.op})`) } as Op;
    }
    const outs = opOutputs(next);
    for (const t of outs) {
      if (t.constant !== undefined) throw invalidModel(`op ${i} (${op.op}) writes '${t.name}', which is a constant`);
      if (produced.has(t.id!)) throw invalidModel(`op ${i} (${op.op}) writes '${t.name}' (tensor ${t.id}), which ${inputs.some((x) => x.id === t.id) ? 'is a model input' : 'an earlier op already wrote'}`);
      produced.set(t.id!, t);
    }
    prev = outs.length === 1 ? outs[0] : undefined;
    return next;
  });
  const outs = outputs.map((t, j) => relink(t, outputs.length === 1 ? prev : undefined, `model output ${j}`));
  return { ops: linked, inputs, outputs: outs };
}
