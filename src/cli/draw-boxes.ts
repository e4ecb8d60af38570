/**
 * Detections drawn on the photo for `detect --out`: a coloured outline per box and a filled tag
 * above it (inside, when the box touches the top edge) reading "label 0.87", with jimp 1.x
 * (rectangles straight into the RGBA bitmap, text with its bundled Open Sans bitmap fonts).
 * Node only (reads and writes files).
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Jimp, loadFont, measureText, measureTextHeight } from 'jimp';
import { SANS_16_WHITE, SANS_32_WHITE } from 'jimp/fonts';
import { MobileNetError } from '../errors.js';
import type { RawImage } from '../image/types.js';
import { io } from './common.js';

/** What net.detect returns (src/mobilenet.ts): box in source-image pixels. */
export interface Detection {
  index: number;
  label?: string;
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

/** the image formats jimp writes that make sense for a photo with boxes */
export const OUT_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp'] as const;

/** distinct, readable under white text; a class keeps its colour across images */
const PALETTE: [number, number, number][] = [
  [230, 25, 75], [60, 140, 60], [0, 100, 200], [245, 130, 48], [145, 30, 180],
  [0, 128, 128], [200, 40, 200], [128, 0, 0], [90, 90, 0], [0, 0, 128],
];
export const colourFor = (classIndex: number): [number, number, number] => PALETTE[((classIndex % PALETTE.length) + PALETTE.length) % PALETTE.length];

type JimpImage = ReturnType<typeof Jimp.fromBitmap>;
type Font = Awaited<ReturnType<typeof loadFont>>;

/** fills [x0, x1) x [y0, y1), clipped to the image, opaque */
function fillRect(image: JimpImage, x0: number, y0: number, x1: number, y1: number, [r, g, b]: [number, number, number]): void {
  const { width, height, data } = image.bitmap;
  const xa = Math.max(0, Math.floor(x0));
  const xb = Math.min(width, Math.ceil(x1));
  const ya = Math.max(0, Math.floor(y0));
  const yb = Math.min(height, Math.ceil(y1));
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const i = (y * width + x) * 4;
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
      data[i + 3] = 255;
    }
  }
}

/** "label 0.87", or "#index 0.87" without labels */
export const tagText = (d: Detection): string => `${d.label ?? `#${d.index}`} ${d.score.toFixed(2)}`;

/**
 * Draws the detections on `image` in place. Boxes are clipped to the image; line width and
 * font grow with the image so tags stay readable on large photos.
 */
export function drawDetections(image: JimpImage, detections: readonly Detection[], font: Font): void {
  const { width, height } = image.bitmap;
  const line = Math.max(2, Math.round(Math.min(width, height) / 250));
  // lowest score first, so the best detection's tag ends up on top
  const order = [...detections].sort((a, b) => a.score - b.score);
  for (const d of order) {
    const colour = colourFor(d.index);
    const x0 = Math.max(0, Math.min(width, d.box.x));
    const y0 = Math.max(0, Math.min(height, d.box.y));
    const x1 = Math.max(0, Math.min(width, d.box.x + d.box.width));
    const y1 = Math.max(0, Math.min(height, d.box.y + d.box.height));
    if (!(x1 > x0 && y1 > y0)) continue;
    fillRect(image, x0, y0, x1, y0 + line, colour);
    fillRect(image, x0, y1 - line, x1, y1, colour);
    fillRect(image, x0, y0, x0 + line, y1, colour);
    fillRect(image, x1 - line, y0, x1, y1, colour);

    const text = tagText(d);
    const pad = 2;
    const tw = measureText(font, text) + 2 * pad;
    const th = measureTextHeight(font, text, tw + 1) + pad;
    // above the box if it fits, else just inside its top edge; never past the right edge
    const ty = y0 - th >= 0 ? y0 - th : y0;
    const tx = Math.max(0, Math.min(x0, width - tw));
    fillRect(image, tx, ty, tx + tw, ty + th, colour);
    image.print({ font, x: Math.round(tx + pad), y: Math.round(ty), text });
  }
}

/** the bundled white font that suits the image size */
export async function fontFor(width: number, height: number): Promise<Font> {
  return loadFont(Math.min(width, height) >= 900 ? SANS_32_WHITE : SANS_16_WHITE);
}

/** --out for the i-th of n images: FILE itself for one image, FILE's stem + "-<i+1>" + extension for several */
export function outPathFor(out: string, i: number, n: number): string {
  if (n === 1) return out;
  const ext = extname(out);
  return `${out.slice(0, out.length - ext.length)}-${i + 1}${ext}`;
}

/** checks --out's extension before any work is done */
export function checkOutPath(out: string): void {
  const ext = extname(out).toLowerCase();
  if (!(OUT_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new MobileNetError('INVALID_OPTION', `--out ${out}: the file name must end in ${OUT_EXTENSIONS.join(', ')} (the image format to write)`);
  }
}

/** RGBA copy of a decoded image (1 to 4 channels: grey, grey + alpha, RGB, RGBA) */
export function rgbaOf(raw: RawImage): Uint8Array {
  const { width, height } = raw;
  const n = width * height;
  const channels = raw.channels ?? Math.round(raw.data.length / n);
  if (!(channels >= 1 && channels <= 4) || raw.data.length < n * channels) {
    throw new MobileNetError('INVALID_IMAGE', `cannot draw on a ${width}x${height} image of ${raw.data.length} bytes (${channels} channels)`);
  }
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const grey = channels < 3;
    out[i * 4] = raw.data[s];
    out[i * 4 + 1] = raw.data[grey ? s : s + 1];
    out[i * 4 + 2] = raw.data[grey ? s : s + 2];
    out[i * 4 + 3] = channels === 2 ? raw.data[s + 1] : channels === 4 ? raw.data[s + 3] : 255;
  }
  return out;
}

/**
 * Draws the detections on the decoded photo (the pixels the detector saw, so boxes line up) and
 * writes `outPath` (format by extension). Returns the encoded bytes.
 */
export async function writeDetectionsImage(raw: RawImage, detections: readonly Detection[], outPath: string): Promise<Uint8Array> {
  checkOutPath(outPath);
  const image = Jimp.fromBitmap({ width: raw.width, height: raw.height, data: Buffer.from(rgbaOf(raw).buffer) });
  drawDetections(image, detections, await fontFor(raw.width, raw.height));
  const ext = extname(outPath).toLowerCase();
  const bytes = ext === '.png' ? await image.getBuffer('image/png') : ext === '.bmp' ? await image.getBuffer('image/bmp') : await image.getBuffer('image/jpeg', { quality: 90 });
  await io('write', outPath, () => writeFile(outPath, bytes), 'output image');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
