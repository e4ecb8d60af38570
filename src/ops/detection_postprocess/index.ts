/**
 * TFLite_Detection_PostProcess (tensorflow/lite/kernels/detection_postprocess.cc), in plain JS
 * over kernel memory: it is a few thousand anchors of sorting and box overlap, not per-pixel
 * work. Semantics follow TFLite exactly:
 * - box decoding (DecodeCenterSizeBoxes) in double, each result rounded to float32;
 * - quantized inputs dequantized as (q - zero point) * scale in float32;
 * - fast NMS (use_regular_nms false): per anchor the best class score, one class-agnostic NMS,
 *   then the top max_classes_per_detection classes of each kept anchor;
 * - regular NMS: NMS per class (detections_per_class each), merged into the best max_detections;
 * - NMS keeps scores >= nms_score_threshold, visits them by a stable descending sort, drops a
 *   later box whose float32 IoU with a kept one is > nms_iou_threshold;
 * - every output slot TFLite does not write is zero (TFLite leaves the fast path's unused
 *   slots as they were; zeros make the output deterministic).
 * Ties: the NMS visit order is TFLite's std::stable_sort (ties by anchor index), a single best
 * class is TFLite's ArgMaxVector (first maximum), and the top classes of an anchor
 * (max_classes_per_detection > 1) and the regular NMS merge go through std::partial_sort, whose
 * tie order C++ leaves to the library: we reproduce libstdc++'s (GCC's heap-select + sort-heap,
 * as in the Linux TensorFlow Lite builds); libc++ builds (Android, macOS) may order ties otherwise.
 */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { sizeOf, type DetectionOptions, type DetectionPostprocessOp, type TensorInfo } from '../../model/ir.js';
import { checkQuantScale } from '../../model/validate.js';
import type { KernelExports } from '../../runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { detectionOutputShapes } from './options.js';

export { detectionOptions, detectionOutputShapes } from './options.js';

const COORDS = 4;
/** stored uint8 bytes are the raw value - 128 (src/ops/types.ts) */
const UINT8_STORAGE_SHIFT = 128;

/** How an input is read: float32 as is, or uint8 (stored shifted) dequantized in float32. */
interface InputEncoding {
  quantized: boolean;
  /** raw zero point (0..255) */
  zeroPoint: number;
  /** float32 scale */
  scale: number;
}

function inputEncoding(t: TensorInfo, what: string): InputEncoding {
  if (t.dtype === 'float32') return { quantized: false, zeroPoint: 0, scale: 1 };
  if (t.dtype !== 'uint8') throw unsupportedModel(`TFLite_Detection_PostProcess ${what} tensor '${t.name}' is ${t.dtype}; TFLite runs it on float32 or uint8 only`);
  const q = t.quant;
  if (!q || q.scale.length !== 1 || q.zeroPoint.length !== 1) {
    throw invalidModel(`TFLite_Detection_PostProcess ${what} tensor '${t.name}' (uint8) needs one per-tensor scale and zero point`);
  }
  checkQuantScale(q.scale[0], `TFLite_Detection_PostProcess ${what} tensor '${t.name}'`);
  const zp = q.zeroPoint[0];
  if (!Number.isInteger(zp) || zp < 0 || zp > 255) throw invalidModel(`TFLite_Detection_PostProcess ${what} tensor '${t.name}' zero point ${zp} is outside the uint8 range`);
  return { quantized: true, zeroPoint: zp, scale: Math.fround(q.scale[0]) };
}

function checkShape(t: TensorInfo, expected: readonly number[], what: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw invalidModel(`TFLite_Detection_PostProcess ${what} tensor '${t.name}' has shape [${t.shape}], expected [${expected}]`);
  }
}

/** anchors [A, 4] (ycenter, xcenter, h, w) as float32, dequantized as TFLite's Dequantizer does */
function anchorValues(t: TensorInfo, anchors: number, boxesQuantized: boolean): Float32Array {
  checkShape(t, [anchors, COORDS], 'anchors');
  const c = t.constant;
  if (!c) throw unsupportedModel(`TFLite_Detection_PostProcess anchors tensor '${t.name}' is not a constant`);
  if (c.length !== anchors * COORDS) throw invalidModel(`TFLite_Detection_PostProcess anchors tensor '${t.name}' holds ${c.length} values, expected ${anchors * COORDS}`);
  // TFLite reads the anchors in the box encodings' type
  const enc = inputEncoding(t, 'anchors');
  if (enc.quantized !== boxesQuantized) {
    throw unsupportedModel(`TFLite_Detection_PostProcess anchors tensor '${t.name}' is ${t.dtype} but the box encodings are ${boxesQuantized ? 'uint8' : 'float32'}; TFLite needs both of one type`);
  }
  const out = new Float32Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = enc.quantized ? Math.fround((c[i] - enc.zeroPoint) * enc.scale) : c[i];
  for (let a = 0; a < anchors; a++) {
    // a negative height or width decodes to ymin > ymax, which TFLite's ValidateBoxes rejects
    if (out[a * COORDS + 2] < 0 || out[a * COORDS + 3] < 0) {
      throw invalidModel(`TFLite_Detection_PostProcess anchors tensor '${t.name}': anchor ${a} has a negative height or width (${out[a * COORDS + 2]}, ${out[a * COORDS + 3]})`);
    }
  }
  return out;
}

export interface DetectionGeometry {
  anchors: number;
  /** values per anchor in the box encodings (>= 4; the first 4 are used) */
  boxStride: number;
  /** classes per anchor in the scores, background included */
  classesWithBackground: number;
}

/**
 * Validates the op's tensors against its options (TFLite's Prepare and Eval checks) and returns
 * the anchors (float32) and geometry.
 */
export function checkDetectionOp(op: DetectionPostprocessOp): { geometry: DetectionGeometry; anchors: Float32Array } {
  if (op.inputs.length !== 3 || op.outputs.length !== 4) {
    throw invalidModel(`TFLite_Detection_PostProcess needs 3 inputs and 4 outputs, got ${op.inputs.length} and ${op.outputs.length}`);
  }
  const [boxes, scores, anchorsT] = op.inputs;
  const o = op.options;
  if (boxes.shape.length !== 3 || boxes.shape[0] !== 1 || !(boxes.shape[1] > 0) || !(boxes.shape[2] >= COORDS) || !boxes.shape.every(Number.isInteger)) {
    throw invalidModel(`TFLite_Detection_PostProcess box encodings tensor '${boxes.name}' has shape [${boxes.shape}], expected [1, anchors, >= 4]`);
  }
  const anchors = boxes.shape[1];
  if (scores.shape.length !== 3 || scores.shape[0] !== 1 || scores.shape[1] !== anchors || !Number.isInteger(scores.shape[2])) {
    throw invalidModel(`TFLite_Detection_PostProcess class scores tensor '${scores.name}' has shape [${scores.shape}], expected [1, ${anchors}, classes]`);
  }
  const classesWithBackground = scores.shape[2];
  const background = classesWithBackground - o.numClasses;
  if (background !== 0 && background !== 1) {
    throw invalidModel(`TFLite_Detection_PostProcess class scores tensor '${scores.name}' has ${classesWithBackground} classes per anchor but num_classes is ${o.numClasses} (expected ${o.numClasses} or ${o.numClasses + 1} with background)`);
  }
  const boxEnc = inputEncoding(boxes, 'box encodings');
  inputEncoding(scores, 'class scores');
  const shapes = detectionOutputShapes(o);
  const names = ['boxes', 'classes', 'scores', 'count'];
  op.outputs.forEach((t, i) => {
    if (t.dtype !== 'float32') throw invalidModel(`TFLite_Detection_PostProcess output ${names[i]} tensor '${t.name}' is ${t.dtype}, expected float32`);
    checkShape(t, shapes[i], `output ${names[i]}`);
  });
  return { geometry: { anchors, boxStride: boxes.shape[2], classesWithBackground }, anchors: anchorValues(anchorsT, anchors, boxEnc.quantized) };
}

/** TFLite's DecodeCenterSizeBoxes: double arithmetic, float32 results; boxes as ymin, xmin, ymax, xmax */
export function decodeBoxes(encodings: Float32Array, stride: number, anchors: Float32Array, o: DetectionOptions, out: Float32Array): void {
  const n = anchors.length / COORDS;
  for (let i = 0; i < n; i++) {
    const e = i * stride;
    const a = i * COORDS;
    const ycenter = Math.fround((encodings[e] / o.yScale) * anchors[a + 2] + anchors[a]);
    const xcenter = Math.fround((encodings[e + 1] / o.xScale) * anchors[a + 3] + anchors[a + 1]);
    const halfH = Math.fround(0.5 * Math.exp(encodings[e + 2] / o.hScale) * anchors[a + 2]);
    const halfW = Math.fround(0.5 * Math.exp(encodings[e + 3] / o.wScale) * anchors[a + 3]);
    out[a] = ycenter - halfH;
    out[a + 1] = xcenter - halfW;
    out[a + 2] = ycenter + halfH;
    out[a + 3] = xcenter + halfW;
  }
}

/**
 * Scratch for the NMS, one per post-process call: the candidates' boxes and float32 areas copied
 * in visiting order, so the all-pairs overlap loop reads memory in sequence.
 */
class NmsScratch {
  readonly y0: Float32Array;
  readonly x0: Float32Array;
  readonly y1: Float32Array;
  readonly x1: Float32Array;
  readonly area: Float32Array;
  readonly active: Uint8Array;
  constructor(anchors: number) {
    this.y0 = new Float32Array(anchors);
    this.x0 = new Float32Array(anchors);
    this.y1 = new Float32Array(anchors);
    this.x1 = new Float32Array(anchors);
    this.area = new Float32Array(anchors);
    this.active = new Uint8Array(anchors);
  }
}

/**
 * TFLite's NonMaxSuppressionSingleClassHelper: indices of `scores` (length = anchors) kept,
 * best first, at most `maxOut`, leaving out the picks scoring below `floor` (which come last: picks
 * are made best first, and only picks suppress, so the picks above it are unchanged). The overlap test is ComputeIntersectionOverUnion(i, j) >
 * threshold with every step in float32 (areas computed the same way once per box); boxes that
 * do not overlap, or hold NaN, have IoU 0 or NaN there, never above a positive threshold, so the
 * division is skipped for them.
 */
function nmsSingleClass(scores: Float32Array, boxes: Float32Array, o: DetectionOptions, maxOut: number, s: NmsScratch, floor = -Infinity): number[] {
  const f = Math.fround;
  const kept: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] >= o.nmsScoreThreshold && scores[i] >= floor) kept.push(i);
  // stable descending by score: ties keep anchor order
  kept.sort((a, b) => scores[b] - scores[a] || a - b);
  const n = kept.length;
  const { y0, x0, y1, x1, area, active } = s;
  for (let k = 0; k < n; k++) {
    const b = kept[k] * 4;
    y0[k] = boxes[b];
    x0[k] = boxes[b + 1];
    y1[k] = boxes[b + 2];
    x1[k] = boxes[b + 3];
    area[k] = f(f(y1[k] - y0[k]) * f(x1[k] - x0[k]));
  }
  const outputSize = Math.min(n, maxOut);
  const selected: number[] = [];
  active.fill(1, 0, n);
  let numActive = n;
  const threshold = o.nmsIouThreshold;
  for (let i = 0; i < n; i++) {
    if (numActive === 0 || selected.length >= outputSize) break;
    if (!active[i]) continue;
    selected.push(kept[i]);
    active[i] = 0;
    numActive--;
    const ai = area[i];
    // an empty box (IoU 0) or a NaN area (IoU NaN) suppresses nothing
    if (!(ai > 0)) continue;
    const iy0 = y0[i], ix0 = x0[i], iy1 = y1[i], ix1 = x1[i];
    for (let j = i + 1; j < n; j++) {
      if (!active[j]) continue;
      const aj = area[j];
      if (!(aj > 0)) continue;
      // std::min<float>(a, b) = (b < a) ? b : a, std::max<float>(a, b) = (a < b) ? b : a (as for NaN)
      const top = iy0 < y0[j] ? y0[j] : iy0;
      const bottom = y1[j] < iy1 ? y1[j] : iy1;
      let ih = f(bottom - top);
      if (ih < 0) ih = 0;
      if (!(ih > 0)) continue;
      const left = ix0 < x0[j] ? x0[j] : ix0;
      const right = x1[j] < ix1 ? x1[j] : ix1;
      let iw = f(right - left);
      if (iw < 0) iw = 0;
      if (!(iw > 0)) continue;
      const inter = f(ih * iw);
      if (f(inter / f(f(ai + aj) - inter)) > threshold) {
        active[j] = 0;
        numActive--;
      }
    }
  }
  return selected;
}

/** first index of the maximum (TFLite's ArgMaxVector, strict >) */
function argMax(values: ArrayLike<number>, start: number, n: number): number {
  let best = 0;
  let max = values[start];
  for (let i = 1; i < n; i++) {
    if (values[start + i] > max) {
      max = values[start + i];
      best = i;
    }
  }
  return best;
}

/**
 * TFLite's DecreasingPartialArgSort: the indices 0..n-1 of values[start + i] with the `k` largest
 * first, in decreasing order. k = 1 is ArgMaxVector (first maximum); otherwise
 * std::partial_sort(iota, k, n, values[i] > values[j]) exactly as libstdc++ runs it (heap-select
 * the k "smallest" under that comparison, then sort-heap), so ties land where TFLite puts them.
 */
export function decreasingPartialArgSort(values: ArrayLike<number>, start: number, n: number, k: number): Int32Array {
  const idx = new Int32Array(n);
  if (k === 1) {
    idx[0] = argMax(values, start, n);
    return idx;
  }
  for (let i = 0; i < n; i++) idx[i] = i;
  // comp(a, b): a orders before b; libstdc++ builds a max-heap under comp over [0, k)
  const comp = (a: number, b: number) => values[start + a] > values[start + b];
  // std::__push_heap: move `value` up from `hole` while its parent orders before it
  const pushHeap = (hole: number, top: number, value: number) => {
    let parent = (hole - 1) >> 1;
    while (hole > top && comp(idx[parent], value)) {
      idx[hole] = idx[parent];
      hole = parent;
      parent = (hole - 1) >> 1;
    }
    idx[hole] = value;
  };
  // std::__adjust_heap: sink the hole to a leaf along the larger children, then push `value` up
  const adjustHeap = (hole: number, len: number, value: number) => {
    const top = hole;
    let child = hole;
    while (child < ((len - 1) >> 1)) {
      child = 2 * (child + 1);
      if (comp(idx[child], idx[child - 1])) child--;
      idx[hole] = idx[child];
      hole = child;
    }
    if ((len & 1) === 0 && child === (len - 2) >> 1) {
      child = 2 * (child + 1);
      idx[hole] = idx[child - 1];
      hole = child - 1;
    }
    pushHeap(hole, top, value);
  };
  // std::__pop_heap(first, last, result): the top goes to `result`, result's element re-enters
  const popHeap = (len: number, result: number) => {
    const value = idx[result];
    idx[result] = idx[0];
    adjustHeap(0, len, value);
  };
  // std::__make_heap over [0, k)
  if (k >= 2) {
    for (let parent = (k - 2) >> 1; parent >= 0; parent--) adjustHeap(parent, k, idx[parent]);
  }
  // std::__heap_select
  for (let i = k; i < n; i++) if (comp(idx[i], idx[0])) popHeap(k, i);
  // std::__sort_heap
  for (let last = k; last > 1; ) {
    last--;
    popHeap(last, last);
  }
  return idx;
}

export interface DetectionOutputs {
  boxes: Float32Array;
  classes: Float32Array;
  scores: Float32Array;
  count: Float32Array;
}

/**
 * The post-processing proper, on float32 encodings [A, stride] and scores [A, classesWithBackground]
 * (already dequantized); writes all of `out` (zeros where nothing is detected).
 */
export function detectionPostprocess(
  encodings: Float32Array,
  scores: Float32Array,
  anchors: Float32Array,
  g: DetectionGeometry,
  o: DetectionOptions,
  out: DetectionOutputs,
): void {
  const A = g.anchors;
  const C = g.classesWithBackground;
  const labelOffset = C - o.numClasses;
  const boxes = new Float32Array(A * COORDS);
  decodeBoxes(encodings, g.boxStride, anchors, o, boxes);
  const scratch = new NmsScratch(A);
  out.boxes.fill(0);
  out.classes.fill(0);
  out.scores.fill(0);
  const writeSlot = (slot: number, anchor: number, cls: number, score: number) => {
    out.boxes.set(boxes.subarray(anchor * COORDS, anchor * COORDS + COORDS), slot * COORDS);
    out.classes[slot] = cls;
    out.scores[slot] = score;
  };

  if (!o.useRegularNms) {
    const perAnchor = Math.min(o.maxClassesPerDetection, o.numClasses);
    const maxScores = new Float32Array(A);
    for (let a = 0; a < A; a++) {
      const start = a * C + labelOffset;
      maxScores[a] = scores[start + argMax(scores, start, o.numClasses)];
    }
    const selected = nmsSingleClass(maxScores, boxes, o, o.maxDetections, scratch);
    selected.forEach((anchor, n) => {
      const start = anchor * C + labelOffset;
      const classes = decreasingPartialArgSort(scores, start, o.numClasses, perAnchor);
      for (let col = 0; col < perAnchor; col++) writeSlot(o.maxClassesPerDetection * n + col, anchor, classes[col], scores[start + classes[col]]);
    });
    out.count[0] = selected.length;
    return;
  }

  // regular NMS: the best max_detections (anchor, class) pairs so far, merged class by class
  let best: { anchor: number; cls: number; score: number }[] = [];
  const classScores = new Float32Array(A);
  for (let cls = 0; cls < o.numClasses; cls++) {
    for (let a = 0; a < A; a++) classScores[a] = scores[a * C + cls + labelOffset];
    // Once max_detections are held, a pick scoring below all of them can never enter the merge
    // (std::partial_sort's heap-select only admits elements above its current minimum, and such
    // a pick would sit after every admitted one), so the class's NMS may stop there: same output,
    // and most classes end after a handful of picks instead of detections_per_class.
    let floor = -Infinity;
    if (best.length === o.maxDetections) {
      floor = Infinity;
      for (const d of best) floor = Math.min(floor, d.score);
    }
    const selected = nmsSingleClass(classScores, boxes, o, o.detectionsPerClass, scratch, floor);
    const merged = best.concat(selected.map((anchor) => ({ anchor, cls, score: classScores[anchor] })));
    const keep = Math.min(merged.length, o.maxDetections);
    const order = decreasingPartialArgSort(
      merged.map((d) => d.score),
      0,
      merged.length,
      keep,
    );
    best = Array.from(order.subarray(0, keep), (i) => merged[i]);
  }
  best.forEach((d, slot) => writeSlot(slot, d.anchor, d.cls, d.score));
  out.count[0] = best.length;
}

/** Reads an input (float32, or uint8 stored shifted) as float32 values. */
function readInput(buffer: ArrayBuffer, ptr: number, n: number, enc: InputEncoding, out: Float32Array): Float32Array {
  if (!enc.quantized) {
    out.set(new Float32Array(buffer, ptr, n));
    return out;
  }
  const stored = new Int8Array(buffer, ptr, n);
  const { zeroPoint, scale } = enc;
  for (let i = 0; i < n; i++) out[i] = (stored[i] + UINT8_STORAGE_SHIFT - zeroPoint) * scale;
  return out;
}

export function prepareDetectionPostprocess(op: DetectionPostprocessOp): PreparedOp {
  const { geometry: g, anchors } = checkDetectionOp(op);
  const boxEnc = inputEncoding(op.inputs[0], 'box encodings');
  const scoreEnc = inputEncoding(op.inputs[1], 'class scores');
  const o = op.options;
  const encodingCount = g.anchors * g.boxStride;
  const scoreCount = g.anchors * g.classesWithBackground;
  const slots = o.maxDetections * o.maxClassesPerDetection;
  // reused across runs (float32 arrays round every dequantized value as TFLite's float does)
  const encodings = new Float32Array(encodingCount);
  const scores = new Float32Array(scoreCount);
  return {
    kernel: 'js_detection_postprocess',
    constants: [new Uint8Array(anchors.buffer)],
    scratchBytes: 0,
    macs: 0,
    run(k: KernelExports, p: RunPointers): void {
      if (!p.inputs || p.inputs.length < 2 || !p.outputs || p.outputs.length < 4) {
        throw new Error('TFLite_Detection_PostProcess needs the pointers of its 2 activation inputs and 4 outputs (RunPointers.inputs / outputs)');
      }
      const buffer = k.memory.buffer as ArrayBuffer;
      readInput(buffer, p.inputs[0], encodingCount, boxEnc, encodings);
      readInput(buffer, p.inputs[1], scoreCount, scoreEnc, scores);
      const anchorData = new Float32Array(buffer, p.constants[0], anchors.length);
      detectionPostprocess(encodings, scores, anchorData, g, o, {
        boxes: new Float32Array(buffer, p.outputs[0], slots * COORDS),
        classes: new Float32Array(buffer, p.outputs[1], slots),
        scores: new Float32Array(buffer, p.outputs[2], slots),
        count: new Float32Array(buffer, p.outputs[3], 1),
      });
    },
  };
}

/** element counts of the four outputs, for callers sizing buffers */
export const detectionOutputSizes = (o: DetectionOptions): number[] => detectionOutputShapes(o).map(sizeOf);
