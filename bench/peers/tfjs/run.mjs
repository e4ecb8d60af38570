#!/usr/bin/env node
/**
 * tfjs-backend-wasm on MobileNet v1, single thread, SIMD.
 *
 *   node bench/peers/tfjs/run.mjs --model 1.0/224 --runs 30 --warmup-ms 3000 [--json]
 *   node bench/peers/tfjs/run.mjs --model ../shared/models/tfjs/mobilenet_v1_0.25_224   (real layers model)
 *
 * "<alpha>/<res>" builds the float32 graph from tf ops with seeded random weights, using
 * tf.fused.conv2d / tf.fused.depthwiseConv2d (bias + relu6 fused), which is what a converted
 * graph model executes on this backend (XNNPACK kernels). A directory is loaded with
 * tf.loadLayersModel through an in-memory IO handler (batch norm not folded there).
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs, parseArchSpec, measure, report, runMain, checkProbabilities, environment, requireInstalled, dumpOutput, fileBytes, now, round } from '../../lib/timing.mjs';
import { buildMobileNetV1, randomInput } from '../../lib/mobilenet-v1.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));

/** OHWI -> HWIO (tf.conv2d filter layout). */
function ohwiToHwio(f, O, H, W, I) {
  const out = new Float32Array(f.length);
  for (let o = 0; o < O; o++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let i = 0; i < I; i++) out[((h * W + w) * I + i) * O + o] = f[((o * H + h) * W + w) * I + i];
  return out;
}

/** Reads a TF.js layers model folder (model.json + shards) without fetch. */
function layersModelArtifacts(dir) {
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const buffers = modelJson.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    weightData.set(b, off);
    off += b.length;
  }
  return { modelTopology: modelJson.modelTopology, weightSpecs, weightData: weightData.buffer, format: modelJson.format, generatedBy: modelJson.generatedBy, convertedBy: modelJson.convertedBy };
}

async function main() {
  requireInstalled(here, 'tfjs');
  const args = parseArgs();
  const precision = args.precision ?? 'float32';
  if (precision !== 'float32') throw new Error(`tfjs-backend-wasm runs float32 only (asked for ${precision})`);
  const arch = parseArchSpec(args.model);
  let net, artifacts, resolution, modelLabel;
  if (arch) {
    net = buildMobileNetV1({ alpha: arch.alpha, resolution: arch.resolution, seed: args.seed });
    // Convert weights to tfjs layouts before the clock starts: a real user would load them from a file.
    for (const l of net.layers) {
      if (l.kind === 'conv') l.tfFilter = ohwiToHwio(l.filter, l.outC, l.k, l.k, l.inC);
    }
    resolution = arch.resolution;
    modelLabel = `mobilenet_v1_${arch.alphaText}_${arch.resolution} (tf ops, fused, random weights seed ${args.seed})`;
  } else {
    if (!existsSync(join(args.model, 'model.json'))) throw new Error(`--model ${args.model}: neither <alpha>/<res> nor a folder with model.json`);
    artifacts = layersModelArtifacts(args.model);
    const shape = artifacts.modelTopology.model_config?.config?.layers?.[0]?.config?.batch_input_shape
      ?? artifacts.modelTopology.config?.layers?.[0]?.config?.batch_input_shape;
    resolution = shape?.[1] ?? 224;
    modelLabel = `${args.model} (layers model)`;
  }
  const inputData = randomInput(resolution);

  // ---- cold start: runtime import -> first result ----
  const t0 = now();
  const tf = await import('@tensorflow/tfjs-core');
  const wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
  wasmBackend.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');

  let forward;
  if (net) {
    const weights = net.layers.map((l) => {
      if (l.kind === 'conv') return { filter: tf.tensor4d(l.tfFilter, [l.k, l.k, l.inC, l.outC]), bias: tf.tensor1d(l.bias) };
      if (l.kind === 'dw') return { filter: tf.tensor4d(l.filter, [l.k, l.k, l.C, 1]), bias: tf.tensor1d(l.bias) };
      return null;
    });
    forward = (x) => {
      for (let i = 0; i < net.layers.length; i++) {
        const l = net.layers[i];
        const w = weights[i];
        const activation = l.relu6 ? 'relu6' : 'linear';
        if (l.kind === 'conv') x = tf.fused.conv2d({ x, filter: w.filter, strides: l.stride, pad: 'same', bias: w.bias, activation });
        else if (l.kind === 'dw') x = tf.fused.depthwiseConv2d({ x, filter: w.filter, strides: l.stride, pad: 'same', bias: w.bias, activation });
        else x = tf.avgPool(x, l.size, 1, 'valid');
      }
      return tf.softmax(tf.reshape(x, [1, net.numClasses]));
    };
  } else {
    const tfl = await import('@tensorflow/tfjs-layers');
    const model = await tfl.loadLayersModel({ load: async () => artifacts });
    forward = (x) => model.predict(x);
  }
  const input = tf.tensor4d(inputData, [1, resolution, resolution, 3]);
  const infer = () => {
    const y = tf.tidy(() => forward(input));
    const probs = y.dataSync(); // synchronous copy out of wasm memory: "reading the output back"
    y.dispose();
    return probs;
  };
  const first = infer();
  const coldStartMs = now() - t0;

  const check = checkProbabilities(first, { expectedLength: net ? net.numClasses : undefined, tolerance: 1e-3 });
  if (args.extra['dump-output']) dumpOutput(args.extra['dump-output'], first);
  const stats = await measure(infer, { runs: args.runs, warmupMs: args.warmupMs });
  const leaked = tf.memory().numTensors;

  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const wasmFile = join(pkgDir, 'dist', simd ? (threaded ? 'tfjs-backend-wasm-threaded-simd.wasm' : 'tfjs-backend-wasm-simd.wasm') : 'tfjs-backend-wasm.wasm');
  report(
    {
      peer: 'tfjs-backend-wasm',
      version: require('@tensorflow/tfjs-backend-wasm/package.json').version,
      precision,
      model: modelLabel,
      ...stats,
      cold_start_ms: round(coldStartMs),
      wasm_bytes: fileBytes(wasmFile),
      threads: wasmBackend.getThreadsCount(),
      simd,
      notes: `tfjs-core ${tf.version_core}; ${wasmFile.split('/').pop()}; output sum ${check.sum}, top1 ${check.top1} p=${check.top1Prob}; tensors alive ${leaked}`,
      env: environment(),
    },
    args,
  );
}

runMain('tfjs-backend-wasm', main);
