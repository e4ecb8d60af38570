/**
 * `mobilenet-wasm/tfjs-compat`: the shape of `@tensorflow-models/mobilenet` (v2.x) on this
 * runtime, for code migrating from it: `load({ version: 1, alpha })`, then `classify(img, topk = 3)`
 * -> Promise of `{ className, probability }[]`, `infer(img, embedding = false)` -> the 1000 logits
 * or the embedding, and `dispose()`. No tensors: infer resolves to a Float32Array.
 *
 * Logits are honest pre-softmax values: the .tflite files end in SOFTMAX, so the graph is split
 * in two at that op. The body (everything before it) gives the logits (dequantized for uint8
 * models); the head is the model's own SOFTMAX alone, run on the body's output tensor as is, so
 * classify's probabilities are bit-identical to MobileNet.classify's. Both halves share one
 * compiled kernel Module; the head's instance holds no weights.
 *
 * This file is the portable entry (browsers, workers, Deno); src/tfjs-compat-node.ts is the Node
 * one, which finds the kernel builds and reads model paths itself.
 */
import { MobileNetError, invalidOption } from './errors.js';
import { kernelSetsOf } from './runtime/kernel-sets.js';
import { MobileNet, resolveKernelModule, type Tensor, type WasmSources } from './mobilenet.js';
import type { Graph, TensorInfo } from './model/ir.js';
import { readTflite } from './formats/tflite.js';
import { preprocess, type PreprocessOptions } from './image/preprocess.js';
import type { ImageSource } from './image/sources.js';
import type { RawImage } from './image/types.js';
import type { KernelChoice } from './runtime/kernels.js';
import { guardAsync } from './runtime/guard.js';
import { IMAGENET_1001_SHORT } from './labels/imagenet.js';
import { describeValue } from './runtime/typed.js';
import { topK } from './labels.js';
import type { ModelFetchOptions, FetchedModel } from './weights/types.js';
import { fetchModelFile } from './weights/index.js';
import { downloadFile, type DownloadOptions } from './weights/download.js';
import { readImage } from './image/sources.js';
import type { WasmUrlLike } from './runtime/wasm-source.js';

export type MobileNetVersion = 1;
export type MobileNetAlpha = 0.25 | 0.5 | 0.75 | 1.0;

/** What load() takes: tfjs-models' ModelConfig, plus this runtime's own choices (all optional). */
export interface ModelConfig extends Omit<ModelFetchOptions, 'model'> {
  /** MobileNet version: 1 (the default). 2 is not available yet (UNSUPPORTED_MODEL). */
  version?: MobileNetVersion;
  /** width multiplier: 0.25, 0.5, 0.75 or 1.0 (default 1.0) */
  alpha?: MobileNetAlpha;
  /**
   * a .tflite file to load instead of the registry model (http(s) URL, or relative to the page;
   * in Node also a path or file: URL). TF.js graph models (model.json) are not read.
   */
  modelUrl?: string | WasmUrlLike;
  /** the real values pixel 0 and 255 map to, for a float model at modelUrl (default [-1, 1], as the TFLite models were trained) */
  inputRange?: [number, number];
  /** input resolution of the registry model: 128, 160, 192 or 224 (default 224, as tfjs-models) */
  resolution?: 128 | 160 | 192 | 224;
  /** the registry's uint8 model (4x smaller, ~3x faster) instead of the float one (default false, as tfjs-models ran float) */
  quantized?: boolean;
  /** kernel builds, as MobileNet.load takes them (default: the package's own; see LoadOptions.wasm) */
  wasm?: WasmSources;
  /** which kernel build to run (default 'auto') */
  kernels?: KernelChoice;
}

export interface ClassResult {
  className: string;
  probability: number;
}

/** The object load() resolves to, shaped like tfjs-models' MobileNet. */
export interface CompatMobileNet {
  /** '1.00', as tfjs-models reports it */
  readonly version: string;
  /** e.g. '1.00' or '0.25', as tfjs-models reports it ('' for a modelUrl model of unknown width) */
  readonly alpha: string;
  /** the model behind it (resolution, precision, kernels, ...), see MobileNet.info */
  readonly info: MobileNet['info'];
  /** the topk most likely ImageNet classes, best first, with the model's own probabilities */
  classify(img: ImageSource, topk?: number): Promise<ClassResult[]>;
  /** the 1000 ImageNet logits (background dropped), or with embedding true the pooled features (1024 * alpha) */
  infer(img: ImageSource, embedding?: boolean): Promise<Float32Array>;
  /** releases both wasm instances; later calls are DISPOSED */
  dispose(): void;
}

/** What an entry supplies: how to read images, model files and registry models, and its kernel default. */
export interface CompatHost {
  readImage(img: ImageSource): Promise<RawImage>;
  readModelUrl(url: string | WasmUrlLike, config: ModelConfig): Promise<Uint8Array>;
  fetchModelFile(options: ModelFetchOptions): Promise<FetchedModel>;
  defaultWasm: WasmSources | undefined;
  /** called before the kernels are resolved (Node sets its relaxed-SIMD flag here) */
  beforeKernels?(kernels: KernelChoice | undefined): void;
}

const ALPHAS: readonly number[] = [0.25, 0.5, 0.75, 1.0];
const RESOLUTIONS: readonly number[] = [128, 160, 192, 224];
const CONFIG_KEYS = [
  'version', 'alpha', 'modelUrl', 'inputRange', 'resolution', 'quantized', 'wasm', 'kernels',
  'baseUrl', 'archiveBase', 'cache', 'fetch', 'signal', 'timeoutMs', 'maxDownloadBytes', 'onProgress',
] as const;
const FETCH_KEYS = ['baseUrl', 'archiveBase', 'cache', 'fetch', 'signal', 'timeoutMs', 'maxDownloadBytes', 'onProgress'] as const;

/** The registry name tfjs-models' (version, alpha) stands for here, e.g. mobilenet_v1_1.0_224. */
export function registryName(alpha: MobileNetAlpha = 1.0, resolution = 224, quantized = false): string {
  return `mobilenet_v1_${alpha === 1 ? '1.0' : String(alpha)}_${resolution}${quantized ? '_quant' : ''}`;
}

function checkConfig(config: ModelConfig | undefined): ModelConfig {
  if (config === undefined) return {};
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw invalidOption(`load config must be an object such as { version: 1, alpha: 1.0 }, got ${describeValue(config)}`);
  const known = new Set<string>(CONFIG_KEYS);
  for (const key of Object.keys(config)) if (!known.has(key)) throw invalidOption(`unknown config key '${key}' (known: ${CONFIG_KEYS.join(', ')})`);
  const c: ModelConfig = { ...config };
  if (c.version !== undefined && c.version !== 1) {
    if ((c.version as number) === 2) throw new MobileNetError('UNSUPPORTED_MODEL', 'MobileNet v2 is not available yet: this runtime runs MobileNet v1 (version: 1)');
    throw invalidOption(`version must be 1, got ${describeValue(c.version)}`);
  }
  if (c.alpha !== undefined && !ALPHAS.includes(c.alpha)) throw invalidOption(`alpha must be 0.25, 0.5, 0.75 or 1.0, got ${describeValue(c.alpha)}`);
  if (c.resolution !== undefined && !RESOLUTIONS.includes(c.resolution)) throw invalidOption(`resolution must be 128, 160, 192 or 224, got ${describeValue(c.resolution)}`);
  if (c.quantized !== undefined && typeof c.quantized !== 'boolean') throw invalidOption(`quantized must be true or false, got ${describeValue(c.quantized)}`);
  if (c.modelUrl !== undefined && typeof c.modelUrl !== 'string' && typeof (c.modelUrl as WasmUrlLike)?.href !== 'string') {
    throw invalidOption(`modelUrl must be a URL (string or URL object) of a .tflite file, got ${describeValue(c.modelUrl)}`);
  }
  if (c.modelUrl !== undefined && (c.alpha !== undefined || c.resolution !== undefined || c.quantized !== undefined)) {
    throw invalidOption('give either modelUrl or alpha / resolution / quantized: the file at modelUrl decides those');
  }
  const r = c.inputRange;
  if (r !== undefined && !(Array.isArray(r) && r.length === 2 && r.every((v) => typeof v === 'number' && Number.isFinite(v)) && r[0] < r[1])) {
    throw invalidOption(`inputRange must be [min, max] with finite min < max, got ${describeValue(r)}`);
  }
  return c;
}

/** The graph before its final SOFTMAX, and that SOFTMAX alone. */
function splitAtSoftmax(graph: Graph): { body: Graph; head: Graph } {
  const last = graph.ops[graph.ops.length - 1];
  if (!last || last.op !== 'softmax') throw new MobileNetError('UNSUPPORTED_MODEL', `the model ends in ${last?.op ?? 'nothing'}, not a softmax: infer() has no logits to give`);
  return {
    body: { ...graph, ops: graph.ops.slice(0, -1), output: last.input },
    head: { ...graph, ops: [last], input: last.input },
  };
}

/** Integer tensor -> real values, per the tensor's quantization (float tensors pass through). */
function realValues(t: Tensor, quant: { scale: number; zeroPoint: number } | undefined, from = 0): Float32Array {
  const out = new Float32Array(t.length - from);
  const scale = t instanceof Float32Array ? 1 : quant?.scale ?? 1;
  const zp = t instanceof Float32Array ? 0 : quant?.zeroPoint ?? 0;
  for (let i = from; i < t.length; i++) out[i - from] = (t[i] - zp) * scale;
  return out;
}

/** load() for an entry: the portable one below, and the Node one in tfjs-compat-node.ts. */
export async function loadWithHost(config: ModelConfig | undefined, host: CompatHost): Promise<CompatMobileNet> {
  return guardAsync('INVALID_OPTION', 'load', async () => {
    const c = checkConfig(config);
    const fetchOptions: Partial<ModelFetchOptions> = {};
    for (const k of FETCH_KEYS) if (c[k] !== undefined) (fetchOptions as Record<string, unknown>)[k] = c[k];
    const bytes = c.modelUrl !== undefined
      ? await host.readModelUrl(c.modelUrl, c)
      : (await host.fetchModelFile({ ...fetchOptions, model: registryName(c.alpha, c.resolution, c.quantized) })).bytes;
    const { body, head } = splitAtSoftmax(readTflite(bytes));
    host.beforeKernels?.(c.kernels);
    // one compiled Module for both halves: a URL is fetched once, bytes compiled once
    // only the precision build the two halves run (a uint8 file: mobilenet-q8-<flavour>.wasm)
    const { flavour, module } = await resolveKernelModule({ wasm: c.wasm ?? host.defaultWasm, kernels: c.kernels }, kernelSetsOf([...body.ops, ...head.ops]));
    const wasm = { [flavour]: module };
    const bodyNet = await MobileNet.load(body, { wasm, kernels: flavour });
    const headNet = await MobileNet.load(head, { wasm, kernels: flavour });
    const preprocessOptions: PreprocessOptions = c.inputRange ? { inputRange: c.inputRange } : {};
    return new CompatModel(bodyNet, headNet, body.input, host, preprocessOptions, c.modelUrl === undefined ? c.alpha ?? 1.0 : bodyNet.info.alpha);
  });
}

class CompatModel implements CompatMobileNet {
  readonly version = '1.00';
  readonly alpha: string;
  /** the first output is 'background' in the 1001-class TFLite models; tfjs-models drops it */
  private readonly firstClass: number;

  constructor(
    private readonly body: MobileNet,
    private readonly head: MobileNet,
    private readonly input: TensorInfo,
    private readonly host: CompatHost,
    private readonly preprocessOptions: PreprocessOptions,
    alpha: number | undefined,
  ) {
    this.alpha = alpha === undefined ? '' : alpha.toFixed(2);
    this.firstClass = head.info.classes === 1001 ? 1 : 0;
  }

  get info(): MobileNet['info'] {
    return this.body.info;
  }

  /** the body's output tensor for an image: the logits in the model's own dtype */
  private async logitsTensor(img: ImageSource): Promise<Tensor> {
    const pixels = await this.host.readImage(img);
    return this.body.run(preprocess(pixels, this.input, this.preprocessOptions) as Tensor);
  }

  classify(img: ImageSource, topk = 3): Promise<ClassResult[]> {
    return guardAsync('INVALID_INPUT', 'classify', async () => {
      const classes = this.head.info.classes - this.firstClass;
      if (!(typeof topk === 'number' && Number.isInteger(topk) && topk >= 1)) throw invalidOption(`topk must be a positive integer, got ${describeValue(topk)}`);
      const probabilities = realValues(this.head.run(await this.logitsTensor(img)), this.head.info.output.quant, this.firstClass);
      return topK(probabilities, Math.min(topk, classes)).map(({ index, score }) => ({ className: this.className(index), probability: score }));
    });
  }

  infer(img: ImageSource, embedding = false): Promise<Float32Array> {
    return guardAsync('INVALID_INPUT', 'infer', async () => {
      if (typeof embedding !== 'boolean') throw invalidOption(`embedding must be true or false, got ${describeValue(embedding)}`);
      if (embedding) return this.body.embed(await this.host.readImage(img), this.preprocessOptions);
      return realValues(await this.logitsTensor(img), this.body.info.output.quant, this.firstClass);
    });
  }

  dispose(): void {
    this.body.dispose();
    this.head.dispose();
  }

  /** the ImageNet name of class i after the dropped background (1000 and 1001-class models), else its index */
  private className(i: number): string {
    const imagenet = this.head.info.classes === 1001 || this.head.info.classes === 1000;
    return imagenet ? IMAGENET_1001_SHORT[i + 1] : String(i);
  }
}

/** download options of a config, for a model file at modelUrl */
function downloadOptions(c: ModelConfig): DownloadOptions {
  return { fetch: c.fetch, signal: c.signal, timeoutMs: c.timeoutMs, maxDownloadBytes: c.maxDownloadBytes, onProgress: c.onProgress };
}

/** a .tflite at a URL, with the registry downloads' limits and typed errors */
export async function downloadModelUrl(url: string | WasmUrlLike, c: ModelConfig): Promise<Uint8Array> {
  return (await downloadFile(typeof url === 'string' ? url : url.href, downloadOptions(c))).bytes;
}

const CORE_HOST: CompatHost = {
  readImage,
  readModelUrl: downloadModelUrl,
  fetchModelFile,
  defaultWasm: undefined,
};

/**
 * Loads MobileNet v1 as `@tensorflow-models/mobilenet` does: `load()` or `load({ version: 1, alpha: 0.5 })`
 * takes the float 224 model of that width from the registry (cached; see ModelFetchOptions), or
 * `modelUrl` a .tflite of your own. The kernel build is the package's own unless `wasm` is given.
 */
export function load(config?: ModelConfig): Promise<CompatMobileNet> {
  return loadWithHost(config, CORE_HOST);
}
