/**
 * `mobilenet-wasm quantize --model float.tflite|model.json --calibration DIR --out int8.tflite
 * [--method minmax|percentile|mse] [--io float|int8|uint8] [--calibration-count N]
 * [--percentile P] [--crop aosp-square|tf-slim|none] [--bias-correction on|off] [--input-range LO,HI]`:
 * post-training int8 quantization (src/ptq/). The calibration images are the folder's image
 * files in natural order (image-2 before image-10), the first N of them, preprocessed as
 * `eval` does (AOSP's square crop by default).
 */
import { readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MobileNetError, invalidInput } from '../errors.js';
import { readTflite } from '../formats/tflite.js';
import { decodeImageFile } from '../image/decode-node.js';
import type { Graph } from '../model/ir.js';
import { MobileNet } from '../mobilenet.js';
import { nodeKernelModule, readModelFile } from '../node.js';
import { CALIBRATION_METHODS, Calibrator, QUANTIZED_IOS, quantizeGraph, type CalibrationMethod, type QuantizedIo } from '../ptq/index.js';
import { encodeTflite, graphToTfliteSpec } from '../formats/tflite-writer.js';
import { UsageError, choiceOption, inputRangeOption, intOption, io, ioSync, need, numberOption, parse, progressBar } from './common.js';
import { applyCrop, CROP_CONVENTIONS, type CropConvention } from './eval.js';
import { resolveModel } from './models.js';

/** image files the calibration folder may hold (what decodeImageFile reads) */
const IMAGE_FILE = /\.(jpe?g|png|bmp|gif)$/i;
/** TFLite's guide suggests a few hundred representative samples; more costs time, rarely accuracy */
export const DEFAULT_CALIBRATION_COUNT = 200;

export interface QuantizeArgs {
  /** a resolved path: .tflite, or a TF.js model.json or its folder */
  model: string;
  calibration: string;
  out: string;
  method?: CalibrationMethod;
  percentile?: number;
  io?: QuantizedIo;
  /** see QuantizeOptions.biasCorrection (default true) */
  biasCorrection?: boolean;
  count?: number;
  crop?: CropConvention;
  /** the pixel range the float model was trained on (default -1,1, TF-slim's, as classify) */
  inputRange?: [number, number];
  /** called once the images are listed: returns the per-image progress callback */
  progress?: (total: number) => (done: number, name: string) => void;
}

export interface QuantizeResult {
  out: string;
  bytes: number;
  images: string[];
  seconds: number;
}

/** The first `count` image files of `dir`, in natural order. IO when it cannot be listed, INVALID_INPUT when it holds none. */
export function calibrationFiles(dir: string, count = DEFAULT_CALIBRATION_COUNT): string[] {
  const st = ioSync('access', dir, () => statSync(dir), 'calibration folder');
  if (!st.isDirectory()) throw new MobileNetError('IO', `calibration folder ${dir} is not a folder`);
  const names = ioSync('list', dir, () => readdirSync(dir), 'calibration folder')
    .filter((n) => IMAGE_FILE.test(n))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) throw invalidInput(`calibration folder ${dir} holds no images (.jpg, .jpeg, .png, .bmp or .gif)`);
  return names.slice(0, count).map((n) => join(dir, n));
}

/** The float graph of a model file (a .tflite or a TF.js layers model). */
export async function readFloatGraph(path: string): Promise<Graph> {
  const source = await readModelFile(path);
  return source instanceof Uint8Array ? readTflite(source) : (source as Graph);
}

export async function quantizeCommand(args: QuantizeArgs): Promise<QuantizeResult> {
  const t0 = performance.now();
  const graph = await readFloatGraph(args.model);
  const files = calibrationFiles(args.calibration, args.count);
  const calibrator = await Calibrator.create(graph, { wasm: nodeKernelModule });
  const onProgress = args.progress?.(files.length);
  try {
    for (let i = 0; i < files.length; i++) {
      let decoded;
      try {
        decoded = await decodeImageFile(files[i]);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new MobileNetError(e instanceof MobileNetError ? e.code : 'INVALID_IMAGE', `calibration image ${files[i]}: ${why}`);
      }
      const { image, options } = applyCrop(decoded, args.crop ?? 'aosp-square');
      calibrator.addImage(image, { ...options, inputRange: args.inputRange });
      onProgress?.(i + 1, files[i]);
    }
  } finally {
    calibrator.dispose();
  }
  const quantized = quantizeGraph(graph, calibrator.stats, { method: args.method, percentile: args.percentile, io: args.io, biasCorrection: args.biasCorrection });
  const bytes = encodeTflite(graphToTfliteSpec(quantized));
  // the file must load here before it is written (the runtime's own validation and packing)
  (await MobileNet.load(bytes, { wasm: nodeKernelModule })).dispose();
  await io('write', args.out, () => writeFile(args.out, bytes), 'quantized model');
  return { out: args.out, bytes: bytes.length, images: files, seconds: (performance.now() - t0) / 1000 };
}

export async function cmdQuantize(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      model: { type: 'string' },
      calibration: { type: 'string' },
      out: { type: 'string' },
      method: { type: 'string' },
      percentile: { type: 'string' },
      io: { type: 'string' },
      'calibration-count': { type: 'string' },
      crop: { type: 'string' },
      'bias-correction': { type: 'string' },
      'input-range': { type: 'string' },
    },
    false,
  );
  const method = choiceOption(values, 'method', CALIBRATION_METHODS, 'minmax');
  if (values.percentile !== undefined && method !== 'percentile') throw new UsageError('--percentile goes with --method percentile');
  const args: QuantizeArgs = {
    model: resolveModel(need(values, 'model')),
    calibration: need(values, 'calibration'),
    out: need(values, 'out'),
    method,
    percentile: numberOption(values, 'percentile', { min: 50, max: 100, minExclusive: true }),
    io: choiceOption(values, 'io', QUANTIZED_IOS, 'float'),
    count: intOption(values, 'calibration-count', { min: 1, max: 1_000_000 }, DEFAULT_CALIBRATION_COUNT),
    crop: choiceOption(values, 'crop', CROP_CONVENTIONS, 'aosp-square'),
    biasCorrection: choiceOption(values, 'bias-correction', ['on', 'off'] as const, 'on') === 'on',
    inputRange: inputRangeOption(values),
  };
  const progress = (total: number) => {
    process.stderr.write(`calibrating on ${total} images of ${args.calibration}\n`);
    return progressBar(total, 'images');
  };
  const r = await quantizeCommand({ ...args, progress });
  process.stdout.write(`wrote ${r.out} (${r.bytes} bytes; int8, ${method} calibration on ${r.images.length} images, bias correction ${args.biasCorrection ? 'on' : 'off'}, ${args.io} I/O) in ${r.seconds.toFixed(1)} s\n`);
}
