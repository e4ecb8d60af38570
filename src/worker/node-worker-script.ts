/**
 * The worker_threads script that the Node MobileNetWorker starts: the Node entry, so model
 * paths are read here and Blobs are decoded by its decoders.
 */
import { parentPort } from 'node:worker_threads';
import { loadModel, readImage, type NodeLoadOptions } from '../node.js';
import { serve } from './serve.js';

const port = parentPort;
if (!port) throw new Error('mobilenet-wasm: node-worker-script.js runs only as a worker thread started by MobileNetWorker');

serve(
  {
    post: (message, transfer) => port.postMessage(message, transfer as never[]),
    listen: (handler) => port.on('message', handler),
  },
  { load: (model, options) => loadModel(model as string, options as NodeLoadOptions), readImage },
);
