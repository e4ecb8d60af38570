/**
 * The op registry: one prepare per op (src/ops/<op>/), each taking every dtype it supports and
 * applying one validation and error-code policy (src/ops/q8-common.ts): a model that contradicts
 * itself is INVALID_MODEL, a valid model using something we do not run is UNSUPPORTED_MODEL.
 */
import type { Op, OpName } from '../model/ir.js';
import { unsupportedModel } from '../errors.js';
import type { PreparedOp } from './types.js';
import { prepareConv2d } from './conv2d/index.js';
import { prepareDepthwiseConv2d, depthMultiplier } from './depthwise_conv2d/index.js';
import { prepareFullyConnected } from './fully_connected/index.js';
import { prepareAveragePool2d } from './average_pool2d/index.js';
import { prepareSoftmax } from './softmax/index.js';
import { prepareReshape } from './reshape/index.js';
import { prepareQuantize, prepareDequantize } from './quantize/index.js';
import { prepareFusedF32 } from './fused/f32.js';
import { prepareFusedQ8 } from './fused/q8.js';

type Preparer<K extends OpName> = (op: Extract<Op, { op: K }>) => PreparedOp;

/** the ops of MobileNet v1 (every classifier file): imported with the core */
const CORE_PREPARERS = {
  conv2d: prepareConv2d,
  depthwise_conv2d: prepareDepthwiseConv2d,
  fully_connected: prepareFullyConnected,
  average_pool2d: prepareAveragePool2d,
  softmax: prepareSoftmax,
  reshape: prepareReshape,
  quantize: prepareQuantize,
  dequantize: prepareDequantize,
} satisfies { [K in OpName]?: Preparer<K> };

type LazyOpName = Exclude<OpName, keyof typeof CORE_PREPARERS>;

/**
 * The other ops (v2's ADD, SSD's concatenation and post-processing, ...) are dynamic imports,
 * fetched only by a model that has them: a v1 page's bundle leaves them out (~27 KB minified,
 * bench/size.mjs). `loadOpPreparers` must have run for a model before `prepareOp` / planGraph.
 */
const LAZY_PREPARERS: { [K in LazyOpName]: () => Promise<Preparer<K>> } = {
  pad: async () => (await import('./pad/index.js')).preparePad,
  mean: async () => (await import('./mean/index.js')).prepareMean,
  concatenation: async () => (await import('./concatenation/index.js')).prepareConcatenation,
  add: async () => (await import('./add/index.js')).prepareBinary,
  mul: async () => (await import('./add/index.js')).prepareBinary,
  logistic: async () => (await import('./logistic/index.js')).prepareLogistic,
  detection_postprocess: async () => (await import('./detection_postprocess/index.js')).prepareDetectionPostprocess,
};

const loaded: Partial<Record<OpName, Preparer<OpName>>> = { ...CORE_PREPARERS } as Partial<Record<OpName, Preparer<OpName>>>;

/** Imports the prepare of every op in `ops` (or of every op there is) not imported yet. */
export async function loadOpPreparers(ops?: readonly Pick<Op, 'op'>[]): Promise<void> {
  // ops may come from a caller's hand-built graph: anything odd is left for validation to name
  const names = new Set<unknown>(ops === undefined ? Object.keys(LAZY_PREPARERS) : Array.isArray(ops) ? ops.map((o) => (o as Partial<Op> | null)?.op) : []);
  await Promise.all([...names].map(async (name) => {
    if (typeof name !== 'string' || !Object.hasOwn(LAZY_PREPARERS, name)) return;
    const lazy = (LAZY_PREPARERS as Record<string, () => Promise<Preparer<OpName>>>)[name];
    if (!loaded[name as OpName]) loaded[name as OpName] = await lazy();
  }));
}

export function prepareOp(op: Op): PreparedOp {
  const prepare = Object.hasOwn(loaded, op.op) ? loaded[op.op] : undefined;
  if (prepare) return prepare(op as never);
  if (Object.hasOwn(LAZY_PREPARERS, op.op)) throw new Error(`internal: the prepare of '${op.op}' is not imported (await loadOpPreparers(graph.ops) before planning)`);
  throw unsupportedModel(`op '${op.op}' has no kernel`);
}

/** float ops only (the fused float pair validates each half with the single-op prepare) */
export function prepareFloatOp(op: Op): PreparedOp {
  if (!('input' in op) || op.input.dtype !== 'float32') throw unsupportedModel(`${op.op} is not a float32 op`);
  return prepareOp(op);
}

/**
 * A depthwise conv followed by a pointwise (1x1) conv can run as one step whose depthwise
 * output never leaves cache. Returns null when no fused kernel applies; the schedule then
 * runs the two ops separately.
 */
export function prepareFusedPair(first: Op, second: Op): PreparedOp | null {
  if (first.op !== 'depthwise_conv2d' || second.op !== 'conv2d') return null;
  if (depthMultiplier(first) !== 1) return null;
  if (first.input.dtype === 'float32') return prepareFusedF32(first, second);
  return prepareFusedQ8(first, second);
}
