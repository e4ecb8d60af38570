/**
 * Class names built in (issue 8, item 4): 1001- and 1000-class models get the ImageNet names
 * with no call; `labels` and setLabels still override; other class counts get none.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel, decodeImageFile } from '../src/node.js';
import { parseLabels } from '../src/labels.js';
import { buildMobileNetV1 } from '../src/arch/mobilenet.js';
import { IMAGENET_1001_SHORT } from '../src/labels/imagenet.js';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from './helpers/kernels.js';

const ROOT = resolve(__dirname, '..');
const TXT = join(ROOT, 'weights', 'labels', 'imagenet_1001_short.txt');

describe('the built-in ImageNet names', () => {
  it('equal weights/labels/imagenet_1001_short.txt byte for byte', () => {
    const file = readFileSync(TXT);
    const built = Buffer.from(IMAGENET_1001_SHORT.join('\n') + '\n', 'utf8');
    expect(IMAGENET_1001_SHORT.length).toBe(1001);
    expect(IMAGENET_1001_SHORT[0]).toBe('background');
    expect(built.equals(file)).toBe(true);
    expect(Object.isFrozen(IMAGENET_1001_SHORT)).toBe(true);
  });

  it('the generated module is what the script writes now', () => {
    // exits 1 (and execFileSync throws) when src/labels/imagenet.ts is stale
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'gen-imagenet-labels.mjs'), '--check'], { encoding: 'utf8' });
  });

  const random = (classes: number) => buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'uint8', classes, seed: 5 });

  it('a 1001-class model gets the list as is, a 1000-class one without "background"', async () => {
    const n1001 = await loadModel(random(1001), { kernels: 'scalar' });
    const x = new Uint8Array(32 * 32 * 3).fill(100);
    const img = { data: x, width: 32, height: 32, channels: 3 as const };
    for (const r of n1001.classify(img, { topK: 10 })) expect(r.label).toBe(IMAGENET_1001_SHORT[r.index]);
    const n1000 = await loadModel(random(1000), { kernels: 'scalar' });
    for (const r of n1000.classify(img, { topK: 10 })) expect(r.label).toBe(IMAGENET_1001_SHORT[r.index + 1]);
  });

  it('other class counts get no names (no guessing)', async () => {
    const img = { data: new Uint8Array(32 * 32 * 3).fill(9), width: 32, height: 32, channels: 3 as const };
    for (const classes of [10, 999, 1002]) {
      const net = await loadModel(random(classes), { kernels: 'scalar' });
      for (const r of net.classify(img)) expect(r.label).toBeUndefined();
    }
  });

  it('the labels option and setLabels override them', async () => {
    const img = { data: new Uint8Array(32 * 32 * 3).fill(200), width: 32, height: 32, channels: 3 as const };
    const mine = Array.from({ length: 1001 }, (_, i) => `class ${i}`);
    const net = await loadModel(random(1001), { kernels: 'scalar', labels: mine });
    for (const r of net.classify(img)) expect(r.label).toBe(`class ${r.index}`);
    net.setLabels(mine.map((s) => s.toUpperCase()));
    for (const r of net.classify(img)) expect(r.label).toBe(`CLASS ${r.index}`);
    const ten = await loadModel(random(10), { kernels: 'scalar', labels: 'abcdefghij'.split('') });
    expect(ten.classify(img, { topK: 1 })[0].label).toBe('abcdefghij'[ten.classify(img, { topK: 1 })[0].index]);
  });
});

describe.skipIf(!MODELS_DIR)('built-in names on real models', () => {
  if (!MODELS_DIR) it.skip(SHARED_MISSING, () => {});

  it('grace_hopper.bmp through the 0.25/128 uint8 TFLite model, no labels given', async () => {
    const img = await decodeImageFile(join(SHARED_DIR!, 'images', 'samples', 'grace_hopper.bmp'));
    const net = await loadModel(join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'));
    expect(net.info.classes).toBe(1001);
    const top = net.classify(img, { topK: 5 });
    for (const r of top) {
      expect(typeof r.label).toBe('string');
      expect(r.label).toBe(IMAGENET_1001_SHORT[r.index]);
    }
    const given = await loadModel(join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'), {
      labels: parseLabels(readFileSync(join(SHARED_DIR!, 'labels', 'imagenet_1001_short.txt'), 'utf8')),
    });
    expect(top).toEqual(given.classify(img, { topK: 5 }));
  });

  it('the TF.js 1000-class model gets the names at the right offset', async () => {
    const img = await decodeImageFile(join(SHARED_DIR!, 'images', 'samples', 'grace_hopper.bmp'));
    const folder = join(MODELS_DIR!, 'tfjs', 'mobilenet_v1_0.25_224');
    const net = await loadModel(folder);
    expect(net.info.classes).toBe(1000);
    const builtIn = net.classify(img, { topK: 5 });
    const given = await loadModel(folder, { labels: parseLabels(readFileSync(TXT, 'utf8')) });
    const explicit = given.classify(img, { topK: 5 });
    expect(typeof builtIn[0].label).toBe('string');
    expect(builtIn[0].label).toBe(explicit[0].label);
    expect(builtIn).toEqual(explicit);
    expect(builtIn[0].label).toBe(IMAGENET_1001_SHORT[builtIn[0].index + 1]);
  });
});
