import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Jimp } from 'jimp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeImageFile } from '../../src/image/decode-node.js';
import { readImageHeader } from '../../src/image/header.js';
import { preprocess } from '../../src/image/preprocess.js';
import { SHARED_DIR, SHARED_MISSING } from '../helpers/kernels.js';
import { FAKE, withExifOrientation } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'mnw-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data: Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

/** RGBA test picture: R = x, G = y, B = constant, A = given. */
function picture(width: number, height: number, alpha: (x: number, y: number) => number = () => 255): InstanceType<typeof Jimp> {
  const img = new Jimp({ width, height, color: 0 });
  const d = img.bitmap.data;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) d.set([x * 7, y * 11, 90, alpha(x, y)], (y * width + x) * 4);
  return img;
}

const expectCode = async (p: Promise<unknown>, code: string, re: RegExp, label?: string) =>
  expect(p, label).rejects.toMatchObject({ name: 'MobileNetError', code, message: expect.stringMatching(re) });

describe('decodeImageFile', () => {
  it('decodes JPEG, PNG, BMP and GIF files to RGBA of the header size', async () => {
    for (const mime of ['image/jpeg', 'image/png', 'image/bmp', 'image/gif'] as const) {
      const bytes = new Uint8Array(await picture(33, 21).getBuffer(mime));
      const img = await decodeImageFile(file(`p.${mime.slice(6)}`, bytes));
      expect([img.width, img.height, img.channels, img.data.length]).toEqual([33, 21, 4, 33 * 21 * 4]);
      const header = readImageHeader(bytes);
      expect([header.width, header.height]).toEqual([33, 21]);
    }
  });

  it('keeps PNG and BMP pixels exactly', async () => {
    const src = picture(20, 12);
    for (const mime of ['image/png', 'image/bmp'] as const) {
      const img = await decodeImageFile(file(`exact.${mime.slice(6)}`, new Uint8Array(await src.getBuffer(mime))));
      expect(Buffer.from(img.data).equals(src.bitmap.data)).toBe(true);
    }
  });

  it('decodes a grayscale PNG to R = G = B with opaque alpha', async () => {
    const src = new Jimp({ width: 9, height: 5, color: 0 });
    for (let i = 0; i < 45; i++) src.bitmap.data.set([i * 5, i * 5, i * 5, 255], i * 4);
    const png = new Uint8Array(await src.getBuffer('image/png', { colorType: 0 }));
    expect(png[25]).toBe(0); // IHDR colour type: grayscale
    const img = await decodeImageFile(file('gray.png', png));
    for (let i = 0; i < 45; i++) expect(Array.from(img.data.subarray(i * 4, i * 4 + 4))).toEqual([i * 5, i * 5, i * 5, 255]);
  });

  it('keeps the colour of an RGBA PNG (alpha is not composited) and preprocess ignores alpha', async () => {
    const src = picture(24, 16, (x, y) => (x * 10 + y) % 256);
    const png = new Uint8Array(await src.getBuffer('image/png'));
    expect(png[25]).toBe(6); // IHDR colour type: RGBA
    const img = await decodeImageFile(file('rgba.png', png));
    expect(Buffer.from(img.data).equals(src.bitmap.data)).toBe(true);
    const opaque = { ...img, data: img.data.map((v, i) => (i % 4 === 3 ? 255 : v)) };
    const input = { name: 'input', shape: [1, 8, 8, 3], dtype: 'float32' as const };
    expect(preprocess(img, input)).toEqual(preprocess(opaque, input));
  });

  it('applies the EXIF orientation of a JPEG (6: rotate 90 degrees clockwise)', async () => {
    // left half red, right half blue; rotated clockwise the left half becomes the top
    const src = new Jimp({ width: 40, height: 20, color: 0 });
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) src.bitmap.data.set(x < 20 ? [255, 0, 0, 255] : [0, 0, 255, 255], (y * 40 + x) * 4);
    const jpeg = new Uint8Array(await src.getBuffer('image/jpeg'));
    const plain = await decodeImage(jpeg);
    expect([plain.width, plain.height]).toEqual([40, 20]);
    const rotated = await decodeImageFile(file('rotated.jpg', withExifOrientation(jpeg, 6)));
    expect([rotated.width, rotated.height]).toEqual([20, 40]);
    const at = (x: number, y: number) => Array.from(rotated.data.subarray((y * 20 + x) * 4, (y * 20 + x) * 4 + 3));
    for (const [x, y] of [[2, 2], [17, 15], [10, 5]]) expect(at(x, y)[0]).toBeGreaterThan(200), expect(at(x, y)[2]).toBeLessThan(50);
    for (const [x, y] of [[2, 37], [17, 25], [10, 30]]) expect(at(x, y)[2]).toBeGreaterThan(200), expect(at(x, y)[0]).toBeLessThan(50);
  });
});

describe('decode errors', () => {
  it('rejects headers claiming huge sizes before decoding', async () => {
    for (const [name, data] of [
      ['huge.png', FAKE.png(100000, 100000)],
      ['huge.jpg', FAKE.jpeg(65000, 65000)],
      ['huge.bmp', FAKE.bmp(100000, 100000)],
      ['huge.gif', FAKE.gif(65535, 65535)],
      ['bigframe.gif', FAKE.gif(8, 8, 65535, 65535)],
    ] as const) {
      await expectCode(decodeImageFile(file(name, data)), 'INVALID_IMAGE', new RegExp(`^${name.replace('.', '\\.')}: .*megapixels\\), more than the limit`));
    }
    await expectCode(decodeImage(FAKE.png(3000, 3000), { maxPixels: 1e6 }), 'INVALID_IMAGE', /limit of 1\.0 megapixels/);
  });

  it('rejects empty, unknown, truncated and corrupt files with the file name', async () => {
    const jpeg = new Uint8Array(await picture(64, 48).getBuffer('image/jpeg'));
    const png = new Uint8Array(await picture(64, 48).getBuffer('image/png'));
    const bmp = new Uint8Array(await picture(64, 48).getBuffer('image/bmp'));
    const gif = new Uint8Array(await picture(64, 48).getBuffer('image/gif'));
    let s = 99;
    const random = Uint8Array.from({ length: 4096 }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24));
    // Damage the first Huffman table (DHT): detectable, unlike damage inside entropy-coded data,
    // which every decoder turns into wrong pixels without noticing.
    const corrupt = jpeg.slice();
    const dht = jpeg.findIndex((v, i) => v === 0xff && jpeg[i + 1] === 0xc4);
    expect(dht).toBeGreaterThan(0);
    corrupt.fill(0xff, dht + 5, dht + 21);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty.jpg', new Uint8Array(0), /^empty\.jpg: empty image data/],
      ['random.bin', random, /^random\.bin: not an image: expected JPEG, PNG, BMP or GIF/],
      ['text.png', new TextEncoder().encode('<html>not a png</html>'), /^text\.png: not an image/],
      ['half.jpg', jpeg.subarray(0, jpeg.length >> 1), /^half\.jpg: cannot decode image\/jpeg/],
      ['half.png', png.subarray(0, png.length >> 1), /^half\.png: cannot decode image\/png/],
      ['half.bmp', bmp.subarray(0, bmp.length >> 1), /^half\.bmp: cannot decode image\/bmp/],
      ['header-only.png', png.subarray(0, 40), /^header-only\.png: cannot decode image\/png/],
      ['corrupt.jpg', corrupt, /^corrupt\.jpg: cannot decode image\/jpeg/],
    ];
    // a GIF cut inside its image data: the decoder must not hang
    cases.push(['half.gif', gif.subarray(0, gif.length >> 1), /^half\.gif: cannot decode image\/gif|./]);
    for (const [name, data, re] of cases) {
      const p = decodeImageFile(file(name, data));
      if (name === 'half.gif') {
        // omggif may return a partial first frame rather than fail; either way it returns promptly
        await p.then((img) => expect(img.width).toBe(64), (e) => expect(e).toMatchObject({ code: 'INVALID_IMAGE' }));
      } else {
        await expectCode(p, 'INVALID_IMAGE', re, name);
      }
    }
  });

  it('reports missing files and directories as IO errors', async () => {
    await expectCode(decodeImageFile(join(dir, 'nope.jpg')), 'IO', /cannot read image file .*nope\.jpg: ENOENT/);
    await expectCode(decodeImageFile(dir), 'IO', /is not a file/);
  });

  it('names bytes by format when no name is given, and checks maxPixels', async () => {
    const png = new Uint8Array(await picture(10, 10).getBuffer('image/png'));
    await expectCode(decodeImage(png.subarray(0, 60)), 'INVALID_IMAGE', /^PNG image: cannot decode/);
    await expectCode(decodeImage(png, { maxPixels: -1 }), 'INVALID_OPTION', /maxPixels/);
  });
});

const SAMPLES = SHARED_DIR ? join(SHARED_DIR, 'images', 'samples') : undefined;
describe.skipIf(!SAMPLES || !existsSync(SAMPLES))('shared sample photos', () => {
  const sizes: Array<[string, number, number]> = [
    ['grace_hopper.bmp', 512, 600],
    ['cat.bmp', 512, 341],
    ['coffee.jpg', 800, 800],
    ['cat_720p.jpg', 1280, 720],
    ['parrot.jpg', 512, 929],
  ];
  for (const [name, w, h] of sizes) {
    it(`${name} decodes to ${w} x ${h} and preprocesses`, async () => {
      const img = await decodeImageFile(join(SAMPLES!, name));
      expect([img.width, img.height, img.data.length]).toEqual([w, h, w * h * 4]);
      const x = preprocess(img, { name: 'input', shape: [1, 224, 224, 3], dtype: 'float32' }) as Float32Array;
      let min = Infinity, max = -Infinity;
      for (const v of x) (min = Math.min(min, v)), (max = Math.max(max, v));
      expect(min).toBeGreaterThanOrEqual(-1);
      expect(max).toBeLessThanOrEqual(1);
      expect(max - min).toBeGreaterThan(0.5); // a photo, not a blank frame
    });
  }
});
describe.skipIf(!!SAMPLES && existsSync(SAMPLES))('shared sample photos', () => {
  it('skipped', () => console.warn(SHARED_MISSING));
});
