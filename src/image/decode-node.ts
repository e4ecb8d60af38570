/**
 * Image files -> RawImage in Node, with jimp (pure JS: JPEG, PNG, BMP, GIF).
 *
 * The header is read first (src/image/header.ts) so unknown formats, zero sizes and images
 * over the pixel limit are refused before jimp allocates anything. jimp 1.x applies the EXIF
 * orientation of JPEGs itself (core's attemptExifRotate), so a photo taken sideways comes
 * out upright, as a browser shows it. GIFs give their first frame. The result is always RGBA
 * (gray images replicated into RGB by the decoders); preprocess() ignores alpha.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { MobileNetError, invalidImage, invalidOption } from '../errors.js';
import { checkImageHeader } from './header.js';
import { DEFAULT_MAX_DECODE_PIXELS, type RawImage } from './types.js';

export interface DecodeOptions {
  /** refuse images with more pixels than this (default 50 megapixels) */
  maxPixels?: number;
  /** a name for messages (decodeImageFile passes the file name) */
  name?: string;
}

export type DecodedImage = RawImage & { data: Uint8Array; channels: 4 };

/** Files larger than this are refused before reading (a 50 MP 32-bit BMP is about 200 MB). */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

const MIME = { jpeg: 'image/jpeg', png: 'image/png', bmp: 'image/bmp', gif: 'image/gif' } as const;

type JimpClass = (typeof import('jimp'))['Jimp'];
let jimpPromise: Promise<JimpClass> | undefined;
// jimp takes ~300 ms to import: load it on first decode, not when the library loads.
const loadJimp = () => (jimpPromise ??= import('jimp').then((m) => m.Jimp));

/** Decodes JPEG, PNG, BMP or GIF bytes to RGBA. Throws INVALID_IMAGE naming the problem. */
export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_DECODE_PIXELS;
  if (!(typeof maxPixels === 'number' && maxPixels > 0)) throw invalidOption(`maxPixels must be a positive number, got ${String(maxPixels)}`);
  const { name } = opts;
  const header = checkImageHeader(bytes, { maxPixels, name });
  const label = name ?? `${header.format.toUpperCase()} image`;
  const Jimp = await loadJimp();
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let bitmap: { data: Uint8Array; width: number; height: number };
  try {
    const image = await Jimp.fromBuffer(buffer, {
      // jpeg-js has its own size guard (default 100 MP); keep it consistent with ours.
      'image/jpeg': { maxResolutionInMP: Math.ceil(maxPixels / 1e6) },
    });
    bitmap = image.bitmap;
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw invalidImage(`${label}: cannot decode ${MIME[header.format]} (corrupt or truncated?): ${why}`);
  }
  const { width, height, data } = bitmap;
  if (!(width > 0 && height > 0) || data.length !== width * height * 4) {
    throw invalidImage(`${label}: the decoder returned an inconsistent bitmap (${width} x ${height}, ${data.length} bytes)`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: 4 };
}

/** Reads and decodes an image file. Missing / unreadable files give an IO error. */
export async function decodeImageFile(path: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const name = opts.name ?? basename(path);
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
  return decodeImage(bytes, { ...opts, name });
}
