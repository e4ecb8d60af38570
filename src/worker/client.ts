/**
 * The calling side of the worker API, shared by the browser (Web Worker) and Node
 * (worker_threads) entries: every call is a request with an id (src/worker/protocol.ts), so
 * several can be outstanding, and errors come back as MobileNetError with the worker's code.
 * Portable: no Node built-ins, no DOM types.
 */
import { MobileNetError, invalidImage, invalidOption } from '../errors.js';
import { asMobileNetError, guardAsync } from '../runtime/guard.js';
import type { Classification, ClassifyOptions, Detection, DetectOptions, ModelInfo, Tensor } from '../mobilenet.js';
import type { PreprocessOptions } from '../image/preprocess.js';
import type { RawImage } from '../image/types.js';
import {
  drawableSize, errorName, errorText, imageBitmapFactory, imageLoaded, readImageSync, sourceKind, taintedImage, unknownSource,
  type ImageBitmapLike, type ImageElementLike, type ImageSource,
} from '../image/sources.js';
import { describeValue } from '../runtime/typed.js';
import { transferableBuffer, type Reply, type Request } from './protocol.js';

export interface WorkerCallOptions {
  /**
   * transfer the caller's buffers to the worker instead of copying them (default false): a
   * RawImage's or ImageData's pixel buffer, an ImageBitmap, a run() input. Transferring
   * detaches them: the caller's array becomes empty (length 0) and the bitmap closed.
   */
  transfer?: boolean;
}
export interface WorkerClassifyOptions extends ClassifyOptions, WorkerCallOptions {}
export interface WorkerEmbedOptions extends PreprocessOptions, WorkerCallOptions {}
export interface WorkerDetectOptions extends DetectOptions, WorkerCallOptions {}

/** How the client talks to its worker; the two entries wrap a Web Worker or a worker_threads Worker. */
export interface Channel {
  post(message: Request, transfer: unknown[]): void;
  terminate(): void;
  /** told whether calls are outstanding (Node: keep the process alive only while they are) */
  busy?(busy: boolean): void;
}

export interface ChannelEvents {
  reply(message: Reply): void;
  /** the worker failed (its script did not start, or it crashed or exited) */
  fail(message: string): void;
}

/** a request before its id is given */
type Outgoing = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

type Pending = { resolve(value: unknown): void; reject(error: unknown): void };

/**
 * Pixels to post: a canvas, video or VideoFrame becomes an ImageBitmap (read in the worker), an
 * <img> is read here; the caller's buffers and bitmaps move only on request.
 */
async function packImage(image: unknown, transfer: boolean, list: Set<unknown>, created: ImageBitmapLike[]): Promise<unknown> {
  const kind = sourceKind(image);
  switch (kind) {
    case undefined:
      throw unknownSource(image);
    case 'raw': {
      const raw = image as RawImage;
      if (transfer) transferableBuffer(raw.data).forEach((b) => list.add(b));
      return { data: raw.data, width: raw.width, height: raw.height, channels: raw.channels };
    }
    case 'blob':
      return image;
    case 'bitmap':
      drawableSize(image as object, kind);
      if (transfer) list.add(image);
      return image;
    case 'img': {
      // Chromium's createImageBitmap(<img>) copies on the calling thread and stalled it about twice
      // as long as drawing the decoded image here did (median 18 vs 10 ms, 75 vs 31 ms at 6x CPU
      // throttling): read it here and move the pixels, which are ours
      await imageLoaded(image as ImageElementLike);
      const raw = readImageSync(image as ImageElementLike);
      transferableBuffer(raw.data).forEach((b) => list.add(b));
      return raw;
    }
    default: {
      // a canvas, video or frame snapshot is cheap here (5 vs 8 ms for a <canvas>); read in the worker
      drawableSize(image as object, kind);
      const create = imageBitmapFactory('sending an element to a worker');
      try {
        const bitmap = await create(image);
        list.add(bitmap);
        created.push(bitmap);
        return bitmap;
      } catch (e) {
        throw invalidImage(`the ${kind} could not be copied into an ImageBitmap for the worker (${errorName(e) || 'error'}: ${errorText(e)})`);
      }
    }
  }
}

function callOptions<T extends WorkerCallOptions>(options: T | undefined, where: string): { transfer: boolean; rest: Omit<T, 'transfer'> } {
  if (options === undefined) return { transfer: false, rest: {} as Omit<T, 'transfer'> };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidOption(`${where} options must be an object, got ${describeValue(options)}`);
  const { transfer, ...rest } = options;
  if (transfer !== undefined && typeof transfer !== 'boolean') throw invalidOption(`transfer must be true or false, got ${describeValue(transfer)}`);
  return { transfer: transfer === true, rest };
}

/**
 * A model running in its own worker. Create one with MobileNetWorker.load of the browser or
 * Node entry (`mobilenet-wasm/worker`); every call returns a Promise.
 */
export class WorkerModel {
  /** the model's description, as MobileNet.info (kernels: the build the worker runs) */
  readonly info!: ModelInfo;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ended: MobileNetError | undefined;
  private readonly channel: Channel;

  /** @internal */
  protected constructor(connect: (events: ChannelEvents) => Channel) {
    this.channel = connect({
      reply: (message) => this.settle(message),
      fail: (message) => this.end(new MobileNetError('IO', message)),
    });
  }

  /** @internal loads the model in the worker; the entries' load() calls it */
  protected async start(model: unknown, options: Record<string, unknown>): Promise<this> {
    try {
      (this as { info: ModelInfo }).info = (await this.call({ op: 'load', model, options }, [])) as ModelInfo;
      return this;
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * Classify an image or a batch, as MobileNet.classify, in the worker. Takes every ImageSource,
   * Blobs and Files included (decoded in the worker). An element (<img>, <canvas>, <video>...)
   * is copied into an ImageBitmap here and read in the worker.
   */
  classify(image: ImageSource, options?: WorkerClassifyOptions): Promise<Classification[]>;
  classify(images: readonly ImageSource[], options?: WorkerClassifyOptions): Promise<Classification[][]>;
  classify(image: ImageSource | readonly ImageSource[], options?: WorkerClassifyOptions): Promise<Classification[] | Classification[][]> {
    return this.imageCall('classify', image, options) as Promise<Classification[] | Classification[][]>;
  }

  /** The pooled feature vector of an image or a batch, as MobileNet.embed, in the worker. */
  embed(image: ImageSource, options?: WorkerEmbedOptions): Promise<Float32Array>;
  embed(images: readonly ImageSource[], options?: WorkerEmbedOptions): Promise<Float32Array[]>;
  embed(image: ImageSource | readonly ImageSource[], options?: WorkerEmbedOptions): Promise<Float32Array | Float32Array[]> {
    return this.imageCall('embed', image, options) as Promise<Float32Array | Float32Array[]>;
  }

  /** Objects in an image, as MobileNet.detect (SSD detectors), in the worker. */
  detect(image: ImageSource, options?: WorkerDetectOptions): Promise<Detection[]> {
    return this.imageCall('detect', image, options) as Promise<Detection[]>;
  }

  /** Every output for every input, as MobileNet.runAll, in the worker. */
  runAll(inputs: readonly Tensor[], options?: WorkerCallOptions): Promise<Tensor[]> {
    return guardAsync('INVALID_INPUT', 'runAll', async () => {
      const { transfer } = callOptions(options, 'runAll');
      if (!Array.isArray(inputs)) throw invalidOption(`runAll takes an array of input tensors, got ${describeValue(inputs)}`);
      return (await this.call({ op: 'runAll', inputs }, transfer ? inputs.flatMap(transferableBuffer) : [])) as Tensor[];
    });
  }

  /** One inference on an input tensor, as MobileNet.run, in the worker. */
  run(input: Tensor, options?: WorkerCallOptions): Promise<Tensor> {
    return guardAsync('INVALID_INPUT', 'run', async () => {
      const { transfer } = callOptions(options, 'run');
      return (await this.call({ op: 'run', input }, transfer ? transferableBuffer(input) : [])) as Tensor;
    });
  }

  /**
   * Ends the worker at once, freeing the model's memory. Outstanding calls reject with a
   * MobileNetError of code DISPOSED, and so do later ones.
   */
  dispose(): void {
    this.end(new MobileNetError('DISPOSED', 'this MobileNetWorker was disposed: its worker has ended'));
  }

  private imageCall(op: 'classify' | 'embed' | 'detect', image: unknown, options: WorkerCallOptions | undefined): Promise<unknown> {
    return guardAsync('INVALID_INPUT', op, async () => {
      if (this.ended) throw this.ended;
      const { transfer, rest } = callOptions(options, op);
      const list = new Set<unknown>();
      const created: ImageBitmapLike[] = [];
      try {
        const packed = Array.isArray(image)
          ? await Promise.all(image.map((im) => packImage(im, transfer, list, created)))
          : await packImage(image, transfer, list, created);
        return await this.call({ op, image: packed, options: rest }, [...list]);
      } finally {
        // ours were transferred (closing a transferred bitmap does nothing) or never sent: free them now
        for (const bitmap of created) bitmap.close();
      }
    });
  }

  private call(request: Outgoing, transfer: unknown[]): Promise<unknown> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.channel.post({ ...request, id } as Request, transfer);
      } catch (e) {
        this.pending.delete(id);
        // DataCloneError: something in the call cannot be posted (a function, a class instance...),
        // or a bitmap of a cross-origin element, which Chromium refuses to transfer
        reject(
          /origin-clean/i.test(errorText(e))
            ? taintedImage(`the ${request.op === 'run' ? 'input' : 'image'}`)
            : asMobileNetError(e, 'INVALID_INPUT', `${request.op}: the arguments could not be sent to the worker`),
        );
        return;
      }
      if (this.pending.size === 1) this.channel.busy?.(true);
    });
  }

  private settle(message: Reply): void {
    const p = this.pending.get(message?.id);
    if (!p) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.channel.busy?.(false);
    if (message.ok) p.resolve(message.value);
    else p.reject(new MobileNetError(message.code, message.message));
  }

  private end(error: MobileNetError): void {
    if (this.ended) return;
    this.ended = error;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    try {
      this.channel.terminate();
    } catch {
      /* already gone */
    }
    for (const p of waiting) p.reject(error);
  }
}

/** Splits the worker's own option from the model's load options; kernels are resolved by the caller. */
export function splitWorkerOption<W>(options: unknown): { worker: W | undefined; load: Record<string, unknown> } {
  if (options === undefined) return { worker: undefined, load: {} };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidOption(`load options must be an object, got ${describeValue(options)}`);
  const { worker, ...load } = options as Record<string, unknown>;
  return { worker: worker as W | undefined, load };
}
