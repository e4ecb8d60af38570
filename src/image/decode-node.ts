/**
 * Image files -> RawImage in Node, under a budget. JPEGs are decoded by libjpeg-turbo compiled to
 * WebAssembly (./jpeg-turbo.ts: several times faster than pure JS, and able to decode a large
 * photo at 1/2, 1/4 or 1/8 scale, option minDecodedSize); PNG, BMP and GIF, and any JPEG that
 * libjpeg-turbo refuses (CMYK), by jimp (pure JS).
 *
 * Untrusted images are decoded in one worker thread per process, never on the caller's thread:
 * - time: a decode that runs longer than `timeoutMs` is stopped by ending the worker (a pure-JS
 *   decoder cannot be interrupted any other way) and reported as INVALID_IMAGE; the next
 *   decode starts a fresh worker;
 * - memory: the header is read first (src/image/header.ts), so unknown formats, zero sizes and
 *   images over `maxPixels` are refused before anything is allocated, and so is an image whose
 *   estimated decoding footprint (measured bytes per pixel for each decoder, below) exceeds
 *   `maxMemoryBytes`; jpeg-js also counts its own allocations against the same limit, and the
 *   worker's JS heap is capped;
 * - output: whatever the decoders print (omggif writes warnings with console.log) is dropped
 *   inside the worker, whose stdout and stderr are not forwarded either, so nothing reaches the
 *   process' stdout.
 * GIFs get a bounded check of their LZW stream first (./gif-lzw.ts), because a corrupt stream
 * can send omggif into an endless loop; the time limit is the backstop for anything else.
 *
 * The EXIF orientation of JPEGs is applied (by ./jpeg-turbo.ts, or by jimp 1.x itself), so a
 * photo taken sideways comes out upright, as a browser shows it. GIFs give their first frame.
 * The result is always RGBA.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { MobileNetError, invalidImage, invalidOption } from '../errors.js';
import { checkImageHeader } from './header.js';
import { checkGifLzw, type GifFrameData } from './gif-lzw.js';
import { jpegTurbo } from './jpeg-turbo.js';
import { DEFAULT_MAX_DECODE_PIXELS, type ImageFormat, type RawImage } from './types.js';
import { DEFAULT_CROP_FRACTION, type PreprocessOptions } from './preprocess.js';

export interface DecodeOptions {
  /** refuse images with more pixels than this (default 50 megapixels) */
  maxPixels?: number;
  /**
   * refuse images whose decoding would need more memory than this, estimated from the header
   * before decoding (default 512 MiB: a 12-megapixel phone JPEG fits, a 16-megapixel one does not)
   */
  maxMemoryBytes?: number;
  /** stop a decode that takes longer than this many milliseconds (default 10000) */
  timeoutMs?: number;
  /** a name for messages (decodeImageFile passes the file name) */
  name?: string;
  /**
   * Decode a JPEG at 1/2, 1/4 or 1/8 of its size (in the DCT domain, several times faster) when
   * the result is still at least this big in both directions, as displayed. For a model with a
   * 224 x 224 input and the default central crop (87.5%), 256 x 256 keeps every pixel the model
   * sees at or above its resolution: see minDecodedSizeFor(). Omitted: full size. The pixels
   * differ from a full decode resized afterwards (bench/DECODE.md measures the accuracy effect).
   */
  minDecodedSize?: { width: number; height: number };
}

export type DecodedImage = RawImage & { data: Uint8Array; channels: 4 };

export const DEFAULT_DECODE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_DECODE_MEMORY = 512 * 2 ** 20;

/**
 * Peak bytes per pixel of each decoder (RSS growth while decoding, measured on 12-49 MP images:
 * jpeg-js 40, pngjs 19, BMP 9, omggif 7.5), rounded up. The file bytes come on top (copied once
 * into the worker).
 */
const DECODE_BYTES_PER_PIXEL: Record<ImageFormat, number> = { jpeg: 44, png: 24, bmp: 12, gif: 10 };

/** Files larger than this are refused before reading (a 50 MP 32-bit BMP is about 200 MB). */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

const MIME = { jpeg: 'image/jpeg', png: 'image/png', bmp: 'image/bmp', gif: 'image/gif' } as const;

/** Estimated peak memory of decoding an image of this format and size. */
export function estimateDecodeBytes(format: ImageFormat, pixels: number, fileBytes: number): number {
  return pixels * DECODE_BYTES_PER_PIXEL[format] + fileBytes;
}

/**
 * The smallest decoded size (minDecodedSize) at which a model with a `resolution` x `resolution`
 * input, after a central crop keeping `cropFraction` of each side, still gets at least one
 * decoded pixel per input pixel. The second argument may also be the classify/preprocess options
 * themselves ({ crop, cropFraction }: crop 'none' keeps the whole image).
 */
export function minDecodedSizeFor(resolution: number, crop: number | Pick<PreprocessOptions, 'crop' | 'cropFraction'> = DEFAULT_CROP_FRACTION): { width: number; height: number } {
  const cropFraction = typeof crop === 'number' ? crop : crop?.crop === 'none' ? 1 : (crop?.cropFraction ?? DEFAULT_CROP_FRACTION);
  if (!(Number.isSafeInteger(resolution) && resolution > 0)) throw invalidOption(`resolution must be a positive integer, got ${String(resolution)}`);
  if (!(typeof cropFraction === 'number' && cropFraction > 0 && cropFraction <= 1)) throw invalidOption(`cropFraction must be a number in (0, 1], got ${String(cropFraction)}`);
  // the crop box rounds its margins down, so it keeps at least cropFraction of each side
  const side = Math.ceil(resolution / cropFraction);
  return { width: side, height: side };
}

// The worker runs plain CommonJS (an eval'd script), so it works the same from dist/ and from
// the TypeScript sources under vitest; jimp and the libjpeg-turbo .wasm are resolved here and
// passed in by path, and the JPEG decoder (self-contained) is passed in as source text.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
// the decoders' warnings (omggif console.logs them) must not reach anyone's stdout
for (const k of ['log', 'info', 'warn', 'error', 'debug', 'trace']) console[k] = () => {};
process.stdout.write = process.stderr.write = () => true;
const { Jimp } = require(workerData.jimp);
const jpegTurbo = (${jpegTurbo.toString()});
let jpeg;
parentPort.on('message', async (job) => {
  let firstError;
  if (job.format === 'jpeg') {
    try {
      jpeg ??= jpegTurbo(new WebAssembly.Module(readFileSync(workerData.jpegWasm)));
      const { data, width, height } = jpeg.decode(job.bytes, { minDecodedSize: job.minDecodedSize, orientation: job.orientation });
      parentPort.postMessage({ id: job.id, data, width, height }, [data.buffer]);
      return;
    } catch (e) {
      // CMYK and the few other JPEGs libjpeg-turbo refuses get jimp's jpeg-js below
      firstError = e;
    }
  }
  try {
    const buffer = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
    const image = await Jimp.fromBuffer(buffer, { 'image/jpeg': job.jpeg });
    const { width, height } = image.bitmap;
    let data = image.bitmap.data;
    // transfer needs a buffer of its own (pooled or offset Buffers cannot be moved)
    if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = new Uint8Array(data);
    const out = new Uint8Array(data.buffer, 0, data.byteLength);
    parentPort.postMessage({ id: job.id, data: out, width, height }, [out.buffer]);
  } catch (e) {
    const error = firstError ?? e;
    parentPort.postMessage({ id: job.id, error: error && error.message ? String(error.message) : String(error) });
  }
});
parentPort.postMessage({ ready: true });
`;

interface Job {
  id: number;
  bytes: Uint8Array;
  format: ImageFormat;
  orientation: number;
  minDecodedSize: { width: number; height: number } | undefined;
  jpeg: { maxResolutionInMP: number; maxMemoryUsageInMB: number };
  label: string;
  mime: string;
  timeoutMs: number;
  resolve: (img: DecodedImage) => void;
  reject: (e: Error) => void;
}

type Reply = { ready: true } | { id: number; data: Uint8Array; width: number; height: number } | { id: number; error: string };

/**
 * One decoding worker, jobs one at a time in order. The worker is unref'd while idle, so it
 * never keeps a process alive; it is replaced after a time-out or a crash.
 */
class DecodeWorker {
  private worker: Worker | undefined;
  private ready = false;
  private queue: Job[] = [];
  private current: Job | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1;

  submit(job: Omit<Job, 'id'>): void {
    this.queue.push({ ...job, id: this.nextId++ });
    this.pump();
  }

  private start(): Worker {
    const require = createRequire(import.meta.url);
    const jimp = require.resolve('jimp');
    const jpegWasm = require.resolve('@cwasm/jpeg-turbo/jpeg-turbo.wasm');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { jimp, jpegWasm },
      // not forwarded to the process' own streams (and silenced inside the worker as well)
      stdout: true,
      stderr: true,
      // JS heap cap; the pixel buffers are typed arrays outside it, bounded by the header estimate
      resourceLimits: { maxOldGenerationSizeMb: 1024, maxYoungGenerationSizeMb: 64 },
    });
    worker.on('message', (m: Reply) => this.onMessage(worker, m));
    worker.on('error', (e) => this.onExit(worker, e));
    worker.on('exit', (code) => this.onExit(worker, new Error(`the decoder stopped (exit code ${code})`)));
    this.ready = false;
    return worker;
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) {
      if (!this.current && this.worker) this.worker.unref();
      return;
    }
    this.worker ??= this.start();
    this.worker.ref();
    if (!this.ready) return; // pump again on 'ready'
    const job = this.queue.shift()!;
    this.current = job;
    const { id, bytes, format, orientation, minDecodedSize, jpeg } = job;
    this.timer = setTimeout(() => this.timeout(job), job.timeoutMs);
    this.worker.postMessage({ id, bytes, format, orientation, minDecodedSize, jpeg }, [bytes.buffer as ArrayBuffer]); // ours (a private copy): moved, not copied
  }

  private onMessage(worker: Worker, m: Reply): void {
    if (worker !== this.worker) return;
    if ('ready' in m) {
      this.ready = true;
      this.pump();
      return;
    }
    const job = this.current;
    if (!job || job.id !== m.id) return;
    this.finish();
    if ('error' in m) {
      job.reject(invalidImage(`${job.label}: cannot decode ${job.mime} (corrupt or truncated?): ${m.error}`));
    } else if (!(m.width > 0 && m.height > 0) || m.data.length !== m.width * m.height * 4) {
      job.reject(invalidImage(`${job.label}: the decoder returned an inconsistent bitmap (${m.width} x ${m.height}, ${m.data.length} bytes)`));
    } else {
      job.resolve({ data: m.data, width: m.width, height: m.height, channels: 4 });
    }
    this.pump();
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.current = undefined;
  }

  private timeout(job: Job): void {
    if (this.current !== job) return;
    this.finish();
    this.kill();
    job.reject(invalidImage(`${job.label}: decoding took longer than ${job.timeoutMs} ms and was stopped (option timeoutMs)`));
    this.pump();
  }

  private kill(): void {
    const w = this.worker;
    this.worker = undefined;
    this.ready = false;
    if (w) void w.terminate();
  }

  private onExit(worker: Worker, e: Error): void {
    if (worker !== this.worker) return; // an old worker we ended ourselves
    this.worker = undefined;
    this.ready = false;
    const job = this.current;
    this.finish();
    if (job) {
      const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      job.reject(invalidImage(`${job.label}: ${oom ? 'decoding ran out of memory' : `the decoder failed: ${e.message}`}`));
    } else {
      // the worker failed before taking a job (jimp could not load): fail what waits, once
      for (const j of this.queue.splice(0)) j.reject(new MobileNetError('IO', `cannot start the image decoder: ${e.message}`));
    }
    this.pump();
  }
}

let decoder: DecodeWorker | undefined;

function positive(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw invalidOption(`${name} must be a positive finite number, got ${String(v)}`);
  return v;
}

function checkOptions(opts: unknown): DecodeOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object') throw invalidOption(`decode options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  return opts as DecodeOptions;
}

function checkDecodedSize(size: unknown): { width: number; height: number } | undefined {
  if (size === undefined) return undefined;
  const { width, height } = (size ?? {}) as { width?: unknown; height?: unknown };
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  if (size === null || typeof size !== 'object' || !ok(width) || !ok(height)) {
    throw invalidOption(`minDecodedSize must be { width, height } with positive integers, got ${size === null ? 'null' : typeof size === 'object' ? `${String(width)} x ${String(height)}` : typeof size}`);
  }
  return { width, height };
}

/**
 * A private copy of the bytes (moved to the worker afterwards). The copy reads the array's own
 * internal length, so a subclass with a lying `length` or a Proxy cannot misreport its size.
 */
function ownBytes(bytes: unknown, name: string | undefined): Uint8Array {
  try {
    const tag = Object.prototype.toString.call(bytes);
    if (tag === '[object Uint8Array]' || tag === '[object Uint8ClampedArray]') return new Uint8Array(bytes as Uint8Array);
    if (tag === '[object ArrayBuffer]') return new Uint8Array((bytes as ArrayBuffer).slice(0));
  } catch {
    // a detached buffer: refused below
  }
  const got = bytes === null ? 'null' : Array.isArray(bytes) ? 'an array' : typeof bytes === 'object' ? 'another kind of object' : typeof bytes;
  throw invalidImage(`${name ? `${name}: ` : ''}image data must be a Uint8Array, got ${got}`);
}

/** The LZW check of ./gif-lzw.ts on the first frame, located by the decoder's own parser. */
function checkGif(data: Uint8Array, label: string): void {
  let frame: GifFrameData;
  try {
    // required here, not imported at the top: a CommonJS package costs ~10 ms of every import
    // of the Node entry (the ESM loader parses it for its exports), and GIFs are rare
    const { GifReader } = createRequire(import.meta.url)('omggif') as typeof import('omggif');
    const info = new GifReader(data).frameInfo(0);
    frame = { width: info.width, height: info.height, dataOffset: info.data_offset };
  } catch (e) {
    throw invalidImage(`${label}: cannot decode image/gif (corrupt or truncated?): ${e instanceof Error ? e.message : String(e)}`);
  }
  checkGifLzw(data, frame, label);
}

/**
 * Decodes JPEG, PNG, BMP or GIF bytes to RGBA, in a worker thread under the time and memory
 * limits of `opts`. Throws INVALID_IMAGE naming the problem, INVALID_OPTION for bad options.
 */
export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const o = checkOptions(opts);
  const maxPixels = positive('maxPixels', o.maxPixels, DEFAULT_MAX_DECODE_PIXELS);
  const maxMemoryBytes = positive('maxMemoryBytes', o.maxMemoryBytes, DEFAULT_MAX_DECODE_MEMORY);
  const timeoutMs = positive('timeoutMs', o.timeoutMs, DEFAULT_DECODE_TIMEOUT_MS);
  if (timeoutMs > 2 ** 31 - 1) throw invalidOption(`timeoutMs must be at most ${2 ** 31 - 1}, got ${timeoutMs}`);
  const name = o.name === undefined ? undefined : String(o.name);
  const data = ownBytes(bytes, name);
  const header = checkImageHeader(data, { maxPixels, name });
  const label = name ?? `${header.format.toUpperCase()} image`;
  const need = estimateDecodeBytes(header.format, header.pixels, data.byteLength);
  if (need > maxMemoryBytes) {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    throw invalidImage(
      `${label}: decoding this ${header.width} x ${header.height} ${header.format.toUpperCase()} needs about ${mib(need)}, ` +
        `more than the limit of ${mib(maxMemoryBytes)} (option maxMemoryBytes)`,
    );
  }
  if (header.format === 'gif') checkGif(data, label);
  const minDecodedSize = checkDecodedSize(o.minDecodedSize);
  const jpeg = { maxResolutionInMP: Math.ceil(maxPixels / 1e6), maxMemoryUsageInMB: Math.max(1, Math.floor(maxMemoryBytes / 2 ** 20)) };
  const { format, orientation } = header;
  return new Promise<DecodedImage>((resolve, reject) => {
    (decoder ??= new DecodeWorker()).submit({ bytes: data, format, orientation, minDecodedSize, jpeg, label, mime: MIME[format], timeoutMs, resolve, reject });
  });
}

/** Reads and decodes an image file. Missing / unreadable files give an IO error. */
export async function decodeImageFile(path: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  if (typeof path !== 'string' || path === '') throw invalidOption(`image path must be a non-empty string, got ${typeof path === 'string' ? "''" : typeof path}`);
  const o = checkOptions(opts);
  const name = o.name ?? basename(path);
  let bytes: Uint8Array;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new MobileNetError('IO', `${path} is not a file`);
    if (st.size > MAX_FILE_BYTES) {
      throw invalidImage(`${name}: file is ${(st.size / 2 ** 20).toFixed(0)} MiB, more than the ${MAX_FILE_BYTES / 2 ** 20} MiB an image may have`);
    }
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new MobileNetError('IO', `cannot read image file ${path}: ${code ?? (e as Error).message}`);
  }
  return decodeImage(bytes, { ...o, name });
}
