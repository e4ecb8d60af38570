// Element inputs (src/image/sources.ts) in Node, where the DOM is absent: the checks that need
// no browser (unloaded <img>, <video> without a frame, zero-size canvas, closed bitmap, huge
// sizes, Blobs on the synchronous path), and the drawing plumbing against a stand-in
// OffscreenCanvas that behaves as the browser's does (unscaled copy, DOMException on a closed
// source, a canvas tainted for good once a cross-origin source is drawn). The real browser
// paths are in test/browser/inputs.browser.test.ts.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readImage as readImageCore, readImageSync, MobileNet } from '../../src/index.js';
import { readImage as readImageNode, loadModel, decodeImageFile } from '../../src/node.js';
import { MAX_RAW_PIXELS, type RawImage } from '../../src/image/types.js';

const models = resolve(process.env.MOBILENET_WASM_MODELS ?? join(__dirname, '..', '..', '..', 'shared', 'models'));
const photo = join(models, '..', 'images', 'samples', 'grace_hopper.bmp');
const hasShared = existsSync(models);

/** A drawable stand-in: pixels it draws as, and the flags the browser keeps on real ones. */
class FakeSource {
  constructor(
    readonly width: number,
    readonly height: number,
    readonly pixels: Uint8ClampedArray,
    readonly crossOrigin = false,
  ) {}
  getContext() {
    return null;
  }
}

const calls: { op: string; args: unknown[] }[] = [];
let created = 0;

/** OffscreenCanvas as Chromium behaves for what sources.ts uses. */
class FakeOffscreenCanvas {
  private w: number;
  private h: number;
  data: Uint8ClampedArray;
  tainted = false;
  constructor(w: number, h: number) {
    created++;
    this.w = w;
    this.h = h;
    this.data = new Uint8ClampedArray(w * h * 4);
  }
  get width() { return this.w; }
  set width(v: number) { this.w = v; this.data = new Uint8ClampedArray(this.w * this.h * 4); }
  get height() { return this.h; }
  set height(v: number) { this.h = v; this.data = new Uint8ClampedArray(this.w * this.h * 4); }
  getContext(id: string, opts: { willReadFrequently?: boolean }) {
    calls.push({ op: 'getContext', args: [id, opts] });
    const canvas = this;
    return {
      clearRect() { canvas.data.fill(0); },
      drawImage(src: FakeSource | { width: number; height: number; close(): void }, x: number, y: number) {
        calls.push({ op: 'drawImage', args: [src, x, y, canvas.width, canvas.height] });
        if (!(src instanceof FakeSource) || src.width === 0) throw new DOMException('The image argument is a canvas element with a width or height of 0.', 'InvalidStateError');
        if (src.crossOrigin) canvas.tainted = true;
        canvas.data.set(src.pixels.subarray(0, canvas.data.length));
      },
      getImageData(x: number, y: number, w: number, h: number) {
        if (canvas.tainted) throw new DOMException('The canvas has been tainted by cross-origin data.', 'SecurityError');
        return { data: canvas.data.slice(0, w * h * 4), width: w, height: h };
      },
    };
  }
}

function gradient(width: number, height: number): Uint8ClampedArray {
  const px = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7 + (i >> 9)) & 255;
  for (let i = 3; i < px.length; i += 4) px[i] = 255;
  return px;
}

const g = globalThis as { OffscreenCanvas?: unknown };
afterEach(() => {
  delete g.OffscreenCanvas;
  calls.length = 0;
});

describe('element inputs: the checks before any pixel is read', () => {
  const bad = (source: unknown, pattern: RegExp) => {
    expect(() => readImageSync(source as never)).toThrow(expect.objectContaining({ name: 'MobileNetError', code: 'INVALID_IMAGE', message: expect.stringMatching(pattern) }));
  };

  it('an <img> still loading, and one whose source failed, are refused with what to do', () => {
    bad({ complete: false, naturalWidth: 0, naturalHeight: 0, currentSrc: 'http://x/a.jpg' }, /<img> \(http:\/\/x\/a\.jpg\) has not finished loading.*decode/);
    bad({ complete: true, naturalWidth: 0, naturalHeight: 0 }, /has no image: its source is missing, failed to load/);
  });

  it('a <video> without a current frame is refused until loadeddata', () => {
    bad({ videoWidth: 640, videoHeight: 480, readyState: 1 }, /no current frame yet \(readyState 1.*loadeddata/);
    bad({ videoWidth: 0, videoHeight: 0, readyState: 0 }, /no current frame/);
  });

  it('zero-size canvases, closed ImageBitmaps and VideoFrames are refused', () => {
    bad(new FakeSource(0, 0, new Uint8ClampedArray(0)), /the canvas is 0 x 0 pixels/);
    bad({ width: 0, height: 0, close() {} }, /ImageBitmap is closed/);
    bad({ displayWidth: 0, displayHeight: 0, codedWidth: 0, close() {} }, /VideoFrame is closed/);
  });

  it('sizes over MAX_RAW_PIXELS are refused before a canvas is made', () => {
    g.OffscreenCanvas = FakeOffscreenCanvas;
    const before = created;
    bad({ width: 2 ** 14, height: 2 ** 13, getContext: () => null }, new RegExp(`more than the limit of ${MAX_RAW_PIXELS}`));
    expect(created).toBe(before);
  });

  it('a Blob on the synchronous path names readImage; anything else names what is accepted', () => {
    bad(new Blob([new Uint8Array(4)]), /readImage\(blob\)/);
    bad({ foo: 1 }, /RawImage \/ ImageData .* <img>, <canvas>, OffscreenCanvas, ImageBitmap, <video>, VideoFrame/);
    bad('photo.jpg', /got "photo.jpg"/);
  });

  it('without OffscreenCanvas or document (Node) an element cannot be read, and the error says to pass pixels', () => {
    bad(new FakeSource(4, 4, gradient(4, 4)), /needs a 2d canvas .* pass a RawImage \/ ImageData/);
  });

  it('a RawImage or an ImageData-shaped object passes through untouched', () => {
    const raw = { data: new Uint8ClampedArray(16), width: 2, height: 2 };
    expect(readImageSync(raw)).toBe(raw);
  });
});

describe('element inputs: drawing on the scratch canvas', () => {
  it('draws the source unscaled at 0,0 on a willReadFrequently canvas of its own size and returns its RGBA', () => {
    g.OffscreenCanvas = FakeOffscreenCanvas;
    const src = new FakeSource(5, 3, gradient(5, 3));
    const raw = readImageSync(src as never);
    expect(raw).toMatchObject({ width: 5, height: 3, channels: 4 });
    expect(Array.from(raw.data)).toEqual(Array.from(src.pixels));
    expect(calls.find((c) => c.op === 'getContext')?.args).toEqual(['2d', { willReadFrequently: true }]);
    expect(calls.find((c) => c.op === 'drawImage')?.args).toEqual([src, 0, 0, 5, 3]);
  });

  it('a cross-origin source is INVALID_IMAGE naming CORS, and the tainted scratch canvas is replaced', () => {
    g.OffscreenCanvas = FakeOffscreenCanvas;
    readImageSync(new FakeSource(2, 2, gradient(2, 2)) as never);
    const before = created;
    expect(() => readImageSync(new FakeSource(2, 2, gradient(2, 2), true) as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_IMAGE', message: expect.stringMatching(/tainted canvas.*Access-Control-Allow-Origin.*crossOrigin = 'anonymous'/) }),
    );
    // the next clean source is read from a fresh canvas, not refused as tainted
    const clean = new FakeSource(2, 2, gradient(2, 2));
    expect(Array.from(readImageSync(clean as never).data)).toEqual(Array.from(clean.pixels));
    expect(created).toBe(before + 1);
  });

  it('a source the browser refuses to draw (InvalidStateError) is INVALID_IMAGE, not a DOMException', () => {
    g.OffscreenCanvas = FakeOffscreenCanvas;
    expect(() => readImageSync({ width: 3, height: 3, close() {} })).toThrow(expect.objectContaining({ name: 'MobileNetError', code: 'INVALID_IMAGE', message: expect.stringMatching(/ImageBitmap could not be drawn \(InvalidStateError/) }));
  });
});

describe('readImage', () => {
  it('waits for an <img> that is still loading, and names one that fails', async () => {
    g.OffscreenCanvas = FakeOffscreenCanvas;
    const px = gradient(3, 2);
    const img = Object.assign(new FakeSource(3, 2, px), { complete: false, naturalWidth: 0, naturalHeight: 0, currentSrc: 'a.png' }) as FakeSource & Record<string, unknown>;
    img.decode = async () => Object.assign(img, { complete: true, naturalWidth: 3, naturalHeight: 2 });
    expect(Array.from((await readImageCore(img as never)).data)).toEqual(Array.from(px));
    const broken = { complete: false, naturalWidth: 0, naturalHeight: 0, currentSrc: 'b.png', decode: () => Promise.reject(new DOMException('The source image cannot be decoded.', 'EncodingError')) };
    await expect(readImageCore(broken)).rejects.toMatchObject({ code: 'INVALID_IMAGE', message: expect.stringMatching(/b\.png.*could not be loaded or decoded \(EncodingError/) });
  });

  it('the core entry has no Blob decoder in Node and says which entry has one', async () => {
    await expect(readImageCore(new Blob([new Uint8Array(8)]))).rejects.toMatchObject({ code: 'INVALID_IMAGE', message: expect.stringMatching(/no createImageBitmap.*Node entry/) });
  });

  it.skipIf(!hasShared)('the Node entry decodes a Blob with its own decoders, as decodeImageFile does', async () => {
    const blob = new Blob([readFileSync(photo)]);
    const raw = await readImageNode(blob);
    const file = await decodeImageFile(photo);
    expect(raw.width).toBe(file.width);
    expect(Buffer.from(raw.data).equals(Buffer.from(file.data))).toBe(true);
    await expect(readImageNode(new Blob([new Uint8Array([0x42, 0x4d, 1])]))).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
  });
});

describe.skipIf(!hasShared)('classify and embed take elements', () => {
  let net: MobileNet;
  let photoPixels: RawImage;
  beforeAll(async () => {
    net = await loadModel(join(models, 'mobilenet_v1_0.25_128_quant.tflite'));
    photoPixels = await decodeImageFile(photo);
  });

  it('a canvas gives the same scores as its pixels passed as an ImageData, single and in a batch', () => {
    g.OffscreenCanvas = FakeOffscreenCanvas;
    const canvas = new FakeSource(photoPixels.width, photoPixels.height, new Uint8ClampedArray(photoPixels.data));
    const expected = net.classify(photoPixels);
    expect(net.classify(canvas as never)).toEqual(expected);
    expect(net.classify([canvas, photoPixels] as never)).toEqual([expected, expected]);
    expect(Array.from(net.embed(canvas as never))).toEqual(Array.from(net.embed(photoPixels)));
  });

  it('an element refused by the checks reaches the caller of classify as INVALID_IMAGE', () => {
    expect(() => net.classify({ complete: false, naturalWidth: 0, naturalHeight: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_IMAGE', message: expect.stringMatching(/not finished loading/) }));
    expect(() => net.embed(new Blob([]))).toThrow(expect.objectContaining({ code: 'INVALID_IMAGE', message: expect.stringMatching(/readImage/) }));
  });
});
