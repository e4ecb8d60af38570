/**
 * Cloudflare Worker (ES module syntax): POST an image (JPEG, PNG or BMP) and get the top-5
 * ImageNet classes as JSON, with timings.
 *
 *   curl --data-binary @photo.jpg https://<worker>/
 *   -> { "top5": [{ "index": 282, "label": "tiger cat", "score": 0.52 }, ...],
 *        "image": { "format": "jpeg", "width": 1280, "height": 720, "decodedWidth": 320, ... },
 *        "timings": { "decodeMs": 3, "inferenceMs": 4, ... }, "model": { ... } }
 *
 * Workers refuse to compile WebAssembly from bytes, so every .wasm (the MobileNet kernels,
 * libjpeg-turbo, the PNG decoder) is imported as a module, which the platform compiles at
 * upload. The model is bundled (a data module: 0.25/128 is 0.47 MB), or, for the larger models
 * that do not fit a free-plan bundle, fetched once per isolate from MODEL_URL (through the
 * MODEL_FETCHER service binding when there is one) or read from an R2 bucket bound as MODELS
 * (key MODEL_KEY), and kept for the isolate's later requests.
 */
import { MobileNet, MobileNetError, createJpegDecoder, readImageHeader, type RawImage } from 'mobilenet-wasm/core';
import simdKernels from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';
import jpegWasm from '@cwasm/jpeg-turbo/jpeg-turbo.wasm';
import pngWasm from '@jsquash/png/codec/pkg/squoosh_png_bg.wasm';
import { init as initPng, decode as decodePng } from '@jsquash/png/decode.js';
import bmpFormat from '@jimp/js-bmp';
import bundledModel from './model.tflite';

/** What the worker reads from its environment (vars and bindings); all optional. */
interface Env {
  /** URL of a .tflite to use instead of the bundled model */
  MODEL_URL?: string;
  /** service binding used to fetch MODEL_URL (else the global fetch) */
  MODEL_FETCHER?: { fetch(url: string): Promise<Response> };
  /** R2 bucket holding models, read at MODEL_KEY */
  MODELS?: { get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null> };
  MODEL_KEY?: string;
  /** largest image accepted, in pixels (default 16 megapixels) */
  MAX_PIXELS?: string;
}

const MAX_BODY_BYTES = 20 * 2 ** 20;
const DEFAULT_MAX_PIXELS = 16_000_000;
const CROP_FRACTION = 0.875; // classify's default central crop

const jpeg = createJpegDecoder(jpegWasm);
const bmp = bmpFormat();
let pngReady: Promise<unknown> | undefined;

/** One model per isolate, loaded by the first request and shared by the later ones. */
let model: Promise<{ net: MobileNet; source: string; loadMs: number }> | undefined;

async function modelBytes(env: Env): Promise<{ bytes: Uint8Array; source: string }> {
  if (env.MODELS && env.MODEL_KEY) {
    const object = await env.MODELS.get(env.MODEL_KEY);
    if (!object) throw new MobileNetError('IO', `model ${env.MODEL_KEY} is not in the MODELS bucket`);
    return { bytes: new Uint8Array(await object.arrayBuffer()), source: `r2:${env.MODEL_KEY}` };
  }
  if (env.MODEL_URL) {
    const response = await (env.MODEL_FETCHER ? env.MODEL_FETCHER.fetch(env.MODEL_URL) : fetch(env.MODEL_URL));
    if (!response.ok) throw new MobileNetError('IO', `fetching ${env.MODEL_URL}: HTTP ${response.status}`);
    return { bytes: new Uint8Array(await response.arrayBuffer()), source: env.MODEL_URL };
  }
  return { bytes: new Uint8Array(bundledModel), source: 'bundled' };
}

function loadModel(env: Env) {
  model ??= (async () => {
    const t0 = Date.now();
    const { bytes, source } = await modelBytes(env);
    const net = await MobileNet.load(bytes, { wasm: { simd: simdKernels }, kernels: 'simd' });
    return { net, source, loadMs: Date.now() - t0 };
  })();
  // a failed load is retried by the next request rather than cached
  model.catch(() => (model = undefined));
  return model;
}

/**
 * The image's pixels: the header is read first, so a file claiming more than maxPixels is
 * refused before any decoder allocates; a large JPEG is decoded at 1/2, 1/4 or 1/8 scale while
 * the crop the model sees keeps at least its resolution.
 */
async function decode(bytes: Uint8Array, maxPixels: number, resolution: number): Promise<RawImage> {
  const header = readImageHeader(bytes, 'the image');
  if (header.width === 0 || header.height === 0) throw new MobileNetError('INVALID_IMAGE', `the image is ${header.width} x ${header.height}`);
  if (header.pixels > maxPixels) {
    throw new MobileNetError('INVALID_IMAGE', `the image is ${header.width} x ${header.height}, more than the limit of ${maxPixels} pixels`);
  }
  const side = Math.ceil(resolution / CROP_FRACTION);
  try {
    switch (header.format) {
      case 'jpeg':
        return jpeg.decode(bytes, { maxPixels, minDecodedSize: { width: side, height: side }, name: 'the image' });
      case 'png': {
        pngReady ??= initPng(pngWasm);
        await pngReady;
        const img = await decodePng(bytes);
        return { data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength), width: img.width, height: img.height, channels: 4 };
      }
      case 'bmp': {
        const img = bmp.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        return { data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength), width: img.width, height: img.height, channels: 4 };
      }
      default:
        throw new MobileNetError('INVALID_IMAGE', `${header.format.toUpperCase()} images are not supported here: send JPEG, PNG or BMP`);
    }
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    throw new MobileNetError('INVALID_IMAGE', `cannot decode the ${header.format.toUpperCase()} image (corrupt or truncated?): ${e instanceof Error ? e.message : String(e)}`);
  }
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/**
 * Milliseconds of CPU since `since`. Workers' clocks only move on I/O (a Spectre mitigation), so
 * a zero-delay timer is awaited first: its callback sees the time the work before it took.
 */
async function elapsed(since: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  return Date.now() - since;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== 'POST') return json({ error: 'POST the bytes of a JPEG, PNG or BMP image' }, 405);
    try {
      const { net, source, loadMs } = await loadModel(env);
      const length = Number(request.headers.get('content-length') ?? 0);
      if (length > MAX_BODY_BYTES) return json({ error: `the body is ${length} bytes, more than ${MAX_BODY_BYTES}`, code: 'INVALID_IMAGE' }, 413);
      const bytes = new Uint8Array(await request.arrayBuffer());
      if (bytes.length > MAX_BODY_BYTES) return json({ error: `the body is more than ${MAX_BODY_BYTES} bytes`, code: 'INVALID_IMAGE' }, 413);
      const maxPixels = Number(env.MAX_PIXELS ?? DEFAULT_MAX_PIXELS);
      let t = await elapsed(0);
      t = Date.now();
      const image = await decode(bytes, maxPixels, net.info.resolution);
      const decodeMs = await elapsed(t);
      t = Date.now();
      const top5 = net.classify(image, { topK: 5 });
      const inferenceMs = await elapsed(t);
      const header = readImageHeader(bytes);
      return json({
        top5,
        image: { format: header.format, width: header.width, height: header.height, decodedWidth: image.width, decodedHeight: image.height },
        timings: { decodeMs, inferenceMs, modelLoadMs: loadMs },
        model: { source, alpha: net.info.alpha, resolution: net.info.resolution, precision: net.info.precision, kernels: net.info.kernels },
      });
    } catch (e) {
      const code = e instanceof MobileNetError ? e.code : 'INTERNAL';
      const status = code === 'INVALID_IMAGE' || code === 'INVALID_INPUT' ? 400 : code === 'OUT_OF_MEMORY' ? 413 : 500;
      return json({ error: e instanceof Error ? e.message : String(e), code }, status);
    }
  },
};
