/**
 * Test plumbing for TFLite_Detection_PostProcess: random ops in the IR with their raw inputs,
 * and a runner that places the inputs, constants and (garbage-filled, guarded) outputs in
 * kernel memory and calls the prepared op with multi-I/O RunPointers.
 */
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../../../src/ops/types.js';
import type { DetectionOptions, DetectionPostprocessOp, TensorInfo } from '../../../src/model/ir.js';
import { detectionOutputShapes } from '../../../src/ops/detection_postprocess/options.js';
import { sizeOf } from '../../../src/model/ir.js';
import { TestHeap } from '../../helpers/kernels.js';
import type { RefInput } from '../../reference/detection.js';

export type Rand = () => number;
export const randInt = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

const GUARD = 0x5a;

export interface DetectionCase {
  op: DetectionPostprocessOp;
  encodings: RefInput;
  scores: RefInput;
  anchors: RefInput;
  anchorCount: number;
  boxStride: number;
  classesWithBackground: number;
}

export interface CaseOptions {
  anchors: number;
  numClasses: number;
  background: boolean;
  boxStride: number;
  quantizedBoxes: boolean;
  quantizedScores: boolean;
  /** distinct score levels: small values make many ties */
  scoreLevels: number;
  options: DetectionOptions;
}

function outputTensors(o: DetectionOptions): DetectionPostprocessOp['outputs'] {
  const [b, c, s, n] = detectionOutputShapes(o);
  const t = (name: string, shape: number[]): TensorInfo => ({ name, shape, dtype: 'float32' });
  return [t('boxes', b), t('classes', c), t('scores', s), t('count', n)];
}

export function randomCase(r: Rand, c: CaseOptions): DetectionCase {
  const A = c.anchors;
  const C = c.numClasses + (c.background ? 1 : 0);
  // box encodings: roughly N(0, 2) in the units of the scales (y/x ~10, h/w ~5)
  let encodings: RefInput;
  const encCount = A * c.boxStride;
  if (c.quantizedBoxes) {
    const data = new Uint8Array(encCount);
    for (let i = 0; i < encCount; i++) data[i] = randInt(r, 0, 255);
    encodings = { data, scale: 0.02 + r() * 0.08, zeroPoint: randInt(r, 100, 200) };
  } else {
    const data = new Float32Array(encCount);
    for (let i = 0; i < encCount; i++) data[i] = (r() * 2 - 1) * 4;
    encodings = { data };
  }
  // anchors: centres in [0, 1], sizes in (0.02, 0.6); some tiny anchors clustered to make overlaps
  const anchorVals = new Float32Array(A * 4);
  for (let a = 0; a < A; a++) {
    const cluster = r() < 0.5;
    anchorVals[a * 4] = cluster ? 0.5 + (r() - 0.5) * 0.05 : r();
    anchorVals[a * 4 + 1] = cluster ? 0.5 + (r() - 0.5) * 0.05 : r();
    anchorVals[a * 4 + 2] = 0.02 + r() * 0.58;
    anchorVals[a * 4 + 3] = 0.02 + r() * 0.58;
  }
  let anchors: RefInput;
  let anchorTensor: TensorInfo;
  if (c.quantizedBoxes) {
    const scale = 1 / 255 + r() * 0.001;
    const zp = randInt(r, 0, 3);
    const data = new Uint8Array(A * 4);
    for (let i = 0; i < data.length; i++) data[i] = Math.max(zp, Math.min(255, Math.round(anchorVals[i] / scale) + zp));
    anchors = { data, scale, zeroPoint: zp };
    anchorTensor = { name: 'anchors', shape: [A, 4], dtype: 'uint8', quant: { scale: [scale], zeroPoint: [zp], axis: 0 }, constant: data };
  } else {
    anchors = { data: anchorVals };
    anchorTensor = { name: 'anchors', shape: [A, 4], dtype: 'float32', constant: anchorVals };
  }
  let scores: RefInput;
  const scoreCount = A * C;
  const level = () => Math.floor(r() * c.scoreLevels) / Math.max(1, c.scoreLevels - 1);
  if (c.quantizedScores) {
    const data = new Uint8Array(scoreCount);
    for (let i = 0; i < scoreCount; i++) data[i] = Math.round(level() * 255);
    scores = { data, scale: 1 / 256, zeroPoint: randInt(r, 0, 2) };
  } else {
    const data = new Float32Array(scoreCount);
    for (let i = 0; i < scoreCount; i++) data[i] = level();
    scores = { data };
  }
  const q = (x: RefInput) => (x.data instanceof Uint8Array ? { dtype: 'uint8' as const, quant: { scale: [x.scale!], zeroPoint: [x.zeroPoint!], axis: 0 } } : { dtype: 'float32' as const });
  const op: DetectionPostprocessOp = {
    op: 'detection_postprocess',
    inputs: [
      { name: 'box_encodings', shape: [1, A, c.boxStride], ...q(encodings) },
      { name: 'class_predictions', shape: [1, A, C], ...q(scores) },
      anchorTensor,
    ],
    outputs: outputTensors(c.options),
    options: c.options,
  };
  return { op, encodings, scores, anchors, anchorCount: A, boxStride: c.boxStride, classesWithBackground: C };
}

/** raw values -> arena bytes (uint8 stored shifted by -128) */
function stored(x: RefInput): Int8Array | Float32Array {
  if (x.data instanceof Float32Array) return x.data;
  const out = new Int8Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) out[i] = x.data[i] - 128;
  return out;
}

export interface RunResult {
  boxes: Float32Array;
  classes: Float32Array;
  scores: Float32Array;
  count: number;
  overrun: boolean;
}

export function runDetection(k: Kernels, prepared: PreparedOp, c: DetectionCase): RunResult {
  const heap = new TestHeap(k);
  const constants = prepared.constants.map((b) => heap.put(b));
  const inputs = [heap.put(stored(c.encodings)), heap.put(stored(c.scores))];
  const sizes = c.op.outputs.map((t) => sizeOf(t.shape) * 4);
  const outputs = sizes.map((bytes) => {
    const ptr = heap.alloc(bytes);
    // garbage in the outputs, so a slot the op forgets to zero shows
    new Uint8Array(k.memory.buffer, ptr, bytes + 64).fill(GUARD);
    return ptr;
  });
  const pointers: RunPointers = { input: inputs[0], output: outputs[0], inputs, outputs, constants, scratch: heap.alloc(prepared.scratchBytes) };
  prepared.run(k.exports, pointers);
  const overrun = outputs.some((ptr, i) => new Uint8Array(k.memory.buffer, ptr + sizes[i], 64).some((b) => b !== GUARD));
  const f = (i: number) => new Float32Array(k.memory.buffer, outputs[i], sizes[i] / 4).slice();
  return { boxes: f(0), classes: f(1), scores: f(2), count: f(3)[0], overrun };
}
