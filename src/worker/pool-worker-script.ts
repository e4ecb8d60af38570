/**
 * One thread of MobileNetPool (./pool.ts): its own model instance over the kernel Module the
 * pool compiled once and posted, and its own image decoding (decodeImageFile, under the same
 * limits as in-process), so decoding scales with the threads too.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MobileNet, type LoadOptions } from '../mobilenet.js';
import { decodeImageFile, decodeImage, minDecodedSizeFor, type DecodeOptions } from '../image/decode-node.js';
import { asMobileNetError } from '../runtime/guard.js';
import type { PoolJob, PoolReply, PoolWorkerData } from './pool.js';

const port = parentPort;
if (!port) throw new Error('mobilenet-wasm: pool-worker-script.js runs only as a worker thread started by MobileNetPool');
const data = workerData as PoolWorkerData;
const ready = MobileNet.load(data.model, { ...(data.load as LoadOptions), kernels: data.flavour, wasm: { [data.flavour]: data.module } });
// the pool waits for this before its first image: the model's info, or why it did not load
ready.then(
  (net) => port.postMessage({ id: 0, info: net.info } satisfies PoolReply),
  (e) => {
    const err = asMobileNetError(e, 'INVALID_MODEL', 'model');
    port.postMessage({ id: 0, error: { code: err.code, message: err.message } } satisfies PoolReply);
  },
);
// start the decoding thread and its JPEG decoder while the model loads, not on the first photo
const TINY_JPEG = Uint8Array.from(atob(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MBERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AABEIAAgACAMBEQACEQEDEQH/xAGiAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/2gAMAwEAAhEDEQA/ACgD/9k=',
), (c) => c.charCodeAt(0));
decodeImage(TINY_JPEG).catch(() => undefined);

port.on('message', async (job: PoolJob) => {
  let reply: PoolReply;
  try {
    const net = await ready;
    // by default a large JPEG decodes at reduced scale when the model still gets a pixel per input pixel
    const minDecodedSize = data.decode.minDecodedSize ?? minDecodedSizeFor(net.info.resolution, job.options);
    const decode: DecodeOptions = { ...data.decode, minDecodedSize, name: job.name };
    const image = job.path !== undefined ? await decodeImageFile(job.path, decode) : await decodeImage(job.bytes!, decode);
    reply = { id: job.id, top: net.classify(image, job.options) };
  } catch (e) {
    const err = asMobileNetError(e, 'INVALID_IMAGE', job.name);
    reply = { id: job.id, error: { code: err.code, message: err.message } };
  }
  port.postMessage(reply);
});
