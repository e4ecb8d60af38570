/**
 * The layer schedule: validate an IR graph into a list of kernel calls with their packed
 * constants, and the activation buffer each reads and writes.
 */
import { MobileNetError, unsupportedModel, invalidModel } from '../errors.js';
import { bytesPerElement, sizeOf, type Graph, type Op, type TensorInfo } from '../model/ir.js';
import { prepareOp } from '../ops/index.js';
import type { PreparedOp } from '../ops/types.js';

export interface Step {
  op: Op;
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
}

export const tensorBytes = (t: TensorInfo) => sizeOf(t.shape) * bytesPerElement(t.dtype);

export function planGraph(graph: Graph): Plan {
  if (graph.ops.length === 0) throw invalidModel('the model has no operators');
  const steps: Step[] = [];
  let cur: 0 | 1 = 0;
  let maxActivationBytes = tensorBytes(graph.input);
  let scratchBytes = 0;
  let macs = 0;
  let prev = graph.input;
  graph.ops.forEach((op, i) => {
    if (sizeOf(op.input.shape) !== sizeOf(prev.shape) || op.input.dtype !== prev.dtype) {
      throw invalidModel(`op ${i} (${op.op}) reads a ${fmt(op.input)} tensor but the previous one is ${fmt(prev)}`);
    }
    maxActivationBytes = Math.max(maxActivationBytes, tensorBytes(op.output));
    if (op.op === 'reshape') {
      if (sizeOf(op.input.shape) !== sizeOf(op.output.shape) || op.input.dtype !== op.output.dtype) {
        throw invalidModel(`op ${i} reshapes ${fmt(op.input)} into ${fmt(op.output)}: element counts or dtypes differ`);
      }
      steps.push({ op, prepared: null, from: cur, to: cur });
    } else {
      let prepared: PreparedOp;
      try {
        prepared = prepareOp(op);
      } catch (e) {
        if (e instanceof MobileNetError) {
          e.message = `op ${i} (${op.op}): ${e.message}`;
          throw e;
        }
        throw unsupportedModel(`op ${i} (${op.op}): ${(e as Error).message}`);
      }
      const to: 0 | 1 = cur === 0 ? 1 : 0;
      steps.push({ op, prepared, from: cur, to });
      scratchBytes = Math.max(scratchBytes, prepared.scratchBytes);
      macs += prepared.macs;
      cur = to;
    }
    prev = op.output;
  });
  if (sizeOf(prev.shape) !== sizeOf(graph.output.shape) || prev.dtype !== graph.output.dtype) {
    throw invalidModel(`the last op writes ${fmt(prev)} but the model output is ${fmt(graph.output)}`);
  }
  return { steps, maxActivationBytes, scratchBytes, macs, outputBuffer: cur };
}

const fmt = (t: TensorInfo) => `${t.dtype}[${t.shape.join(',')}]`;
