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
import { preparePad } from './pad/index.js';
import { prepareMean } from './mean/index.js';
import { prepareConcatenation } from './concatenation/index.js';
import { prepareBinary } from './add/index.js';
import { prepareLogistic } from './logistic/index.js';
import { prepareDetectionPostprocess } from './detection_postprocess/index.js';

type Preparer<K extends OpName> = (op: Extract<Op, { op: K }>) => PreparedOp;

const PREPARERS: { [K in OpName]: Preparer<K> } = {
  conv2d: prepareConv2d,
  depthwise_conv2d: prepareDepthwiseConv2d,
  fully_connected: prepareFullyConnected,
  average_pool2d: prepareAveragePool2d,
  softmax: prepareSoftmax,
  reshape: prepareReshape,
  quantize: prepareQuantize,
  dequantize: prepareDequantize,
  pad: preparePad,
  mean: prepareMean,
  concatenation: prepareConcatenation,
  add: prepareBinary,
  mul: prepareBinary,
  logistic: prepareLogistic,
  detection_postprocess: prepareDetectionPostprocess,
};

export function prepareOp(op: Op): PreparedOp {
  const prepare = (PREPARERS as Record<string, Preparer<OpName> | undefined>)[op.op];
  if (!prepare) throw unsupportedModel(`op '${op.op}' has no kernel`);
  return prepare(op as never);
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
