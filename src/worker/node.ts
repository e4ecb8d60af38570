/**
 * `mobilenet-wasm/worker` in Node: a model running in a worker_threads Worker, with the calls of
 * MobileNet returning Promises. The worker uses the Node entry (model paths, Blob decoding);
 * the kernel build is compiled here once per process and posted as a WebAssembly.Module.
 */
import { Worker } from 'node:worker_threads';
import { modelKernelSets, resolveKernelModule, type ModelSource } from '../mobilenet.js';
import { enableRelaxedSimd, nodeKernelModule, type NodeLoadOptions } from '../node.js';
import { invalidOption } from '../errors.js';
import { guardAsync } from '../runtime/guard.js';
import { describeValue } from '../runtime/typed.js';
import { WorkerModel, type Channel, type ChannelEvents } from './client.js';

export type { WorkerCallOptions, WorkerClassifyOptions, WorkerEmbedOptions } from './client.js';
export { WorkerModel } from './client.js';

function connect(events: ChannelEvents): Channel {
  // the thread inherits the process' flags, except --input-type, which Node refuses for a worker file
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const worker = new Worker(new URL('./node-worker-script.js', import.meta.url), { execArgv });
  worker.on('message', (message) => events.reply(message));
  worker.on('error', (e) => events.fail(`the model worker failed: ${e instanceof Error ? e.message : String(e)}`));
  worker.on('messageerror', () => events.fail('a message from the model worker could not be read (messageerror)'));
  worker.on('exit', (code) => events.fail(`the model worker exited (code ${code})`));
  return {
    post: (message, transfer) => worker.postMessage(message, transfer as never[]),
    terminate: () => void worker.terminate(),
    // an idle model does not keep the process alive; one with calls outstanding does
    busy: (busy) => (busy ? worker.ref() : worker.unref()),
  };
}

/**
 * A model in a worker thread: `const net = await MobileNetWorker.load('model.tflite')`, then
 * `await net.classify(image)`. Each instance has its own thread; dispose() ends it.
 */
export class MobileNetWorker extends WorkerModel {
  static load(model: string | ModelSource, options?: NodeLoadOptions): Promise<MobileNetWorker> {
    return guardAsync('INVALID_MODEL', 'MobileNetWorker.load', async () => {
      if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
        throw invalidOption(`load options must be an object, got ${describeValue(options)}`);
      }
      const load: NodeLoadOptions = { ...options };
      if (load.kernels === 'relaxed') enableRelaxedSimd();
      // a model given by path is read by the thread, which then picks its precision's build itself
      // (the Node entry's default), as loadModel in this thread would
      if (typeof model === 'string' && load.wasm === undefined) return new MobileNetWorker(connect).start(model, { ...load });
      const sets = typeof model === 'string' ? undefined : modelKernelSets(model);
      const { flavour, module } = await resolveKernelModule({ ...load, wasm: load.wasm ?? nodeKernelModule }, sets);
      const net = new MobileNetWorker(connect);
      return net.start(model, { ...load, kernels: flavour, wasm: { [flavour]: module } });
    });
  }
}
