/**
 * The layer schedule: validate an IR graph into a list of kernel calls with their packed
 * constants, and the activation buffer each reads and writes.
 */
import { MobileNetError, unsupportedModel, invalidModel } from '../errors.js';
import { bytesPerElement, sizeOf, type Graph, type Op, type TensorInfo } from '../model/ir.js';
import { prepareOp, prepareFusedPair } from '../ops/index.js';
import type { PreparedOp } from '../ops/types.js';
import { validateGraph } from '../model/validate.js';
import { checkFloatNumerics } from './numerics.js';

export interface Step {
  /** the op whose output this step writes (for a fused pair, the second) */
  op: Op;
  /** the IR ops this step runs (two for a fused depthwise + pointwise pair) */
  ops: Op[];
  prepared: PreparedOp | null; // null: a reshape, which moves no data
  /** index into the two ping-pong buffers */
  from: 0 | 1;
  to: 0 | 1;
}

export interface Plan {
  steps: Step[];
  maxActivationBytes: number;
  scratchBytes: number;
  macs: number;
  /** buffer holding the final output */
  outputBuffer: 0 | 1;
  /** the graph as validated and planned (plain values; see src/model/validate.ts) */
  graph: Graph;
}

export const tensorBytes = (t: TensorInfo) => sizeOf(t.shape) * bytesPerElement(t.dtype);

/**
 * Validates `graph` (structure and quantization parameters: src/model/validate.ts; float
 * weights finite and unable to overflow: ./numerics.ts) and schedules it. Every model source
 * goes through here, so every format gets the same checks.
 */
export function planGraph(input: Graph): Plan {
  const graph = validateGraph(input);
  checkFloatNumerics(graph);
  const steps: Step[] = [];
  let cur: 0 | 1 = 0;
  let maxActivationBytes = tensorBytes(graph.input);
  let scratchBytes = 0;
  let macs = 0;
  let prev = graph.input;
  const prep = (i: number, op: Op, f: () => PreparedOp | null): PreparedOp | null => {
    try {
      return f();
    } catch (e) {
      if (e instanceof MobileNetError) {
        e.message = `op ${i} (${op.op}): ${e.message}`;
        throw e;
      }
      throw unsupportedModel(`op ${i} (${op.op}): ${(e as Error).message}`);
    }
  };
  for (let i = 0; i < graph.ops.length; i++) {
    const op = graph.ops[i];
    if (sizeOf(op.input.shape) !== sizeOf(prev.shape) || op.input.dtype !== prev.dtype) {
      throw invalidModel(`op ${i} (${op.op}) reads a ${fmt(op.input)} tensor but the previous one is ${fmt(prev)}`);
    }
    maxActivationBytes = Math.max(maxActivationBytes, tensorBytes(op.output));
    if (op.op === 'reshape') {
      if (sizeOf(op.input.shape) !== sizeOf(op.output.shape) || op.input.dtype !== op.output.dtype) {
        throw invalidModel(`op ${i} reshapes ${fmt(op.input)} into ${fmt(op.output)}: element counts or dtypes differ`);
      }
      steps.push({ op, ops: [op], prepared: null, from: cur, to: cur });
    } else {
      const next = graph.ops[i + 1];
      const fused = next ? prep(i, op, () => prepareFusedPair(op, next)) : null;
      const ops = fused ? [op, next] : [op];
      const prepared = fused ?? prep(i, op, () => prepareOp(op))!;
      const last = ops[ops.length - 1];
      const to: 0 | 1 = cur === 0 ? 1 : 0;
      steps.push({ op: last, ops, prepared, from: cur, to });
      scratchBytes = Math.max(scratchBytes, prepared.scratchBytes);
      macs += prepared.macs;
      cur = to;
      if (fused) {
        maxActivationBytes = Math.max(maxActivationBytes, tensorBytes(next.output));
        i++;
      }
    }
    prev = graph.ops[i].output;
  }
  if (sizeOf(prev.shape) !== sizeOf(graph.output.shape) || prev.dtype !== graph.output.dtype) {
    throw invalidModel(`the last op writes ${fmt(prev)} but the model output is ${fmt(graph.output)}`);
  }
  return { steps, maxActivationBytes, scratchBytes, macs, outputBuffer: cur, graph };
}

const fmt = (t: TensorInfo) => `${t.dtype}[${t.shape.join(',')}]`;
