/**
 * The layer schedule: validate an IR graph into a list of kernel calls with their packed
 * constants, and give every activation tensor a place in the activation arena by its lifetime
 * (the step that writes it to the last step that reads it), so tensors that are read later
 * (v2's residuals, SSD's box and class heads) survive while others reuse their bytes.
 */
import { MobileNetError, invalidModel, unsupportedModel } from '../errors.js';
import { bytesPerElement, opInputs, opOutputs, sizeOf, type Graph, type Op, type TensorInfo } from '../model/ir.js';
import { prepareOp, prepareFusedPair } from '../ops/index.js';
import { ACTIVATION_SLACK, type PreparedOp } from '../ops/types.js';
import { validateGraph } from '../model/validate.js';
import { checkFloatNumerics } from './numerics.js';

export interface Step {
  /** the op whose output this step writes (for a fused pair, the second) */
  op: Op;
  /** the IR ops this step runs (two for a fused depthwise + pointwise pair) */
  ops: Op[];
  prepared: PreparedOp | null; // null: a reshape, which moves no data
  /** ids of the activation tensors the step reads (constants excluded), in op order */
  inputs: number[];
  /** ids of the tensors the step writes */
  outputs: number[];
}

export interface Plan {
  steps: Step[];
  /** byte offset of every activation tensor (by id) inside the activation region */
  offsets: Map<number, number>;
  /** bytes of the activation region (every tensor's place, with SIMD over-read slack) */
  activationBytes: number;
  /** the largest single activation tensor */
  maxActivationBytes: number;
  scratchBytes: number;
  macs: number;
  /** the graph as validated and planned (plain values; see src/model/validate.ts) */
  graph: Graph & { inputs: TensorInfo[]; outputs: TensorInfo[] };
}

export const tensorBytes = (t: TensorInfo) => sizeOf(t.shape) * bytesPerElement(t.dtype);

const align16 = (n: number) => (n + 15) & ~15;

/**
 * Validates `graph` (structure and quantization parameters: src/model/validate.ts; float
 * weights finite and unable to overflow: ./numerics.ts) and schedules it. Every model source
 * goes through here, so every format gets the same checks.
 */
export function planGraph(input: Graph): Plan {
  const graph = validateGraph(input) as Plan['graph'];
  checkFloatNumerics(graph);
  const ops = graph.ops;
  // how many ops read each tensor, and which tensors must outlive the run
  const readers = new Map<number, number>();
  for (const op of ops) for (const t of opInputs(op)) if (t.constant === undefined) readers.set(t.id!, (readers.get(t.id!) ?? 0) + 1);
  const graphOutputs = new Set(graph.outputs.map((t) => t.id!));

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
  const activationIds = (op: Op) => opInputs(op).filter((t) => t.constant === undefined).map((t) => t.id!);

  const steps: Step[] = [];
  let scratchBytes = 0;
  let macs = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op.op === 'reshape') {
      if (sizeOf(op.input.shape) !== sizeOf(op.output.shape) || op.input.dtype !== op.output.dtype) {
        throw invalidModel(`op ${i} reshapes ${fmt(op.input)} into ${fmt(op.output)}: element counts or dtypes differ`);
      }
      steps.push({ op, ops: [op], prepared: null, inputs: [op.input.id!], outputs: [op.output.id!] });
      continue;
    }
    // a depthwise conv whose only reader is the next op may run fused with it (its output never stored)
    const next = ops[i + 1];
    const single = 'output' in op && readers.get(op.output.id!) === 1 && !graphOutputs.has(op.output.id!);
    const chained = next !== undefined && 'input' in next && 'output' in op && next.input.id === op.output.id;
    const fused = single && chained ? prep(i, op, () => prepareFusedPair(op, next)) : null;
    const stepOps = fused ? [op, next] : [op];
    const prepared = fused ?? prep(i, op, () => prepareOp(op))!;
    const last = stepOps[stepOps.length - 1];
    steps.push({ op: last, ops: stepOps, prepared, inputs: activationIds(op), outputs: opOutputs(last).map((t) => t.id!) });
    scratchBytes = Math.max(scratchBytes, prepared.scratchBytes);
    macs += prepared.macs;
    if (fused) i++;
  }
  const { offsets, activationBytes, maxActivationBytes } = placeTensors(graph, steps);
  return { steps, offsets, activationBytes, maxActivationBytes, scratchBytes, macs, graph };
}

interface Storage {
  bytes: number;
  first: number;
  last: number;
  offset: number;
  ids: number[];
}

/**
 * Lifetimes and places. A reshape's output shares its input's bytes (one storage); a storage
 * lives from the step that writes it (-1 for graph inputs) to the last step that reads it (past
 * the end for graph outputs). Places: largest first, each at the lowest offset free of every
 * placed storage whose lifetime overlaps (TFLite's greedy-by-size arena). For a chain such as
 * MobileNet v1 that is at most two neighbouring tensors, as the ping-pong buffers were.
 */
function placeTensors(graph: Plan['graph'], steps: Step[]): { offsets: Map<number, number>; activationBytes: number; maxActivationBytes: number } {
  const root = new Map<number, number>();
  const find = (id: number): number => {
    let r = id;
    while (root.has(r) && root.get(r) !== r) r = root.get(r)!;
    return r;
  };
  const info = new Map<number, TensorInfo>();
  for (const t of graph.inputs) info.set(t.id!, t);
  for (const s of steps) for (const op of s.ops) for (const t of [...opInputs(op), ...opOutputs(op)]) if (t.constant === undefined && !info.has(t.id!)) info.set(t.id!, t);
  for (const s of steps) if (!s.prepared && s.op.op === 'reshape') root.set(s.outputs[0], find(s.inputs[0]));

  const storages = new Map<number, Storage>();
  const touch = (id: number, at: number, bytes: number) => {
    const r = find(id);
    let st = storages.get(r);
    if (!st) storages.set(r, (st = { bytes, first: at, last: at, offset: 0, ids: [] }));
    st.bytes = Math.max(st.bytes, bytes);
    st.first = Math.min(st.first, at);
    st.last = Math.max(st.last, at);
    if (!st.ids.includes(id)) st.ids.push(id);
  };
  let maxActivationBytes = 0;
  const bytesOf = (id: number) => {
    const b = tensorBytes(info.get(id)!);
    maxActivationBytes = Math.max(maxActivationBytes, b);
    return b;
  };
  for (const t of graph.inputs) touch(t.id!, -1, bytesOf(t.id!));
  steps.forEach((s, i) => {
    for (const id of s.inputs) touch(id, i, bytesOf(id));
    for (const id of s.outputs) touch(id, i, bytesOf(id));
  });
  for (const t of graph.outputs) touch(t.id!, steps.length, bytesOf(t.id!));

  const placed: Storage[] = [];
  let activationBytes = 0;
  const order = [...storages.values()].sort((a, b) => b.bytes - a.bytes || a.first - b.first);
  for (const st of order) {
    const size = align16(st.bytes + ACTIVATION_SLACK);
    const busy = placed.filter((p) => p.first <= st.last && st.first <= p.last).sort((a, b) => a.offset - b.offset);
    let at = 0;
    for (const p of busy) {
      if (at + size <= p.offset) break;
      at = Math.max(at, p.offset + align16(p.bytes + ACTIVATION_SLACK));
    }
    st.offset = at;
    placed.push(st);
    activationBytes = Math.max(activationBytes, at + size);
  }
  const offsets = new Map<number, number>();
  for (const st of storages.values()) for (const id of st.ids) offsets.set(id, st.offset);
  for (const [id] of info) if (!offsets.has(id)) offsets.set(id, storages.get(find(id))?.offset ?? 0);
  return { offsets, activationBytes, maxActivationBytes };
}

const fmt = (t: TensorInfo) => `${t.dtype}[${t.shape.join(',')}]`;
