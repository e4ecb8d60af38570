/**
 * The Web Worker that MobileNetWorker starts in browsers (dist/worker/worker-script.js, also
 * exported as `mobilenet-wasm/worker/script` for bundlers that do not follow
 * `new Worker(new URL(...))`, such as esbuild: bundle it as its own entry and pass its URL).
 */
import { MobileNet, type ModelSource } from '../mobilenet.js';
import { readImage } from '../image/sources.js';
import { serve } from './serve.js';

interface WorkerScope {
  postMessage(message: unknown, transfer: unknown[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

serve(
  {
    post: (message, transfer) => scope.postMessage(message, transfer),
    listen: (handler) => scope.addEventListener('message', (event) => handler(event.data as Parameters<typeof handler>[0])),
  },
  { load: (model, options) => MobileNet.load(model as ModelSource, options), readImage },
);
