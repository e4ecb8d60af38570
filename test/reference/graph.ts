/**
 * A whole graph through the plain-loop references, op by op in the file's order, tensors held
 * by id as raw values (uint8 0..255, int8, float32): the independent TFLite-reference
 * implementation the runtime's outputs are compared with, for any model the IR can express
 * (v1 chains, v2 residuals, SSD heads and its post-processing).
 */
import { opInputs, opOutputs, sizeOf, type Graph, type Op, type TensorInfo } from '../../src/model/ir.js';
import { refQ8 } from './q8.js';
import { refF32 } from './f32.js';
import { refBinary, refLogistic } from './elementwise.js';
import { refConcatenation, refMeanFloat, refMeanQuant, refPad } from './shape-ops.js';
import { referenceDetection } from './detection.js';

export type RawTensor = Float32Array | Uint8Array | Int8Array;

const typed = (t: TensorInfo, values: ArrayLike<number>): RawTensor =>
  t.dtype === 'float32' ? Float32Array.from(values) : t.dtype === 'uint8' ? Uint8Array.from(values) : Int8Array.from(values);
const q = (t: TensorInfo) => ({ scale: t.quant!.scale[0], zeroPoint: t.quant!.zeroPoint[0] });

function refOp(op: Op, ins: RawTensor[]): RawTensor[] {
  switch (op.op) {
    case 'add':
    case 'mul': {
      const [a, b] = op.inputs;
      const it = ins[Symbol.iterator]();
      const x = a.constant ? undefined : it.next().value;
      const y = b.constant ? undefined : it.next().value;
      return [typed(op.output, refBinary(op, x, y))];
    }
    case 'logistic':
      return [typed(op.output, refLogistic(op, ins[0]))];
    case 'pad': {
      const fill = op.value ?? (op.input.dtype === 'float32' ? 0 : op.output.quant!.zeroPoint[0]);
      return [typed(op.output, refPad(ins[0], op.input.shape, op.paddings, fill))];
    }
    case 'mean': {
      const v = op.input.dtype === 'float32' ? refMeanFloat(ins[0], op.input.shape) : refMeanQuant(ins[0], op.input.shape, op.input.dtype, q(op.input), q(op.output));
      return [typed(op.output, v)];
    }
    case 'concatenation': {
      const quant = op.output.dtype === 'float32' ? undefined : { inputs: op.inputs.map(q), output: q(op.output) };
      return [typed(op.output, refConcatenation(ins, op.inputs.map((t) => t.shape), op.axis, op.output.shape, quant))];
    }
    case 'detection_postprocess': {
      const [boxes, scores, anchors] = op.inputs;
      const input = (t: TensorInfo, data: RawTensor) => (t.dtype === 'float32' ? { data: data as Float32Array } : { data: data as Uint8Array, ...q(t) });
      const res = referenceDetection(
        input(boxes, ins[0]),
        input(scores, ins[1]),
        input(anchors, anchors.constant as RawTensor),
        boxes.shape[1],
        boxes.shape[2],
        scores.shape[2],
        op.options,
      );
      return [res.boxes, res.classes, res.scores, Float32Array.of(res.count)];
    }
    default:
      return [op.input.dtype === 'float32' && op.op !== 'quantize' ? refF32(op, ins[0] as Float32Array) : (refQ8(op, ins[0]) as RawTensor)];
  }
}

/** every graph output for the given graph inputs (raw values, in the graph's order) */
export function runReferenceGraph(graph: Graph, inputs: RawTensor[]): RawTensor[] {
  const values = new Map<number, RawTensor>();
  const gi = graph.inputs ?? [graph.input];
  gi.forEach((t, i) => values.set(t.id!, inputs[i]));
  for (const op of graph.ops) {
    const ins = opInputs(op).filter((t) => t.constant === undefined).map((t) => {
      const v = values.get(t.id!);
      if (!v) throw new Error(`reference: ${op.op} reads tensor ${t.id} before it is written`);
      if (v.length !== sizeOf(t.shape)) throw new Error(`reference: tensor ${t.id} has ${v.length} values, ${op.op} expects [${t.shape}]`);
      return v;
    });
    const outs = refOp(op, ins);
    opOutputs(op).forEach((t, i) => values.set(t.id!, outs[i]));
  }
  return (graph.outputs ?? [graph.output]).map((t) => values.get(t.id!)!);
}
