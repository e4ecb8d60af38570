/**
 * `mobilenet-wasm train` and `classify --head`: a folder per class of photos from
 * ../shared/images/photos (three coarse classes of test/transfer/photo-task.ts), the small
 * 0.25/128 model; the head and the combined model classify held-out photos alike, with the
 * folder names as labels; bad folders and options are refused with the problem named.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from '../helpers/kernels.js';
import { photoTask } from '../transfer/photo-task.js';

const BIN = join(__dirname, '..', '..', 'bin', 'mobilenet-wasm.js');
const MODEL = join(MODELS_DIR ?? '', 'mobilenet_v1_0.25_128_quant.tflite');
const available = !!MODELS_DIR && existsSync(MODEL) && existsSync(join(SHARED_DIR ?? '', 'images', 'photos'));
if (!available) console.warn(`test/cli/train: ${SHARED_MISSING}`);

const cli = (...args: string[]) => spawnSync('node', [BIN, ...args], { encoding: 'utf8' });
const CLASSES = ['bird', 'dog', 'food'];

describe.skipIf(!available)('mobilenet-wasm train', () => {
  let dir: string;
  let held: { file: string; coarse: string }[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnw-train-'));
    const task = photoTask(join(SHARED_DIR!, 'images', 'photos'));
    for (const c of CLASSES) {
      mkdirSync(join(dir, 'data', c), { recursive: true });
      for (const p of task.train.filter((x) => x.coarse === c).slice(0, 6)) symlinkSync(p.file, join(dir, 'data', c, basename(p.file)));
    }
    writeFileSync(join(dir, 'data', 'dog', 'notes.txt'), 'not a photo: skipped');
    held = CLASSES.flatMap((c) => task.test.filter((x) => x.coarse === c).slice(0, 2));
  });

  it('trains a head and a combined model; classify --head and the combined model agree, labels = folder names', () => {
    const head = join(dir, 'head.tflite');
    const combined = join(dir, 'combined.tflite');
    const r = cli('train', '--data', join(dir, 'data'), '--out', head, '--combined', combined, '--model', MODEL, '--json');
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.classes).toEqual(CLASSES.map((name) => ({ name, images: 6 })));
    expect(summary).toMatchObject({ head: 'softmax', images: 18, epochs: 100, trainingAccuracy: 1, out: head, combined });
    expect(summary.embedMsPerImage).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/18\/18 images/);
    expect(r.stderr).toMatch(/100\/100 epochs/);

    const files = held.map((p) => p.file);
    const viaHead = cli('classify', '--model', MODEL, '--head', head, '--json', '--top', '3', ...files);
    expect(viaHead.status, viaHead.stderr).toBe(0);
    const viaCombined = cli('classify', '--model', combined, '--json', '--jobs', '1', '--top', '3', ...files);
    expect(viaCombined.status, viaCombined.stderr).toBe(0);
    const tops = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l).top as { label: string; score: number; index: number }[]);
    const a = tops(viaHead.stdout);
    const b = tops(viaCombined.stdout);
    expect(a.map((t) => t.map((x) => x.label).sort())).toEqual(held.map(() => CLASSES));
    expect(b.map((t) => t[0].label)).toEqual(a.map((t) => t[0].label));
    a.forEach((t, i) => expect(b[i][0].score).toBeCloseTo(t[0].score, 4));
    // six photos of three clearly different groups: at least 5 right even from 6 examples each
    expect(a.filter((t, i) => t[0].label === held[i].coarse).length).toBeGreaterThanOrEqual(5);
  });

  it('--head knn trains nothing and saves the nearest-class-mean head', () => {
    const r = cli('train', '--data', join(dir, 'data'), '--out', join(dir, 'knn.tflite'), '--model', MODEL, '--head', 'knn', '--k', '3');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/knn head \(k 3\): leave-one-out accuracy/);
    const c = cli('classify', '--model', MODEL, '--head', join(dir, 'knn.tflite'), '--json', held[0].file);
    expect(c.status, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).top.map((t: { label: string }) => t.label).sort()).toEqual(CLASSES);
  });

  it('refuses folders it cannot use and bad options, naming the problem', () => {
    const out = join(dir, 'x.tflite');
    const expectError = (r: ReturnType<typeof cli>, status: number, message: RegExp) => {
      expect(r.status, r.stderr).toBe(status);
      expect(r.stderr).toMatch(message);
    };
    expectError(cli('train', '--out', out), 2, /--data is required/);
    expectError(cli('train', '--data', join(dir, 'nope'), '--out', out, '--model', MODEL), 1, /IO: cannot read the folder data folder .*nope: no such directory/);
    mkdirSync(join(dir, 'one', 'cat'), { recursive: true });
    expectError(cli('train', '--data', join(dir, 'one'), '--out', out, '--model', MODEL), 1, /INVALID_INPUT: .*one class folder \(cat\).*at least two/);
    mkdirSync(join(dir, 'one', 'dog'), { recursive: true });
    symlinkSync(held[0].file, join(dir, 'one', 'dog', 'a.jpeg'));
    expectError(cli('train', '--data', join(dir, 'one'), '--out', out, '--model', MODEL), 1, /INVALID_INPUT: class folder .*one\/cat has no JPEG\/PNG\/BMP\/GIF photos/);
    expectError(cli('train', '--data', join(dir, 'data'), '--out', join(dir, 'no', 'such', 'x.tflite'), '--model', MODEL), 1, /IO: cannot write head file .*no such directory/);
    expectError(cli('train', '--data', join(dir, 'data'), '--out', out, '--head', 'knn', '--epochs', '5'), 2, /--epochs is for --head softmax/);
    expectError(cli('train', '--data', join(dir, 'data'), '--out', out, '--head', 'tree'), 2, /--head/);
    expectError(cli('classify', '--model', MODEL, '--head', MODEL, held[0].file), 1, /UNSUPPORTED_MODEL: a classifier head is FULLY_CONNECTED then SOFTMAX/);
    // the first test's head (256-float embeddings of 0.25/128) on another body
    const wider = join(MODELS_DIR!, 'mobilenet_v1_0.5_160_quant.tflite');
    if (existsSync(wider) && existsSync(join(dir, 'head.tflite'))) {
      expectError(cli('classify', '--model', wider, '--head', join(dir, 'head.tflite'), held[0].file), 1, /INVALID_INPUT: .*head.tflite was trained on 256-float embeddings but .*0.5_160_quant.tflite gives 512/);
    }
  });
});
