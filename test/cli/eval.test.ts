/**
 * The accuracy evaluation on a slice of the labelled photos: counts are consistent, each photo
 * is decoded once, a wrong label mapping is caught by a lower score, and the command writes a
 * report with every model.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadModel, decodeImageFile } from '../../src/node.js';
import { alignLabels, parseLabels } from '../../src/labels.js';
import type { RawImage } from '../../src/image/types.js';
import {
  accuracyTable,
  aospExpectedTop1,
  aospSquareBox,
  applyCrop,
  cmdEval,
  evaluate,
  findModelFiles,
  prefetchingDecoder,
  readGroundTruth,
  AOSP_MARGIN,
  type EvalModel,
  type EvalResult,
  type LabelledPhoto,
} from '../../src/cli/eval.js';
import { UsageError } from '../../src/cli/main.js';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from '../helpers/kernels.js';

const LIMIT = 40;

describe.skipIf(!MODELS_DIR)('eval on the first photos', () => {
  let vocab: string[];
  let photos: LabelledPhoto[];
  let models: EvalModel[];
  let result: EvalResult;
  const decodeCalls = new Map<string, number>();
  const decoded = new Map<string, RawImage>();

  beforeAll(async () => {
    vocab = parseLabels(readFileSync(join(SHARED_DIR!, 'labels', 'imagenet_1001_short.txt'), 'utf8'));
    photos = readGroundTruth(join(SHARED_DIR!, 'images', 'photos'), vocab, LIMIT);
    const expected = aospExpectedTop1(JSON.parse(readFileSync(join(SHARED_DIR!, 'golden', 'mobilenet_topk_aosp.json'), 'utf8')));
    const quant = await loadModel(join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'));
    const tfjs = await loadModel(join(MODELS_DIR!, 'tfjs', 'mobilenet_v1_0.25_224'));
    models = [
      { name: 'quant', net: quant, labels: alignLabels(vocab, 1001), expectedTop1: expected.get('mobilenet_v1_0.25_128_quant') },
      { name: 'tfjs', net: tfjs, labels: alignLabels(vocab, 1000) },
      // the classic mistake: a 1000-class model read with the 1001-line file, off by one
      { name: 'tfjs-off-by-one', net: tfjs, labels: vocab.slice(0, 1000) },
    ];
    result = await evaluate(models, photos, {
      decode: async (file) => {
        decodeCalls.set(file, (decodeCalls.get(file) ?? 0) + 1);
        const img = await decodeImageFile(file);
        decoded.set(file, img);
        return img;
      },
    });
  });

  it('reads the labels of image-0 .. image-(N-1) in order', () => {
    expect(photos).toHaveLength(LIMIT);
    expect(photos[0].file).toMatch(/image-0\.jpeg$/);
    expect(photos[LIMIT - 1].file).toMatch(new RegExp(`image-${LIMIT - 1}\\.jpeg$`));
    const lines = readFileSync(join(SHARED_DIR!, 'images', 'photos', 'ground_truth_labels.txt'), 'utf8').split('\n');
    expect(photos.map((p) => p.label)).toEqual(lines.slice(0, LIMIT).map((l) => l.trim()));
  });

  it('decodes each photo exactly once for all models', () => {
    expect(decodeCalls.size).toBe(LIMIT);
    expect([...decodeCalls.values()].every((n) => n === 1)).toBe(true);
    expect(result.failed).toEqual([]);
  });

  it('counts are consistent: top-5 >= top-1, fractions = counts / images', () => {
    expect(result.models.map((m) => m.name)).toEqual(['quant', 'tfjs', 'tfjs-off-by-one']);
    for (const m of result.models) {
      expect(m.images).toBe(LIMIT);
      expect(Number.isInteger(m.top1Correct) && m.top1Correct >= 0).toBe(true);
      expect(m.top5Correct).toBeGreaterThanOrEqual(m.top1Correct);
      expect(m.top5Correct).toBeLessThanOrEqual(LIMIT);
      expect(m.top1).toBe(m.top1Correct / LIMIT);
      expect(m.top5).toBe(m.top5Correct / LIMIT);
    }
    const quant = result.models[0];
    expect(quant.expectedTop1).toBe(0.402);
    expect(quant.threshold).toBeCloseTo(0.402 - AOSP_MARGIN, 9);
    expect(quant.pass).toBe(quant.top1 >= quant.threshold!);
    expect(result.models[1].expectedTop1).toBeUndefined();
    expect(result.models[1].pass).toBeUndefined();
  });

  it('top-1 counts agree with classify() run photo by photo', () => {
    for (const [j, m] of models.entries()) {
      let hits1 = 0, hits5 = 0;
      for (const p of photos) {
        const top = m.net.classify(decoded.get(p.file)!, { topK: 5 }).map((c) => m.labels[c.index]);
        if (top[0] === p.label) hits1++;
        if (top.includes(p.label)) hits5++;
      }
      expect([result.models[j].top1Correct, result.models[j].top5Correct], m.name).toEqual([hits1, hits5]);
    }
  });

  it('real models score well above chance and a wrong label mapping scores lower', () => {
    const [quant, tfjs, wrong] = result.models;
    // 40 photos of 1000 classes: chance is 0.1%; these models get ~40-60%
    expect(quant.top1).toBeGreaterThan(0.25);
    expect(tfjs.top1).toBeGreaterThan(0.25);
    expect(wrong.top1).toBeLessThan(tfjs.top1 / 4);
    expect(wrong.top5).toBeLessThan(tfjs.top5);
  });

  it('several crop conventions in one pass: one row per model and convention, same counts as a single-convention run', async () => {
    const both = await evaluate(models.slice(0, 2), photos, { crop: ['aosp-square', 'tf-slim'], decode: async (f) => decoded.get(f)! });
    expect(both.models.map((m) => `${m.crop}:${m.name}`)).toEqual(['aosp-square:quant', 'aosp-square:tfjs', 'tf-slim:quant', 'tf-slim:tfjs']);
    expect(both.models.slice(2)).toEqual(result.models.slice(0, 2));
    // a different crop really feeds different pixels: some prediction changes
    const p = (crop: 'aosp-square' | 'tf-slim') => {
      const { image, options } = applyCrop(decoded.get(photos[0].file)!, crop);
      return models[0].net.probabilities(image, options);
    };
    expect(p('aosp-square')).not.toEqual(p('tf-slim'));
  });

  it('the table has a row for every model with its figures', () => {
    const table = accuracyTable(result.models);
    const rows = table.split('\n');
    expect(rows).toHaveLength(2 + models.length);
    for (const m of result.models) {
      const row = rows.find((r) => r.startsWith(`| ${m.name} |`));
      expect(row, m.name).toBeDefined();
      expect(row).toContain(`${m.top1.toFixed(3)} (${m.top1Correct})`);
      expect(row).toContain(`| ${LIMIT} |`);
    }
    expect(rows.find((r) => r.startsWith('| quant |'))).toMatch(/\| 0\.402 \| 0\.387 \| (pass|FAIL) \|/);
  });
});

describe.skipIf(!MODELS_DIR)('eval helpers and command', () => {
  it("aosp-square crops AOSP's int(0.875 * min side) centred square", () => {
    expect(aospSquareBox(512, 341)).toEqual({ x: 107, y: 21, size: 298 });
    expect(aospSquareBox(384, 512)).toEqual({ x: 24, y: 88, size: 336 });
    const img: RawImage = { data: new Uint8Array(8 * 6 * 4).map((_, i) => i & 255), width: 8, height: 6, channels: 4 };
    const { image, options } = applyCrop(img, 'aosp-square');
    // side int(0.875 * 6) = 5, origin (4 - 2, 3 - 2) = (2, 1)
    expect([image.width, image.height, options.crop]).toEqual([5, 5, 'none']);
    expect(image.data[0]).toBe(img.data[(1 * 8 + 2) * 4]);
    expect(applyCrop(img, 'tf-slim').image).toBe(img);
  });

  it('refuses a ground-truth label outside the vocabulary, naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnw-eval-'));
    writeFileSync(join(dir, 'ground_truth_labels.txt'), 'tench\nnot a class\n');
    expect(() => readGroundTruth(dir, ['background', 'tench'])).toThrow(/line 2: label "not a class"/);
    expect(readGroundTruth(dir, ['background', 'tench'], 1)).toHaveLength(1);
    expect(() => readGroundTruth(join(dir, 'missing'), ['tench'])).toThrow(/cannot read/);
  });

  it('finds .tflite files and TF.js folders', () => {
    const found = findModelFiles(MODELS_DIR!).map((p) => p.slice(MODELS_DIR!.length + 1));
    expect(found).toContain('mobilenet_v1_0.25_128_quant.tflite');
    expect(found).toContain(join('tfjs', 'mobilenet_v1_0.25_224'));
    expect(found.some((f) => f.startsWith('LICENSE'))).toBe(false);
  });

  it('the command writes a report with every ImageNet model and skips the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnw-eval-'));
    const models = join(dir, 'models');
    mkdirSync(models);
    // a model that is not an ImageNet classifier (the SSD detector, the 2-class vww) is skipped, not fatal to the whole run
    for (const f of ['mobilenet_v1_0.25_128_quant.tflite', 'mobilenet_v1_0.25_128.tflite', 'vww_96_int8.tflite', 'mobilenet_v2_1.0_224_quant.tflite', 'ssd_mobilenet_v1_coco_quant.tflite']) {
      if (existsSync(join(MODELS_DIR!, f))) symlinkSync(join(MODELS_DIR!, f), join(models, f));
    }
    const out = join(dir, 'ACCURACY.md');
    const argv = ['--models', models, '--photos', join(SHARED_DIR!, 'images', 'photos'), '--limit', '6', '--out', out,
      '--labels', join(SHARED_DIR!, 'labels', 'imagenet_1001_short.txt'), '--aosp', join(SHARED_DIR!, 'golden', 'mobilenet_topk_aosp.json')];
    await cmdEval(argv);
    const md = readFileSync(out, 'utf8');
    expect(md).toContain(`node bin/mobilenet-wasm.js eval ${argv.join(' ')}`);
    expect(md).toMatch(/\| mobilenet_v1_0\.25_128_quant \| uint8 \| 0\.25\/128 \| .* \| 0\.402 \| 0\.387 \| (pass|FAIL) \| 6 \|/);
    expect(md).toMatch(/\| mobilenet_v1_0\.25_128 \| float32 \| 0\.25\/128 \| .* \| 0\.444 \| 0\.429 \| (pass|FAIL) \| 6 \|/);
    expect(md).not.toContain('vww');
    expect(md).not.toContain('ssd_mobilenet');
    // MobileNet v2 runs now, next to its AOSP figure
    expect(md).toMatch(/\| mobilenet_v2_1\.0_224_quant \| uint8 \| [^|]* \| .* \| 0\.\d+ \| 0\.\d+ \| (pass|FAIL) \| 6 \|/);
    expect(md).toMatch(/central_crop\(image, 0\.875\)/);
    // both default crop conventions, each with its table, and the target summary
    expect(md).toContain('## Crop `aosp-square`');
    expect(md).toContain('## Crop `tf-slim`');
    expect(md.match(/^\| mobilenet_v1_0\.25_128_quant \|/gm)).toHaveLength(2);
    expect(md).toMatch(/crop `tf-slim`: \d of 3 models with an AOSP figure meet the target/);
  });

  it('a photo that cannot be decoded is left out of every count and listed', async () => {
    const vocab = parseLabels(readFileSync(join(SHARED_DIR!, 'labels', 'imagenet_1001_short.txt'), 'utf8'));
    const photos = readGroundTruth(join(SHARED_DIR!, 'images', 'photos'), vocab, 3);
    const net = await loadModel(join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'));
    const r = await evaluate([{ name: 'q', net, labels: alignLabels(vocab, 1001) }], photos, {
      decode: async (f) => {
        if (f === photos[1].file) throw new Error('corrupt');
        return decodeImageFile(f);
      },
    });
    expect(r.failed).toEqual([{ file: photos[1].file, error: 'corrupt' }]);
    expect(r.models[0].images).toBe(2);
    expect(r.models[0].top5Correct).toBeLessThanOrEqual(2);
  });

  it('the prefetching decoder gives the same pixels as decoding one by one, and reports failures when asked', async () => {
    const files = [0, 1, 2, 3].map((i) => join(SHARED_DIR!, 'images', 'photos', `image-${i}.jpeg`));
    const bad = join(SHARED_DIR!, 'PROVENANCE.md');
    const dec = prefetchingDecoder([...files, bad], 2);
    for (const f of files) {
      const a: RawImage = await dec.decode(f);
      const b = await decodeImageFile(f);
      expect([a.width, a.height, a.channels]).toEqual([b.width, b.height, 4]);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    }
    await expect(dec.decode(bad)).rejects.toMatchObject({ code: 'INVALID_IMAGE', message: expect.stringMatching(/PROVENANCE\.md: not an image/) });
    await dec.close();
  });

  it('bad options are usage errors', async () => {
    await expect(cmdEval(['--limit', '0', '--models', MODELS_DIR!])).rejects.toBeInstanceOf(UsageError);
    await expect(cmdEval(['--crop', 'tf-slim,square', '--models', MODELS_DIR!])).rejects.toThrow(/--crop takes .* got 'square'/);
    await expect(cmdEval(['--kernels', 'gpu', '--models', MODELS_DIR!])).rejects.toThrow(/--kernels must be/);
    await expect(cmdEval(['--models', join(tmpdir(), 'no-such-dir-mnw')])).rejects.toThrow(/models folder not found/);
  });
});

it.skipIf(!!MODELS_DIR)('eval tests', () => console.warn(SHARED_MISSING));
