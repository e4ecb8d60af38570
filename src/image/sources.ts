/**
 * The images people have in a page or a worker (<img>, <canvas>, OffscreenCanvas, ImageBitmap,
 * <video>, VideoFrame, ImageData, Blob / File) as a RawImage. Portable: no Node built-ins, and no
 * DOM type is named or tested with instanceof (elements from another realm, an iframe, must pass,
 * and the published .d.ts must compile without the DOM lib): sources are told apart by the
 * members they have.
 *
 * Drawables are read by drawing them at their own size, unscaled, onto one scratch canvas and
 * calling getImageData, so the pixels reach the library's own crop and resize (src/image/
 * preprocess.ts) exactly as an ImageData of the same pixels would: the browser never resizes.
 */
import { invalidImage } from '../errors.js';
import { describeValue } from '../runtime/typed.js';
import { MAX_RAW_PIXELS, type RawImage } from './types.js';

/** an <img> element (HTMLImageElement) */
export interface ImageElementLike {
  readonly complete: boolean;
  readonly naturalWidth: number;
  readonly naturalHeight: number;
  readonly currentSrc?: string;
  decode?(): Promise<void>;
}

/** a <video> element (HTMLVideoElement): its current frame is read */
export interface VideoElementLike {
  readonly videoWidth: number;
  readonly videoHeight: number;
  /** HAVE_CURRENT_DATA (2) or more is needed */
  readonly readyState: number;
}

/** an HTMLCanvasElement or an OffscreenCanvas, whatever its context (2d, webgl, bitmaprenderer) */
export interface CanvasLike {
  readonly width: number;
  readonly height: number;
  getContext(contextId: string, options?: unknown): unknown;
}

/** an ImageBitmap (a closed one has width and height 0) */
export interface ImageBitmapLike {
  readonly width: number;
  readonly height: number;
  close(): void;
}

/** a WebCodecs VideoFrame, drawn at its display size */
export interface VideoFrameLike {
  readonly displayWidth: number;
  readonly displayHeight: number;
  readonly codedWidth: number;
  close(): void;
}

/** a Blob or File holding an encoded image (JPEG, PNG, BMP, GIF, WebP...): needs readImage() */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Everything classify / embed take (an ImageData is a RawImage); a Blob only through readImage(). */
export type ImageSource = RawImage | ImageElementLike | VideoElementLike | CanvasLike | ImageBitmapLike | VideoFrameLike | BlobLike;

export type SourceKind = 'raw' | 'blob' | 'img' | 'video' | 'videoframe' | 'canvas' | 'bitmap';

const has = (o: object, key: string) => key in o;
const isFn = (o: object, key: string) => typeof (o as Record<string, unknown>)[key] === 'function';

/** What kind of image `source` is, by its members; undefined when it is none of them. */
export function sourceKind(source: unknown): SourceKind | undefined {
  if (source === null || typeof source !== 'object') return undefined;
  if (isFn(source, 'arrayBuffer') && has(source, 'size') && has(source, 'type')) return 'blob';
  if (has(source, 'data')) return 'raw';
  if (has(source, 'naturalWidth')) return 'img';
  if (has(source, 'videoWidth')) return 'video';
  if (has(source, 'displayWidth') && has(source, 'codedWidth')) return 'videoframe';
  if (isFn(source, 'getContext')) return 'canvas';
  if (isFn(source, 'close') && has(source, 'width')) return 'bitmap';
  return undefined;
}

const NAMES: Record<Exclude<SourceKind, 'raw' | 'blob'>, string> = {
  img: 'the <img>',
  video: 'the <video>',
  videoframe: 'the VideoFrame',
  canvas: 'the canvas',
  bitmap: 'the ImageBitmap',
};

function srcOf(img: ImageElementLike): string {
  const src = typeof img.currentSrc === 'string' && img.currentSrc ? img.currentSrc : '';
  return src ? ` (${src.length > 120 ? src.slice(0, 120) + '...' : src})` : '';
}

/**
 * The pixel size of a drawable, checked: loaded, not empty, within MAX_RAW_PIXELS. Throws
 * INVALID_IMAGE saying what is wrong and what to do.
 */
export function drawableSize(source: object, kind: Exclude<SourceKind, 'raw' | 'blob'>): { width: number; height: number } {
  let width: number, height: number;
  const s = source as Record<string, unknown>;
  switch (kind) {
    case 'img': {
      const img = source as ImageElementLike;
      if (img.complete !== true) throw invalidImage(`the <img>${srcOf(img)} has not finished loading: wait for its load event or await img.decode() (or pass it to readImage, which waits)`);
      width = img.naturalWidth;
      height = img.naturalHeight;
      if (width === 0 || height === 0) throw invalidImage(`the <img>${srcOf(img)} has no image: its source is missing, failed to load or could not be decoded`);
      break;
    }
    case 'video': {
      const v = source as VideoElementLike;
      if (!(typeof v.readyState === 'number' && v.readyState >= 2)) {
        throw invalidImage(`the <video> has no current frame yet (readyState ${describeValue(v.readyState)}, needs 2 or more): wait for its 'loadeddata' event`);
      }
      width = v.videoWidth;
      height = v.videoHeight;
      break;
    }
    case 'videoframe':
      width = s.displayWidth as number;
      height = s.displayHeight as number;
      if (width === 0 || height === 0) throw invalidImage('the VideoFrame is closed or empty (0 x 0)');
      break;
    case 'bitmap':
      width = s.width as number;
      height = s.height as number;
      if (width === 0 || height === 0) throw invalidImage('the ImageBitmap is closed (close() or transferred) or empty: 0 x 0');
      break;
    case 'canvas':
      width = s.width as number;
      height = s.height as number;
      break;
  }
  if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0)) {
    throw invalidImage(`${NAMES[kind]} is ${describeValue(width)} x ${describeValue(height)} pixels: it has nothing to read`);
  }
  if (width * height > MAX_RAW_PIXELS) {
    throw invalidImage(`${NAMES[kind]} is ${width} x ${height} = ${width * height} pixels, more than the limit of ${MAX_RAW_PIXELS}`);
  }
  return { width, height };
}

interface Context2D {
  clearRect(x: number, y: number, w: number, h: number): void;
  drawImage(source: unknown, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray; width: number; height: number };
}
interface ScratchCanvas {
  width: number;
  height: number;
  getContext(id: '2d', options: { willReadFrequently: boolean }): Context2D | null;
}

/**
 * One scratch canvas, reused by every call (they are synchronous, so never interleaved): an
 * OffscreenCanvas where it exists (workers have no document), else a detached <canvas>.
 * willReadFrequently keeps it in CPU memory, so getImageData returns exactly what was drawn.
 */
let scratch: { canvas: ScratchCanvas; ctx: Context2D } | undefined;

function scratchContext(width: number, height: number): Context2D {
  if (!scratch) {
    const g = globalThis as { OffscreenCanvas?: new (w: number, h: number) => ScratchCanvas; document?: { createElement?(tag: string): unknown } };
    const canvas =
      typeof g.OffscreenCanvas === 'function'
        ? new g.OffscreenCanvas(width, height)
        : (g.document?.createElement?.('canvas') as ScratchCanvas | undefined);
    const ctx = canvas?.getContext('2d', { willReadFrequently: true });
    if (!canvas || !ctx) {
      throw invalidImage('reading pixels from an element needs a 2d canvas (OffscreenCanvas or document), which this runtime lacks: pass a RawImage / ImageData');
    }
    scratch = { canvas, ctx };
  }
  const { canvas, ctx } = scratch;
  // a resize clears the canvas; same size: clear it, so transparent source pixels stay transparent
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  } else {
    ctx.clearRect(0, 0, width, height);
  }
  return ctx;
}

export const errorName = (e: unknown) => (e !== null && typeof e === 'object' && typeof (e as Error).name === 'string' ? (e as Error).name : '');
export const errorText = (e: unknown) => (e instanceof Error || (e !== null && typeof e === 'object' && 'message' in e) ? String((e as Error).message) : String(e));

/** Draws a checked drawable unscaled and reads its RGBA pixels back (non-premultiplied, as canvases give them). */
function readDrawable(source: object, kind: Exclude<SourceKind, 'raw' | 'blob'>): RawImage {
  const { width, height } = drawableSize(source, kind);
  const ctx = scratchContext(width, height);
  try {
    ctx.drawImage(source, 0, 0);
  } catch (e) {
    // InvalidStateError: a broken image or a closed bitmap / frame the size checks did not catch
    throw invalidImage(`${NAMES[kind]} could not be drawn (${errorName(e) || 'error'}: ${errorText(e)})`);
  }
  let pixels: { data: Uint8ClampedArray; width: number; height: number };
  try {
    pixels = ctx.getImageData(0, 0, width, height);
  } catch (e) {
    if (errorName(e) === 'SecurityError') {
      // the scratch canvas is now tainted for good: drop it so later calls get a clean one
      scratch = undefined;
      throw taintedImage(NAMES[kind]);
    }
    throw invalidImage(`the pixels of ${NAMES[kind]} could not be read (${errorName(e) || 'error'}: ${errorText(e)})`);
  }
  return { data: pixels.data, width, height, channels: 4 };
}

/** the error for pixels from another origin (a tainted canvas, a non-origin-clean bitmap) */
export function taintedImage(name: string) {
  return invalidImage(
    `${name} holds pixels from another origin, which the browser does not let pages read (a tainted canvas): ` +
      "serve the image with CORS (Access-Control-Allow-Origin) and set img.crossOrigin = 'anonymous' before its src",
  );
}

const blobHint = 'a Blob or File must be decoded first: `net.classify(await readImage(blob))` (readImage is exported by mobilenet-wasm), or use the worker API, whose calls take Blobs';

/**
 * The pixels of any synchronous source: a RawImage or ImageData is returned as is (checked
 * later by preprocessing), a drawable is read through the scratch canvas. A Blob is refused
 * (INVALID_IMAGE naming readImage), and so is anything unknown.
 */
export function readImageSync(source: ImageSource): RawImage {
  const kind = sourceKind(source);
  if (kind === 'raw') return source as RawImage;
  if (kind === 'blob') throw invalidImage(blobHint);
  if (!kind) throw unknownSource(source);
  return readDrawable(source as object, kind);
}

export function unknownSource(source: unknown) {
  return invalidImage(
    `image must be an object: a RawImage / ImageData ({ data, width, height }), an <img>, <canvas>, OffscreenCanvas, ImageBitmap, <video>, VideoFrame or (through readImage) a Blob; got ${describeValue(source)}`,
  );
}

interface ImageBitmapFactory {
  (source: unknown, options?: { premultiplyAlpha?: string; colorSpaceConversion?: string }): Promise<ImageBitmapLike>;
}

/** the runtime's createImageBitmap, or INVALID_IMAGE saying why `what` needs it */
export function imageBitmapFactory(what: string): ImageBitmapFactory {
  const create = (globalThis as { createImageBitmap?: ImageBitmapFactory }).createImageBitmap;
  if (typeof create !== 'function') throw invalidImage(`this runtime has no createImageBitmap, which ${what} needs`);
  return create;
}

/** An <img> that is still loading, waited for (img.decode()); INVALID_IMAGE when it fails to load. */
export async function imageLoaded(img: ImageElementLike): Promise<void> {
  if (img.complete === true || typeof img.decode !== 'function') return;
  try {
    await img.decode();
  } catch (e) {
    throw invalidImage(`the <img>${srcOf(img)} could not be loaded or decoded (${errorName(e) || 'error'}: ${errorText(e)})`);
  }
}

/**
 * Decodes an encoded image Blob with the runtime's createImageBitmap (no premultiplication, no
 * colour-space conversion: the file's own values). INVALID_IMAGE when the runtime has none
 * (Node: use decodeImage of the Node entry) or the bytes do not decode.
 */
export async function decodeBlob(blob: BlobLike): Promise<RawImage> {
  const create = imageBitmapFactory("decoding a Blob (in Node, use readImage or decodeImage of the 'mobilenet-wasm' Node entry)");
  let bitmap: ImageBitmapLike;
  try {
    bitmap = await create(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (e) {
    throw invalidImage(`the Blob (${describeValue(blob.type) || 'no type'}, ${describeValue(blob.size)} bytes) could not be decoded as an image (${errorName(e) || 'error'}: ${errorText(e)})`);
  }
  try {
    return readDrawable(bitmap, 'bitmap');
  } finally {
    bitmap.close();
  }
}

/**
 * The pixels of any ImageSource, Blobs and Files included (decoded with createImageBitmap), as
 * a RawImage: `net.classify(await readImage(file))`. An <img> still loading is waited for
 * (img.decode()); everything else is read as readImageSync reads it.
 */
export async function readImage(source: ImageSource): Promise<RawImage> {
  const kind = sourceKind(source);
  if (kind === 'blob') return decodeBlob(source as BlobLike);
  if (kind === 'img') await imageLoaded(source as ImageElementLike);
  return readImageSync(source);
}
