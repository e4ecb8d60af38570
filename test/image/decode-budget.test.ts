/**
 * Image decoding under a budget (hostile images): a looping decoder is stopped, decoders print
 * nothing to stdout, time and memory limits hold, and bad arguments get typed errors.
 * The two GIFs are real repros in ../shared/fixtures/defects/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Jimp } from 'jimp';
import { describe, expect, it, vi } from 'vitest';
import { decodeImage, decodeImageFile, estimateDecodeBytes } from '../../src/image/decode-node.js';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from '../helpers/kernels.js';
import { FAKE } from './fixtures.js';

const DEFECTS = SHARED_DIR ? join(SHARED_DIR, 'fixtures', 'defects') : undefined;
const haveDefects = !!DEFECTS && existsSync(join(DEFECTS, 'gif-decoder-hang.gif'));

const expectCode = async (p: Promise<unknown>, code: string, re: RegExp) =>
  expect(p).rejects.toMatchObject({ name: 'MobileNetError', code, message: expect.stringMatching(re) });

/** A noisy PNG (incompressible, so it takes pngjs a while to decode). */
async function noisyPng(width: number, height: number): Promise<Uint8Array> {
  const img = new Jimp({ width, height, color: 0 });
  const d = img.bitmap.data;
  let s = 5;
  for (let i = 0; i < d.length; i++) d[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  return new Uint8Array(await img.getBuffer('image/png'));
}

describe.skipIf(!haveDefects)('defect repros', () => {
  it('gif-decoder-hang.gif (the decoder looped forever) is refused promptly as INVALID_IMAGE', async () => {
    const t = performance.now();
    await expectCode(decodeImageFile(join(DEFECTS!, 'gif-decoder-hang.gif')), 'INVALID_IMAGE', /^gif-decoder-hang\.gif: GIF is corrupt: LZW code \d+/);
    // refused by the LZW check before decoding, not by the 10 s time-out
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it('gif-warning-on-stdout.gif decodes without writing to stdout (in-process spy)', async () => {
    const write = vi.spyOn(process.stdout, 'write');
    const log = vi.spyOn(console, 'log');
    try {
      const img = await decodeImageFile(join(DEFECTS!, 'gif-warning-on-stdout.gif'));
      expect([img.width, img.height]).toEqual([64, 48]);
      expect(write).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
      log.mockRestore();
    }
  });
});
describe.skipIf(haveDefects)('defect repros', () => {
  it('skipped', () => console.warn(SHARED_MISSING));
});

describe.skipIf(!haveDefects || !MODELS_DIR || !existsSync(join(__dirname, '..', '..', 'dist', 'cli', 'main.js')))('classify --json stdout', () => {
  it('holds only the JSON lines, even for the GIF whose decoder prints a warning', () => {
    const out = execFileSync(
      process.execPath,
      ['bin/mobilenet-wasm.js', 'classify', '--json', '--model', join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'), join(DEFECTS!, 'gif-warning-on-stdout.gif')],
      { cwd: join(__dirname, '..', '..'), encoding: 'utf8' },
    );
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ image: expect.stringContaining('gif-warning-on-stdout.gif') });
  });
});

describe('time limit', () => {
  it('stops a decode that runs over timeoutMs, then decodes the next image normally', async () => {
    const png = await noisyPng(2000, 1500);
    await expectCode(decodeImage(png, { timeoutMs: 20, name: 'slow.png' }), 'INVALID_IMAGE', /^slow\.png: decoding took longer than 20 ms and was stopped \(option timeoutMs\)/);
    const small = new Uint8Array(await new Jimp({ width: 7, height: 5, color: 0x102030ff }).getBuffer('image/png'));
    const img = await decodeImage(small);
    expect([img.width, img.height, img.data[0], img.data[1], img.data[2]]).toEqual([7, 5, 0x10, 0x20, 0x30]);
  });

  it('queued decodes each get their own time limit and keep their order', async () => {
    const mk = async (w: number) => new Uint8Array(await new Jimp({ width: w, height: 3, color: 0xffffffff }).getBuffer('image/bmp'));
    const sizes = [5, 6, 7, 8, 9];
    const got = await Promise.all(sizes.map(async (w) => (await decodeImage(await mk(w))).width));
    expect(got).toEqual(sizes);
  });
});

describe('memory limit', () => {
  it('refuses an image whose estimated decoding footprint exceeds maxMemoryBytes, before decoding', async () => {
    // a 5000 x 4000 JPEG header: 20 MP, under the pixel limit, but about 0.9 GB for jpeg-js
    const jpeg = FAKE.jpeg(5000, 4000);
    expect(estimateDecodeBytes('jpeg', 20e6, jpeg.length)).toBeGreaterThan(512 * 2 ** 20);
    await expectCode(decodeImage(jpeg), 'INVALID_IMAGE', /5000 x 4000 JPEG needs about \d+ MiB, more than the limit of 512 MiB \(option maxMemoryBytes\)/);
    const png = new Uint8Array(await new Jimp({ width: 100, height: 100, color: 0 }).getBuffer('image/png'));
    await expectCode(decodeImage(png, { maxMemoryBytes: 100_000 }), 'INVALID_IMAGE', /needs about 0 MiB, more than the limit of 0 MiB/);
    expect((await decodeImage(png, { maxMemoryBytes: 10e6 })).width).toBe(100);
  });
});

describe('arguments', () => {
  it('options and data of the wrong kind get typed errors', async () => {
    const png = new Uint8Array(await new Jimp({ width: 4, height: 4, color: 0 }).getBuffer('image/png'));
    await expectCode(decodeImage(png, null as never), 'INVALID_OPTION', /options must be an object/);
    for (const bad of [0, -1, NaN, Infinity, '10' as never]) {
      await expectCode(decodeImage(png, { timeoutMs: bad }), 'INVALID_OPTION', /timeoutMs must be a positive finite number/);
      await expectCode(decodeImage(png, { maxMemoryBytes: bad }), 'INVALID_OPTION', /maxMemoryBytes must be a positive finite number/);
    }
    await expectCode(decodeImage(null as never), 'INVALID_IMAGE', /image data must be a Uint8Array, got null/);
    await expectCode(decodeImage([1, 2, 3] as never), 'INVALID_IMAGE', /got an array/);
    await expectCode(decodeImage(new Proxy(png, {}) as never), 'INVALID_IMAGE', /must be a Uint8Array/);
    await expectCode(decodeImageFile(42 as never), 'INVALID_OPTION', /image path must be a non-empty string/);
    await expectCode(decodeImageFile('x.png', null as never), 'INVALID_OPTION', /options must be an object/);
  });

  it('a Uint8Array subclass with a lying length is read by its real length', async () => {
    const png = new Uint8Array(await new Jimp({ width: 6, height: 2, color: 0xff0000ff }).getBuffer('image/png'));
    class Liar extends Uint8Array {
      get length() {
        return 1e9;
      }
      get byteLength() {
        return 1e9;
      }
    }
    const liar = new Liar(png.length);
    liar.set(png);
    const img = await decodeImage(liar);
    expect([img.width, img.height, img.data[0]]).toEqual([6, 2, 255]);
  });

  it('the caller keeps its bytes (the decoder works on a copy)', async () => {
    const png = new Uint8Array(await new Jimp({ width: 3, height: 3, color: 0 }).getBuffer('image/png'));
    const before = png.slice();
    await decodeImage(png);
    expect(png.byteLength).toBe(before.byteLength);
    expect(png).toEqual(before);
  });
});

describe('GIF LZW check', () => {
  it('passes every GIF the encoder writes (palettes of 2 to 256 colours)', async () => {
    for (const colours of [2, 4, 16, 256]) {
      const img = new Jimp({ width: 41, height: 23, color: 0 });
      const d = img.bitmap.data;
      for (let i = 0; i < d.length; i += 4) d.set([((i >> 2) % colours) * 7, ((i >> 2) % colours) * 3, 9, 255], i);
      const gif = new Uint8Array(await img.getBuffer('image/gif'));
      expect((await decodeImage(gif)).width).toBe(41);
    }
  });

  it('refuses a minimum code size outside 1..8 and a code beyond the table', async () => {
    const gif = new Uint8Array(await new Jimp({ width: 8, height: 8, color: 0x00ff00ff }).getBuffer('image/gif'));
    const { GifReader } = await import('omggif');
    const at = new GifReader(gif).frameInfo(0).data_offset;
    const big = gif.slice();
    big[at] = 12;
    await expectCode(decodeImage(big), 'INVALID_IMAGE', /LZW minimum code size 12/);
    // first code after the clear: a code far beyond the table (all ones in the first data byte)
    const wild = gif.slice();
    wild[at + 2] = 0xff;
    wild[at + 3] = 0xff;
    await expectCode(decodeImage(wild), 'INVALID_IMAGE', /refers to a table entry that does not exist yet/);
  });
});
