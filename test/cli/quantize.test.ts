/**
 * `mobilenet-wasm quantize` (src/cli/quantize.ts), in process: a written model loads and
 * classifies; bad folders, images, models and options are named in the error.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { writeTflite } from '../../src/formats/tflite-writer.js';
import { readTflite } from '../../src/formats/tflite.js';
import { loadModel, decodeImageFile } from '../../src/node.js';
import { calibrationFiles, cmdQuantize, quantizeCommand } from '../../src/cli/quantize.js';
import { main } from '../../src/cli/main.js';
import { MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';

let dir: string;
let floatModel: string;
let images: string;
const SAMPLES = SHARED_DIR ? join(SHARED_DIR, 'images', 'samples') : '';
const haveSamples = !!SHARED_DIR && existsSync(SAMPLES);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mnw-quantize-cli-'));
  floatModel = join(dir, 'float.tflite');
  writeFileSync(floatModel, writeTflite(buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'float32', classes: 10 })));
  images = join(dir, 'images');
  rmSync(images, { recursive: true, force: true });
  require('node:fs').mkdirSync(images);
  if (haveSamples) for (const f of ['coffee.jpg', 'owl.jpg', 'cat.bmp']) copyFileSync(join(SAMPLES, f), join(images, f));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mobilenet-wasm quantize', () => {
  it('is a command: its usage is listed, an empty calibration folder is status 1 with INVALID_INPUT', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const [o, e] = [process.stdout.write, process.stderr.write];
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => (err.push(s), true)) as typeof process.stderr.write;
    const empty = join(dir, 'empty-main');
    require('node:fs').mkdirSync(empty);
    let help: number, status: number;
    try {
      help = await main(['quantize', '--help']);
      status = await main(['quantize', '--model', floatModel, '--calibration', empty, '--out', join(dir, 'never.tflite')]);
    } finally {
      process.stdout.write = o;
      process.stderr.write = e;
    }
    expect(help).toBe(0);
    expect(out.join('')).toMatch(/quantize --model FLOAT\.tflite/);
    expect(status).toBe(1);
    expect(err.join('')).toMatch(/error: INVALID_INPUT: calibration folder .*holds no images/);
  });
});

describe('calibrationFiles', () => {
  it('natural order, image files only, the first N', () => {
    const d = join(dir, 'order');
    require('node:fs').mkdirSync(d);
    for (const n of ['image-10.jpeg', 'image-2.jpeg', 'image-1.jpeg', 'notes.txt', 'b.PNG']) writeFileSync(join(d, n), '');
    expect(calibrationFiles(d).map((f) => f.slice(d.length + 1))).toEqual(['b.PNG', 'image-1.jpeg', 'image-2.jpeg', 'image-10.jpeg']);
    expect(calibrationFiles(d, 2).length).toBe(2);
  });

  it('an empty folder is INVALID_INPUT, a missing one IO, a file IO', () => {
    const empty = join(dir, 'empty');
    require('node:fs').mkdirSync(empty);
    writeFileSync(join(empty, 'readme.txt'), 'no images here');
    expect(() => calibrationFiles(empty)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/holds no images/) }));
    expect(() => calibrationFiles(join(dir, 'nope'))).toThrow(expect.objectContaining({ code: 'IO' }));
    expect(() => calibrationFiles(floatModel)).toThrow(expect.objectContaining({ code: 'IO', message: expect.stringMatching(/is not a folder/) }));
  });
});

describe.skipIf(!haveSamples)('quantize a model (needs ../shared/images/samples)', () => {
  it('writes an int8 .tflite that loads and runs, with each I/O type', async () => {
    for (const io of ['float', 'int8', 'uint8'] as const) {
      const out = join(dir, `q-${io}.tflite`);
      const r = await quantizeCommand({ model: floatModel, calibration: images, out, io, method: 'mse' });
      expect(r.images.length).toBe(3);
      const g = readTflite(new Uint8Array(readFileSync(out)));
      expect(g.input.dtype).toBe(io === 'float' ? 'float32' : io);
      const net = await loadModel(out);
      expect(net.info.precision).not.toBe('float32');
      const top = net.classify(await decodeImageFile(join(images, 'owl.jpg')), { topK: 3 });
      expect(top.length).toBe(3);
      net.dispose();
    }
  }, 60_000);

  it('--input-range: the calibration pixels span the model\'s trained range, and so does its int8 input', async () => {
    const lowest = async (inputRange?: [number, number]) => {
      const out = join(dir, `range-${inputRange ?? 'default'}.tflite`);
      await quantizeCommand({ model: floatModel, calibration: images, out, io: 'int8', inputRange });
      const { scale: [scale], zeroPoint: [zeroPoint] } = readTflite(new Uint8Array(readFileSync(out))).input.quant!;
      return [scale * (-128 - zeroPoint), scale * (127 - zeroPoint)];
    };
    const [lo01, hi01] = await lowest([0, 1]);
    expect(lo01).toBeGreaterThan(-0.01);
    expect(hi01).toBeGreaterThan(0.9);
    expect(hi01).toBeLessThan(1.01);
    const [loDefault] = await lowest();
    expect(loDefault).toBeLessThan(-0.9);
    await expect(cmdQuantize(['--model', floatModel, '--calibration', images, '--out', join(dir, 'x.tflite'), '--input-range', '1,0'])).rejects.toThrow(/--input-range must be LOW,HIGH/);
  }, 60_000);

  it('the command line: options checked, summary printed', async () => {
    const out = join(dir, 'cli.tflite');
    const writes: string[] = [];
    const write = process.stdout.write;
    const errWrite = process.stderr.write;
    process.stdout.write = ((s: string) => (writes.push(s), true)) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      await cmdQuantize(['--model', floatModel, '--calibration', images, '--out', out, '--method', 'percentile', '--percentile', '99.9', '--calibration-count', '2']);
    } finally {
      process.stdout.write = write;
      process.stderr.write = errWrite;
    }
    expect(writes.join('')).toMatch(/wrote .*cli\.tflite \(\d+ bytes; int8, percentile calibration on 2 images, bias correction on, float I\/O\)/);
    await expect(cmdQuantize(['--model', floatModel, '--out', out])).rejects.toThrow(/--calibration is required/);
    await expect(cmdQuantize(['--model', floatModel, '--calibration', images, '--out', out, '--method', 'kl'])).rejects.toThrow(/--method must be/);
    await expect(cmdQuantize(['--model', floatModel, '--calibration', images, '--out', out, '--percentile', '99'])).rejects.toThrow(/--percentile goes with --method percentile/);
    await expect(cmdQuantize(['--model', floatModel, '--calibration', images, '--out', out, '--io', 'int16'])).rejects.toThrow(/--io must be/);
  }, 60_000);

  it('an unreadable image is INVALID_IMAGE naming the file', async () => {
    const bad = join(dir, 'bad-images');
    require('node:fs').mkdirSync(bad);
    copyFileSync(join(SAMPLES, 'coffee.jpg'), join(bad, 'a.jpg'));
    writeFileSync(join(bad, 'b.jpg'), 'this is not a JPEG');
    await expect(quantizeCommand({ model: floatModel, calibration: bad, out: join(dir, 'x.tflite') })).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      message: expect.stringMatching(/calibration image .*b\.jpg/),
    });
    expect(existsSync(join(dir, 'x.tflite'))).toBe(false);
  }, 60_000);

  const quant = join(MODELS_DIR ?? '', 'mobilenet_v1_0.25_128_quant.tflite');
  it.skipIf(!MODELS_DIR || !existsSync(quant))('a quantized model is UNSUPPORTED_MODEL: quantize needs a float32 model', async () => {
    await expect(quantizeCommand({ model: quant, calibration: images, out: join(dir, 'y.tflite') })).rejects.toMatchObject({
      code: 'UNSUPPORTED_MODEL',
      message: expect.stringMatching(/float32 model; this one's input is uint8/),
    });
  });

  const tfjs = join(MODELS_DIR ?? '', 'tfjs', 'mobilenet_v1_0.25_224');
  it.skipIf(!MODELS_DIR || !existsSync(tfjs))('a TF.js layers model quantizes too', async () => {
    const out = join(dir, 'tfjs-int8.tflite');
    await quantizeCommand({ model: tfjs, calibration: images, out, count: 2 });
    const net = await loadModel(out);
    expect(net.info.classes).toBe(1000);
    expect(net.info.resolution).toBe(224);
    net.dispose();
  }, 60_000);
});
