/**
 * A trained head as a .tflite: FULLY_CONNECTED + SOFTMAX on the float32 embedding [1, D], the
 * class names packed the way TFLite metadata packs them (a TFLITE_METADATA ModelMetadata naming
 * labels.txt as output 0's TENSOR_AXIS_LABELS file, labels.txt in a zip after the flatbuffer),
 * so TFLite's own tools show them and TFLite itself ignores them. And the same head on a body:
 * the body's ops up to its global average pool, DEQUANTIZE for an integer body, RESHAPE to
 * [1, D], then the head. Core-safe: no Node built-ins.
 */
import { invalidInput, invalidModel, unsupportedModel } from '../errors.js';
import type { Graph, Op, TensorInfo } from '../model/ir.js';
import { readTflite } from '../formats/tflite.js';
import { encodeTflite, graphToTfliteSpec } from '../formats/tflite-writer.js';
import { buildFlatBuffer, fb } from '../formats/flatbuffer.js';
import { AssociatedFileType, METADATA_FILE_IDENTIFIER, MF, ProcessUnitOptionsType, TFLITE_METADATA_NAME, readTfliteMetadata, type Normalization } from '../formats/tflite-metadata.js';
import { parseLabels } from '../labels.js';
import { storedZip, zipEntry } from './zip.js';

export const LABEL_FILE = 'labels.txt';

export interface HeadWeights {
  labels: readonly string[];
  /** [classes, dim] row-major */
  weights: Float32Array;
  bias: Float32Array;
}

const f32 = (name: string, shape: number[]): TensorInfo => ({ name, shape, dtype: 'float32' });

/** the FC + SOFTMAX ops reading `input` ([1, D] float32) */
function headOps(head: HeadWeights, input: TensorInfo): Op[] {
  const classes = head.labels.length;
  const dim = head.weights.length / classes;
  const logits = f32('head/logits', [1, classes]);
  const probabilities = f32('head/probabilities', [1, classes]);
  return [
    { op: 'fully_connected', input, output: logits, filter: { data: head.weights, shape: [classes, dim], dtype: 'float32' }, bias: head.bias, activation: 'none' },
    { op: 'softmax', input: logits, output: probabilities, beta: 1 },
  ];
}

/** The head alone as .tflite bytes: input float32 [1, D] (an embedding), output [1, classes]. */
export function headToTflite(head: HeadWeights): Uint8Array {
  const dim = head.weights.length / head.labels.length;
  const input = f32('embedding', [1, dim]);
  const ops = headOps(head, input);
  return withLabels({ ops, input, output: outputOf(ops), source: 'tflite' } as Graph, head.labels, `classifier head on ${dim}-float embeddings (mobilenet-wasm/transfer)`);
}

/**
 * `body` (.tflite bytes or a graph) cut after its global average pool, with `head` on top.
 * The body must be a chain of the ops the writer writes (MobileNet v1: yes; v2's residual
 * ADDs: no, UNSUPPORTED_MODEL).
 */
export function combineHead(body: Uint8Array | Graph, head: HeadWeights): Uint8Array {
  const graph = body instanceof Uint8Array ? readTflite(body) : body;
  // a float body's input normalization lives in its metadata, which the new file replaces
  const normalization = body instanceof Uint8Array ? readTfliteMetadata(body)?.inputs[0]?.normalization : undefined;
  const ops = graph.ops;
  let pool = -1;
  ops.forEach((op, i) => {
    if (op.op === 'average_pool2d' && op.output.shape.length === 4 && op.output.shape[1] === 1 && op.output.shape[2] === 1) pool = i;
  });
  if (pool < 0) throw unsupportedModel('combineWithBody: the body has no global AVERAGE_POOL_2D (a MobileNet v1 body ends its features there)');
  const pooled = (ops[pool] as { output: TensorInfo }).output;
  const dim = pooled.shape[3];
  const headDim = head.weights.length / head.labels.length;
  if (dim !== headDim) throw invalidInput(`combineWithBody: the body's embedding has ${dim} floats but the head was trained on ${headDim}`);
  const kept = ops.slice(0, pool + 1);
  const branch = kept.findIndex((op) => !('input' in op));
  if (branch >= 0) {
    throw unsupportedModel(`combineWithBody: the body's op ${branch} (${kept[branch].op.toUpperCase()}) joins several tensors; the writer writes chains (MobileNet v1), not v2's residual blocks`);
  }
  let features = pooled;
  if (pooled.dtype !== 'float32') {
    // embed() dequantizes the pooled features; DEQUANTIZE computes the same (q - zp) * scale
    const real = f32('head/embedding_float', pooled.shape.slice());
    kept.push({ op: 'dequantize', input: pooled, output: real });
    features = real;
  }
  const flat = f32('head/embedding', [1, dim]);
  kept.push({ op: 'reshape', input: features, output: flat });
  kept.push(...headOps(head, flat));
  const first = kept[0] as { input: TensorInfo };
  const combined = { ...graph, ops: kept, input: first.input, inputs: undefined, output: outputOf(kept), outputs: undefined } as Graph;
  return withLabels(combined, head.labels, 'MobileNet body with a classifier head trained by mobilenet-wasm/transfer', normalization);
}

/** the last op's output (the chains built here end in SOFTMAX) */
const outputOf = (ops: Op[]): TensorInfo => (ops[ops.length - 1] as { output: TensorInfo }).output;

/** write `graph` with the labels (and the input's normalization, when given) packed as TFLite metadata */
export function withLabels(graph: Graph, labels: readonly string[], description: string, normalization?: Normalization): Uint8Array {
  const spec = graphToTfliteSpec(graph);
  spec.description = description;
  const labelFile = fb.table({
    [MF.AssociatedFile.name]: fb.string(LABEL_FILE),
    [MF.AssociatedFile.description]: fb.string('class names, one per line, in output order'),
    [MF.AssociatedFile.type]: fb.scalar('i8', AssociatedFileType.TENSOR_AXIS_LABELS),
  });
  const metadata = fb.table({
    [MF.ModelMetadata.name]: fb.string('classifier head'),
    [MF.ModelMetadata.description]: fb.string(description),
    [MF.ModelMetadata.subgraph_metadata]: fb.tables([
      fb.table({
        [MF.SubGraphMetadata.input_tensor_metadata]: fb.tables([
          fb.table({
            [MF.TensorMetadata.name]: fb.string(graph.input.name),
            [MF.TensorMetadata.process_units]: normalization && fb.tables([normalizationUnit(normalization)]),
          }),
        ]),
        [MF.SubGraphMetadata.output_tensor_metadata]: fb.tables([
          fb.table({ [MF.TensorMetadata.name]: fb.string('probability'), [MF.TensorMetadata.associated_files]: fb.tables([labelFile]) }),
        ]),
      }),
    ]),
    [MF.ModelMetadata.min_parser_version]: fb.string('1.0.0'),
  });
  const buffer = spec.buffers.push(buildFlatBuffer(metadata, METADATA_FILE_IDENTIFIER)) - 1;
  spec.metadata = [{ name: TFLITE_METADATA_NAME, buffer }];
  const model = encodeTflite(spec);
  const zip = storedZip([{ name: LABEL_FILE, data: new TextEncoder().encode(labels.join('\n') + '\n') }]);
  const out = new Uint8Array(model.length + zip.length);
  out.set(model);
  out.set(zip, model.length);
  return out;
}

function normalizationUnit(n: Normalization) {
  return fb.table({
    [MF.ProcessUnit.options_type]: fb.scalar('u8', ProcessUnitOptionsType.NormalizationOptions),
    [MF.ProcessUnit.options]: fb.table({ [MF.NormalizationOptions.mean]: fb.vector('f32', n.mean), [MF.NormalizationOptions.std]: fb.vector('f32', n.std) }),
  });
}

/**
 * The class names packed in a .tflite (its metadata's label file, stored in the zip after the
 * flatbuffer), or undefined when it has none we can unpack.
 */
export function packedLabels(bytes: Uint8Array): string[] | undefined {
  const name = readTfliteMetadata(bytes)?.labelFile;
  if (!name) return undefined;
  const entry = zipEntry(bytes, name);
  return entry && parseLabels(new TextDecoder().decode(entry.data));
}

/**
 * The weights of a head written by headToTflite (or any .tflite that is FULLY_CONNECTED +
 * SOFTMAX on a float32 [1, D] input, optionally after a RESHAPE), and its packed labels.
 */
export function readHead(bytes: Uint8Array): { weights: Float32Array; bias: Float32Array; dim: number; classes: number; labels?: string[] } {
  const graph = readTflite(bytes);
  const ops = graph.ops.filter((op) => op.op !== 'reshape');
  const fc = ops[0];
  if (ops.length !== 2 || fc.op !== 'fully_connected' || ops[1].op !== 'softmax') {
    const names = graph.ops.map((o) => o.op.toUpperCase());
    const shown = names.length > 4 ? `${names.slice(0, 3).join(' -> ')} ... (${names.length} ops)` : names.join(' -> ');
    throw unsupportedModel(`a classifier head is FULLY_CONNECTED then SOFTMAX on an embedding; this model is ${shown}`);
  }
  if (fc.input.dtype !== 'float32' || fc.filter.dtype !== 'float32') throw unsupportedModel(`a classifier head is float32; this one's fully-connected layer is ${fc.filter.dtype}`);
  if (fc.activation !== 'none') throw unsupportedModel(`a classifier head's fully-connected layer has no activation; this one has ${fc.activation}`);
  const [classes, dim] = fc.filter.shape;
  const beta = (ops[1] as { beta: number }).beta;
  // softmax(beta * z) = softmax of the weights scaled by beta
  const weights = Float32Array.from(fc.filter.data as Float32Array, (v) => v * beta);
  const bias = Float32Array.from(fc.bias as Float32Array, (v) => v * beta);
  if (bias.length !== classes) throw invalidModel(`the head's bias has ${bias.length} values for ${classes} classes`);
  const labels = packedLabels(bytes);
  return { weights, bias, dim, classes, ...(labels ? { labels } : {}) };
}
