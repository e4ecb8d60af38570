/**
 * `mobilenet-wasm eval`: top-1 / top-5 accuracy of every ImageNet model in a folder on the
 * AOSP labelled photos (../shared/images/photos), compared with AOSP's expected top-1.
 *
 * Each photo is decoded once (jimp is the slow part) and then run through every model, so
 * the whole evaluation costs one decode per photo plus the inferences.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { MobileNetError, invalidInput } from '../errors.js';
import { loadModel } from '../node.js';
import { decodeImageFile } from '../image/decode-node.js';
import type { MobileNet } from '../mobilenet.js';
import type { PreprocessOptions } from '../image/preprocess.js';
import { DEFAULT_CROP_FRACTION } from '../image/preprocess.js';
import type { RawImage } from '../image/types.js';
import { alignLabels, parseLabels, topK } from '../labels.js';
import { KERNEL_CHOICES, UsageError, choiceOption, io, ioError, ioSync, oneLine, parse, progressBar } from './common.js';
import { resolveLabels } from './models.js';

/** The target: each model's top-1 at least AOSP's expected top-1 minus 1.5 points. */
export const AOSP_MARGIN = 0.015;

/**
 * How the photo is cut before the resize.
 * - 'tf-slim': tf.image.central_crop(0.875) on each side separately (the library default)
 * - 'aosp-square': AOSP's Java Inception preprocessor, a centred square of int(0.875 * min side)
 * - 'none': the whole photo, squashed to the model's input size
 */
export type CropConvention = 'tf-slim' | 'aosp-square' | 'none';
export const CROP_CONVENTIONS: readonly CropConvention[] = ['tf-slim', 'aosp-square', 'none'];
/**
 * The command's default: AOSP's square crop, the convention its expected figures were measured
 * with (so the target is judged like for like), and the library's own default.
 */
export const DEFAULT_CROPS: readonly CropConvention[] = ['aosp-square', 'tf-slim'];

export interface LabelledPhoto {
  file: string;
  label: string;
}

export interface EvalModel {
  name: string;
  net: MobileNet;
  /** one label per model output (see alignLabels) */
  labels: readonly string[];
  /** AOSP's expected top-1 on these photos, when AOSP lists the model */
  expectedTop1?: number;
}

export interface ModelAccuracy {
  name: string;
  crop: CropConvention;
  precision: string;
  alpha: number | undefined;
  resolution: number;
  classes: number;
  images: number;
  top1Correct: number;
  top5Correct: number;
  top1: number;
  top5: number;
  expectedTop1?: number;
  /** expectedTop1 - AOSP_MARGIN */
  threshold?: number;
  pass?: boolean;
}

export interface EvalResult {
  models: ModelAccuracy[];
  /** photos that could not be decoded (left out of every model's count) */
  failed: { file: string; error: string }[];
  seconds: number;
}

/**
 * ground_truth_labels.txt of a photo folder: line N is the label of image-N.jpeg. Every label
 * must be in `vocabulary` (else no model could ever get it right, and the figures would lie).
 */
export function readGroundTruth(photosDir: string, vocabulary: readonly string[], limit?: number): LabelledPhoto[] {
  const file = join(photosDir, 'ground_truth_labels.txt');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MobileNetError('IO', `${ioError(e, 'read', file).message} (the photo folder needs image-N.jpeg and ground_truth_labels.txt)`);
  }
  const labels = parseLabels(text);
  const known = new Set(vocabulary);
  const count = limit === undefined ? labels.length : Math.min(limit, labels.length);
  const photos: LabelledPhoto[] = [];
  for (let i = 0; i < count; i++) {
    if (!known.has(labels[i])) throw invalidInput(`${file} line ${i + 1}: label "${labels[i]}" is not in the label list`);
    photos.push({ file: join(photosDir, `image-${i}.jpeg`), label: labels[i] });
  }
  return photos;
}

/** AOSP's mobilenet_topk_aosp.json -> expected top-1 by model file name (without .tflite). */
export function aospExpectedTop1(json: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const models = (json as { models?: unknown })?.models;
  if (!Array.isArray(models)) throw invalidInput('AOSP top-k file has no "models" array');
  for (const m of models) {
    const file = m?.modelFile;
    const top1 = m?.evaluator?.expectedTop1;
    if (typeof file === 'string' && typeof top1 === 'number') out.set(file, top1);
  }
  return out;
}

/** .tflite files and TF.js model folders (holding model.json) in `dir` and its subfolders, sorted. */
export function findModelFiles(dir: string, depth = 2): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (e) {
    throw ioError(e, 'list', dir);
  }
  const found: string[] = [];
  for (const e of entries) {
    const p = join(dir, e);
    const st = ioSync('access', p, () => statSync(p));
    if (st.isFile() && e.endsWith('.tflite')) found.push(p);
    else if (st.isDirectory()) {
      if (existsSync(join(p, 'model.json'))) found.push(p);
      else if (depth > 1) found.push(...findModelFiles(p, depth - 1));
    }
  }
  return found;
}

/** A model's name in the table: its path under the models folder, without .tflite. */
export function modelName(modelsDir: string, path: string): string {
  return relative(modelsDir, path).split('\\').join('/').replace(/\.tflite$/, '');
}

/** The centred square AOSP's Java preprocessor keeps: side int(0.875f * min), origin w/2 - side/2 (integer division). */
export function aospSquareBox(width: number, height: number): { x: number; y: number; size: number } {
  const size = Math.trunc(Math.fround(Math.fround(DEFAULT_CROP_FRACTION) * Math.min(width, height)));
  return { x: (width >> 1) - (size >> 1), y: (height >> 1) - (size >> 1), size };
}

/** Copy of a region of an image (same channel count). */
function cropImage(img: RawImage, x: number, y: number, w: number, h: number): RawImage {
  const ch = img.channels ?? img.data.length / (img.width * img.height);
  const out = new Uint8Array(w * h * ch);
  for (let r = 0; r < h; r++) {
    const from = ((y + r) * img.width + x) * ch;
    out.set(img.data.subarray(from, from + w * ch), r * w * ch);
  }
  return { data: out, width: w, height: h, channels: ch as RawImage['channels'] };
}

/** The image and preprocess options that implement a crop convention. */
export function applyCrop(img: RawImage, crop: CropConvention): { image: RawImage; options: PreprocessOptions } {
  if (crop === 'tf-slim') return { image: img, options: { crop: 'central' } };
  if (crop === 'none') return { image: img, options: { crop: 'none' } };
  const b = aospSquareBox(img.width, img.height);
  return { image: cropImage(img, b.x, b.y, b.size, b.size), options: { crop: 'none' } };
}

/**
 * Decodes photos `ahead` photos ahead of the one asked for (in the order of `files`).
 * decodeImageFile already decodes in a worker thread, so asking early lets jimp's JPEG decoding
 * (about as slow as running all the models) overlap the inferences on another core.
 */
export function prefetchingDecoder(
  files: readonly string[],
  ahead = 3,
): { decode: (file: string) => Promise<RawImage>; close: () => Promise<void> } {
  const requested = new Map<string, Promise<RawImage>>();
  const request = (file: string) => {
    let r = requested.get(file);
    if (!r) {
      r = decodeImageFile(file);
      r.catch(() => {}); // a prefetched photo's failure is reported when it is asked for
      requested.set(file, r);
    }
    return r;
  };
  return {
    decode: (file) => {
      const r = request(file);
      requested.delete(file);
      const i = files.indexOf(file);
      if (i >= 0) for (const next of files.slice(i + 1, i + 1 + ahead)) request(next);
      return r;
    },
    close: async () => {
      requested.clear();
    },
  };
}

export interface EvaluateOptions {
  /** crop convention(s); with several, every model runs under each on the same decoded photo (default 'tf-slim') */
  crop?: CropConvention | readonly CropConvention[];
  /** called before each photo and once at the end (done = photos.length) */
  onProgress?: (done: number, name: string) => void;
  /** image decoder (default decodeImageFile) */
  decode?: (file: string) => Promise<RawImage>;
}

/**
 * Runs every model on every photo (photos outer, so each is decoded once) and counts
 * predictions whose label string equals the photo's label, at rank 1 and within the top 5.
 * Comparing strings, not indices, makes a 1000-class model and a 1001-class model directly
 * comparable, and counts either copy of a duplicated label (crane, cardigan, maillot).
 * Results come crop convention by crop convention, models in the given order within each.
 */
export async function evaluate(models: readonly EvalModel[], photos: readonly LabelledPhoto[], opts: EvaluateOptions = {}): Promise<EvalResult> {
  const crops: readonly CropConvention[] = typeof opts.crop === 'string' ? [opts.crop] : opts.crop ?? ['tf-slim'];
  if (crops.length === 0) throw invalidInput('no crop convention given');
  const decode = opts.decode ?? ((f: string) => decodeImageFile(f));
  for (const m of models) {
    if (m.labels.length !== m.net.info.classes) {
      throw invalidInput(`model ${m.name} has ${m.net.info.classes} outputs but ${m.labels.length} labels`);
    }
  }
  const runs = crops.flatMap((crop) => models.map((m) => ({ crop, m, top1: 0, top5: 0 })));
  const failed: EvalResult['failed'] = [];
  const t0 = performance.now();
  for (const [i, photo] of photos.entries()) {
    opts.onProgress?.(i, basename(photo.file));
    let decoded: RawImage;
    try {
      decoded = await decode(photo.file);
    } catch (e) {
      failed.push({ file: photo.file, error: e instanceof Error ? e.message : String(e) });
      continue;
    }
    for (const crop of crops) {
      const { image, options } = applyCrop(decoded, crop);
      for (const run of runs) {
        if (run.crop !== crop) continue;
        const { net, labels } = run.m;
        const best = topK(net.probabilities(image, options), 5);
        if (labels[best[0].index] === photo.label) run.top1++;
        if (best.some((b) => labels[b.index] === photo.label)) run.top5++;
      }
    }
  }
  opts.onProgress?.(photos.length, '');
  const images = photos.length - failed.length;
  const results = runs.map(({ crop, m, top1, top5 }): ModelAccuracy => {
    const r: ModelAccuracy = {
      name: m.name,
      crop,
      precision: m.net.info.precision,
      alpha: m.net.info.alpha,
      resolution: m.net.info.resolution,
      classes: m.net.info.classes,
      images,
      top1Correct: top1,
      top5Correct: top5,
      top1: images ? top1 / images : 0,
      top5: images ? top5 / images : 0,
    };
    if (m.expectedTop1 !== undefined) {
      r.expectedTop1 = m.expectedTop1;
      // rounded so 0.596 - 0.015 is 0.581, not 0.58099999
      r.threshold = Math.round((m.expectedTop1 - AOSP_MARGIN) * 1e6) / 1e6;
      r.pass = r.top1 >= r.threshold;
    }
    return r;
  });
  return { models: results, failed, seconds: (performance.now() - t0) / 1000 };
}

/** The results as a markdown table. */
export function accuracyTable(results: readonly ModelAccuracy[]): string {
  const pct = (x: number) => x.toFixed(3);
  const rows = [
    '| model | precision | alpha/res | top-1 | top-5 | AOSP expected top-1 | AOSP - 1.5 pts | pass | images |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    rows.push(
      `| ${r.name} | ${r.precision} | ${r.alpha ?? '?'}/${r.resolution} | ${pct(r.top1)} (${r.top1Correct}) | ${pct(r.top5)} (${r.top5Correct}) | ` +
        `${r.expectedTop1 !== undefined ? pct(r.expectedTop1) : 'none'} | ${r.threshold !== undefined ? pct(r.threshold) : '-'} | ` +
        `${r.pass === undefined ? 'n/a' : r.pass ? 'pass' : 'FAIL'} | ${r.images} |`,
    );
  }
  return rows.join('\n');
}

export interface ReportContext {
  command: string;
  date: string;
  cpu: string;
  node: string;
  kernels: string;
  photos: number;
}

const CROP_TEXT: Record<CropConvention, string> = {
  'tf-slim':
    "`tf-slim` (the library's default, `crop: 'central'`): TF-slim `preprocess_for_eval`'s `tf.image.central_crop(image, 0.875)`, " +
    'which keeps 87.5% of each side separately (start = int((d - 0.875 d) / 2), size = d - 2 start), so a 3:2 photo is squashed to the square input',
  'aosp-square':
    "`aosp-square`: AOSP's Java Inception preprocessor (the one its expected figures were measured with): a centred square of side " +
    'int(0.875 * min(width, height)) at (width/2 - side/2, height/2 - side/2) (integer division), so the aspect ratio is kept',
  none: '`none`: the whole photo is resized to the model input (aspect ratio not kept)',
};

/** One line per crop convention: how many models meet the target, and by how much the others miss it. */
export function targetSummary(results: readonly ModelAccuracy[]): string[] {
  const crops = [...new Set(results.map((r) => r.crop))];
  return crops.map((crop) => {
    const judged = results.filter((r) => r.crop === crop && r.pass !== undefined);
    const misses = judged.filter((r) => !r.pass);
    const detail = misses.map((r) => `${r.name} ${r.top1.toFixed(3)} < ${r.threshold!.toFixed(3)} (${((r.top1 - r.threshold!) * 100).toFixed(1)} pts)`);
    return `- crop \`${crop}\`: ${judged.length - misses.length} of ${judged.length} models with an AOSP figure meet the target` + (misses.length ? `; short: ${detail.join(', ')}` : '');
  });
}

/** The whole bench/ACCURACY.md text. */
export function accuracyReport(result: EvalResult, ctx: ReportContext): string {
  const crops = [...new Set(result.models.map((r) => r.crop))];
  const lines: string[] = [];
  const add = (...l: string[]) => lines.push(...l);
  add('# MobileNet accuracy on the AOSP labelled photos', '');
  add('Generated by `mobilenet-wasm eval` (src/cli/eval.ts); do not edit by hand.', '');
  add(`- date: ${ctx.date}`);
  add(`- machine: ${ctx.cpu}, Node ${ctx.node}, kernels: ${ctx.kernels}`);
  add(`- command: \`${ctx.command}\``);
  add(`- photos: ${ctx.photos} (Open Images v4, \`images/photos\` of the shared data); evaluation took ${result.seconds.toFixed(0)} s`);
  if (result.failed.length) {
    add(`- ${result.failed.length} photo(s) could not be decoded and are left out: ${result.failed.map((f) => basename(f.file)).join(', ')}`);
  }
  add('', '## Target', '');
  add('Each model\'s top-1 >= AOSP\'s expected top-1 (`mobilenet_topk_aosp.json`) - 1.5 points.', '');
  add(...targetSummary(result.models));
  for (const crop of crops) {
    add('', `## Crop \`${crop}\``, '');
    add(accuracyTable(result.models.filter((r) => r.crop === crop)));
  }
  add('');
  add(
    'top-1 / top-5: fraction (count) of photos whose label is the best class / among the 5 best. A prediction is correct when its ' +
      "label string in `imagenet_1001_short.txt` equals the photo's line in `ground_truth_labels.txt` (a 1000-class model's index i " +
      'is label line i + 1).',
  );
  add('', '## Preprocessing', '');
  add('Inception preprocessing as in `src/image/preprocess.ts`, with the crop conventions above:', '');
  for (const crop of crops) add(`- crop ${CROP_TEXT[crop]};`);
  add(
    '- resize: TF1 `tf.image.resize_bilinear(align_corners=False)` (legacy, no half-pixel centres: src = dst * in/out, ' +
      'coordinates in float32 as TF computes them), no antialiasing;',
    '- input: float models get x / 127.5 - 1 of the interpolated value; the uint8 models (input scale 1/128, zero point 128) get ' +
      "the interpolated pixel rounded to the nearest integer (the raw byte, as TFLite's evaluation tool feeds them);",
    '- decoding: jimp (jpeg-js), EXIF orientation applied (all 1490 photos have orientation 1).',
  );
  add('', '## Notes', '');
  add(
    "- AOSP measured its figures with its Java preprocessor: the square crop above, Android's `createScaledBitmap` bilinear " +
      'filter (half-pixel centres) to an 8-bit bitmap, and for uint8 models q = int((x * 2/255 - 1) / 0.007812 + 128) & 0xff, which ' +
      'wraps a 255 pixel to 0 (the "wrapped-around bright pixels" of the golden inputs). Its figures are a reference, not a bit-exact target.',
    "- `mobilenet_v1_1.0_224_quant` here is Google Coral's embedding extractor + head joined at the average pool, standing in for " +
      'the 2018 hosted file AOSP measured (0.596); it is judged against that figure.',
    '- Models without an AOSP figure get no threshold. The TF.js layers model (alpha 0.25, 224 px, 1000 classes, Keras 2.1.4 ' +
      "export) can be compared informally with the 0.25 models' figures: AOSP 0.444 for 0.25/128 float and 0.402 for 0.25/128 uint8.",
    '- uint8 outputs tie often (scores are multiples of 1/256); ties go to the lower class index. The short label list repeats ' +
      'three names (crane, cardigan, maillot): either index counts as correct.',
    '',
  );
  return lines.join('\n');
}

function defaultModelsDir(): string {
  return resolve(process.env.MOBILENET_WASM_MODELS ?? join('..', 'shared', 'models'));
}

/** The label vocabulary: --labels, else labels/imagenet_1001_short.txt beside the models folder, else the copy in weights/. */
function vocabulary(path: string | undefined, modelsDir: string): string[] {
  const beside = join(modelsDir, '..', 'labels', 'imagenet_1001_short.txt');
  if (path === undefined && existsSync(beside)) path = beside;
  return resolveLabels(path, 1001)!;
}

/** `mobilenet-wasm eval [--models DIR] [--photos DIR] [--limit N] [--out FILE] [--kernels K] [--crop C] [--labels L] [--aosp JSON]` */
export async function cmdEval(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      models: { type: 'string' },
      photos: { type: 'string' },
      limit: { type: 'string' },
      out: { type: 'string' },
      kernels: { type: 'string' },
      crop: { type: 'string' },
      labels: { type: 'string' },
      aosp: { type: 'string' },
    },
    false,
  );
  // the upper bound of --limit is the number of labelled photos, checked once they are read
  const limitRange = (photos?: string) => `--limit must be an integer from 1 to ${photos ?? 'the number of photos'}, got '${values.limit}'`;
  const limit = values.limit === undefined ? undefined : /^\+?\d+$/.test(values.limit) ? Number(values.limit) : NaN;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) throw new UsageError(limitRange());
  const crops = (values.crop ?? DEFAULT_CROPS.join(',')).split(',').map((c) => c.trim()) as CropConvention[];
  for (const c of crops) {
    if (!CROP_CONVENTIONS.includes(c)) throw new UsageError(`--crop takes a comma-separated list of ${CROP_CONVENTIONS.join(', ')}; got '${c}'`);
  }
  const kernels = choiceOption(values, 'kernels', KERNEL_CHOICES, 'auto');
  const out = values.out ?? join('bench', 'ACCURACY.md');
  const modelsDir = values.models ? resolve(values.models) : defaultModelsDir();
  if (!existsSync(modelsDir)) throw new MobileNetError('IO', `models folder not found: ${modelsDir} (pass --models or set MOBILENET_WASM_MODELS)`);
  const photosDir = values.photos ? resolve(values.photos) : join(modelsDir, '..', 'images', 'photos');

  const vocab = vocabulary(values.labels, modelsDir);
  const labelled = readGroundTruth(photosDir, vocab);
  if (limit !== undefined && limit > labelled.length) throw new UsageError(limitRange(`${labelled.length} (the photos in ${photosDir})`));
  const photos = labelled.slice(0, limit);
  const aospFile = values.aosp ?? join(modelsDir, '..', 'golden', 'mobilenet_topk_aosp.json');
  let expected = new Map<string, number>();
  if (values.aosp !== undefined || existsSync(aospFile)) {
    const text = ioSync('read', aospFile, () => readFileSync(aospFile, 'utf8'), 'AOSP figures file');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw invalidInput(`${aospFile} is not JSON: ${oneLine((e as Error).message)}`);
    }
    expected = aospExpectedTop1(json);
  } else {
    process.stderr.write(`mobilenet-wasm: no AOSP figures at ${aospFile}: no thresholds\n`);
  }

  const models: EvalModel[] = [];
  for (const path of findModelFiles(modelsDir)) {
    const name = modelName(modelsDir, path);
    let net;
    try {
      net = await loadModel(path, { kernels });
    } catch (e) {
      // a folder of models may hold ones this version cannot run (MobileNet v2, SSD): evaluate the rest
      if (!(e instanceof MobileNetError && e.code === 'UNSUPPORTED_MODEL')) throw e;
      process.stderr.write(`mobilenet-wasm: skipping ${name}: ${oneLine(e.message)}\n`);
      continue;
    }
    if (net.info.classes !== 1000 && net.info.classes !== 1001) {
      process.stderr.write(`mobilenet-wasm: skipping ${name}: ${net.info.classes} classes, not an ImageNet classifier\n`);
      net.dispose();
      continue;
    }
    models.push({ name, net, labels: alignLabels(vocab, net.info.classes), expectedTop1: expected.get(basename(name)) });
  }
  if (models.length === 0) throw new MobileNetError('IO', `no ImageNet models (.tflite or TF.js model.json) in ${modelsDir}`);
  // uint8 first, largest first, then float: the order of the targets
  models.sort((a, b) => rank(a) - rank(b) || (b.net.info.alpha ?? 0) - (a.net.info.alpha ?? 0) || a.name.localeCompare(b.name));

  // the report's folder now, not after minutes of evaluation
  const outDir = dirname(resolve(out));
  await io('create', outDir, () => mkdir(outDir, { recursive: true }), 'folder');
  process.stderr.write(`evaluating ${models.length} models on ${photos.length} photos\n`);
  const decoder = prefetchingDecoder(photos.map((p) => p.file));
  let result: EvalResult;
  try {
    result = await evaluate(models, photos, { crop: [...new Set(crops)], onProgress: progressBar(photos.length, 'photos'), decode: decoder.decode });
  } finally {
    await decoder.close();
  }
  for (const f of result.failed) process.stderr.write(`mobilenet-wasm: ${basename(f.file)}: ${oneLine(f.error)}\n`);
  const report = accuracyReport(result, {
    command: ['node bin/mobilenet-wasm.js eval', ...argv].join(' ') + (values.models || !process.env.MOBILENET_WASM_MODELS ? '' : ` (MOBILENET_WASM_MODELS=${process.env.MOBILENET_WASM_MODELS})`),
    date: new Date().toISOString().slice(0, 10),
    cpu: cpuDescription(),
    node: process.versions.node,
    kernels: [...new Set(models.map((m) => m.net.info.kernels))].join(', '),
    photos: photos.length,
  });
  for (const m of models) m.net.dispose();
  for (const crop of new Set(crops)) process.stdout.write(`crop ${crop}:\n${accuracyTable(result.models.filter((r) => r.crop === crop))}\n`);
  process.stdout.write(targetSummary(result.models).join('\n') + '\n');
  await io('write', out, () => writeFile(out, report), 'report');
  process.stderr.write(`wrote ${out}\n`);
}

function rank(m: EvalModel): number {
  return (m.net.info.precision === 'float32' ? 2 : 0) + (m.net.info.source === 'tfjs' ? 1 : 0);
}

function cpuDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} (${cpus.length} logical CPUs, ${os.platform()} ${os.arch()})`;
}
