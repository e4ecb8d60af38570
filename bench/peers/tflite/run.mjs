#!/usr/bin/env node
/**
 * TFLite's wasm build (npm @tensorflow/tfjs-tflite) on MobileNet v1, single thread, SIMD.
 *
 *   node bench/peers/tflite/run.mjs --model 0.25/128 --precision uint8 --runs 30 --warmup-ms 3000 [--json]
 *   node bench/peers/tflite/run.mjs --model /path/to/model.tflite
 *
 * "<alpha>/<res>" picks a file: the real model in the shared models folder when there is one
 * for that precision (mobilenet_v1_<a>_<r>.tflite float32, *_quant.tflite uint8), else the
 * random-weight file written by bench/peers/make-models.ts
 * (bench/out/models/mobilenet_v1_<a>_<r>_<precision>.tflite). `--source generated` skips the
 * shared file.
 *
 * The package is browser-only: its loader injects a <script> for the emscripten glue and lets
 * that fetch the .wasm. In Node we install small stand-ins for window/self/document/location,
 * require the single-threaded SIMD glue (wasm/tflite_web_api_cc_simd.js) ourselves, expose its
 * factory as window.tflite_web_api_ModuleFactory and hand it the .wasm bytes (wasmBinary), so
 * nothing is fetched and no worker is started.
 */
import { installBrowserStandIns } from './node-runner.mjs';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs, parseArchSpec, measure, report, runMain, checkProbabilities, environment, requireInstalled, dumpOutput, fileBytes, now, round, rng } from '../../lib/timing.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const require = createRequire(join(here, 'package.json'));
const sharedModels = process.env.MOBILENET_WASM_MODELS ?? resolve(repoRoot, '..', 'shared', 'models');
const generatedModels = resolve(repoRoot, 'bench', 'out', 'models');

function findModel(spec, precision, source) {
  const arch = parseArchSpec(spec);
  if (!arch) {
    if (!existsSync(spec)) throw new Error(`--model ${spec}: neither <alpha>/<res> nor an existing .tflite file`);
    return { path: spec, label: basename(spec) };
  }
  const stem = `mobilenet_v1_${arch.alphaText}_${arch.resolution}`;
  const candidates = [];
  if (source !== 'generated') {
    if (precision === 'float32') candidates.push([join(sharedModels, `${stem}.tflite`), 'real weights']);
    if (precision === 'uint8') candidates.push([join(sharedModels, `${stem}_quant.tflite`), 'real weights']);
  }
  if (source !== 'shared') candidates.push([join(generatedModels, `${stem}_${precision}.tflite`), 'random weights']);
  for (const [path, what] of candidates) if (existsSync(path)) return { path, label: `${basename(path)} (${what})` };
  throw new Error(
    `no ${precision} .tflite for ${spec}: looked for ${candidates.map((c) => c[0]).join(', ')}. ` +
      'Generate it with `npx tsx bench/peers/make-models.ts` (needs src/arch/mobilenet.ts and src/formats/tflite-writer.ts).',
  );
}

async function main() {
  requireInstalled(here, 'tflite');
  const args = parseArgs();
  const precision = args.precision ?? 'float32';
  if (!['float32', 'uint8', 'int8'].includes(precision)) throw new Error(`--precision must be float32, uint8 or int8, got ${precision}`);
  const model = findModel(args.model, precision, args.extra.source);
  const modelBytes = readFileSync(model.path);
  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
  const wasmFile = join(pkgDir, 'wasm', 'tflite_web_api_cc_simd.wasm');
  const wasmBinary = readFileSync(wasmFile);

  // ---- cold start: runtime import -> first result ----
  const t0 = now();
  const factory = require(join(pkgDir, 'wasm', 'tflite_web_api_cc_simd.js'));
  installBrowserStandIns(factory, wasmBinary);
  const tflite = require('@tensorflow/tfjs-tflite');
  const tfliteModel = await tflite.loadTFLiteModel(modelBytes.buffer.slice(modelBytes.byteOffset, modelBytes.byteOffset + modelBytes.length), { numThreads: 1 });
  // TFLiteModel.predict() wraps this runner but converts through tfjs tensors (needs a tfjs backend);
  // we drive the runner directly, as predict() does: set input, infer, read output.
  const runner = tfliteModel.modelRunner;
  const inInfo = runner.getInputs()[0];
  const outInfo = runner.getOutputs()[0];
  const inShape = inInfo.shape.split(',').map(Number);
  const inLen = inShape.reduce((a, b) => a * b, 1);
  const rand = rng(7);
  let input;
  if (inInfo.dataType === 'float32') input = Float32Array.from({ length: inLen }, () => rand() * 2 - 1);
  else if (inInfo.dataType === 'uint8') input = Uint8Array.from({ length: inLen }, () => Math.floor(rand() * 256));
  else if (inInfo.dataType === 'int8') input = Int8Array.from({ length: inLen }, () => Math.floor(rand() * 256) - 128);
  else throw new Error(`unexpected input type ${inInfo.dataType}`);

  const infer = () => {
    // Views are re-taken each call (as predict() does): wasm memory growth would detach old ones.
    runner.getInputs()[0].data().set(input);
    if (!runner.infer()) throw new Error('TFLite infer() failed');
    return runner.getOutputs()[0].data().slice();
  };
  const first = infer();
  const coldStartMs = now() - t0;

  // Quantized softmax outputs are fixed by TFLite to scale 1/256 (zero point 0 for uint8, -128 for int8).
  const probs = outInfo.dataType === 'float32' ? first
    : Float32Array.from(first, (q) => (outInfo.dataType === 'int8' ? q + 128 : q) / 256);
  // Quantized: with ~1000 classes near 1/1000 each, many round to 0 at 1/256 steps, so mass is lost.
  // a classifier's output is a distribution; a detector (several outputs: boxes, classes, scores, count) is not
  const check = runner.getOutputs().length === 1 ? checkProbabilities(probs, { tolerance: outInfo.dataType === 'float32' ? 1e-3 : 0.3 }) : { sum: NaN, top1: -1, top1Prob: NaN };
  if (args.extra['dump-output']) dumpOutput(args.extra['dump-output'], probs);
  const stats = await measure(infer, { runs: args.runs, warmupMs: args.warmupMs });
  const features = await tflite.getWasmFeatures();

  report(
    {
      peer: 'tflite-wasm',
      version: require('@tensorflow/tfjs-tflite/package.json').version,
      precision: inInfo.dataType, // what the file is (float32, uint8 or int8 input), whatever was asked
      model: model.label,
      ...stats,
      cold_start_ms: round(coldStartMs),
      wasm_bytes: fileBytes(wasmFile),
      threads: 1,
      simd: true, // the glue we load is the SIMD build; getWasmFeatures() only reports what the host could run
      notes: `tflite_web_api_cc_simd.wasm via TFLiteWebModelRunner (numThreads 1); input ${inInfo.dataType} [${inInfo.shape}], output ${outInfo.dataType} [${outInfo.shape}]; ` +
        `output sum ${check.sum}, top1 ${check.top1} p=${check.top1Prob}; host features simd=${features.simd} threads=${features.multiThreading}; file ${model.path}`,
      env: environment(),
    },
    args,
  );
}

runMain('tflite-wasm', main);
