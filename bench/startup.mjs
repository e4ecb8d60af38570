#!/usr/bin/env node
/**
 * Cold start: in this fresh process, the time from importing mobilenet-wasm to the first result
 * (import + model file read + wasm compile + instantiate + model parse/pack + one inference).
 * The model file is read inside the clock (issue 11 item 3); `--bytes-outside` reads it before the
 * clock starts (the older measurement). Prints one JSON line (the bench/lib/timing.mjs runner contract).
 *
 *   node bench/startup.mjs [--model ../shared/models/mobilenet_v1_1.0_224_quant.tflite] [--kernels simd] [--bytes-outside]
 *   node bench/startup.mjs --runs 9     # 9 fresh processes, prints each line and the medians
 *   node bench/startup.mjs --entry tmp/dist-bundled/node.js   # another build of the Node entry (bench/startup-bundle.mjs)
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const runs = Number(opt('runs', '0'));
if (runs > 0) {
  // driver mode: each measurement in its own fresh process, then the medians
  const childArgs = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') i++;
    else childArgs.push(argv[i]);
  }
  const rows = [];
  for (let r = 0; r < runs; r++) {
    const res = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...childArgs], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`run ${r} failed: ${res.stderr}`);
    const row = JSON.parse(res.stdout.trim().split('\n').pop());
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const keys = ['cold_start_ms', 'import_ms', 'read_ms', 'load_ms', 'first_run_ms'];
  const med = Object.fromEntries(keys.map((k) => [k, Number(median(rows.map((r) => r[k])).toFixed(1))]));
  console.log(JSON.stringify({ median_of: runs, ...med, min_cold_start_ms: Math.min(...rows.map((r) => r.cold_start_ms)), max_cold_start_ms: Math.max(...rows.map((r) => r.cold_start_ms)) }));
  process.exit(0);
}

const modelPath = opt('model', fileURLToPath(new URL('../../shared/models/mobilenet_v1_1.0_224_quant.tflite', import.meta.url)));
const kernels = opt('kernels', 'simd');
const bytesOutside = argv.includes('--bytes-outside');
const entry = opt('entry') ? pathToFileURL(opt('entry')).href : '../dist/node.js';
const early = bytesOutside ? new Uint8Array(readFileSync(modelPath)) : undefined;

const t0 = performance.now();
const { loadModel } = await import(entry);
const t1 = performance.now();
const bytes = early ?? new Uint8Array(await readFile(modelPath));
const tRead = performance.now();
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
    entry: opt('entry') ?? 'dist/node.js',
    bytes_in_clock: !bytesOutside,
    cold_start_ms: Number((t3 - t0).toFixed(1)),
    import_ms: Number((t1 - t0).toFixed(1)),
    read_ms: Number((tRead - t1).toFixed(1)),
    load_ms: Number((t2 - tRead).toFixed(1)),
    first_run_ms: Number((t3 - t2).toFixed(1)),
    weight_bytes: net.info.weightBytes,
    max_activation_bytes: net.info.maxActivationBytes,
    memory_bytes: net.info.memoryBytes,
    memory_budget_bytes: budget,
    memory_within_budget: net.info.memoryBytes <= budget,
  }),
);
