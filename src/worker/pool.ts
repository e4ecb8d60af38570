/**
 * Every core of a server (Node): MobileNetPool runs one model in N worker threads, each with its
 * own model instance over one kernel Module compiled once in this thread, and each decoding its
 * own images. Files go in, results come back in input order; one bad image is reported as its
 * own error without stopping the rest.
 *
 *   const pool = await MobileNetPool.load('model.tflite', { jobs: 4 });
 *   const results = await pool.classifyFiles(paths, { topK: 5, onProgress: (done, total) => ... });
 *   await pool.dispose();
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism, cpus } from 'node:os';
import { modelKernelSets, resolveKernelModule, type Classification, type ClassifyOptions, type LoadOptions, type ModelInfo, type ModelSource } from '../mobilenet.js';
import { MobileNetError, invalidOption, type ErrorCode } from '../errors.js';
import { guardAsync } from '../runtime/guard.js';
import { describeValue } from '../runtime/typed.js';
import type { Flavour } from '../runtime/kernels.js';
import type { WasmModule } from '../wasm-types.js';
import type { DecodeOptions } from '../image/decode-node.js';
import { enableRelaxedSimd, nodeKernelModule, readModelFile, type NodeLoadOptions } from '../node.js';

export interface PoolOptions extends NodeLoadOptions {
  /** worker threads (default: the number of cores, os.availableParallelism()) */
  jobs?: number;
  /**
   * image decoding options of every thread (limits, minDecodedSize); `name` is set per image.
   * Without minDecodedSize, a large JPEG decodes at 1/2, 1/4 or 1/8 scale when the model still
   * gets a pixel per input pixel after the crop (minDecodedSizeFor), as the CLI does.
   */
  decode?: Omit<DecodeOptions, 'name'>;
}

export interface PoolClassifyOptions extends ClassifyOptions {
  /** called after each image, in completion order */
  onProgress?(done: number, total: number): void;
}

/** One image's outcome: its top classes, or the typed error that stopped it. */
export type PoolResult = { image: string; top: Classification[]; error?: undefined } | { image: string; top?: undefined; error: MobileNetError };

/** @internal what each thread is given */
export interface PoolWorkerData {
  model: ModelSource;
  module: WasmModule;
  flavour: Flavour;
  load: Pick<LoadOptions, 'labels' | 'maxMemoryBytes' | 'allowNonFinite'>;
  decode: Omit<DecodeOptions, 'name'>;
}
/** @internal a request: a file to decode and classify, or encoded bytes */
export interface PoolJob {
  id: number;
  name: string;
  path?: string;
  bytes?: Uint8Array;
  options: ClassifyOptions;
}
/** @internal */
export type PoolReply =
  | { id: number; top?: Classification[]; info?: ModelInfo; error?: undefined }
  | { id: number; top?: undefined; info?: undefined; error: { code: ErrorCode; message: string } };

interface Thread {
  worker: Worker;
  /** the model loaded in the thread: its info */
  ready: Promise<ModelInfo>;
  pending: Map<number, { resolve(top: Classification[]): void; reject(e: MobileNetError): void }>;
}

/** how many images each thread holds at once: one decoding while the other runs the model */
const IN_FLIGHT_PER_THREAD = 2;
const MAX_JOBS = 256;

export function defaultJobs(): number {
  try {
    return availableParallelism();
  } catch {
    return Math.max(1, cpus().length); // Node < 18.14
  }
}

export class MobileNetPool {
  readonly jobs: number;
  readonly info: ModelInfo;
  private readonly threads: Thread[];
  private nextId = 1;
  private disposed = false;

  private constructor(threads: Thread[], info: ModelInfo) {
    this.threads = threads;
    this.jobs = threads.length;
    this.info = info;
  }

  /** Loads the model once here (validating it and compiling the kernels), then starts the threads. */
  static load(model: string | ModelSource, options: PoolOptions = {}): Promise<MobileNetPool> {
    return guardAsync('INVALID_MODEL', 'MobileNetPool.load', async () => {
      if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidOption(`pool options must be an object, got ${describeValue(options)}`);
      const { jobs = defaultJobs(), decode = {}, maxModelBytes, ...load } = options;
      if (!(Number.isSafeInteger(jobs) && jobs >= 1 && jobs <= MAX_JOBS)) throw invalidOption(`jobs must be an integer from 1 to ${MAX_JOBS}, got ${describeValue(jobs)}`);
      if (decode === null || typeof decode !== 'object') throw invalidOption(`decode options must be an object, got ${describeValue(decode)}`);
      if (load.kernels === 'relaxed') enableRelaxedSimd();
      const source = typeof model === 'string' ? await readModelFile(model, { maxModelBytes }) : model;
      const { flavour, module } = await resolveKernelModule({ ...load, wasm: load.wasm ?? nodeKernelModule }, modelKernelSets(source));
      const data: PoolWorkerData = {
        model: source, module, flavour,
        load: { labels: load.labels, maxMemoryBytes: load.maxMemoryBytes, allowNonFinite: load.allowNonFinite },
        decode,
      };
      // the threads load the model side by side; each reports its info (or the model's error) first
      const threads = Array.from({ length: jobs }, () => startThread(data));
      let info: ModelInfo;
      try {
        info = (await Promise.all(threads.map((t) => t.ready)))[0];
      } catch (e) {
        await Promise.all(threads.map((t) => t.worker.terminate()));
        throw e;
      }
      return new MobileNetPool(threads, info);
    });
  }

  /** Classifies one image file (or encoded image bytes, named by `name`) on the least busy thread. */
  classify(image: string | Uint8Array, options: ClassifyOptions = {}, name?: string): Promise<Classification[]> {
    return guardAsync('INVALID_INPUT', 'MobileNetPool.classify', async () => {
      if (this.disposed) throw new MobileNetError('DISPOSED', 'this pool was disposed');
      const { topK, crop, cropFraction, inputRange, integerInput, normalization } = options ?? {};
      const opts = { topK, crop, cropFraction, inputRange, integerInput, normalization };
      const job: Omit<PoolJob, 'id'> =
        typeof image === 'string' ? { name: name ?? image, path: image, options: opts }
        : image instanceof Uint8Array ? { name: name ?? 'image', bytes: image, options: opts }
        : (() => { throw invalidOption(`image must be a file path or the bytes of an encoded image, got ${describeValue(image)}`); })();
      return this.send(job);
    });
  }

  /**
   * Classifies image files on all threads, at most two images per thread at a time; the results
   * come back in input order, each with its top classes or its error.
   */
  async classifyFiles(paths: readonly string[], options: PoolClassifyOptions = {}): Promise<PoolResult[]> {
    if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string')) throw invalidOption('classifyFiles takes an array of file paths');
    const { onProgress, ...classify } = options;
    const results: PoolResult[] = new Array(paths.length);
    let next = 0;
    let done = 0;
    const lane = async () => {
      while (next < paths.length) {
        const i = next++;
        try {
          results[i] = { image: paths[i], top: await this.classify(paths[i], classify) };
        } catch (e) {
          results[i] = { image: paths[i], error: e as MobileNetError };
          if ((e as MobileNetError).code === 'DISPOSED') throw e;
        }
        done++;
        onProgress?.(done, paths.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(paths.length, this.jobs * IN_FLIGHT_PER_THREAD) }, lane));
    return results;
  }

  /** Ends the threads; calls still outstanding are rejected with DISPOSED. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const gone = new MobileNetError('DISPOSED', 'the pool was disposed while this image was being classified');
    for (const t of this.threads) {
      for (const p of t.pending.values()) p.reject(gone);
      t.pending.clear();
    }
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private send(job: Omit<PoolJob, 'id'>): Promise<Classification[]> {
    // the thread with the fewest images outstanding
    const thread = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.ref();
      thread.worker.postMessage({ ...job, id } satisfies PoolJob);
    });
  }
}

/**
 * The thread's script: beside this file once compiled (dist/worker/); when this module runs from
 * the TypeScript sources (tests, tsx), the compiled copy in dist/.
 */
function threadScript(): URL {
  const beside = new URL('./pool-worker-script.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const compiled = new URL('../../dist/worker/pool-worker-script.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return compiled;
  throw new MobileNetError('IO', `the pool's thread script ${fileURLToPath(beside)} is missing: run \`npm run build:ts\``);
}

function startThread(data: PoolWorkerData): Thread {
  // the thread must not inherit --input-type or --eval (Node refuses to start it then)
  const worker = new Worker(threadScript(), { workerData: data, execArgv: [] });
  let loaded!: { resolve(info: ModelInfo): void; reject(e: MobileNetError): void };
  const ready = new Promise<ModelInfo>((resolve, reject) => (loaded = { resolve, reject }));
  ready.catch(() => undefined); // awaited by load(); a later failure must not be unhandled
  const thread: Thread = { worker, ready, pending: new Map() };
  const failAll = (message: string) => {
    // the thread is gone, as after dispose(); its images are reported, the other threads go on
    const err = new MobileNetError('DISPOSED', message);
    loaded.reject(err);
    for (const p of thread.pending.values()) p.reject(err);
    thread.pending.clear();
  };
  worker.on('message', (reply: PoolReply) => {
    if (reply.id === 0) {
      if (reply.error) loaded.reject(new MobileNetError(reply.error.code, reply.error.message));
      else loaded.resolve(reply.info!);
      return;
    }
    const p = thread.pending.get(reply.id);
    if (!p) return;
    thread.pending.delete(reply.id);
    if (thread.pending.size === 0) worker.unref(); // an idle pool does not keep the process alive
    if (reply.error) p.reject(new MobileNetError(reply.error.code, reply.error.message));
    else p.resolve(reply.top!);
  });
  worker.on('error', (e) => failAll(`a pool thread failed: ${e instanceof Error ? e.message : String(e)}`));
  worker.on('exit', (code) => failAll(`a pool thread exited (code ${code})`));
  // unref'd once the model is loaded (after the listeners, since adding a 'message' listener refs
  // the port again): an idle pool does not keep the process alive, a loading one must
  ready.then(() => { if (thread.pending.size === 0) worker.unref(); }, () => undefined);
  return thread;
}
