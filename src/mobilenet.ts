/**
 * The portable API: load a model (.tflite bytes or an IR graph), run tensors through it.
 * No Node built-ins here; the kernel .wasm comes from the caller (a WebAssembly.Module on
 * Cloudflare Workers, bytes or a fetch elsewhere). src/node.ts supplies the files in Node.
 */
import { MobileNetError, invalidInput, invalidOption, invalidModel } from './errors.js';
import { sizeOf, type DType, type Graph, type Quant, type TensorInfo } from './model/ir.js';
import { readTflite } from './formats/tflite.js';
import { chooseFlavour, instantiateKernels, type Flavour, type KernelChoice, type KernelSource, type Kernels } from './runtime/kernels.js';
import { layoutArena, reserve, DEFAULT_MAX_MEMORY, type ArenaLayout } from './runtime/arena.js';
import { planGraph, type Plan } from './runtime/plan.js';
import { preprocessInto, type PreprocessOptions } from './image/preprocess.js';
import type { RawImage } from './image/types.js';
import { alignLabels, topK } from './labels.js';

export type WasmSources =
  | Partial<Record<Flavour, KernelSource | Promise<KernelSource>>>
  | ((flavour: Flavour) => KernelSource | Promise<KernelSource>);

export interface LoadOptions {
  /**
   * which kernel build to run: 'auto' (default) picks relaxed SIMD when the engine validates it,
   * else SIMD, else scalar. Integer results are identical on every build; float results of the
   * relaxed build may differ in the last bits between engines (fused multiply-add or not).
   */
  kernels?: KernelChoice;
  /** the kernel builds: a Module or bytes per flavour, or a function returning one */
  wasm?: WasmSources;
  /** refuse models whose arena would exceed this (default 1 GiB) */
  maxMemoryBytes?: number;
  /** class names, one per model output (a 1001-entry list with "background" first fits a 1000-class model too) */
  labels?: readonly string[];
}

export interface ClassifyOptions extends PreprocessOptions {
  /** how many classes to return, best first (default 5) */
  topK?: number;
}

export interface Classification {
  /** the model's output index */
  index: number;
  label: string | undefined;
  /** probability (dequantized for integer models) */
  score: number;
}

export type Tensor = Float32Array | Uint8Array | Int8Array;
export type ModelSource = Uint8Array | ArrayBuffer | Graph;

export interface ModelInfo {
  /** width multiplier, from the stem's channel count (32 * alpha), when the graph looks like MobileNet v1 */
  alpha: number | undefined;
  resolution: number;
  precision: 'float32' | 'uint8' | 'int8';
  input: { shape: number[]; dtype: DType; quant?: { scale: number; zeroPoint: number } };
  output: { shape: number[]; dtype: DType; quant?: { scale: number; zeroPoint: number } };
  classes: number;
  kernels: Flavour;
  source: Graph['source'];
  macs: number;
  /** bytes of packed constants in the arena */
  weightBytes: number;
  /** bytes of the largest activation tensor (each of the two ping-pong buffers holds one) */
  maxActivationBytes: number;
  /** wasm linear memory held by this model */
  memoryBytes: number;
}

export interface LayerProfile {
  index: number;
  op: string;
  kernel: string;
  shape: number[];
  macs: number;
  ms: number;
}

export class MobileNet {
  readonly info: ModelInfo;
  private kernels: Kernels | null;
  private readonly plan: Plan;
  private readonly arena: ArenaLayout;
  private readonly graph: Graph;
  private labels: string[] | undefined;
  /** step whose output is the pooled feature vector (embeddings), -1 if the graph has no pool */
  private readonly poolStep: number;

  private constructor(graph: Graph, kernels: Kernels, plan: Plan, arena: ArenaLayout) {
    this.graph = graph;
    this.kernels = kernels;
    this.plan = plan;
    this.arena = arena;
    this.info = describe(graph, plan, arena, kernels);
    this.poolStep = plan.steps.findIndex((s) => s.ops.some((o) => o.op === 'average_pool2d'));
  }

  static async load(model: ModelSource, options: LoadOptions = {}): Promise<MobileNet> {
    checkOptions(options);
    const graph = toGraph(model);
    const plan = planGraph(graph);
    const flavour = chooseFlavour(options.kernels ?? 'auto');
    const source = await wasmFor(options.wasm, flavour);
    const kernels = await instantiateKernels(source, flavour);
    const arena = layoutArena(
      plan.steps.map((s) => s.prepared?.constants ?? []),
      plan.maxActivationBytes,
      plan.scratchBytes,
      kernels.exports.heap_base(),
    );
    reserve(kernels.memory, arena.end, options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY);
    const mem = new Uint8Array(kernels.memory.buffer);
    plan.steps.forEach((s, i) => s.prepared?.constants.forEach((c, j) => mem.set(c, arena.constantOffsets[i][j])));
    const net = new MobileNet(graph, kernels, plan, arena);
    if (options.labels) net.setLabels(options.labels);
    return net;
  }

  /** Name the classes (see LoadOptions.labels). */
  setLabels(labels: readonly string[]): void {
    this.labels = alignLabels(labels as string[], this.info.classes);
  }

  /**
   * Classify an image (or a batch: an array of images) given as RGBA/RGB/gray pixels
   * ({ data, width, height, channels? }, ImageData-shaped). Preprocessing (central crop,
   * bilinear resize, the model's input mapping) writes straight into the model's arena.
   */
  classify(image: RawImage, options?: ClassifyOptions): Classification[];
  classify(images: readonly RawImage[], options?: ClassifyOptions): Classification[][];
  classify(image: RawImage | readonly RawImage[], options: ClassifyOptions = {}): Classification[] | Classification[][] {
    if (Array.isArray(image)) return image.map((im) => this.classify(im as RawImage, options));
    const k = options.topK ?? 5;
    if (!(Number.isInteger(k) && k >= 1)) throw invalidOption(`topK must be a positive integer, got ${String(options.topK)}`);
    const scores = this.probabilities(image as RawImage, options);
    return topK(scores, k).map(({ index, score }) => ({ index, label: this.labels?.[index], score }));
  }

  /** Class probabilities for an image (softmax output, dequantized; softmax applied if the model ends without one). */
  probabilities(image: RawImage, options: PreprocessOptions = {}): Float32Array {
    const k = this.live();
    this.writeImage(k, image, options);
    this.execute(k, this.plan.steps.length);
    const out = dequantize(this.readTensor(k, this.graph.output, this.arena.buffers[this.plan.outputBuffer]), this.graph.output);
    const last = this.graph.ops[this.graph.ops.length - 1];
    return last.op === 'softmax' ? out : softmax(out);
  }

  /**
   * The pooled feature vector (global average pool output, 1024 * alpha floats, dequantized for
   * integer models) of an image or of each image in a batch: the input of a custom classifier.
   */
  embed(image: RawImage, options?: PreprocessOptions): Float32Array;
  embed(images: readonly RawImage[], options?: PreprocessOptions): Float32Array[];
  embed(image: RawImage | readonly RawImage[], options: PreprocessOptions = {}): Float32Array | Float32Array[] {
    if (Array.isArray(image)) return image.map((im) => this.embed(im as RawImage, options));
    if (this.poolStep < 0) throw new MobileNetError('UNSUPPORTED_MODEL', 'this model has no average pool, so it has no embedding layer');
    const k = this.live();
    this.writeImage(k, image as RawImage, options);
    this.execute(k, this.poolStep + 1);
    const step = this.plan.steps[this.poolStep];
    return dequantize(this.readTensor(k, step.op.output, this.arena.buffers[step.to]), step.op.output);
  }

  private writeImage(k: Kernels, image: RawImage, options: PreprocessOptions): void {
    const t = this.graph.input;
    const n = sizeOf(t.shape);
    const at = this.arena.buffers[0];
    // uint8 inputs go in as the arena's shifted int8 form (src/ops/types.ts)
    const view = t.dtype === 'float32' ? new Float32Array(k.memory.buffer, at, n) : new Int8Array(k.memory.buffer, at, n);
    preprocessInto(image, t, view, options);
  }

  /** Run one inference. `input` is the model's input tensor (NHWC, its own dtype); returns a new output tensor. */
  run(input: Tensor): Tensor {
    const k = this.live();
    this.writeInput(k, input);
    this.execute(k, this.plan.steps.length);
    return this.readTensor(k, this.graph.output, this.arena.buffers[this.plan.outputBuffer]);
  }

  /**
   * Run and time each layer (`runs` times, after one untimed run), for the per-layer profile.
   * Returns the median time per layer.
   */
  profile(input: Tensor, runs = 10): LayerProfile[] {
    const k = this.live();
    this.writeInput(k, input);
    const times: number[][] = this.plan.steps.map(() => []);
    for (let r = 0; r <= runs; r++) {
      this.plan.steps.forEach((s, i) => {
        const t0 = performance.now();
        this.step(k, i);
        if (r > 0) times[i].push(performance.now() - t0);
      });
    }
    return this.plan.steps.map((s, i) => ({
      index: i,
      op: s.ops.map((o) => o.op).join('+'),
      kernel: s.prepared?.kernel ?? 'none',
      shape: s.op.output.shape,
      macs: s.prepared?.macs ?? 0,
      ms: median(times[i]),
    }));
  }

  /** Release the wasm instance and its memory (wasm memory cannot shrink; dropping it is the only way). */
  dispose(): void {
    this.kernels = null;
  }

  /** @internal run the first `count` steps; the runtime's building block for embeddings */
  protected execute(k: Kernels, count: number): void {
    for (let i = 0; i < count; i++) this.step(k, i);
  }

  private step(k: Kernels, i: number): void {
    const s = this.plan.steps[i];
    if (!s.prepared) return;
    s.prepared.run(k.exports, {
      input: this.arena.buffers[s.from],
      output: this.arena.buffers[s.to],
      constants: this.arena.constantOffsets[i],
      scratch: this.arena.scratch,
    });
  }

  protected live(): Kernels {
    if (!this.kernels) throw new MobileNetError('DISPOSED', 'this model was disposed');
    return this.kernels;
  }

  private writeInput(k: Kernels, input: Tensor): void {
    const t = this.graph.input;
    const n = sizeOf(t.shape);
    const want = t.dtype === 'float32' ? Float32Array : t.dtype === 'uint8' ? Uint8Array : Int8Array;
    if (!(input instanceof want)) {
      const got = input && typeof input === 'object' ? input.constructor?.name : typeof input;
      throw invalidInput(`input must be a ${want.name} (model input is ${t.dtype}[${t.shape.join(',')}]), got ${got}`);
    }
    if (input.length !== n) {
      throw invalidInput(`input has ${input.length} elements but the model input ${t.dtype}[${t.shape.join(',')}] needs ${n}`);
    }
    const at = this.arena.buffers[0];
    if (t.dtype === 'float32') {
      new Float32Array(k.memory.buffer, at, n).set(input as Float32Array);
    } else if (t.dtype === 'uint8') {
      // the arena keeps uint8 shifted into int8 (see src/ops/types.ts)
      const dst = new Uint8Array(k.memory.buffer, at, n);
      for (let i = 0; i < n; i++) dst[i] = input[i] ^ 0x80;
    } else {
      new Int8Array(k.memory.buffer, at, n).set(input as Int8Array);
    }
  }

  /** @internal copy a tensor out of the arena in its own dtype */
  protected readTensor(k: Kernels, t: TensorInfo, at: number): Tensor {
    const n = sizeOf(t.shape);
    if (t.dtype === 'float32') return new Float32Array(k.memory.buffer, at, n).slice();
    if (t.dtype === 'int8') return new Int8Array(k.memory.buffer, at, n).slice();
    const src = new Uint8Array(k.memory.buffer, at, n);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = src[i] ^ 0x80;
    return out;
  }
}

/** Integer tensor -> real values (float tensors pass through). */
function dequantize(t: Tensor, info: TensorInfo): Float32Array {
  if (t instanceof Float32Array) return t;
  const scale = info.quant?.scale[0] ?? 1;
  const zp = info.quant?.zeroPoint[0] ?? 0;
  const out = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) out[i] = (t[i] - zp) * scale;
  return out;
}

function softmax(x: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let sum = 0;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) sum += out[i] = Math.exp(x[i] - max);
  for (let i = 0; i < x.length; i++) out[i] /= sum;
  return out;
}

function toGraph(model: ModelSource): Graph {
  if (model instanceof Uint8Array) return readTflite(model);
  if (model instanceof ArrayBuffer) return readTflite(new Uint8Array(model));
  if (ArrayBuffer.isView(model)) {
    return readTflite(new Uint8Array((model as ArrayBufferView).buffer, (model as ArrayBufferView).byteOffset, (model as ArrayBufferView).byteLength));
  }
  if (model && typeof model === 'object' && Array.isArray((model as Graph).ops)) return model as Graph;
  throw invalidModel('model must be .tflite bytes (Uint8Array or ArrayBuffer) or a graph from buildMobileNetV1 / loadTfjsLayers');
}

function checkOptions(o: LoadOptions): void {
  if (o === null || typeof o !== 'object') throw invalidOption('options must be an object');
  const known = new Set(['kernels', 'wasm', 'maxMemoryBytes', 'labels']);
  for (const key of Object.keys(o)) if (!known.has(key)) throw invalidOption(`unknown option '${key}' (known: ${[...known].join(', ')})`);
  if (o.maxMemoryBytes !== undefined && !(Number.isFinite(o.maxMemoryBytes) && o.maxMemoryBytes > 0)) {
    throw invalidOption(`maxMemoryBytes must be a positive number, got ${o.maxMemoryBytes}`);
  }
}

async function wasmFor(wasm: WasmSources | undefined, flavour: Flavour): Promise<KernelSource> {
  if (!wasm) throw invalidOption(`no kernel .wasm given: pass options.wasm (e.g. { ${flavour}: <WebAssembly.Module or bytes of mobilenet-${flavour}.wasm> }), or use the Node entry which finds them itself`);
  const src = typeof wasm === 'function' ? await wasm(flavour) : await wasm[flavour];
  if (!src) throw invalidOption(`options.wasm has no '${flavour}' build (mobilenet-${flavour}.wasm)`);
  return src;
}

function simpleQuant(q: Quant | undefined) {
  return q ? { scale: q.scale[0], zeroPoint: q.zeroPoint[0] } : undefined;
}

function describe(graph: Graph, plan: Plan, arena: ArenaLayout, kernels: Kernels): ModelInfo {
  const convs = graph.ops.filter((o) => o.op === 'conv2d' || o.op === 'depthwise_conv2d');
  const stem = graph.ops.find((o) => o.op === 'conv2d');
  const looksLikeV1 = convs.length === 28 || convs.length === 27;
  const weighted = graph.ops.find((o) => 'filter' in o);
  const precision = (weighted && 'filter' in weighted ? weighted.filter.dtype : graph.input.dtype) as ModelInfo['precision'];
  return {
    alpha: looksLikeV1 && stem ? stem.output.shape[3] / 32 : undefined,
    resolution: graph.input.shape[1],
    precision,
    input: { shape: graph.input.shape, dtype: graph.input.dtype, quant: simpleQuant(graph.input.quant) },
    output: { shape: graph.output.shape, dtype: graph.output.dtype, quant: simpleQuant(graph.output.quant) },
    classes: graph.output.shape[graph.output.shape.length - 1],
    kernels: kernels.flavour,
    source: graph.source,
    macs: plan.macs,
    weightBytes: arena.constantBytes,
    maxActivationBytes: plan.maxActivationBytes,
    memoryBytes: kernels.memory.buffer.byteLength,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : 0;
}
