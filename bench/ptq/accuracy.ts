/**
 * Top-1 of a float model and of its post-training-quantized versions (one per calibration
 * method) on the labelled photos, with AOSP's square crop as `mobilenet-wasm eval` uses.
 * Calibration takes the first N photos in natural order (image-0 ... image-(N-1)); the
 * evaluation uses the others, so the two sets are disjoint.
 *
 *   npx tsx bench/ptq/accuracy.ts [--model ../shared/models/mobilenet_v1_0.25_128.tflite]
 *     [--calibration-count 100] [--limit N] [--methods minmax,percentile,mse] [--keep DIR] [--bias-correction on|off]
 *
 * test/ptq/accuracy.test.ts runs the same function on a subset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { alignLabels } from '../../src/labels.js';
import { loadModel } from '../../src/node.js';
import { evaluate, readGroundTruth, type EvalModel } from '../../src/cli/eval.js';
import { resolveLabels } from '../../src/cli/models.js';
import { quantizeCommand } from '../../src/cli/quantize.js';
import type { CalibrationMethod } from '../../src/ptq/index.js';
import type { KernelChoice } from '../../src/runtime/kernels.js';

export const SHARED = join(import.meta.dirname, '..', '..', '..', 'shared');
export const PHOTOS = join(SHARED, 'images', 'photos');
export const LABELS = join(SHARED, 'labels', 'imagenet_1001_short.txt');

export interface PtqAccuracyOptions {
  model: string;
  calibrationCount: number;
  /** evaluate at most this many photos (after the calibration ones) */
  limit?: number;
  methods: CalibrationMethod[];
  biasCorrection?: boolean;
  kernels?: KernelChoice;
  /** keep the quantized files here (default: a temporary folder, removed) */
  keep?: string;
}

export interface PtqAccuracyRow {
  name: string;
  method: CalibrationMethod | 'float';
  top1: number;
  top1Correct: number;
  images: number;
  /** share of photos whose top-1 class equals the float model's */
  agreement?: number;
  file?: string;
  quantizeSeconds?: number;
}

export async function ptqAccuracy(o: PtqAccuracyOptions): Promise<{ rows: PtqAccuracyRow[]; calibration: string[]; evaluated: number }> {
  const vocab = resolveLabels(LABELS, 1001)!;
  const photos = readGroundTruth(PHOTOS, vocab).slice(o.calibrationCount);
  const evalPhotos = o.limit === undefined ? photos : photos.slice(0, o.limit);
  const dir = o.keep ?? mkdtempSync(join(tmpdir(), 'mnw-ptq-'));
  try {
    const models: EvalModel[] = [];
    const rows: PtqAccuracyRow[] = [];
    const float = await loadModel(o.model, { kernels: o.kernels });
    models.push({ name: 'float', net: float, labels: alignLabels(vocab, float.info.classes) });
    rows.push({ name: 'float', method: 'float', top1: 0, top1Correct: 0, images: 0 });
    let calibration: string[] = [];
    for (const method of o.methods) {
      const out = join(dir, `int8-${method}${o.biasCorrection === false ? '-nobc' : ''}.tflite`);
      const r = await quantizeCommand({ model: o.model, calibration: PHOTOS, out, method, count: o.calibrationCount, biasCorrection: o.biasCorrection });
      calibration = r.images;
      const net = await loadModel(out, { kernels: o.kernels });
      models.push({ name: `int8 ${method}`, net, labels: alignLabels(vocab, net.info.classes) });
      rows.push({ name: `int8 ${method}`, method, top1: 0, top1Correct: 0, images: 0, file: out, quantizeSeconds: r.seconds });
    }
    // top-1 agreement with the float model needs each photo's predictions side by side
    const agree = new Array(models.length).fill(0);
    let floatBest = -1;
    const result = await evaluate(
      models.map((m) => ({
        ...m,
        net: new Proxy(m.net, {
          get(target, prop) {
            if (prop !== 'probabilities') return Reflect.get(target, prop, target);
            return (...args: Parameters<typeof target.probabilities>) => {
              const p = target.probabilities(...args);
              record(m.name, p);
              return p;
            };
          },
        }),
      })),
      evalPhotos,
      { crop: 'aosp-square' },
    );
    function record(name: string, p: Float32Array) {
      const i = models.findIndex((m) => m.name === name);
      const best = argmax(p);
      if (i === 0) floatBest = best;
      else if (best === floatBest) agree[i]++;
    }
    result.models.forEach((m, i) => {
      rows[i].top1 = m.top1;
      rows[i].top1Correct = m.top1Correct;
      rows[i].images = m.images;
      if (i > 0) rows[i].agreement = agree[i] / m.images;
    });
    for (const m of models) m.net.dispose();
    return { rows, calibration, evaluated: evalPhotos.length };
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

function argmax(p: Float32Array): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: join(SHARED, 'models', 'mobilenet_v1_0.25_128.tflite') },
      'calibration-count': { type: 'string', default: '100' },
      limit: { type: 'string' },
      methods: { type: 'string', default: 'minmax,percentile,mse' },
      kernels: { type: 'string' },
      keep: { type: 'string' },
      'bias-correction': { type: 'string', default: 'on' },
    },
  });
  const r = await ptqAccuracy({
    model: values.model!,
    calibrationCount: Number(values['calibration-count']),
    limit: values.limit === undefined ? undefined : Number(values.limit),
    methods: values.methods!.split(',') as CalibrationMethod[],
    kernels: values.kernels as KernelChoice | undefined,
    keep: values.keep,
    biasCorrection: values['bias-correction'] !== 'off',
  });
  console.log(`model ${values.model}; bias correction ${values['bias-correction']}; calibration: ${r.calibration.length} photos (first: ${r.calibration[0]}); evaluated on ${r.evaluated} other photos, crop aosp-square`);
  console.log('| model | top-1 | correct | top-1 agreement with float | quantize time (s) |');
  console.log('|---|---|---|---|---|');
  for (const row of r.rows) {
    console.log(`| ${row.name} | ${row.top1.toFixed(4)} | ${row.top1Correct}/${row.images} | ${row.agreement === undefined ? '' : row.agreement.toFixed(4)} | ${row.quantizeSeconds?.toFixed(1) ?? ''} |`);
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await main();
