/**
 * The worker side of MobileNetWorker: holds one model and answers requests (src/worker/
 * protocol.ts). Shared by the Web Worker script and the worker_threads script, which differ only
 * in how they load a model and decode a Blob.
 */
import type { MobileNet } from '../mobilenet.js';
import { MobileNetError, invalidInput, invalidOption } from '../errors.js';
import { asMobileNetError } from '../runtime/guard.js';
import { readImageSync, sourceKind, type ImageBitmapLike, type ImageSource } from '../image/sources.js';
import type { RawImage } from '../image/types.js';
import { transferableBuffer, type Endpoint, type Request } from './protocol.js';

export interface WorkerHost {
  load(model: unknown, options: Record<string, unknown>): Promise<MobileNet>;
  /** pixels of a RawImage or a Blob (bitmaps are read here) */
  readImage(source: ImageSource): Promise<RawImage>;
}

export function serve(endpoint: Endpoint, host: WorkerHost): void {
  let net: MobileNet | undefined;
  let loading = false;

  const live = (): MobileNet => {
    if (!net) throw new MobileNetError('DISPOSED', 'no model is loaded in this worker');
    return net;
  };

  // a bitmap posted here is ours (a transfer or a clone): read it, then free it at once
  const readOne = async (image: unknown): Promise<RawImage> => {
    if (sourceKind(image) !== 'bitmap') return host.readImage(image as ImageSource);
    try {
      return readImageSync(image as ImageBitmapLike);
    } finally {
      (image as ImageBitmapLike).close();
    }
  };
  const readAll = (image: unknown) => (Array.isArray(image) ? Promise.all(image.map(readOne)) : readOne(image));

  async function answer(req: Request): Promise<{ value: unknown; transfer: unknown[] }> {
    switch (req.op) {
      case 'load': {
        if (net || loading) throw invalidOption('this worker already holds a model');
        loading = true;
        net = await host.load(req.model, req.options);
        return { value: net.info, transfer: [] };
      }
      case 'classify': {
        const model = live();
        const pixels = await readAll(req.image);
        return { value: model.classify(pixels as RawImage, req.options as object), transfer: [] };
      }
      case 'embed': {
        const model = live();
        const pixels = await readAll(req.image);
        const value = model.embed(pixels as RawImage, req.options as object);
        return { value, transfer: Array.isArray(value) ? value.flatMap(transferableBuffer) : transferableBuffer(value) };
      }
      case 'run': {
        const value = live().run(req.input as Float32Array);
        return { value, transfer: transferableBuffer(value) };
      }
      case 'detect': {
        const model = live();
        const pixels = await readOne(req.image);
        return { value: model.detect(pixels as RawImage, req.options as object), transfer: [] };
      }
      case 'runAll': {
        const value = live().runAll(req.inputs as Float32Array[]);
        return { value, transfer: value.flatMap(transferableBuffer) };
      }
      default:
        throw invalidInput(`unknown request ${JSON.stringify((req as { op?: unknown }).op)}`);
    }
  }

  endpoint.listen((req) => {
    answer(req).then(
      ({ value, transfer }) => endpoint.post({ id: req.id, ok: true, value }, transfer),
      (e) => {
        const err = asMobileNetError(e, 'INVALID_INPUT', `worker ${String(req?.op)}`);
        endpoint.post({ id: req.id, ok: false, code: err.code, message: err.message }, []);
      },
    );
  });
}
