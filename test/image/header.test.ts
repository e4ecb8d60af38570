import { Jimp } from 'jimp';
import { describe, expect, it } from 'vitest';
import { checkImageHeader, readImageHeader } from '../../src/image/header.js';
import { FAKE, be32, bytes, le16, le32, withExifOrientation } from './fixtures.js';

/** A small test picture in each format, made with jimp (no files). */
async function encode(mime: 'image/jpeg' | 'image/png' | 'image/bmp' | 'image/gif', width: number, height: number): Promise<Uint8Array> {
  const img = new Jimp({ width, height, color: 0x336699ff });
  for (let i = 0; i < img.bitmap.data.length; i += 4) img.bitmap.data[i] = (i / 4) % 256;
  return new Uint8Array(await img.getBuffer(mime));
}

const expectImageError = (fn: () => unknown, re: RegExp) =>
  expect(fn).toThrow(expect.objectContaining({ name: 'MobileNetError', code: 'INVALID_IMAGE', message: expect.stringMatching(re) }));

describe('readImageHeader on real files', () => {
  for (const [mime, format] of [
    ['image/jpeg', 'jpeg'],
    ['image/png', 'png'],
    ['image/bmp', 'bmp'],
    ['image/gif', 'gif'],
  ] as const) {
    it(`reads the size of a ${format} made by jimp`, async () => {
      for (const [w, h] of [
        [37, 23],
        [1, 300],
        [260, 2],
      ]) {
        const h0 = readImageHeader(await encode(mime, w, h));
        expect(h0).toEqual({ format, width: w, height: h, orientation: 1, pixels: w * h });
      }
    });
  }

  it('reads the EXIF orientation of a JPEG, in either byte order', async () => {
    const jpeg = await encode('image/jpeg', 40, 20);
    expect(readImageHeader(withExifOrientation(jpeg, 6)).orientation).toBe(6);
    expect(readImageHeader(withExifOrientation(jpeg, 3, false)).orientation).toBe(3);
    expect(readImageHeader(withExifOrientation(jpeg, 6)).width).toBe(40); // stored size, before rotation
  });

  it('reads top-down BMPs (negative height) as their absolute height', () => {
    expect(readImageHeader(FAKE.bmp(30, -20))).toMatchObject({ format: 'bmp', width: 30, height: 20 });
  });
});

describe('checkImageHeader limits', () => {
  it('rejects headers claiming 100000 x 100000 (or the JPEG / GIF maximum) before any decoding', () => {
    expectImageError(() => checkImageHeader(FAKE.png(100000, 100000)), /PNG image is 100000 x 100000 \(10000\.0 megapixels\), more than the limit of 50\.0/);
    expectImageError(() => checkImageHeader(FAKE.bmp(100000, 100000)), /BMP image is 100000 x 100000/);
    expectImageError(() => checkImageHeader(FAKE.jpeg(65000, 65000)), /JPEG image is 65000 x 65000/);
    expectImageError(() => checkImageHeader(FAKE.gif(65535, 65535)), /GIF image is 65535 x 65535/);
  });

  it('counts a GIF first frame larger than its screen', () => {
    expect(checkImageHeader(FAKE.gif(10, 10, 20, 30)).pixels).toBe(600);
    expectImageError(() => checkImageHeader(FAKE.gif(10, 10, 60000, 60000)), /larger first frame/);
  });

  it('honours maxPixels and a name, and accepts what fits', () => {
    expect(checkImageHeader(FAKE.png(1000, 1000), { maxPixels: 1e6 }).width).toBe(1000);
    expectImageError(() => checkImageHeader(FAKE.png(1000, 1001), { maxPixels: 1e6, name: 'big.png' }), /^big\.png: PNG image is 1000 x 1001/);
  });

  it('rejects zero sizes', () => {
    expectImageError(() => checkImageHeader(FAKE.png(0, 10)), /non-zero size/);
    expectImageError(() => checkImageHeader(FAKE.jpeg(10, 0)), /non-zero size/);
    expectImageError(() => checkImageHeader(FAKE.gif(0, 0, 0, 0)), /non-zero size/);
  });
});

describe('readImageHeader on bad data', () => {
  it('rejects empty data and unknown formats', () => {
    expectImageError(() => readImageHeader(new Uint8Array(0)), /empty/);
    expectImageError(() => readImageHeader(bytes('hello world')), /not an image: expected JPEG, PNG, BMP or GIF/);
    expectImageError(() => readImageHeader(bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 ')), /WebP images are not supported/);
    expectImageError(() => readImageHeader(bytes('II*', [0, 8, 0, 0, 0])), /TIFF/);
    expectImageError(() => readImageHeader('abc' as unknown as Uint8Array), /Uint8Array/);
  });

  it('rejects truncated and corrupt headers of every format', async () => {
    for (const [mime, re] of [
      ['image/jpeg', /JPEG is truncated/],
      ['image/png', /PNG is truncated/],
      ['image/bmp', /BMP is truncated/],
      ['image/gif', /GIF is truncated/],
    ] as const) {
      const full = await encode(mime, 16, 16);
      const cut = mime === 'image/jpeg' ? 30 : mime === 'image/gif' ? 12 : 20;
      expectImageError(() => readImageHeader(full.subarray(0, cut), 'x'), re);
    }
    expectImageError(() => readImageHeader(bytes([0xff, 0xd8, 0xff, 0xd9])), /end of image before any frame header/);
    expectImageError(() => readImageHeader(bytes([0xff, 0xd8, 0xff, 0xda, 0, 2])), /scan data before the frame header/);
    expectImageError(() => readImageHeader(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0x12, 0x34])), /marker expected/);
    expectImageError(() => readImageHeader(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 1])), /segment length 1/);
    expectImageError(() => readImageHeader(bytes([0x89], 'PNG', [13, 10, 26, 10], be32(13), 'IDAT', be32(1), be32(1))), /first chunk is not IHDR/);
    expectImageError(() => readImageHeader(bytes('BM', new Array(12).fill(0), le32(7), new Array(8).fill(0))), /unknown header size 7/);
    expectImageError(() => readImageHeader(bytes('GIF89a', le16(1), le16(1), [0, 0, 0, 0x3b])), /GIF has no image/);
    expectImageError(() => readImageHeader(bytes('GIF89a', le16(1), le16(1), [0, 0, 0, 0x99])), /unknown block/);
  });

  it('terminates on random bytes behind each signature', () => {
    let seed = 1;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24);
    const prefixes = [[0xff, 0xd8, 0xff], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0x42, 0x4d], [...bytes('GIF89a')]];
    for (let trial = 0; trial < 400; trial++) {
      const p = prefixes[trial % 4];
      const data = new Uint8Array(p.length + (trial % 97) + 1);
      data.set(p);
      for (let i = p.length; i < data.length; i++) data[i] = rand();
      try {
        const h = readImageHeader(data);
        expect(Number.isInteger(h.width) && Number.isInteger(h.height)).toBe(true);
      } catch (e) {
        expect(e).toMatchObject({ name: 'MobileNetError', code: 'INVALID_IMAGE' });
      }
    }
  });
});
