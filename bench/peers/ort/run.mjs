#!/usr/bin/env node
/**
 * onnxruntime-web (wasm execution provider, SIMD, one thread) on MobileNet v1.
 *
 *   node bench/peers/ort/run.mjs --model 1.0/224 --precision float32|int8 --runs 30 --warmup-ms 3000 [--json]
 *        [--activations u8|s8] [--weights s8|u8]   (int8 only: activation / weight types, default u8 / s8)
 *   node bench/peers/ort/run.mjs --model some.onnx [--resolution 224]
 *        [--source auto|generated|own]   auto (default): bench/out/models/mobilenet_v1_<a>_<r>_<precision>.onnx
 *        when make-models.ts has written it (the project's random weights, same as the .tflite files),
 *        else (or with "own") the in-memory model below.
 *
 * "<alpha>/<res>" writes the model in memory with ./onnx-writer.mjs (seeded random weights, the
 * same network as the tfjs runner). In Node, onnxruntime-web's "node" export loads
 * dist/ort-wasm-simd-threaded.wasm from the package itself; numThreads = 1 means no workers.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, parseArchSpec, measure, report, runMain, checkProbabilities, environment, requireInstalled, dumpOutput, fileBytes, now, round } from '../../lib/timing.mjs';
import { randomInput } from '../../lib/mobilenet-v1.mjs';
import { mobileNetV1Onnx } from './onnx-writer.mjs';

const here = dirname(fileURLToPath(import.meta.url));

async function main() {
  requireInstalled(here, 'ort');
  const args = parseArgs();
  const precision = args.precision ?? 'float32';
  const activations = args.extra.activations ?? 'u8';
  const weightType = args.extra.weights ?? 's8';
  const arch = parseArchSpec(args.model);
  let modelBytes, label, resolution;
  const generated = arch && join(here, '..', '..', 'out', 'models', `mobilenet_v1_${arch.alphaText}_${arch.resolution}_${precision}.onnx`);
  const source = args.extra.source ?? 'auto';
  if (!['auto', 'generated', 'own'].includes(source)) throw new Error(`--source must be auto, generated or own, got ${source}`);
  // make-models.ts writes u8-activation int8 models only, so --activations s8 builds in memory.
  const useGenerated = source === 'generated' || (source === 'auto' && existsSync(generated) && (precision !== 'int8' || (activations === 'u8' && weightType === 's8')));
  if (source === 'generated' && precision === 'int8' && activations !== 'u8') throw new Error('generated int8 .onnx files have u8 activations; use --source own for s8');
  if (arch && useGenerated) {
    // written by make-models.ts from the project's own random-weight graph
    if (!existsSync(generated)) throw new Error(`${generated} missing: run \`npx tsx bench/peers/make-models.ts\` first`);
    modelBytes = readFileSync(generated);
    resolution = arch.resolution;
    label = `${basename(generated)} (project's random weights${precision === 'int8' ? `, QLinearConv, u8 activations` : ''})`;
  } else if (arch) {
    modelBytes = mobileNetV1Onnx({ alpha: arch.alpha, resolution: arch.resolution, precision, seed: args.seed, activations, weights: weightType });
    resolution = arch.resolution;
    label = `mobilenet_v1_${arch.alphaText}_${arch.resolution} (${precision === 'int8' ? `QLinearConv, ${activations} activations, ${weightType} per-channel weights` : 'Conv+Clip'}, random weights seed ${args.seed})`;
  } else {
    if (!existsSync(args.model)) throw new Error(`--model ${args.model}: neither <alpha>/<res> nor an existing .onnx file`);
    modelBytes = readFileSync(args.model);
    label = basename(args.model);
    resolution = Number(args.extra.resolution ?? 224);
  }
  // NHWC -> NCHW, outside the timed region (the model's native layout).
  const nhwc = randomInput(resolution);
  const plane = resolution * resolution;
  const nchw = new Float32Array(nhwc.length);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) nchw[c * plane + p] = nhwc[p * 3 + c];

  // ---- cold start: runtime import -> first result ----
  const t0 = now();
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const feeds = { [inputName]: new ort.Tensor('float32', nchw, [1, 3, resolution, resolution]) };
  const infer = async () => {
    const out = await session.run(feeds);
    const t = out[outputName];
    const probs = t.data; // already copied out of wasm memory into a JS typed array
    t.dispose?.();
    return probs;
  };
  const first = await infer();
  const coldStartMs = now() - t0;

  const check = checkProbabilities(first, { tolerance: 1e-3 });
  if (args.extra['dump-output']) dumpOutput(args.extra['dump-output'], first);
  const stats = await measure(infer, { runs: args.runs, warmupMs: args.warmupMs });

  // The package's "exports" hides package.json and the dist folder from require.resolve.
  const pkgDir = join(here, 'node_modules', 'onnxruntime-web');
  const wasmFile = join(pkgDir, 'dist', 'ort-wasm-simd-threaded.wasm');
  report(
    {
      peer: 'onnxruntime-web',
      version: JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version,
      precision,
      model: label,
      ...stats,
      cold_start_ms: round(coldStartMs),
      wasm_bytes: fileBytes(wasmFile),
      threads: ort.env.wasm.numThreads,
      simd: true, // onnxruntime-web >= 1.19 ships only the SIMD build
      notes: `wasm EP, graphOptimizationLevel all, ${basename(wasmFile)}; .onnx ${modelBytes.length} bytes; NCHW float input; output sum ${check.sum}, top1 ${check.top1} p=${check.top1Prob}`,
      env: environment(),
    },
    args,
  );
  await session.release();
}

runMain('onnxruntime-web', main);
