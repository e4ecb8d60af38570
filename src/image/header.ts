/**
 * Reads an image file's format and pixel size from its first bytes, without decoding, so an
 * image can be refused (unknown format, zero size, too many pixels) before a decoder allocates
 * anything. Portable: browsers and edge functions can use it before createImageBitmap() too.
 */
import { invalidImage } from '../errors.js';
import { DEFAULT_MAX_DECODE_PIXELS, type ImageFormat } from './types.js';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** EXIF orientation 1-8 (JPEG only; 1 when absent). 5-8 swap width and height once applied. */
  orientation: number;
  /**
   * pixels a decoder allocates for: width * height, or for a GIF whose first frame is larger
   * than its logical screen, that frame's size (the decoder buffers the frame too)
   */
  pixels: number;
}

const EXPECTED = 'expected JPEG, PNG, BMP or GIF';

function fail(name: string | undefined, msg: string): never {
  throw invalidImage(name ? `${name}: ${msg}` : msg);
}

/** Names a few formats we do not read, for a clearer message. */
function otherFormat(b: Uint8Array): string | undefined {
  const ascii = (at: number, s: string) => b.length >= at + s.length && [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'WebP';
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*')) return 'TIFF';
  if (ascii(4, 'ftypavif')) return 'AVIF';
  if (ascii(4, 'ftyphei') || ascii(4, 'ftypmif1')) return 'HEIF/HEIC';
  if (b[0] === 0x00 && b[1] === 0x00 && b[2] === 0x01 && b[3] === 0x00) return 'ICO';
  if (ascii(0, '<svg') || ascii(0, '<?xml')) return 'SVG';
  return undefined;
}

/**
 * Identifies the format and reads width, height (and JPEG EXIF orientation). Throws
 * INVALID_IMAGE for empty or unknown data and for headers that are truncated or corrupt.
 * `name` (a file name) prefixes the messages.
 */
export function readImageHeader(bytes: Uint8Array, name?: string): ImageHeader {
  if (!(bytes instanceof Uint8Array)) fail(name, 'image data must be a Uint8Array');
  if (bytes.length === 0) fail(name, 'empty image data (0 bytes)');
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return readJpeg(b, name);
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) {
    return readPng(b, name);
  }
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return readBmp(b, name);
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) {
    return readGif(b, name);
  }
  const other = otherFormat(b);
  fail(name, other ? `${other} images are not supported: ${EXPECTED}` : `not an image: ${EXPECTED}`);
}

/**
 * readImageHeader() plus the limits a decoder needs: non-zero sizes and at most maxPixels
 * pixels (default 50 megapixels).
 */
export function checkImageHeader(bytes: Uint8Array, opts: { maxPixels?: number; name?: string } = {}): ImageHeader {
  const { name } = opts;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_DECODE_PIXELS;
  const h = readImageHeader(bytes, name);
  const fmt = h.format.toUpperCase();
  if (h.width === 0 || h.height === 0) fail(name, `${fmt} header says ${h.width} x ${h.height}: an image needs a non-zero size`);
  if (h.pixels > maxPixels) {
    const size = h.pixels === h.width * h.height ? `${h.width} x ${h.height}` : `${h.width} x ${h.height} with a larger first frame`;
    fail(
      name,
      `${fmt} image is ${size} (${(h.pixels / 1e6).toFixed(1)} megapixels), ` +
        `more than the limit of ${(maxPixels / 1e6).toFixed(1)} megapixels`,
    );
  }
  return h;
}

const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u32be = (b: Uint8Array, i: number) => ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const i32le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

function readJpeg(b: Uint8Array, name: string | undefined): ImageHeader {
  let orientation = 1;
  let i = 2;
  for (;;) {
    if (i >= b.length) fail(name, 'JPEG is truncated: it ends before its frame header (SOF)');
    if (b[i] !== 0xff) fail(name, `JPEG is corrupt: marker expected at byte ${i}`);
    while (i < b.length && b[i] === 0xff) i++; // fill bytes
    if (i >= b.length) fail(name, 'JPEG is truncated: it ends before its frame header (SOF)');
    const marker = b[i++];
    // Markers without a length field.
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9) fail(name, 'JPEG is corrupt: end of image before any frame header (SOF)');
    if (marker === 0xda) fail(name, 'JPEG is corrupt: scan data before the frame header (SOF)');
    if (i + 2 > b.length) fail(name, 'JPEG is truncated inside a segment header');
    const len = u16be(b, i);
    if (len < 2) fail(name, `JPEG is corrupt: segment length ${len} at byte ${i}`);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 7 > b.length) fail(name, 'JPEG is truncated inside its frame header');
      const height = u16be(b, i + 3), width = u16be(b, i + 5);
      return { format: 'jpeg', width, height, orientation, pixels: width * height };
    }
    if (marker === 0xe1) orientation = exifOrientation(b, i + 2, Math.min(b.length, i + len)) ?? orientation;
    i += len;
  }
}

/** Orientation tag (0x0112) of IFD0 in an APP1 "Exif\0\0" payload [start, end); undefined if absent or malformed. */
function exifOrientation(b: Uint8Array, start: number, end: number): number | undefined {
  if (end - start < 14) return undefined;
  if (b[start] !== 0x45 || b[start + 1] !== 0x78 || b[start + 2] !== 0x69 || b[start + 3] !== 0x66 || b[start + 4] !== 0 || b[start + 5] !== 0) {
    return undefined;
  }
  const tiff = start + 6;
  const little = b[tiff] === 0x49 && b[tiff + 1] === 0x49;
  if (!little && !(b[tiff] === 0x4d && b[tiff + 1] === 0x4d)) return undefined;
  const r16 = (at: number) => (little ? u16le(b, at) : u16be(b, at));
  const r32 = (at: number) => (little ? i32le(b, at) >>> 0 : u32be(b, at));
  if (r16(tiff + 2) !== 42) return undefined;
  const ifd = tiff + r32(tiff + 4);
  if (ifd + 2 > end) return undefined;
  const count = r16(ifd);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + 12 * k;
    if (e + 12 > end) return undefined;
    if (r16(e) === 0x0112) {
      const v = r16(e + 8);
      return v >= 1 && v <= 8 ? v : undefined;
    }
  }
  return undefined;
}

function readPng(b: Uint8Array, name: string | undefined): ImageHeader {
  if (b.length < 24) fail(name, 'PNG is truncated: it ends inside its IHDR header');
  if (b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) fail(name, 'PNG is corrupt: the first chunk is not IHDR');
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  if (width > 0x7fffffff || height > 0x7fffffff) fail(name, `PNG is corrupt: size ${width} x ${height} is out of range`);
  return { format: 'png', width, height, orientation: 1, pixels: width * height };
}

function readBmp(b: Uint8Array, name: string | undefined): ImageHeader {
  if (b.length < 26) fail(name, 'BMP is truncated: it ends inside its header');
  const dib = i32le(b, 14) >>> 0;
  if (dib === 12) {
    const width = u16le(b, 18), height = u16le(b, 20); // OS/2 BITMAPCOREHEADER
    return { format: 'bmp', width, height, orientation: 1, pixels: width * height };
  }
  if (dib < 16 || dib > 1024) fail(name, `BMP is corrupt: unknown header size ${dib}`);
  const width = i32le(b, 18);
  const height = i32le(b, 22); // negative: rows stored top-down
  if (width < 0 || height === -0x80000000) fail(name, `BMP is corrupt: size ${width} x ${height}`);
  return { format: 'bmp', width, height: Math.abs(height), orientation: 1, pixels: width * Math.abs(height) };
}

function readGif(b: Uint8Array, name: string | undefined): ImageHeader {
  if (b.length < 13) fail(name, 'GIF is truncated: it ends inside its screen descriptor');
  const width = u16le(b, 6);
  const height = u16le(b, 8);
  // The decoder also allocates for the first frame's own size, which may exceed the screen.
  const frame = firstGifFrame(b, name);
  return { format: 'gif', width, height, orientation: 1, pixels: Math.max(width * height, frame.width * frame.height) };
}

function firstGifFrame(b: Uint8Array, name: string | undefined): { width: number; height: number } {
  const packed = b[10];
  let i = 13 + (packed & 0x80 ? 3 << ((packed & 7) + 1) : 0);
  const truncated = () => fail(name, 'GIF is truncated: it ends before its first image');
  for (;;) {
    if (i >= b.length) truncated();
    const block = b[i];
    if (block === 0x2c) {
      if (i + 9 > b.length) truncated();
      return { width: u16le(b, i + 5), height: u16le(b, i + 7) };
    }
    if (block === 0x3b) fail(name, 'GIF has no image');
    if (block !== 0x21) fail(name, `GIF is corrupt: unknown block 0x${block.toString(16)} at byte ${i}`);
    i += 2; // introducer + label, then data sub-blocks up to a zero length
    for (;;) {
      if (i >= b.length) truncated();
      const size = b[i];
      i += size + 1;
      if (size === 0) break;
    }
  }
}
