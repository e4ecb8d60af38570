/**
 * Reference TFLite_Detection_PostProcess: plain loops straight from TFLite's
 * detection_postprocess.cc on raw values (uint8 0..255 with their zero points, or float32),
 * independent of src/ops/detection_postprocess. O(n^2) everywhere, insertion sorts.
 * Tie order: NMS candidates (TFLite: std::stable_sort) by anchor index; argmax first maximum;
 * partial sorts as libstdc++'s std::partial_sort leaves them (heap select + heap sort, written
 * out below from GCC's algorithm; test/ops/detection_postprocess checks it against g++).
 */
import type { DetectionOptions } from '../../src/model/ir.js';

const f32 = Math.fround;

export interface RefInput {
  /** raw values: float32, or uint8 0..255 */
  data: Float32Array | Uint8Array;
  /** for uint8 */
  scale?: number;
  zeroPoint?: number;
}

export interface RefDetections {
  boxes: Float32Array;
  classes: Float32Array;
  scores: Float32Array;
  count: number;
}

function dequantize(x: RefInput): Float32Array {
  const out = new Float32Array(x.data.length);
  if (x.data instanceof Float32Array) {
    out.set(x.data);
    return out;
  }
  const scale = f32(x.scale!);
  for (let i = 0; i < x.data.length; i++) out[i] = f32(f32(x.data[i] - x.zeroPoint!) * scale);
  return out;
}

/** greater-first comparison with index tie-break: does (va, ia) come before (vb, ib)? */
function before(va: number, ia: number, vb: number, ib: number): boolean {
  if (va > vb) return true;
  if (va < vb) return false;
  return ia < ib;
}

/** insertion sort of `ids` by value descending, ties by id ascending */
function sortDesc(ids: number[], value: (id: number) => number): number[] {
  const out: number[] = [];
  for (const id of ids) {
    let at = out.length;
    while (at > 0 && before(value(id), id, value(out[at - 1]), out[at - 1])) at--;
    out.splice(at, 0, id);
  }
  return out;
}

/**
 * libstdc++'s std::partial_sort(order, order + k, order + n, (i, j) => v[i] > v[j]) on order = 0..n-1,
 * as TFLite's DecreasingPartialArgSort calls it (k = 1: its ArgMaxVector, the first maximum).
 */
export function libstdcxxPartialArgSort(v: readonly number[], k: number): number[] {
  const n = v.length;
  const order = v.map((_, i) => i);
  if (k === 1) {
    let best = 0;
    for (let i = 1; i < n; i++) if (v[i] > v[best]) best = i;
    return [best];
  }
  const before = (a: number, b: number) => v[a] > v[b];
  // __adjust_heap(first, hole, len, value) then __push_heap(first, hole, top, value)
  function adjust(hole: number, len: number, value: number): void {
    const top = hole;
    let second = hole;
    while (second < Math.trunc((len - 1) / 2)) {
      second = 2 * (second + 1);
      if (before(order[second], order[second - 1])) second -= 1;
      order[hole] = order[second];
      hole = second;
    }
    if (len % 2 === 0 && second === Math.trunc((len - 2) / 2)) {
      second = 2 * (second + 1);
      order[hole] = order[second - 1];
      hole = second - 1;
    }
    let parent = Math.trunc((hole - 1) / 2);
    while (hole > top && before(order[parent], value)) {
      order[hole] = order[parent];
      hole = parent;
      parent = Math.trunc((hole - 1) / 2);
    }
    order[hole] = value;
  }
  function pop(len: number, result: number): void {
    const value = order[result];
    order[result] = order[0];
    adjust(0, len, value);
  }
  if (k >= 2) {
    let parent = Math.trunc((k - 2) / 2);
    for (;;) {
      adjust(parent, k, order[parent]);
      if (parent === 0) break;
      parent -= 1;
    }
  }
  for (let i = k; i < n; i++) {
    if (before(order[i], order[0])) pop(k, i);
  }
  let last = k;
  while (last > 1) {
    last -= 1;
    pop(last, last);
  }
  return order.slice(0, k);
}

function iouOf(b: number[][], i: number, j: number): number {
  const [ay0, ax0, ay1, ax1] = b[i];
  const [by0, bx0, by1, bx1] = b[j];
  const areaA = f32(f32(ay1 - ay0) * f32(ax1 - ax0));
  const areaB = f32(f32(by1 - by0) * f32(bx1 - bx0));
  if (areaA <= 0 || areaB <= 0) return 0;
  // std::min<float>(a, b) is (b < a) ? b : a, std::max<float>(a, b) is (a < b) ? b : a (NaN matters)
  const stdMin = (a: number, b: number) => (b < a ? b : a);
  const stdMax = (a: number, b: number) => (a < b ? b : a);
  const h = f32(stdMin(ay1, by1) - stdMax(ay0, by0));
  const w = f32(stdMin(ax1, bx1) - stdMax(ax0, bx0));
  const inter = f32(stdMax(h, 0) * stdMax(w, 0));
  const union = f32(f32(areaA + areaB) - inter);
  return f32(inter / union);
}

function nms(scores: number[], boxes: number[][], o: DetectionOptions, limit: number): number[] {
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] >= o.nmsScoreThreshold) candidates.push(i);
  const order = sortDesc(candidates, (i) => scores[i]);
  const suppressed = new Array<boolean>(order.length).fill(false);
  const picked: number[] = [];
  for (let i = 0; i < order.length && picked.length < limit; i++) {
    if (suppressed[i]) continue;
    picked.push(order[i]);
    for (let j = i + 1; j < order.length; j++) {
      if (!suppressed[j] && iouOf(boxes, order[i], order[j]) > o.nmsIouThreshold) suppressed[j] = true;
    }
  }
  return picked;
}

export function referenceDetection(
  encodingsIn: RefInput,
  scoresIn: RefInput,
  anchorsIn: RefInput,
  anchorCount: number,
  boxStride: number,
  classesWithBackground: number,
  o: DetectionOptions,
): RefDetections {
  const enc = dequantize(encodingsIn);
  const sc = dequantize(scoresIn);
  const an = dequantize(anchorsIn);
  const boxes: number[][] = [];
  for (let a = 0; a < anchorCount; a++) {
    const [y, x, h, w] = [enc[a * boxStride], enc[a * boxStride + 1], enc[a * boxStride + 2], enc[a * boxStride + 3]];
    const [ay, ax, ah, aw] = [an[a * 4], an[a * 4 + 1], an[a * 4 + 2], an[a * 4 + 3]];
    const yc = f32((y / o.yScale) * ah + ay);
    const xc = f32((x / o.xScale) * aw + ax);
    const hh = f32(0.5 * Math.exp(h / o.hScale) * ah);
    const hw = f32(0.5 * Math.exp(w / o.wScale) * aw);
    boxes.push([f32(yc - hh), f32(xc - hw), f32(yc + hh), f32(xc + hw)]);
  }
  const slots = o.maxDetections * o.maxClassesPerDetection;
  const res: RefDetections = { boxes: new Float32Array(slots * 4), classes: new Float32Array(slots), scores: new Float32Array(slots), count: 0 };
  const offset = classesWithBackground - o.numClasses;
  const score = (a: number, c: number) => sc[a * classesWithBackground + offset + c];
  const put = (slot: number, a: number, c: number) => {
    for (let k = 0; k < 4; k++) res.boxes[slot * 4 + k] = boxes[a][k];
    res.classes[slot] = c;
    res.scores[slot] = score(a, c);
  };

  if (!o.useRegularNms) {
    const perAnchor = Math.min(o.maxClassesPerDetection, o.numClasses);
    const best: number[] = [];
    for (let a = 0; a < anchorCount; a++) {
      let m = score(a, 0);
      for (let c = 1; c < o.numClasses; c++) if (score(a, c) > m) m = score(a, c);
      best.push(m);
    }
    const picked = nms(best, boxes, o, o.maxDetections);
    for (let n = 0; n < picked.length; n++) {
      const a = picked[n];
      const classes = libstdcxxPartialArgSort(
        Array.from({ length: o.numClasses }, (_, c) => score(a, c)),
        perAnchor,
      );
      for (let col = 0; col < perAnchor; col++) put(n * o.maxClassesPerDetection + col, a, classes[col]);
    }
    res.count = picked.length;
    return res;
  }

  // regular: keep a running list of (anchor, class), merged per class and cut to max_detections
  let kept: { a: number; c: number }[] = [];
  for (let c = 0; c < o.numClasses; c++) {
    const column: number[] = [];
    for (let a = 0; a < anchorCount; a++) column.push(score(a, c));
    const picked = nms(column, boxes, o, o.detectionsPerClass);
    const all = kept.concat(picked.map((a) => ({ a, c })));
    const keep = Math.min(all.length, o.maxDetections);
    kept = keep === 0 ? [] : libstdcxxPartialArgSort(all.map((d) => score(d.a, d.c)), keep).map((i) => all[i]);
  }
  kept.forEach((d, slot) => put(slot, d.a, d.c));
  res.count = kept.length;
  return res;
}
