/**
 * `mobilenet-wasm/worker` in browsers and web workers: a model running in a Web Worker, with the
 * calls of MobileNet returning Promises. The kernel build is resolved and compiled here once
 * and posted as a WebAssembly.Module, which the worker instantiates without compiling again.
 */
import { modelKernelSets, resolveKernelModule, type LoadOptions, type ModelSource } from '../mobilenet.js';
import { invalidOption } from '../errors.js';
import { guardAsync } from '../runtime/guard.js';
import { describeValue } from '../runtime/typed.js';
import { WorkerModel, splitWorkerOption, type Channel, type ChannelEvents } from './client.js';

export type { WorkerCallOptions, WorkerClassifyOptions, WorkerEmbedOptions, WorkerDetectOptions } from './client.js';
export { WorkerModel } from './client.js';

/** a URL object (the member read here) */
export interface WorkerUrlLike {
  readonly href: string;
}

/** a Web Worker running this package's worker script (the members used here) */
export interface WorkerLike {
  postMessage(message: unknown, transfer: unknown[]): void;
  terminate(): void;
  addEventListener(type: string, listener: (event: { data?: unknown; message?: unknown; preventDefault?(): void }) => void): void;
}

export interface WorkerLoadOptions extends LoadOptions {
  /**
   * where the worker comes from. Default: the package's worker script beside this module,
   * `new Worker(new URL('./worker-script.js', import.meta.url), { type: 'module' })`, which
   * Vite and webpack 5 follow and bundle. Bundlers that do not (esbuild) need the script
   * bundled as its own entry (`mobilenet-wasm/worker/script`) and its URL passed here, or a
   * Worker already started from it. The worker is ended by dispose() either way.
   */
  worker?: string | WorkerUrlLike | WorkerLike;
}

const isWorker = (w: unknown): w is WorkerLike =>
  typeof w === 'object' && w !== null && typeof (w as WorkerLike).postMessage === 'function' && typeof (w as WorkerLike).addEventListener === 'function';

function startWorker(option: WorkerLoadOptions['worker']): { worker: WorkerLike; where: string } {
  if (isWorker(option)) return { worker: option, where: 'the Worker given as options.worker' };
  if (typeof Worker === 'undefined') throw invalidOption('this runtime has no Web Worker: load the model with MobileNet.load instead (in Node, mobilenet-wasm/worker uses worker_threads)');
  if (option === undefined) {
    // literal, so that Vite and webpack see it and bundle the worker script
    return { worker: new Worker(new URL('./worker-script.js', import.meta.url), { type: 'module' }), where: 'the packaged worker script' };
  }
  const url = typeof option === 'string' ? option : typeof option === 'object' && option !== null && typeof option.href === 'string' ? option.href : undefined;
  if (url === undefined) throw invalidOption(`options.worker must be the URL of the worker script (a string or URL) or a Worker, got ${describeValue(option)}`);
  return { worker: new Worker(url, { type: 'module' }), where: `the worker script ${url}` };
}

function connect(worker: WorkerLike, where: string, events: ChannelEvents): Channel {
  worker.addEventListener('message', (event) => events.reply(event.data as Parameters<ChannelEvents['reply']>[0]));
  worker.addEventListener('error', (event) => {
    event.preventDefault?.();
    const detail = typeof event.message === 'string' && event.message ? `: ${event.message}` : '';
    events.fail(
      `the model worker (${where}) failed${detail}. If its script did not load: bundlers other than Vite and webpack ` +
        "(esbuild) need 'mobilenet-wasm/worker/script' bundled as an entry of its own and its URL passed as options.worker",
    );
  });
  worker.addEventListener('messageerror', () => events.fail('a message from the model worker could not be read (messageerror)'));
  return { post: (message, transfer) => worker.postMessage(message, transfer), terminate: () => worker.terminate() };
}

/**
 * A model in a Web Worker: `const net = await MobileNetWorker.load(bytes, { wasm: { simd } })`,
 * then `await net.classify(img)`. Each instance has its own worker; dispose() ends it.
 */
export class MobileNetWorker extends WorkerModel {
  static load(model: ModelSource, options?: WorkerLoadOptions): Promise<MobileNetWorker> {
    return guardAsync('INVALID_MODEL', 'MobileNetWorker.load', async () => {
      const { worker: workerOption, load } = splitWorkerOption<WorkerLoadOptions['worker']>(options);
      // only the model's precision's build is fetched and posted
      const { flavour, module } = await resolveKernelModule(load, modelKernelSets(model));
      const { worker, where } = startWorker(workerOption);
      const net = new MobileNetWorker((events) => connect(worker, where, events));
      return net.start(model, { ...load, kernels: flavour, wasm: { [flavour]: module } });
    });
  }
}
