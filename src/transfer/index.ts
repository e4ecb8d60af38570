/**
 * mobilenet-wasm/transfer: teach a MobileNet new classes from a few photos. The model turns each
 * photo into its embedding (the pooled features, MobileNet.embed); a small head on those
 * embeddings is trained here, in plain TypeScript: a softmax head (multinomial logistic
 * regression with L2, ./softmax-regression.ts) or a k-nearest-neighbour head (cosine). The head
 * saves as a small .tflite (FULLY_CONNECTED + SOFTMAX, the class names packed as TFLite
 * metadata) that this library and TFLite itself run on the embedding, or joined to the body as
 * one .tflite (combineWithBody).
 *
 * Core-safe: no Node built-ins (browsers, workers, edge runtimes). Every failure is a
 * MobileNetError naming the problem, except an aborted train(), which rejects with the
 * signal's reason as AbortSignal users expect.
 */
import { MobileNetError, invalidInput, invalidOption } from '../errors.js';
import type { Graph } from '../model/ir.js';
import { validateGraph } from '../model/validate.js';
import type { ImageSource } from '../image/sources.js';
import { guard, guardAsync } from '../runtime/guard.js';
import { anyBytes, describeValue, plainView } from '../runtime/typed.js';
import { fitSoftmaxRegression } from './softmax-regression.js';
import { combineHead, headToTflite, readHead, packedLabels, type HeadWeights } from './head-file.js';

export { packedLabels };

/** Anything that turns an image into an embedding: MobileNet and MobileNetWorker both fit. */
export interface Embedder {
  embed(image: ImageSource): Float32Array | Promise<Float32Array>;
}

export type HeadKind = 'softmax' | 'knn';

export interface ClassifierOptions {
  /** 'softmax' (default): a trained linear head; 'knn': the k nearest examples vote (no training) */
  head?: HeadKind;
  /** kNN: how many neighbours vote (default 5; fewer when fewer examples are held) */
  k?: number;
  /** softmax: L2 penalty on the weights of standardized embeddings (default 0.01) */
  l2?: number;
  /** softmax: full-batch passes of accelerated gradient descent (default 100) */
  epochs?: number;
  /** softmax: step as a fraction of the largest safe step 1/L (default 1; at most 2) */
  learningRate?: number;
  /**
   * accepted for API stability; training is deterministic without it (full-batch, zero start),
   * so the same examples give the same head whatever the seed
   */
  seed?: number;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  loss: number;
}

export interface TrainReport {
  epochs: number;
  /** mean cross-entropy + penalty at the end (kNN: 0) */
  loss: number;
  /** on the training set (kNN: leave-one-out) */
  accuracy: number;
  ms: number;
  examples: number;
}

export interface Prediction {
  label: string;
  score: number;
}

export interface PredictOptions {
  /** how many labels to return, best first (default: every label) */
  topK?: number;
}

/**
 * An AbortSignal, as far as train() reads it (declared here so the types need neither the DOM
 * lib nor @types/node)
 */
export interface TrainSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

export interface TrainOptions {
  onProgress?: (p: TrainProgress) => void;
  /** an AbortController's signal: train() rejects with its reason at the next epoch */
  signal?: TrainSignal;
}

export interface Classifier {
  readonly kind: HeadKind;
  /** labels in the order first seen (a loaded head: the file's order) */
  readonly labels: readonly string[];
  /** examples held */
  readonly count: number;
  /** embedding length (undefined until the first example or head) */
  readonly dimension: number | undefined;
  /** whether predict can answer: a softmax head trained since the last removeLabel / clear, or a kNN head holding examples of 2+ labels */
  readonly ready: boolean;
  countFor(label: string): number;
  /** embeds the image now, keeps only the embedding */
  addExample(image: ImageSource, label: string): Promise<void>;
  addEmbedding(embedding: Float32Array, label: string): void;
  removeLabel(label: string): void;
  clear(): void;
  /** softmax: trains on every example held (yielding to the event loop as it goes); knn: nothing to train, a report */
  train(options?: TrainOptions): Promise<TrainReport>;
  predict(image: ImageSource, options?: PredictOptions): Promise<Prediction[]>;
  predictEmbedding(embedding: Float32Array, options?: PredictOptions): Prediction[];
  /**
   * The head alone as .tflite: FULLY_CONNECTED + SOFTMAX on the float32 embedding [1, D], class
   * names packed as TFLite metadata (labels.txt). A kNN classifier saves as its nearest-class-mean
   * head (cosine to each class's mean direction): the examples themselves are not kept, so its
   * predictions can differ from the kNN vote's.
   */
  toTflite(): Uint8Array;
}

/** far above any few-shot task; keeps hostile input from allocating without bound */
export const LIMITS = { labels: 4096, labelLength: 256, examples: 100_000, dimension: 65_536, epochs: 100_000, k: 1000 } as const;
const DEFAULTS = { head: 'softmax', k: 5, l2: 0.01, epochs: 100, learningRate: 1 } as const;
/** train() gives the event loop a turn at least this often (a page stays responsive) */
const YIELD_EVERY_MS = 12;

interface Settings {
  head: HeadKind;
  k: number;
  l2: number;
  epochs: number;
  learningRate: number;
}

export function createClassifier(embedder: Embedder, options?: ClassifierOptions): Classifier {
  return guard('INVALID_OPTION', 'createClassifier', () => new HeadClassifier(checkEmbedder(embedder), checkOptions(options)));
}

/** A classifier from a head written by toTflite (its labels packed in the file, or `labels`). */
export function loadClassifierHead(embedder: Embedder, bytes: Uint8Array, labels?: readonly string[]): Classifier {
  return guard('INVALID_MODEL', 'loadClassifierHead', () => {
    const e = checkEmbedder(embedder);
    const raw = anyBytes(bytes);
    if (!raw) throw invalidOption(`loadClassifierHead needs the head's .tflite bytes (a Uint8Array), got ${describeValue(bytes)}`);
    const head = readHead(raw);
    const names = labels !== undefined ? checkLabelList(labels) : head.labels;
    if (!names) throw invalidOption('this head has no packed class names (labels.txt in its TFLite metadata): pass them as loadClassifierHead(embedder, bytes, labels)');
    if (names.length !== head.classes) throw invalidOption(`the head has ${head.classes} classes but ${names.length} labels were given`);
    const c = new HeadClassifier(e, checkOptions(undefined));
    c.useHead({ labels: names.map((l, i) => checkLabel(l, `labels[${i}]`)), weights: head.weights, bias: head.bias });
    return c;
  });
}

/**
 * The body (.tflite bytes or a graph; a MobileNet v1 chain) up to its global average pool, then
 * `head` (a classifier or a head's .tflite bytes), as one .tflite: image in, class
 * probabilities out, class names packed. An integer body's pooled features are DEQUANTIZEd into
 * the float head, exactly as embed() dequantizes them.
 */
export function combineWithBody(body: Uint8Array | ArrayBuffer | Graph, head: Classifier | Uint8Array): Uint8Array {
  return guard('INVALID_MODEL', 'combineWithBody', () => {
    const bodyBytes = anyBytes(body);
    // a graph is checked as writeTflite checks one (a hostile one is INVALID_MODEL naming the field)
    const bodyModel = bodyBytes ?? (body !== null && typeof body === 'object' && 'ops' in body ? validateGraph(body as Graph) : undefined);
    if (!bodyModel) throw invalidOption(`combineWithBody: the body must be .tflite bytes or a graph, got ${describeValue(body)}`);
    let weights: HeadWeights;
    if (head instanceof HeadClassifier) weights = head.headWeights();
    else {
      const raw = anyBytes(head);
      if (!raw) throw invalidOption(`combineWithBody: the head must be a classifier or a head's .tflite bytes, got ${describeValue(head)}`);
      const h = readHead(raw);
      if (!h.labels) throw invalidOption('combineWithBody: this head has no packed class names; load it with loadClassifierHead(embedder, bytes, labels) and pass the classifier');
      weights = { labels: h.labels, weights: h.weights, bias: h.bias };
    }
    return combineHead(bodyModel, weights);
  });
}

function checkEmbedder(embedder: Embedder): Embedder {
  if (embedder === null || typeof embedder !== 'object' || typeof (embedder as Embedder).embed !== 'function') {
    throw invalidOption(`the embedder must have an embed(image) method (a MobileNet or MobileNetWorker), got ${describeValue(embedder)}`);
  }
  return embedder;
}

function checkOptions(options: ClassifierOptions | undefined): Settings {
  if (options === undefined) return { ...DEFAULTS };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidOption(`classifier options must be an object, got ${describeValue(options)}`);
  const known = ['head', 'k', 'l2', 'epochs', 'learningRate', 'seed'];
  for (const key of Object.keys(options)) if (!known.includes(key)) throw invalidOption(`unknown classifier option '${key}' (known: ${known.join(', ')})`);
  const { head = DEFAULTS.head, k = DEFAULTS.k, l2 = DEFAULTS.l2, epochs = DEFAULTS.epochs, learningRate = DEFAULTS.learningRate, seed } = options;
  if (head !== 'softmax' && head !== 'knn') throw invalidOption(`head must be 'softmax' or 'knn', got ${describeValue(head)}`);
  const int = (v: unknown, name: string, max: number) => {
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max)) throw invalidOption(`${name} must be an integer from 1 to ${max}, got ${describeValue(v)}`);
  };
  int(k, 'k', LIMITS.k);
  int(epochs, 'epochs', LIMITS.epochs);
  if (!(typeof l2 === 'number' && Number.isFinite(l2) && l2 >= 0)) throw invalidOption(`l2 must be a finite number >= 0, got ${describeValue(l2)}`);
  if (!(typeof learningRate === 'number' && learningRate > 0 && learningRate <= 2)) throw invalidOption(`learningRate must be a number in (0, 2], got ${describeValue(learningRate)}`);
  if (seed !== undefined && !(typeof seed === 'number' && Number.isFinite(seed))) throw invalidOption(`seed must be a finite number, got ${describeValue(seed)}`);
  return { head, k, l2, epochs, learningRate };
}

function checkLabel(label: unknown, what = 'label'): string {
  if (typeof label !== 'string') throw invalidInput(`${what} must be a string, got ${describeValue(label)}`);
  const s = label.trim();
  if (s === '') throw invalidInput(`${what} is empty: a class needs a name`);
  if (/[\r\n]/.test(s)) throw invalidInput(`${what} ${JSON.stringify(s.slice(0, 40))} has a line break: class names are stored one per line`);
  if (s.length > LIMITS.labelLength) throw invalidInput(`${what} has ${s.length} characters; at most ${LIMITS.labelLength}`);
  return s;
}

function checkLabelList(labels: readonly string[]): string[] {
  if (!Array.isArray(labels)) throw invalidOption(`labels must be an array of strings, got ${describeValue(labels)}`);
  if (labels.length > LIMITS.labels) throw invalidOption(`${labels.length} labels; at most ${LIMITS.labels}`);
  return labels.map((l, i) => checkLabel(l, `labels[${i}]`));
}

class HeadClassifier implements Classifier {
  private readonly embedder: Embedder;
  private readonly settings: Settings;
  /** per label, in first-seen order, its embeddings */
  private readonly examples = new Map<string, Float32Array[]>();
  private dim: number | undefined;
  private held = 0;
  /** the trained (or loaded) softmax head */
  private head: HeadWeights | undefined;

  constructor(embedder: Embedder, settings: Settings) {
    this.embedder = embedder;
    this.settings = settings;
  }

  get kind(): HeadKind {
    return this.settings.head;
  }
  get labels(): readonly string[] {
    return this.examples.size || !this.head ? [...this.examples.keys()] : this.head.labels;
  }
  get count(): number {
    return this.held;
  }
  get dimension(): number | undefined {
    return this.dim;
  }
  get ready(): boolean {
    return this.settings.head === 'knn' ? this.examples.size >= 2 : this.head !== undefined;
  }

  countFor(label: string): number {
    return this.examples.get(typeof label === 'string' ? label.trim() : (label as never))?.length ?? 0;
  }

  async addExample(image: ImageSource, label: string): Promise<void> {
    const name = guard('INVALID_INPUT', 'addExample', () => checkLabel(label));
    const embedding = await guardAsync('INVALID_INPUT', 'addExample', async () => this.embedder.embed(image));
    this.addEmbedding(embedding, name);
  }

  addEmbedding(embedding: Float32Array, label: string): void {
    guard('INVALID_INPUT', 'addEmbedding', () => {
      const name = checkLabel(label);
      const e = this.checkEmbedding(embedding, 'embedding');
      if (this.held >= LIMITS.examples) throw invalidInput(`the classifier holds ${this.held} examples, the most it takes`);
      let list = this.examples.get(name);
      if (!list) {
        if (this.examples.size >= LIMITS.labels) throw invalidInput(`the classifier has ${this.examples.size} labels, the most it takes`);
        this.examples.set(name, (list = []));
      }
      list.push(e.slice());
      this.dim = e.length;
      this.held++;
    });
  }

  removeLabel(label: string): void {
    guard('INVALID_INPUT', 'removeLabel', () => {
      const name = checkLabel(label);
      const list = this.examples.get(name);
      if (!list) return;
      this.held -= list.length;
      this.examples.delete(name);
      // a head that still knows the label would go on predicting it
      this.head = undefined;
    });
  }

  clear(): void {
    this.examples.clear();
    this.held = 0;
    this.head = undefined;
    this.dim = undefined;
  }

  async train(options?: TrainOptions): Promise<TrainReport> {
    const opts = guard('INVALID_OPTION', 'train', () => {
      if (options === undefined) return {} as TrainOptions;
      if (options === null || typeof options !== 'object') throw invalidOption(`train options must be an object, got ${describeValue(options)}`);
      const { onProgress, signal } = options;
      if (onProgress !== undefined && typeof onProgress !== 'function') throw invalidOption(`onProgress must be a function, got ${describeValue(onProgress)}`);
      if (signal !== undefined && !(signal && typeof signal.aborted === 'boolean')) throw invalidOption(`signal must be an AbortSignal, got ${describeValue(signal)}`);
      return { onProgress, signal };
    });
    const signal = opts.signal;
    const t0 = performance.now();
    const labels = [...this.examples.keys()];
    guard('INVALID_INPUT', 'train', () => {
      if (this.held === 0) throw invalidInput('train: the classifier holds no examples; add some with addExample(image, label)');
      if (labels.length < 2) throw invalidInput(`train: a classifier needs examples of at least 2 labels; it has only "${labels[0]}"`);
    });
    if (signal?.aborted) throw signal.reason;
    if (this.settings.head === 'knn') {
      return { epochs: 0, loss: 0, accuracy: this.leaveOneOutAccuracy(), ms: performance.now() - t0, examples: this.held };
    }
    const dim = this.dim!;
    const x = new Float32Array(this.held * dim);
    const y = new Int32Array(this.held);
    let i = 0;
    labels.forEach((label, c) => {
      for (const e of this.examples.get(label)!) {
        x.set(e, i * dim);
        y[i++] = c;
      }
    });
    const epochs = this.settings.epochs;
    let lastYield = performance.now();
    try {
      const fit = await fitSoftmaxRegression(x, y, dim, labels.length, {
        l2: this.settings.l2,
        epochs,
        learningRate: this.settings.learningRate,
        onEpoch: async (epoch, loss) => {
          opts.onProgress?.({ epoch, epochs, loss });
          if (performance.now() - lastYield > YIELD_EVERY_MS) {
            await new Promise((resolve) => setTimeout(resolve, 0));
            lastYield = performance.now();
          }
          if (signal?.aborted) throw signal.reason;
        },
      });
      if (!Number.isFinite(fit.loss)) throw new MobileNetError('INVALID_INPUT', `train: the loss became ${fit.loss}; lower learningRate`);
      this.head = { labels, weights: fit.weights, bias: fit.bias };
      return { epochs, loss: fit.loss, accuracy: fit.accuracy, ms: performance.now() - t0, examples: this.held };
    } catch (e) {
      if (signal?.aborted && e === signal.reason) throw e;
      throw e instanceof MobileNetError ? e : new MobileNetError('INVALID_INPUT', `train: ${String(e)}`, { cause: e });
    }
  }

  async predict(image: ImageSource, options?: PredictOptions): Promise<Prediction[]> {
    guard('INVALID_INPUT', 'predict', () => this.checkReady());
    const embedding = await guardAsync('INVALID_INPUT', 'predict', async () => this.embedder.embed(image));
    return this.predictEmbedding(embedding, options);
  }

  predictEmbedding(embedding: Float32Array, options?: PredictOptions): Prediction[] {
    return guard('INVALID_INPUT', 'predictEmbedding', () => {
      const topK = this.checkPredictOptions(options);
      this.checkReady();
      const e = this.checkEmbedding(embedding, 'embedding');
      const scored = this.settings.head === 'knn' ? this.knnScores(e) : softmaxScores(this.head!, e);
      return scored.slice(0, topK ?? scored.length);
    });
  }

  toTflite(): Uint8Array {
    return guard('INVALID_INPUT', 'toTflite', () => headToTflite(this.headWeights()));
  }

  /** @internal the softmax head, or a kNN classifier's nearest-class-mean head */
  headWeights(): HeadWeights {
    if (this.settings.head === 'knn') {
      if (this.examples.size < 2) throw invalidInput('a kNN classifier needs examples of at least 2 labels to be saved');
      return this.centroidHead();
    }
    if (!this.head) throw invalidInput('the classifier is not trained: call train() first');
    return this.head;
  }

  /** @internal adopt a loaded head */
  useHead(head: HeadWeights): void {
    this.head = head;
    this.dim = head.weights.length / head.labels.length;
  }

  private checkReady(): void {
    if (this.settings.head === 'knn') {
      if (this.examples.size < 2) throw invalidInput(`a kNN classifier needs examples of at least 2 labels to predict; it has ${this.examples.size}`);
    } else if (!this.head) {
      throw invalidInput(this.held ? 'the classifier is not trained: call train() first (again after removeLabel or clear)' : 'the classifier has no head: add examples and call train(), or load one with loadClassifierHead');
    }
  }

  private checkPredictOptions(options: PredictOptions | undefined): number | undefined {
    if (options === undefined) return undefined;
    if (options === null || typeof options !== 'object') throw invalidOption(`predict options must be an object, got ${describeValue(options)}`);
    const k = options.topK;
    if (k !== undefined && !(typeof k === 'number' && Number.isInteger(k) && k >= 1)) throw invalidOption(`topK must be a positive integer, got ${describeValue(k)}`);
    return k;
  }

  private checkEmbedding(embedding: unknown, what: string): Float32Array {
    const e = plainView(embedding, 'Float32Array');
    if (!e) throw invalidInput(`${what} must be a Float32Array (from embed()), got ${describeValue(embedding)}`);
    if (e.length === 0 || e.length > LIMITS.dimension) throw invalidInput(`${what} has ${e.length} values; an embedding has 1 to ${LIMITS.dimension}`);
    if (this.dim !== undefined && e.length !== this.dim) throw invalidInput(`${what} has ${e.length} values but this classifier's embeddings have ${this.dim} (a different model?)`);
    for (let i = 0; i < e.length; i++) if (!Number.isFinite(e[i])) throw invalidInput(`${what}[${i}] is ${e[i]}: embeddings must be finite`);
    return e;
  }

  /** k nearest by cosine vote; a tie in votes goes to the label whose voters are nearer */
  private knnScores(e: Float32Array): Prediction[] {
    const norm = length(e) || 1;
    const near: { label: string; sim: number }[] = [];
    for (const [label, list] of this.examples) {
      for (const x of list) {
        let dot = 0;
        let xx = 0;
        for (let d = 0; d < e.length; d++) {
          dot += e[d] * x[d];
          xx += x[d] * x[d];
        }
        near.push({ label, sim: dot / (norm * (Math.sqrt(xx) || 1)) });
      }
    }
    near.sort((a, b) => b.sim - a.sim);
    const k = Math.min(this.settings.k, near.length);
    const votes = new Map<string, { n: number; sim: number }>([...this.examples.keys()].map((l) => [l, { n: 0, sim: 0 }]));
    for (const v of near.slice(0, k)) {
      const t = votes.get(v.label)!;
      t.n++;
      t.sim += v.sim;
    }
    return [...votes]
      .sort((a, b) => b[1].n - a[1].n || b[1].sim - a[1].sim)
      .map(([label, t]) => ({ label, score: t.n / k }));
  }

  private leaveOneOutAccuracy(): number {
    let right = 0;
    for (const [label, list] of this.examples) {
      for (let i = 0; i < list.length; i++) {
        const held = list.splice(i, 1)[0];
        if (this.knnScores(held)[0].label === label) right++;
        list.splice(i, 0, held);
      }
    }
    return right / this.held;
  }

  /**
   * Cosine to each class's mean direction: argmax_c <x, m_c> / |x| = argmax_c <x, m_c> for unit
   * m_c, so an FC with the unit class means (no bias) ranks as the cosine does; the scale puts
   * the logits at ~20 x the cosine so the softmax is confident where the cosine gap is clear.
   */
  private centroidHead(): HeadWeights {
    const labels = [...this.examples.keys()];
    const dim = this.dim!;
    const weights = new Float32Array(labels.length * dim);
    let meanNorm = 0;
    labels.forEach((label, c) => {
      const m = new Float64Array(dim);
      for (const x of this.examples.get(label)!) {
        const n = length(x) || 1;
        meanNorm += n;
        for (let d = 0; d < dim; d++) m[d] += x[d] / n;
      }
      const len = length(m) || 1;
      for (let d = 0; d < dim; d++) weights[c * dim + d] = m[d] / len;
    });
    const scale = 20 / (meanNorm / this.held || 1);
    for (let i = 0; i < weights.length; i++) weights[i] *= scale;
    return { labels, weights, bias: new Float32Array(labels.length) };
  }
}

function length(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** softmax of the head's logits on `e`, best first (ties in label order) */
function softmaxScores(head: HeadWeights, e: Float32Array): Prediction[] {
  const classes = head.labels.length;
  const dim = e.length;
  const logits = new Float64Array(classes);
  let max = -Infinity;
  for (let c = 0; c < classes; c++) {
    let s = head.bias[c];
    for (let d = 0; d < dim; d++) s += head.weights[c * dim + d] * e[d];
    logits[c] = s;
    max = Math.max(max, s);
  }
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += logits[c] = Math.exp(logits[c] - max);
  return head.labels.map((label, c) => ({ label, score: logits[c] / sum })).sort((a, b) => b.score - a.score);
}
