/**
 * One thread of MobileNetPool (./pool.ts): its own model instance over the kernel Module the
 * pool compiled once and posted, and its own image decoding (decodeImageFile, under the same
 * limits as in-process), so decoding scales with the threads too.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MobileNet, type LoadOptions } from '../mobilenet.js';
import { decodeImageFile, decodeImage, type DecodeOptions } from '../image/decode-node.js';
import { asMobileNetError } from '../runtime/guard.js';
import type { PoolJob, PoolReply, PoolWorkerData } from './pool.js';

const port = parentPort;
if (!port) throw new Error('mobilenet-wasm: pool-worker-script.js runs only as a worker thread started by MobileNetPool');
const data = workerData as PoolWorkerData;
const ready = MobileNet.load(data.model, { ...(data.load as LoadOptions), kernels: data.flavour, wasm: { [data.flavour]: data.module } });

port.on('message', async (job: PoolJob) => {
  let reply: PoolReply;
  try {
    const net = await ready;
    const decode: DecodeOptions = { ...data.decode, name: job.name };
    const image = job.path !== undefined ? await decodeImageFile(job.path, decode) : await decodeImage(job.bytes!, decode);
    reply = { id: job.id, top: net.classify(image, job.options) };
  } catch (e) {
    const err = asMobileNetError(e, 'INVALID_IMAGE', job.name);
    reply = { id: job.id, error: { code: err.code, message: err.message } };
  }
  port.postMessage(reply);
});
