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

export type WasmSources =
  | Partial<Record<Flavour, KernelSource | Promise<KernelSource>>>
  | ((flavour: Flavour) => KernelSource | Promise<KernelSource>);

export interface LoadOptions {
  /** which kernel build to run: 'auto' (default) picks SIMD when the engine has it, else scalar */
  kernels?: KernelChoice;
  /** with kernels 'auto', use the relaxed-SIMD build when the engine validates it (floats may then differ in the last bits between engines) */
  preferRelaxed?: boolean;
  /** the kernel builds: a Module or bytes per flavour, or a function returning one */
  wasm?: WasmSources;
  /** refuse models whose arena would exceed this (default 1 GiB) */
  maxMemoryBytes?: number;
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

  private constructor(graph: Graph, kernels: Kernels, plan: Plan, arena: ArenaLayout) {
    this.graph = graph;
    this.kernels = kernels;
    this.plan = plan;
    this.arena = arena;
    this.info = describe(graph, plan, arena, kernels);
  }

  static async load(model: ModelSource, options: LoadOptions = {}): Promise<MobileNet> {
    checkOptions(options);
    const graph = toGraph(model);
    const plan = planGraph(graph);
    const flavour = chooseFlavour(options.kernels ?? 'auto', options.preferRelaxed ?? false);
    const source = await wasmFor(options.wasm, flavour);
    const kernels = await instantiateKernels(source, flavour);
    const arena = layoutArena(
      plan.steps.map((s) => s.prepared?.constants ?? []),
      plan.maxActivationBytes,
      plan.scratchBytes,
    );
    reserve(kernels.memory, arena.end, options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY);
    const mem = new Uint8Array(kernels.memory.buffer);
    plan.steps.forEach((s, i) => s.prepared?.constants.forEach((c, j) => mem.set(c, arena.constantOffsets[i][j])));
    return new MobileNet(graph, kernels, plan, arena);
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
      op: s.op.op,
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
  const known = new Set(['kernels', 'preferRelaxed', 'wasm', 'maxMemoryBytes']);
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
    memoryBytes: kernels.memory.buffer.byteLength,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : 0;
}
