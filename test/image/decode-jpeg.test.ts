/**
 * JPEGs through libjpeg-turbo (src/image/jpeg-turbo.ts): the EXIF orientations as jimp applies
 * them, DCT-domain downscaling (minDecodedSize) close to a full decode averaged down, and the
 * same decoder used directly with a compiled module, as the Workers example does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Jimp } from 'jimp';
import { describe, expect, it } from 'vitest';
import { decodeImage, minDecodedSizeFor } from '../../src/image/decode-node.js';
import { jpegTurbo } from '../../src/image/jpeg-turbo.js';
import { SHARED_DIR } from '../helpers/kernels.js';
import { withExifOrientation } from './fixtures.js';

const expectCode = async (p: Promise<unknown>, code: string, re: RegExp) =>
  expect(p).rejects.toMatchObject({ name: 'MobileNetError', code, message: expect.stringMatching(re) });

/** mean absolute difference of the RGB channels of two RGBA images of the same size */
function meanDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) if (i % 4 !== 3) sum += Math.abs(a[i] - b[i]);
  return sum / ((a.length / 4) * 3);
}

/** A smooth picture with four differently coloured quadrants, so any wrong flip or turn shows. */
async function quadrants(width: number, height: number): Promise<Uint8Array> {
  const img = new Jimp({ width, height, color: 0 });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const q = (x < width / 2 ? 0 : 1) + (y < height / 2 ? 0 : 2);
      img.bitmap.data.set([[230, 30, 30], [30, 230, 30], [30, 30, 230], [230, 230, 30]][q].concat(255), (y * width + x) * 4);
    }
  return new Uint8Array(await img.getBuffer('image/jpeg', { quality: 95 }));
}

describe('JPEG decoding with libjpeg-turbo', () => {
  it('applies each EXIF orientation 1-8 as jimp does', async () => {
    const jpeg = await quadrants(48, 32);
    for (let o = 1; o <= 8; o++) {
      const bytes = withExifOrientation(jpeg, o, o % 2 === 0);
      const ours = await decodeImage(bytes);
      const jimps = (await Jimp.fromBuffer(Buffer.from(bytes))).bitmap;
      expect([ours.width, ours.height], `orientation ${o}`).toEqual([jimps.width, jimps.height]);
      // two decoders (different IDCT and chroma upsampling): close, not equal
      expect(meanDiff(ours.data, new Uint8Array(jimps.data)), `orientation ${o}`).toBeLessThan(4);
    }
  });

  it('decodes at 1/2, 1/4, 1/8 scale only while the result stays at least minDecodedSize, as displayed', async () => {
    const jpeg = await quadrants(800, 400);
    const size = async (w: number, h: number, bytes = jpeg) => {
      const img = await decodeImage(bytes, { minDecodedSize: { width: w, height: h } });
      return [img.width, img.height];
    };
    expect(await size(800, 400)).toEqual([800, 400]);
    expect(await size(401, 10)).toEqual([800, 400]);
    expect(await size(400, 200)).toEqual([400, 200]);
    expect(await size(150, 150)).toEqual([400, 200]);
    expect(await size(150, 100)).toEqual([200, 100]);
    expect(await size(1, 1)).toEqual([100, 50]);
    // turned by EXIF orientation 6 the photo is 400 wide and 800 high: the size applies to that
    expect(await size(300, 10, withExifOrientation(jpeg, 6))).toEqual([400, 800]);
    expect(await size(100, 300, withExifOrientation(jpeg, 6))).toEqual([200, 400]);
    expect(await size(100, 200, withExifOrientation(jpeg, 6))).toEqual([100, 200]);
  });

  it('a 1/2-scale decode is close to the full decode averaged over 2x2 blocks', async () => {
    const photo = SHARED_DIR ? join(SHARED_DIR, 'images', 'samples', 'cat_720p.jpg') : '';
    const bytes = existsSync(photo) ? new Uint8Array(readFileSync(photo)) : await quadrants(640, 360);
    const full = await decodeImage(bytes);
    const half = await decodeImage(bytes, { minDecodedSize: { width: full.width >> 1, height: full.height >> 1 } });
    expect([half.width, half.height]).toEqual([full.width >> 1, full.height >> 1]);
    const averaged = new Uint8Array(half.data.length);
    for (let y = 0; y < half.height; y++)
      for (let x = 0; x < half.width; x++)
        for (let c = 0; c < 4; c++) {
          const at = (dx: number, dy: number) => full.data[((2 * y + dy) * full.width + 2 * x + dx) * 4 + c];
          averaged[(y * half.width + x) * 4 + c] = (at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) >> 2;
        }
    expect(meanDiff(half.data, averaged)).toBeLessThan(2.5);
  });

  it('minDecodedSizeFor covers the central crop, and minDecodedSize is checked', async () => {
    expect(minDecodedSizeFor(224)).toEqual({ width: 256, height: 256 });
    expect(minDecodedSizeFor(128)).toEqual({ width: 147, height: 147 });
    expect(minDecodedSizeFor(224, 1)).toEqual({ width: 224, height: 224 });
    expect(() => minDecodedSizeFor(0)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => minDecodedSizeFor(224, 1.5)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    const jpeg = await quadrants(16, 16);
    for (const bad of [null, 5, { width: 0, height: 10 }, { width: 10 }, { width: 1.5, height: 2 }]) {
      await expectCode(decodeImage(jpeg, { minDecodedSize: bad as never }), 'INVALID_OPTION', /minDecodedSize must be \{ width, height \}/);
    }
  });

  it('the portable decoder over a compiled module keeps serving after corrupt data', async () => {
    const wasm = new WebAssembly.Module(readFileSync(createRequire(import.meta.url).resolve('@cwasm/jpeg-turbo/jpeg-turbo.wasm')));
    const decoder = jpegTurbo(wasm);
    const jpeg = await quadrants(64, 48);
    const good = decoder.decode(jpeg);
    const broken = jpeg.slice();
    const dht = broken.findIndex((v, i) => v === 0xff && broken[i + 1] === 0xc4);
    broken.fill(0xff, dht + 5, dht + 21);
    for (const bad of [broken, jpeg.subarray(0, jpeg.length >> 1), Uint8Array.of(0xff, 0xd8, 0xff, 0, 1, 2)]) {
      expect(() => decoder.decode(bad)).toThrow(/JPEG|libjpeg/);
      const again = decoder.decode(jpeg);
      expect(Buffer.from(again.data).equals(Buffer.from(good.data))).toBe(true);
    }
  });
});
