/**
 * Class labels and top-k. Portable (no Node built-ins).
 *
 * The TFLite MobileNets have 1001 outputs, index 0 = "background" (the label files in
 * ../shared/labels have 1001 lines to match); Keras / TF.js MobileNets have 1000, where model
 * index i is label-file line i + 1.
 */
import { invalidOption } from './errors.js';
import { guard } from './runtime/guard.js';
import { describeValue, plainView } from './runtime/typed.js';

/** labels are read once into a plain array of strings (a Proxy or getters cannot change them later); INVALID_OPTION otherwise */
export function stringList(labels: unknown): string[] {
  if (!Array.isArray(labels)) throw invalidOption(`labels must be an array of strings, got ${describeValue(labels)}`);
  const n = labels.length;
  if (n > MAX_LABELS) throw invalidOption(`labels have ${n} entries, more than the ${MAX_LABELS} allowed`);
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v: unknown = labels[i];
    if (typeof v !== 'string') throw invalidOption(`labels[${i}] must be a string, got ${describeValue(v)}`);
    out[i] = v;
  }
  return out;
}

/** far above any classifier; keeps a hostile list from allocating without bound */
const MAX_LABELS = 1 << 24;

/** One label per line; lines trimmed, a byte-order mark and trailing empty lines dropped. Inner empty lines are kept, as they hold an index. */
export function parseLabels(text: string): string[] {
  if (typeof text !== 'string') throw invalidOption('labels must be text, one label per line');
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/).map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const BACKGROUND = /^(background|unused|\?\?\?|)$/i;

/**
 * Returns labels indexed like a model with numClasses outputs. A list of numClasses entries is
 * returned as is; a list with one more entry whose first is "background" loses it (1001-line
 * file, 1000-class model); a list with one fewer gains a "background" entry in front
 * (1000-line list, 1001-class model). Anything else is an INVALID_OPTION error.
 */
export function alignLabels(list: readonly string[], numClasses: number): string[] {
  return guard('INVALID_OPTION', 'alignLabels', () => alignChecked(list, numClasses));
}

function alignChecked(list: readonly string[], numClasses: number): string[] {
  if (!(typeof numClasses === 'number' && Number.isInteger(numClasses) && numClasses > 0)) {
    throw invalidOption(`numClasses must be a positive integer, got ${describeValue(numClasses)}`);
  }
  const labels = stringList(list);
  if (labels.length === numClasses) return labels.slice();
  if (labels.length === numClasses + 1) {
    if (BACKGROUND.test(labels[0])) return labels.slice(1);
    throw invalidOption(
      `labels have ${labels.length} entries for a ${numClasses}-class model, and the first, "${labels[0]}", is not "background": cannot tell which entry to drop`,
    );
  }
  if (labels.length === numClasses - 1) return ['background', ...labels];
  throw invalidOption(`labels have ${labels.length} entries but the model has ${numClasses} classes`);
}

export interface Scored {
  index: number;
  score: number;
}

/**
 * The k highest scores, best first; equal scores in index order (lower first); NaN ranks
 * below everything. k larger than the number of scores returns them all. O(n * k) with a
 * small sorted buffer for the usual k <= 16, a full sort beyond that.
 */
export function topK(scores: ArrayLike<number>, k: number): Scored[] {
  return guard('INVALID_OPTION', 'topK', () => topKChecked(scores, k));
}

function topKChecked(input: ArrayLike<number>, k: number): Scored[] {
  const scores = scoreList(input);
  if (!(typeof k === 'number' && Number.isInteger(k) && k >= 0)) throw invalidOption(`k must be a non-negative integer, got ${describeValue(k)}`);
  return topKOf(scores, k);
}

function scoreList(input: ArrayLike<number>): ArrayLike<number> {
  // a real typed array through its intrinsic length, or a plain array of numbers; anything else
  // could lie about its length (and make the full sort allocate without bound)
  let scores: ArrayLike<number> | undefined = plainView(input, 'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array');
  if (!scores && Array.isArray(input)) {
    const n = input.length;
    const copy = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v: unknown = input[i];
      if (typeof v !== 'number') throw invalidOption(`scores[${i}] must be a number, got ${describeValue(v)}`);
      copy[i] = v;
    }
    scores = copy;
  }
  if (!scores) throw invalidOption(`topK needs an array of scores (an Array or a typed array of numbers), got ${describeValue(input)}`);
  return scores;
}

function topKOf(scores: ArrayLike<number>, k: number): Scored[] {
  const n = scores.length;
  k = Math.min(k, n);
  if (k === 0) return [];
  const key = (i: number) => {
    const s = +scores[i];
    return s === s ? s : -Infinity; // NaN sorts last (ties with -Infinity by index)
  };
  if (k > 16) {
    const order = Array.from({ length: n }, (_, i) => i);
    const keys = Float64Array.from(order, key);
    order.sort((a, b) => keys[b] - keys[a] || a - b);
    return order.slice(0, k).map((i) => ({ index: i, score: scores[i] }));
  }
  // Sorted buffer of the best k so far. Visiting indices in increasing order and only
  // displacing on a strictly better score keeps ties in index order.
  const idx = new Int32Array(k);
  const val = new Float64Array(k);
  let filled = 0;
  for (let i = 0; i < n; i++) {
    const s = key(i);
    if (filled === k && !(s > val[k - 1])) continue;
    let j = filled < k ? filled++ : k - 1;
    while (j > 0 && s > val[j - 1]) {
      idx[j] = idx[j - 1];
      val[j] = val[j - 1];
      j--;
    }
    idx[j] = i;
    val[j] = s;
  }
  return Array.from(idx, (i) => ({ index: i, score: scores[i] }));
}
