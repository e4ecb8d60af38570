/**
 * The portable API: load a model (.tflite bytes or an IR graph), run tensors through it.
 * No Node built-ins here; the kernel .wasm comes from the caller (a WebAssembly.Module on
 * Cloudflare Workers, bytes or a fetch elsewhere). src/node.ts supplies the files in Node.
 */
import { MobileNetError, invalidInput, invalidOption, invalidModel, type ErrorCode } from './errors.js';
import { opOutputs, sizeOf, type DType, type Graph, type Op, type Quant, type TensorInfo } from './model/ir.js';
import type { RunPointers } from './ops/types.js';
import { readTflite } from './formats/tflite.js';
import { checkBuildHas, chooseFlavour, instantiateKernels, FLAVOURS, type Flavour, type KernelChoice, type KernelSource, type Kernels } from './runtime/kernels.js';
import { buildFileName, kernelSetsOf, KERNEL_SETS, type KernelSet } from './runtime/kernel-sets.js';
import { arenaBase, layoutArena, reserve, DEFAULT_MAX_MEMORY, type ArenaLayout } from './runtime/arena.js';
import { planGraph, type Plan } from './runtime/plan.js';
import { warmKernels } from './runtime/warm-up.js';
// the pack cache is imported only by a load that is given one: a page that never caches does not download it (bench/size.mjs)
import type { PackCacheStore } from './runtime/pack-cache.js';
import { validateGraph } from './model/validate.js';
import { checkFloatNumerics } from './runtime/numerics.js';
import { loadOpPreparers } from './ops/index.js';
import { inputMapping, preprocessInto, type PreprocessOptions } from './image/preprocess.js';
import type { Normalization } from './formats/tflite-metadata.js';
import { readImageSync, type ImageSource } from './image/sources.js';
import { alignLabels, stringList, topK } from './labels.js';
import { IMAGENET_1001_SHORT } from './labels/imagenet.js';
import { guard, guardAsync, asMobileNetError } from './runtime/guard.js';
import { defaultKernelLocation, resolveKernelLocation, type KernelLocation } from './runtime/wasm-source.js';
import { anyBytes, describeValue, plainView, typedArrayName } from './runtime/typed.js';
import { FLOAT_INPUT_BOUND } from './runtime/numerics.js';
import type { WasmModule } from './wasm-types.js';

/**
 * The kernel builds: per flavour a WebAssembly.Module, the bytes, a URL (string or URL object),
 * a fetch Response, or a promise of any of these; or a function of the flavour returning one.
 * A build is the model's precision's (mobilenet-q8-<flavour>.wasm for uint8 / int8 models,
 * mobilenet-f32-<flavour>.wasm for float32) or the combined mobilenet-<flavour>.wasm; the
 * function is also given the file name the model needs.
 */
export type WasmSources =
  | Partial<Record<Flavour, KernelLocation | Promise<KernelLocation>>>
  | ((flavour: Flavour, file: string) => KernelLocation | Promise<KernelLocation>);

export interface LoadOptions {
  /**
   * which kernel build to run. 'auto' (default) picks the fastest build that is both supplied
   * and validated by the engine: relaxed SIMD, else SIMD, else scalar. Supplied means a key of
   * `wasm` when it is an object of builds; when `wasm` is a function (as in the Node entry)
   * every flavour counts as supplied. An explicit 'relaxed', 'simd' or 'scalar' that is not
   * supplied or not validated is INVALID_OPTION. Integer results are identical on every build;
   * float results of the relaxed build may differ in the last bits (fused multiply-add or not).
   *
   * Node 20 keeps relaxed SIMD behind a process-wide V8 flag. Only a load asking for
   * `kernels: 'relaxed'` (or a call to enableRelaxedSimd) sets it, and it never changes what
   * 'auto' means: 'auto' picks relaxed only if the engine validated relaxed SIMD before this
   * package first set the flag (Node started with --experimental-wasm-relaxed-simd, or an
   * engine that ships it), so one explicit load never changes another load's float outputs.
   */
  kernels?: KernelChoice;
  /**
   * the kernel builds: per flavour a Module, bytes, a URL or a Response (see WasmSources), or a
   * function returning one. URLs are fetched and compiled (compileStreaming when served as
   * application/wasm); only the build `kernels` chose is fetched. Each build holds the kernels
   * of one precision (mobilenet-q8-<flavour>.wasm: uint8 / int8 models; mobilenet-f32-<flavour>.wasm:
   * float32) or of both (mobilenet-<flavour>.wasm); a build lacking the model's kernels is
   * INVALID_OPTION naming the file to pass. Omitted in a page or a web worker, the package's
   * own build for the model's precision is fetched from next to its code (the URL bundlers emit
   * as an asset); elsewhere omitting it is INVALID_OPTION. Where the engine refuses to compile
   * wasm from bytes (Cloudflare Workers), import the .wasm as a module
   * (`import simd from 'mobilenet-wasm/wasm/mobilenet-q8-simd.wasm'`) and pass the Module.
   */
  wasm?: WasmSources;
  /** refuse models whose arena would exceed this (default 1 GiB) */
  maxMemoryBytes?: number;
  /**
   * class names, one per model output (a 1001-entry list with "background" first fits a
   * 1000-class model too). Default: the ImageNet names for a model with 1001 outputs (TFLite,
   * "background" first) or 1000 (Keras / TF.js); none (label undefined) for other class counts.
   */
  labels?: readonly string[];
  /**
   * Let NaN and infinite values through (default false). By default `run` and `profile` refuse a
   * float input tensor holding NaN or +-Infinity with INVALID_INPUT naming the first bad index
   * (one pass over the input), and every call that returns float values (run, probabilities,
   * classify, embed) throws instead of returning a non-finite output: INVALID_MODEL when the
   * input was within the range the model was checked for at load (|x| <= 255, see
   * src/runtime/numerics.ts), else INVALID_INPUT. With true, neither check runs and
   * non-finite values propagate as IEEE arithmetic makes them.
   */
  allowNonFinite?: boolean;
  /**
   * Where to keep the model's packed form (src/runtime/pack-cache.ts): a load of .tflite bytes
   * looks there first and, finding a valid entry for these bytes and this kernel build, skips
   * planning and packing; otherwise it packs and stores an entry. Outputs are identical either
   * way; a damaged or mismatched entry is ignored. Off by default (it writes about the model's
   * size per model and build). A store (get / put of bytes by key; in a page the Cache API's,
   * src/weights/cache-api.ts cacheApiPackStore); in Node also `true` (the user cache folder's
   * `packed/`, userCacheDir()) or a folder path, which only the Node entry understands.
   */
  packCache?: PackCacheStore | boolean | string;
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
  input: TensorDescription;
  output: TensorDescription;
  /** class scores per output (a detector: its number of classes, background excluded) */
  classes: number;
  kernels: Flavour;
  source: Graph['source'];
  macs: number;
  /** bytes of packed constants in the arena */
  weightBytes: number;
  /** bytes of the largest activation tensor */
  maxActivationBytes: number;
  /** bytes of the activation arena (every activation placed by its lifetime, src/runtime/plan.ts) */
  activationBytes: number;
  /** every model input and output, in the file's order (`input` / `output` are the first of each) */
  inputs: TensorDescription[];
  outputs: TensorDescription[];
  /**
   * what the outputs are: 'classifier' (class scores: classify, probabilities), 'features' (a body
   * that ends at its pool: embed), 'detector' (TFLite_Detection_PostProcess boxes: detect), or
   * 'tensors' (anything else: run / runAll)
   */
  task: 'classifier' | 'features' | 'detector' | 'tensors';
  /** wasm linear memory held by this model */
  memoryBytes: number;
}

export interface TensorDescription {
  name: string;
  shape: number[];
  dtype: DType;
  quant?: { scale: number; zeroPoint: number };
}

export interface DetectOptions extends Pick<PreprocessOptions, 'inputRange' | 'integerInput' | 'normalization'> {
  /** at most this many detections, best first (default: all the model gives) */
  maxResults?: number;
  /** drop detections scoring below this (default 0.5) */
  minScore?: number;
}

export interface Detection {
  /** the class index the model gives (for COCO SSD models: the COCO id - 1) */
  index: number;
  label: string | undefined;
  score: number;
  /** in the source image's pixels: left, top, width, height */
  box: { x: number; y: number; width: number; height: number };
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
  private labels: readonly string[] | undefined;
  /** step whose output is the pooled feature vector (embeddings), -1 if the graph has no pool */
  private readonly poolStep: number;
  /** the run pointers of every step, computed once */
  private readonly pointers: RunPointers[];

  private readonly allowNonFinite: boolean;
  /** the float input's normalization from the file's TFLite metadata: the default when a call gives neither inputRange nor normalization */
  private readonly normalization: Normalization | undefined;

  private constructor(graph: Graph, kernels: Kernels, plan: Plan, arena: ArenaLayout, allowNonFinite: boolean, normalization?: Normalization) {
    this.graph = graph;
    this.normalization = normalization;
    this.allowNonFinite = allowNonFinite;
    this.kernels = kernels;
    this.plan = plan;
    this.arena = arena;
    this.info = describe(graph, plan, arena, kernels);
    this.poolStep = plan.steps.findIndex((s) => s.ops.some(isGlobalPool));
    this.pointers = plan.steps.map((s, i) => {
      const inputs = s.inputs.map((id) => this.tensorAt(id));
      const outputs = s.outputs.map((id) => this.tensorAt(id));
      return { input: inputs[0], output: outputs[0], inputs, outputs, constants: arena.constantOffsets[i], scratch: arena.scratch };
    });
  }

  /** @internal where an activation tensor lives in kernel memory */
  protected tensorAt(id: number | undefined): number {
    const off = this.plan.offsets.get(id!);
    if (off === undefined) throw new MobileNetError('INVALID_MODEL', `tensor ${id} has no place in the arena`);
    return this.arena.activations + off;
  }

  static async load(model: ModelSource, options?: LoadOptions): Promise<MobileNet> {
    return guardAsync('INVALID_MODEL', 'MobileNet.load', async () => {
      const opts = checkOptions(options);
      const parsed = toGraph(model);
      const builds = suppliedBuilds(opts.wasm);
      const flavour = chooseFlavour(opts.kernels ?? 'auto', builds && (Object.keys(builds) as Flavour[]));
      // only the kernels of the model's precision are fetched and instantiated
      const kernelsFor = async (sets: KernelSet[]) => instantiateKernels(await wasmFor(opts.wasm, builds, flavour, sets), flavour, sets);
      // A .tflite file's ops come well-formed from the reader: fetch and compile its kernels
      // while the weights are packed (V8 compiles on background threads; bench/STARTUP.md).
      const earlySets = parsed.bytes ? kernelSetsOf(parsed.graph.ops) : undefined;
      const early = earlySets && kernelsFor(earlySets);
      early?.catch(() => {}); // awaited below; a failure in planning first must not leave it unhandled
      // a packed form of these bytes for this build, when a cache is given (src/runtime/pack-cache.ts)
      const store = packStore(opts.packCache);
      const cacheModule = store && parsed.bytes && earlySets ? import('./runtime/pack-cache.js') : undefined;
      const lookup = cacheModule?.then((cache) => cache.lookUpPacked(store!, parsed.bytes!, buildFileName(flavour, earlySets!), flavour));
      const normalization = await fileNormalization(parsed.graph, parsed.bytes);
      await loadOpPreparers(parsed.graph.ops);
      // Start V8's optimising tier for the hot kernels now, so it compiles them while the weights
      // are packed (src/runtime/warm-up.ts). A failed build is left for the await below, after planning.
      await early?.then((k) => void warmKernels(k, parsed.graph.ops, opts.maxMemoryBytes ?? DEFAULT_MAX_MEMORY), () => {});
      const found = await lookup;
      const built = found && (await early!.catch(() => undefined));
      const packed = found && built ? await (await cacheModule!).packedFrom(found, parsed.graph, earlySets!, built) : undefined;
      let plan: Plan;
      let kernels: Kernels;
      let arena: ArenaLayout;
      if (packed) {
        ({ plan, arena } = packed);
        kernels = await early!;
        reserve(kernels.memory, arena.end, opts.maxMemoryBytes ?? DEFAULT_MAX_MEMORY);
        new Uint8Array(kernels.memory.buffer).set(packed.constants, arenaBase(kernels.exports.heap_base()));
      } else {
        plan = planGraph(parsed.graph);
        const sets = kernelSetsOf(plan.graph.ops);
        kernels = early && sets.join() === earlySets!.join() ? await early : await kernelsFor(sets);
        arena = layoutArena(
          plan.steps.map((s) => s.prepared?.constants ?? []),
          plan.activationBytes,
          plan.scratchBytes,
          kernels.exports.heap_base(),
        );
        reserve(kernels.memory, arena.end, opts.maxMemoryBytes ?? DEFAULT_MAX_MEMORY);
        const mem = new Uint8Array(kernels.memory.buffer);
        plan.steps.forEach((s, i) => s.prepared?.constants.forEach((c, j) => mem.set(c, arena.constantOffsets[i][j])));
        // the packed copies now live in the arena; holding them in JS too would double the model's memory
        for (const s of plan.steps) if (s.prepared) s.prepared.constants.length = 0;
      }
      const graph = plan.graph;
      const net = new MobileNet(graph, kernels, plan, arena, opts.allowNonFinite === true, normalization);
      if (found && built && !packed) {
        const n = net as unknown as { plan: Plan; arena: ArenaLayout; kernels: Kernels; pointers: RunPointers[] };
        await (await cacheModule!).writePackCache(store!, found, n);
      }
      if (opts.labels !== undefined) net.setLabels(opts.labels);
      else net.labels = builtinLabels(net.info.classes);
      return net;
    });
  }

  /** Name the classes (see LoadOptions.labels). */
  setLabels(labels: readonly string[]): void {
    this.labels = guard('INVALID_OPTION', 'setLabels', () => alignLabels(labels as string[], this.info.classes));
  }

  /**
   * Classify an image (or a batch: an array of images): RGBA/RGB/gray pixels ({ data, width,
   * height, channels? }, an ImageData), or an <img>, <canvas>, OffscreenCanvas, ImageBitmap,
   * <video> (its current frame) or VideoFrame, read unscaled (src/image/sources.ts). A Blob or
   * File needs decoding first: `classify(await readImage(blob))`. Preprocessing (central crop,
   * bilinear resize, the model's input mapping) writes straight into the model's arena.
   */
  classify(image: ImageSource, options?: ClassifyOptions): Classification[];
  classify(images: readonly ImageSource[], options?: ClassifyOptions): Classification[][];
  classify(image: ImageSource | readonly ImageSource[], options?: ClassifyOptions): Classification[] | Classification[][] {
    return guard('INVALID_INPUT', 'classify', () => {
      const opts = optionsObject(options, 'classify');
      if (Array.isArray(image)) return image.map((im) => this.classify(im as ImageSource, opts));
      const k = opts.topK ?? 5;
      if (!(typeof k === 'number' && Number.isInteger(k) && k >= 1)) throw invalidOption(`topK must be a positive integer, got ${describeValue(opts.topK)}`);
      const scores = this.probabilities(image as ImageSource, opts);
      return topK(scores, k).map(({ index, score }) => ({ index, label: this.labels?.[index], score }));
    });
  }

  /** Class probabilities for an image (softmax output, dequantized; softmax applied if the model ends without one). */
  probabilities(image: ImageSource, options?: PreprocessOptions): Float32Array {
    return guard('INVALID_INPUT', 'probabilities', () => {
      const opts = optionsObject(options, 'probabilities');
      this.checkHasHead();
      const k = this.live();
      const bound = this.writeImage(k, image, opts);
      this.execute(k, this.plan.steps.length);
      const raw = this.readTensor(k, this.graph.output, this.tensorAt(this.graph.output.id));
      this.checkOutput(raw, 'output', bound);
      const out = dequantize(raw, this.graph.output);
      const last = this.graph.ops[this.graph.ops.length - 1];
      return last.op === 'softmax' ? out : softmax(out);
    });
  }

  /**
   * A model that ends at its global average pool (a body without its classifier head, such as
   * Coral's embedding extractors) outputs features, not class scores: classify would rank
   * feature channels as classes. Refused, pointing at embed().
   */
  private checkHasHead(): void {
    const task = this.info.task;
    if (task === 'features') {
      throw new MobileNetError(
        'UNSUPPORTED_MODEL',
        `this model ends at its global average pool (output ${this.graph.output.shape.join('x')}: features, not class scores); ` +
          'it has no classifier head to classify with: use embed() for its features',
      );
    }
    if (task === 'detector') throw new MobileNetError('UNSUPPORTED_MODEL', 'this model is an object detector (its outputs are boxes, classes and scores, not class scores): use detect()');
    if (task !== 'classifier') {
      throw new MobileNetError(
        'UNSUPPORTED_MODEL',
        `this model's outputs (${this.info.outputs.map((o) => `${o.dtype}[${o.shape.join(',')}]`).join(', ')}) are not class scores: use run() / runAll()`,
      );
    }
  }

  /**
   * Objects in an image, for detection models (SSD with TFLite_Detection_PostProcess): the whole
   * image is resized to the model input (no crop, as TFLite's detection examples do) and the
   * boxes are given in the source image's pixels, best first.
   */
  detect(image: ImageSource, options?: DetectOptions): Detection[] {
    return guard('INVALID_INPUT', 'detect', () => {
      const opts = optionsObject(options, 'detect');
      if (this.info.task !== 'detector') {
        throw new MobileNetError('UNSUPPORTED_MODEL', `detect needs an object detector (a model ending in TFLite_Detection_PostProcess); this one is a ${this.info.task} model`);
      }
      const maxResults = opts.maxResults ?? Infinity;
      if (!(maxResults === Infinity || (Number.isInteger(maxResults) && maxResults >= 1))) throw invalidOption(`maxResults must be a positive integer, got ${describeValue(opts.maxResults)}`);
      const minScore = opts.minScore ?? 0.5;
      if (!(typeof minScore === 'number' && minScore >= 0 && minScore <= 1)) throw invalidOption(`minScore must be a number from 0 to 1, got ${describeValue(opts.minScore)}`);
      const k = this.live();
      const pixels = readImageSync(image);
      this.writePixels(k, pixels, { inputRange: opts.inputRange, integerInput: opts.integerInput, normalization: opts.normalization, crop: 'none' });
      this.execute(k, this.plan.steps.length);
      const [boxes, classes, scores, count] = this.graph.outputs!.map((t) => this.readTensor(k, t, this.tensorAt(t.id)) as Float32Array);
      const n = Math.min(Math.max(0, Math.floor(count[0])), scores.length);
      const out: Detection[] = [];
      for (let i = 0; i < n && out.length < maxResults; i++) {
        if (!(scores[i] >= minScore)) continue;
        const clamp = (v: number) => Math.min(1, Math.max(0, v));
        const [ymin, xmin, ymax, xmax] = [clamp(boxes[i * 4]), clamp(boxes[i * 4 + 1]), clamp(boxes[i * 4 + 2]), clamp(boxes[i * 4 + 3])];
        const index = classes[i];
        out.push({
          index,
          label: this.labels?.[index],
          score: scores[i],
          box: { x: xmin * pixels.width, y: ymin * pixels.height, width: Math.max(0, xmax - xmin) * pixels.width, height: Math.max(0, ymax - ymin) * pixels.height },
        });
      }
      return out;
    });
  }

  /**
   * The pooled feature vector (global average pool output, 1024 * alpha floats, dequantized for
   * integer models) of an image or of each image in a batch: the input of a custom classifier.
   */
  embed(image: ImageSource, options?: PreprocessOptions): Float32Array;
  embed(images: readonly ImageSource[], options?: PreprocessOptions): Float32Array[];
  embed(image: ImageSource | readonly ImageSource[], options?: PreprocessOptions): Float32Array | Float32Array[] {
    return guard('INVALID_INPUT', 'embed', () => {
      const opts = optionsObject(options, 'embed');
      if (Array.isArray(image)) return image.map((im) => this.embed(im as ImageSource, opts));
      if (this.poolStep < 0) throw new MobileNetError('UNSUPPORTED_MODEL', 'this model has no average pool, so it has no embedding layer');
      const k = this.live();
      const bound = this.writeImage(k, image as ImageSource, opts);
      this.execute(k, this.poolStep + 1);
      const step = this.plan.steps[this.poolStep];
      const pooled = step.ops.find(isGlobalPool)! as { output: TensorInfo };
      const raw = this.readTensor(k, pooled.output, this.tensorAt(pooled.output.id));
      this.checkOutput(raw, 'embedding', bound);
      return dequantize(raw, pooled.output);
    });
  }

  /** Preprocesses into the arena; returns the largest magnitude the input can hold (for checkOutput). */
  private writeImage(k: Kernels, image: ImageSource, options: PreprocessOptions): number {
    // elements are read before the arena view is taken: reading one allocates
    return this.writePixels(k, readImageSync(image), options);
  }

  private writePixels(k: Kernels, pixels: ReturnType<typeof readImageSync>, options: PreprocessOptions): number {
    if (this.graph.inputs!.length !== 1) throw invalidInput(`this model has ${this.graph.inputs!.length} inputs; images go to models with one: use runAll()`);
    const t = this.graph.input;
    const n = sizeOf(t.shape);
    const at = this.tensorAt(t.id);
    // uint8 inputs go in as the arena's shifted int8 form (src/ops/types.ts)
    const view = t.dtype === 'float32' ? new Float32Array(k.memory.buffer, at, n) : new Int8Array(k.memory.buffer, at, n);
    const opts = options.inputRange === undefined && options.normalization === undefined && this.normalization ? { ...options, normalization: this.normalization } : options;
    preprocessInto(pixels, t, view, opts);
    if (t.dtype !== 'float32') return 0;
    const r = inputMapping(t, opts).range;
    return Math.max(Math.abs(r[0]), Math.abs(r[1]));
  }

  /**
   * Run one inference. `input` is the model's input tensor (NHWC, its own dtype); returns a new
   * output tensor. A float input holding NaN or Infinity is refused (INVALID_INPUT), and so is
   * a non-finite output, unless the model was loaded with allowNonFinite.
   */
  run(input: Tensor): Tensor {
    return guard('INVALID_INPUT', 'run', () => {
      this.live(); // a disposed model says so before anything else
      const ins = this.graph.inputs!.length;
      const outs = this.graph.outputs!.length;
      if (ins !== 1 || outs !== 1) throw invalidInput(`this model has ${ins} input${ins === 1 ? '' : 's'} and ${outs} output${outs === 1 ? '' : 's'}: use runAll()`);
      return this.runTensors([input], 'input')[0];
    });
  }

  /**
   * Run with every model input (in the model's input order, each a typed array of its dtype
   * and size, as `run` takes) and return every output in the model's output order.
   */
  runAll(inputs: readonly Tensor[]): Tensor[] {
    return guard('INVALID_INPUT', 'runAll', () => {
      this.live();
      const want = this.graph.inputs!.length;
      if (!Array.isArray(inputs)) throw invalidInput(`runAll takes an array of ${want} input tensor${want === 1 ? '' : 's'}, got ${describeValue(inputs)}`);
      if (inputs.length !== want) throw invalidInput(`the model has ${want} input${want === 1 ? '' : 's'}, got ${inputs.length}`);
      return this.runTensors(inputs, 'inputs');
    });
  }

  private runTensors(inputs: readonly Tensor[], what: string): Tensor[] {
    const k = this.live();
    const many = inputs.length > 1 || what === 'inputs';
    const bounds = this.graph.inputs!.map((t, i) => this.writeInput(k, inputs[i], t, many ? `inputs[${i}]` : 'input'));
    const bound = () => Math.max(0, ...bounds.map((b) => (typeof b === 'function' ? b() : b)));
    this.execute(k, this.plan.steps.length);
    return this.graph.outputs!.map((t, i) => {
      const out = this.readTensor(k, t, this.tensorAt(t.id));
      this.checkOutput(out, this.graph.outputs!.length > 1 ? `output ${i}` : 'output', bound);
      return out;
    });
  }

  /**
   * Run and time each layer (`runs` times, an integer 0..100000, after one untimed run), for the
   * per-layer profile. Returns the median time per layer.
   */
  profile(input: Tensor, runs = 10): LayerProfile[] {
    return guard('INVALID_INPUT', 'profile', () => {
      if (!(typeof runs === 'number' && Number.isInteger(runs) && runs >= 0 && runs <= MAX_PROFILE_RUNS)) {
        throw invalidOption(`runs must be an integer from 0 to ${MAX_PROFILE_RUNS}, got ${describeValue(runs)}`);
      }
      const k = this.live();
      if (this.graph.inputs!.length !== 1) throw invalidInput(`this model has ${this.graph.inputs!.length} inputs; profile runs models with one`);
      this.writeInput(k, input, this.graph.input, 'input');
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
        shape: opOutputs(s.op)[0].shape.slice(),
        macs: s.prepared?.macs ?? 0,
        ms: median(times[i]),
      }));
    });
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
    try {
      s.prepared.run(k.exports, this.pointers[i]);
    } catch (e) {
      // a trap is a bug of ours, never something to hand over raw
      throw asMobileNetError(e, 'INVALID_MODEL', `op ${i} (${s.ops.map((o) => o.op).join('+')})`);
    }
  }

  /**
   * Float outputs must be finite (see LoadOptions.allowNonFinite). `inputBound` is the largest
   * magnitude the input held: within the bound the model was checked for at load, an overflow
   * is the model's fault (INVALID_MODEL), beyond it the input's (INVALID_INPUT).
   */
  private checkOutput(t: Tensor, what: string, bound: number | (() => number)): void {
    if (this.allowNonFinite || !(t instanceof Float32Array)) return;
    for (let i = 0; i < t.length; i++) {
      const v = t[i];
      if (v - v === 0) continue;
      const inputBound = typeof bound === 'function' ? bound() : bound;
      const code: ErrorCode = inputBound <= FLOAT_INPUT_BOUND ? 'INVALID_MODEL' : 'INVALID_INPUT';
      throw new MobileNetError(
        code,
        `the model produced a non-finite ${what} (${v} at index ${i}): float32 overflowed inside the network` +
          (code === 'INVALID_MODEL' ? ' (its weights are too large)' : ` on input values up to ${inputBound}`) +
          '; load with allowNonFinite: true to get such outputs anyway',
      );
    }
  }

  protected live(): Kernels {
    if (!this.kernels) throw new MobileNetError('DISPOSED', 'this model was disposed');
    return this.kernels;
  }

  /**
   * Copies `input` into the arena: a real typed array of the model's dtype and length, read
   * through the intrinsic getters (subclasses and proxies cannot lie about it). Float inputs
   * are scanned once for NaN / Infinity (unless allowNonFinite). Returns the largest magnitude
   * (0 for integer inputs) for checkOutput.
   */
  private writeInput(k: Kernels, input: Tensor, t: TensorInfo, what: string): number | (() => number) {
    const n = sizeOf(t.shape);
    const want = t.dtype === 'float32' ? 'Float32Array' : t.dtype === 'uint8' ? 'Uint8Array' : 'Int8Array';
    const got = typedArrayName(input);
    const src = plainView(input, want);
    if (!src) {
      throw invalidInput(`${what} must be a ${want} (model input is ${t.dtype}[${t.shape.join(',')}]), got ${got ? `a ${got}` : describeValue(input)}`);
    }
    if (src.length !== n) {
      throw invalidInput(`${what} has ${src.length} elements but the model input ${t.dtype}[${t.shape.join(',')}] needs ${n}`);
    }
    const at = this.tensorAt(t.id);
    if (t.dtype === 'float32') {
      const dst = new Float32Array(k.memory.buffer, at, n);
      dst.set(src as Float32Array);
      if (this.allowNonFinite) return Infinity;
      // One branch-free pass (x * 0 is NaN exactly for NaN and +-Inf); the index and the input's
      // magnitude are only looked for when something is wrong.
      let acc = 0;
      // the caller's array scans faster than a view of wasm memory; a shared one could change
      // after the copy, so then the copy is scanned
      const s32 = typeof SharedArrayBuffer !== 'undefined' && (src as Float32Array).buffer instanceof SharedArrayBuffer ? dst : (src as Float32Array);
      for (let i = 0; i < n; i++) acc += s32[i] * 0;
      if (acc !== 0) {
        for (let i = 0; i < n; i++) {
          const v = dst[i];
          if (v - v !== 0) throw invalidInput(`${what}[${i}] is ${v}: inputs must be finite (load with allowNonFinite: true to run them anyway)`);
        }
      }
      const copy = src as Float32Array;
      return () => {
        let maxAbs = 0;
        for (let i = 0; i < copy.length; i++) maxAbs = Math.max(maxAbs, Math.abs(copy[i]));
        return maxAbs;
      };
    }
    if (t.dtype === 'uint8') {
      // the arena keeps uint8 shifted into int8 (see src/ops/types.ts)
      const dst = new Uint8Array(k.memory.buffer, at, n);
      // a native copy, then the flip four bytes at a time where the arena slot is 4-byte aligned:
      // a per-byte loop over 150 K pixels is several ms on a cold start's first (unoptimised) run
      dst.set(src as Uint8Array);
      const head = (4 - (at & 3)) & 3;
      if (n < head + 4) {
        for (let i = 0; i < n; i++) dst[i] ^= 0x80;
      } else {
        const words = new Uint32Array(k.memory.buffer, at + head, (n - head) >> 2);
        for (let i = 0; i < words.length; i++) words[i] ^= 0x80808080;
        for (let i = 0; i < head; i++) dst[i] ^= 0x80;
        for (let i = head + words.length * 4; i < n; i++) dst[i] ^= 0x80;
      }
    } else {
      new Int8Array(k.memory.buffer, at, n).set(src as Int8Array);
    }
    return 0;
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

/** .tflite bytes (any real typed array, DataView or ArrayBuffer) or a graph object, which planGraph validates. */
function toGraph(model: ModelSource): { graph: Graph; bytes?: Uint8Array } {
  const bytes = anyBytes(model);
  if (bytes) return { graph: readTflite(bytes), bytes };
  if (model !== null && typeof model === 'object' && !ArrayBuffer.isView(model) && 'ops' in model) return { graph: model as Graph };
  throw invalidModel(`model must be .tflite bytes (Uint8Array or ArrayBuffer) or a graph from buildMobileNetV1 / loadTfjsLayers, got ${describeValue(model)}`);
}

/** LoadOptions.packCache once the Node entry has turned true / a folder into a store */
function packStore(option: LoadOptions['packCache']): PackCacheStore | undefined {
  if (option === undefined || option === false) return undefined;
  if (typeof option === 'object') return option;
  throw invalidOption(`packCache: ${describeValue(option)} names a folder, which only the Node entry can use; pass a store (get / put)`);
}

/**
 * A float input's normalization, when the .tflite file's metadata gives it (integer inputs say
 * it in their quantization). Its reader is imported only for a float input: a page running a
 * uint8 model never downloads it (bench/size.mjs).
 */
async function fileNormalization(graph: Graph, bytes: Uint8Array | undefined): Promise<Normalization | undefined> {
  const input = graph.inputs?.[0] ?? graph.input;
  if (!bytes || input.dtype !== 'float32') return undefined;
  const { inputNormalization, readTfliteMetadata } = await import('./formats/tflite-metadata.js');
  return inputNormalization(readTfliteMetadata(bytes), input.shape[input.shape.length - 1]);
}

const MAX_PROFILE_RUNS = 100_000;
export const LOAD_OPTIONS = ['kernels', 'wasm', 'maxMemoryBytes', 'labels', 'allowNonFinite', 'packCache'] as const;
/** options of the Node entry (src/node.ts) that reach MobileNet.load with the rest: known, ignored here */
export const NODE_LOAD_OPTIONS = ['maxModelBytes'] as const;

/** options of classify / embed / probabilities: undefined means none; anything but an object is INVALID_OPTION */
function optionsObject<T extends object>(o: T | undefined, where: string): T {
  if (o === undefined) return {} as T;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw invalidOption(`${where} options must be an object, got ${describeValue(o)}`);
  return o;
}

/** Validates the load options and returns a snapshot of them (each read once: getters cannot change them later). */
function checkOptions(options: LoadOptions | undefined): LoadOptions {
  const o = optionsObject(options, 'load');
  const known = new Set<string>([...LOAD_OPTIONS, ...NODE_LOAD_OPTIONS]);
  for (const key of Object.keys(o)) if (!known.has(key)) throw invalidOption(`unknown option '${key}' (known: ${[...known].join(', ')})`);
  const snap: LoadOptions = {};
  for (const key of LOAD_OPTIONS) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined) (snap as Record<string, unknown>)[key] = v;
  }
  if (snap.maxMemoryBytes !== undefined && !(typeof snap.maxMemoryBytes === 'number' && Number.isFinite(snap.maxMemoryBytes) && snap.maxMemoryBytes > 0)) {
    throw invalidOption(`maxMemoryBytes must be a positive number, got ${describeValue(snap.maxMemoryBytes)}`);
  }
  if (snap.labels !== undefined) snap.labels = stringList(snap.labels);
  if (snap.allowNonFinite !== undefined && typeof snap.allowNonFinite !== 'boolean') {
    throw invalidOption(`allowNonFinite must be true or false, got ${describeValue(snap.allowNonFinite)}`);
  }
  const pc = snap.packCache;
  if (pc !== undefined && typeof pc !== 'boolean' && typeof pc !== 'string' && (pc === null || typeof pc !== 'object' || typeof pc.get !== 'function' || typeof pc.put !== 'function')) {
    throw invalidOption(`packCache must be a store with get and put (in Node also true or a folder), got ${describeValue(pc)}`);
  }
  if (snap.wasm !== undefined && snap.wasm !== null && typeof snap.wasm !== 'object' && typeof snap.wasm !== 'function') {
    throw invalidOption(`wasm must be an object of kernel builds per flavour or a function, got ${describeValue(snap.wasm)}`);
  }
  return snap;
}

/**
 * The builds of an object of builds, each entry read once (a getter cannot change it later);
 * undefined when `wasm` is a function (every flavour counts as supplied) or not given.
 */
function suppliedBuilds(wasm: WasmSources | undefined): Partial<Record<Flavour, unknown>> | undefined {
  if (!wasm || typeof wasm === 'function') return undefined;
  const builds: Partial<Record<Flavour, unknown>> = {};
  for (const f of FLAVOURS) {
    let v: unknown;
    try {
      v = (wasm as Record<string, unknown>)[f];
    } catch (e) {
      throw asMobileNetError(e, 'INVALID_OPTION', `options.wasm.${f} could not be read`);
    }
    if (v !== undefined && v !== null) builds[f] = v;
  }
  return builds;
}

let imagenet1000: readonly string[] | undefined;

/** the built-in ImageNet names for 1001- and 1000-class models (as alignLabels fits them); undefined otherwise */
function builtinLabels(classes: number): readonly string[] | undefined {
  if (classes === IMAGENET_1001_SHORT.length) return IMAGENET_1001_SHORT;
  if (classes === IMAGENET_1001_SHORT.length - 1) return (imagenet1000 ??= Object.freeze(IMAGENET_1001_SHORT.slice(1)));
  return undefined;
}

async function wasmFor(wasm: WasmSources | undefined, builds: Partial<Record<Flavour, unknown>> | undefined, flavour: Flavour, sets: readonly KernelSet[]): Promise<KernelSource> {
  const file = buildFileName(flavour, sets);
  let src: KernelLocation | undefined;
  try {
    if (!wasm) src = defaultKernelLocation(flavour, file);
    else src = typeof wasm === 'function' ? await wasm(flavour, file) : ((await builds?.[flavour]) as KernelLocation | undefined);
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    throw asMobileNetError(e, 'INVALID_OPTION', `options.wasm could not give the '${flavour}' build`);
  }
  if (!src) throw invalidOption(`options.wasm has no '${flavour}' build (${file})`);
  return resolveKernelLocation(src, flavour, file);
}

const compiledKernels = new WeakMap<object, Promise<WasmModule>>();
/** the package's own builds (options.wasm omitted), fetched and compiled once per file */
const compiledDefaults = new Map<string, Promise<WasmModule>>();

/**
 * @internal The kernel sets a model calls (src/runtime/kernel-sets.ts), read from its ops
 * without packing anything: what the worker API needs to pick the build before posting it.
 */
export function modelKernelSets(model: ModelSource): KernelSet[] {
  return guard('INVALID_MODEL', 'MobileNet.load', () => kernelSetsOf(toGraph(model).graph.ops));
}

/**
 * @internal The kernel build a load of a model with these kernel sets (modelKernelSets; default
 * both, the combined build) and options would run, as a compiled Module, for the worker API: the calling thread resolves and
 * compiles it once (the same source object compiles once per thread) and posts the Module,
 * which structured clone shares with the worker.
 */
export async function resolveKernelModule(options: LoadOptions | undefined, sets: readonly KernelSet[] = KERNEL_SETS): Promise<{ flavour: Flavour; module: WasmModule }> {
  return guardAsync('INVALID_OPTION', 'kernels', async () => {
    const opts = checkOptions(options);
    const builds = suppliedBuilds(opts.wasm);
    const flavour = chooseFlavour(opts.kernels ?? 'auto', builds && (Object.keys(builds) as Flavour[]));
    let module: WasmModule;
    if (opts.wasm === undefined) {
      const file = buildFileName(flavour, sets);
      let compiled = compiledDefaults.get(file);
      if (!compiled) {
        compiled = wasmFor(undefined, undefined, flavour, sets).then((src) => (src instanceof WebAssembly.Module ? src : compileKernelBytes(src, flavour)));
        // a failed fetch (offline) must not stick
        compiled.catch(() => compiledDefaults.delete(file));
        compiledDefaults.set(file, compiled);
      }
      module = await compiled;
    } else {
      const source = await wasmFor(opts.wasm, builds, flavour, sets);
      if (source instanceof WebAssembly.Module) module = source;
      else {
        let compiled = compiledKernels.get(source as object);
        if (!compiled) {
          compiled = compileKernelBytes(source, flavour);
          compiled.catch(() => compiledKernels.delete(source as object));
          compiledKernels.set(source as object, compiled);
        }
        module = await compiled;
      }
    }
    // a wrong build fails here, on the calling thread, with the file the model needs
    checkBuildHas(WebAssembly.Module.exports(module).map((e) => e.name), flavour, sets);
    return { flavour, module };
  });
}

async function compileKernelBytes(source: KernelSource, flavour: Flavour): Promise<WasmModule> {
  const bytes = anyBytes(source);
  if (!bytes) throw invalidOption(`options.wasm.${flavour} must be a WebAssembly.Module, an ArrayBuffer or a typed array, got ${describeValue(source)}`);
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw asMobileNetError(e, 'INVALID_OPTION', `cannot compile the ${flavour} kernels`);
  }
}

function simpleQuant(q: Quant | undefined) {
  return q ? { scale: q.scale[0], zeroPoint: q.zeroPoint[0] } : undefined;
}

/** a pool over all of H and W: the embedding layer */
function isGlobalPool(op: Op): boolean {
  if (op.op === 'mean') return op.input.shape.length === 4 && [...op.axes].sort().join(',') === '1,2';
  return op.op === 'average_pool2d' && op.output.shape[1] === 1 && op.output.shape[2] === 1;
}

function describeTensor(t: TensorInfo): TensorDescription {
  const d: TensorDescription = { name: t.name, shape: t.shape.slice(), dtype: t.dtype };
  const q = simpleQuant(t.quant);
  if (q) d.quant = q;
  return d;
}

/** what the model's outputs are (ModelInfo.task) */
function taskOf(graph: Graph): ModelInfo['task'] {
  const ops = graph.ops;
  if (ops.some((o) => o.op === 'detection_postprocess')) return 'detector';
  if ((graph.outputs?.length ?? 1) !== 1) return 'tensors';
  let lastPool = -1;
  ops.forEach((o, i) => { if (isGlobalPool(o)) lastPool = i; });
  const after = ops.slice(lastPool + 1);
  if (lastPool >= 0 && !after.some((o) => o.op === 'conv2d' || o.op === 'fully_connected' || o.op === 'softmax')) return 'features';
  const out = graph.output.shape;
  const vector = out.slice(0, -1).every((d) => d === 1) && out[out.length - 1] > 1;
  const head = ops.some((o) => o.op === 'softmax' || o.op === 'fully_connected') || (lastPool >= 0 && after.some((o) => o.op === 'conv2d'));
  return vector && head ? 'classifier' : 'tensors';
}

function describe(graph: Graph, plan: Plan, arena: ArenaLayout, kernels: Kernels): ModelInfo {
  const detector = graph.ops.find((o) => o.op === 'detection_postprocess');
  const convs = graph.ops.filter((o) => o.op === 'conv2d' || o.op === 'depthwise_conv2d');
  const stem = graph.ops.find((o) => o.op === 'conv2d');
  const looksLikeV1 = convs.length === 28 || convs.length === 27;
  const weighted = graph.ops.find((o) => 'filter' in o);
  const precision = (weighted && 'filter' in weighted ? weighted.filter.dtype : graph.input.dtype) as ModelInfo['precision'];
  return {
    alpha: looksLikeV1 && stem ? stem.output.shape[3] / 32 : undefined,
    resolution: graph.input.shape[1],
    precision,
    input: describeTensor(graph.input),
    output: describeTensor(graph.output),
    inputs: (graph.inputs ?? [graph.input]).map(describeTensor),
    outputs: (graph.outputs ?? [graph.output]).map(describeTensor),
    task: taskOf(graph),
    classes: detector ? detector.options.numClasses : graph.output.shape[graph.output.shape.length - 1],
    kernels: kernels.flavour,
    source: graph.source,
    macs: plan.macs,
    weightBytes: arena.constantBytes,
    maxActivationBytes: plan.maxActivationBytes,
    activationBytes: plan.activationBytes,
    memoryBytes: kernels.memory.buffer.byteLength,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : 0;
}
