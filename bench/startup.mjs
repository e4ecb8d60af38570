#!/usr/bin/env node
/**
 * Cold start: in this fresh process, with the model bytes already read, the time from importing
 * mobilenet-wasm to the first result (import + wasm compile + instantiate + model parse/pack +
 * one inference). Prints one JSON line (the bench/lib/timing.mjs runner contract).
 *
 *   node bench/startup.mjs [--model ../shared/models/mobilenet_v1_1.0_224_quant.tflite] [--kernels simd]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const modelPath = opt('model', new URL('../../shared/models/mobilenet_v1_1.0_224_quant.tflite', import.meta.url).pathname);
const kernels = opt('kernels', 'simd');
const bytes = new Uint8Array(readFileSync(modelPath));

const t0 = performance.now();
const { loadModel } = await import('../dist/node.js');
const t1 = performance.now();
const net = await loadModel(bytes, { kernels });
const t2 = performance.now();
const n = net.info.input.shape.reduce((a, b) => a * b, 1);
const input = net.info.input.dtype === 'float32' ? new Float32Array(n) : net.info.input.dtype === 'uint8' ? new Uint8Array(n).fill(128) : new Int8Array(n);
const out = net.run(input);
const t3 = performance.now();
if (!out || out.length !== net.info.classes) throw new Error('no output');

// the memory budget of the issue: packed weights + 2 x the largest activation + 1 MiB
const budget = net.info.weightBytes + 2 * net.info.maxActivationBytes + 2 ** 20;
console.log(
  JSON.stringify({
    model: modelPath.split('/').pop(),
    kernels: net.info.kernels,
    cold_start_ms: Number((t3 - t0).toFixed(1)),
    import_ms: Number((t1 - t0).toFixed(1)),
    load_ms: Number((t2 - t1).toFixed(1)),
    first_run_ms: Number((t3 - t2).toFixed(1)),
    weight_bytes: net.info.weightBytes,
    max_activation_bytes: net.info.maxActivationBytes,
    memory_bytes: net.info.memoryBytes,
    memory_budget_bytes: budget,
    memory_within_budget: net.info.memoryBytes <= budget,
  }),
);
