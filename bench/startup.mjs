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
 *   node bench/startup.mjs --runs 5 --phases   # each run under the CPU profiler: where the load and the first run go
 *   node bench/startup.mjs --runs 9 --node-flags=--no-liftoff   # V8 flags for the measured processes (the bound without Liftoff)
 *   node bench/startup.mjs --runs 9 --pack-cache tmp/packed   # loads with a packed-model cache in that folder
 *                                                 # (LoadOptions.packCache): the first process fills it, the rest read it
 *   node bench/startup.mjs --runs 9 --warm-tiny   # run a tiny model of the same precision first (inside the clock):
 *                                                 # does starting the kernels' tier-up before the packing pay?
 *
 * --phases: the clock's phases say import / read / load / first run; inside load the profile of
 * each run (node --cpu-prof, 100 us samples) is split into the named functions below, a sample
 * counting once for every phase on its stack. Profiling slows everything; compare phases with
 * each other, not with an unprofiled run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const phases = argv.includes('--phases');
/** --node-flags=<flags separated by spaces>: given to the measured processes */
const nodeFlags = (argv.find((a) => a.startsWith('--node-flags=')) ?? '--node-flags=').slice('--node-flags='.length).split(' ').filter(Boolean);

/**
 * Profile phases: a function name (or the wasm code, or the collector) and the name it is reported
 * under. A sample counts once per phase whatever the recursion, so nested phases overlap
 * (packing is part of plan, parse of load).
 */
const PHASES = [
  ['parse .tflite (toGraph)', (f) => f.functionName === 'toGraph'],
  ['validateGraph (reader and planner)', (f) => f.functionName === 'validateGraph'],
  ['plan + prepare (planGraph)', (f) => f.functionName === 'planGraph'],
  ['  of it packing (pack*)', (f) => /^pack[A-Z]/.test(f.functionName) && f.functionName !== 'packCacheKey'],
  ['  of it placeTensors', (f) => f.functionName === 'placeTensors'],
  ['warm-up calls (warmKernels)', (f) => f.functionName === 'warmKernels'],
  ['packed cache: hash + read (lookUpPacked)', (f) => f.functionName === 'lookUpPacked'],
  ['packed cache: check the entry (packedFrom)', (f) => f.functionName === 'packedFrom'],
  ['  sha256 of model and entry (both above)', (f) => f.functionName === 'sha256' || f.functionName === 'digest'],
  ['packed cache: record + write (writePackCache)', (f) => f.functionName === 'writePackCache'],
  ['kernels: compile + instantiate', (f) => /^(wasmFor|instantiateKernels|nodeKernelModule|compileKernels)$/.test(f.functionName)],
  ['first run (runTensors)', (f) => f.functionName === 'runTensors'],
  ['  of it wasm code', (f) => f.url.startsWith('wasm://')],
  ['  of it writeInput', (f) => f.functionName === 'writeInput'],
  ['garbage collector (anywhere)', (f) => f.functionName === '(garbage collector)'],
];

/** ms per phase of one .cpuprofile */
function profilePhases(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const parent = new Map();
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ms = PHASES.map(() => 0);
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const hit = PHASES.map(() => false);
    for (let id = p.samples[i]; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id).callFrame;
      PHASES.forEach(([, match], k) => (hit[k] ||= match(frame)));
    }
    hit.forEach((h, k) => (ms[k] += h ? dt : 0));
  }
  return Object.fromEntries(PHASES.map(([name], k) => [name, ms[k]]));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (runs > 0) {
  // driver mode: each measurement in its own fresh process, then the medians
  const childArgs = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') i++;
    else if (argv[i] !== '--phases' && !argv[i].startsWith('--node-flags=')) childArgs.push(argv[i]);
  }
  // a profiled run stops after the first result, so its profile holds one run
  if (phases) childArgs.push('--first-run-only');
  const rows = [];
  const profiles = [];
  for (let r = 0; r < runs; r++) {
    const profDir = phases ? mkdtempSync(join(tmpdir(), 'mnw-startup-prof-')) : undefined;
    const nodeArgs = phases ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', profDir] : [];
    const res = spawnSync(process.execPath, [...nodeFlags, ...nodeArgs, fileURLToPath(import.meta.url), ...childArgs], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`run ${r} failed: ${res.stderr}`);
    const row = JSON.parse(res.stdout.trim().split('\n').pop());
    rows.push(row);
    console.log(JSON.stringify(row));
    if (profDir) {
      profiles.push(profilePhases(join(profDir, readdirSync(profDir)[0])));
      rmSync(profDir, { recursive: true, force: true });
    }
  }
  const keys = ['cold_start_ms', 'import_ms', 'read_ms', ...(rows[0].warm_tiny_ms === undefined ? [] : ['warm_tiny_ms']), 'load_ms', 'first_run_ms', 'second_run_ms', 'cpu_cold_start_ms', 'cpu_import_ms', 'cpu_read_ms', 'cpu_load_ms', 'cpu_first_run_ms'];
  const med = Object.fromEntries(keys.filter((k) => rows[0][k] !== undefined).map((k) => [k, Number(median(rows.map((r) => r[k])).toFixed(1))]));
  if (phases) {
    console.log(`profiled phases, median ms of ${runs} runs (under the profiler):`);
    for (const [name] of PHASES) console.log(`  ${name.padEnd(44)} ${median(profiles.map((p) => p[name])).toFixed(1).padStart(7)}`);
  }
  console.log(JSON.stringify({ median_of: runs, ...med, min_cold_start_ms: Math.min(...rows.map((r) => r.cold_start_ms)), max_cold_start_ms: Math.max(...rows.map((r) => r.cold_start_ms)) }));
  process.exit(0);
}

const modelPath = opt('model', fileURLToPath(new URL('../../shared/models/mobilenet_v1_1.0_224_quant.tflite', import.meta.url)));
const kernels = opt('kernels', 'simd');
const bytesOutside = argv.includes('--bytes-outside');
const entry = opt('entry') ? pathToFileURL(opt('entry')).href : '../dist/node.js';
const early = bytesOutside ? new Uint8Array(readFileSync(modelPath)) : undefined;

/** process CPU ms (user + system, every thread): on a busy machine the wall clock counts the waits for a core too */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const c0 = cpuMs();
const t0 = performance.now();
const { loadModel, buildMobileNetV1 } = await import(entry);
const t1 = performance.now();
const c1 = cpuMs();
const bytes = early ?? new Uint8Array(await readFile(modelPath));
const tRead = performance.now();
const cRead = cpuMs();
let warmMs;
if (argv.includes('--warm-tiny')) {
  // the same kernels on a model of a few thousand MACs per layer: V8 starts compiling the hot
  // kernels with TurboFan in the background, while the model below is parsed and packed
  // (uint8: the precision of the default model; the probe is not meant for the others)
  const tiny = await loadModel(buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'uint8', classes: 8, seed: 1 }), { kernels });
  tiny.run(new Uint8Array(32 * 32 * 3));
  tiny.dispose();
  warmMs = performance.now() - tRead;
}
const tWarm = performance.now();
const cWarm = cpuMs();
const packCache = opt('pack-cache');
const net = await loadModel(bytes, { kernels, ...(packCache ? { packCache } : {}) });
const t2 = performance.now();
const c2 = cpuMs();
const n = net.info.input.shape.reduce((a, b) => a * b, 1);
const input = net.info.input.dtype === 'float32' ? new Float32Array(n) : net.info.input.dtype === 'uint8' ? new Uint8Array(n).fill(128) : new Int8Array(n);
const out = net.run(input);
const t3 = performance.now();
const c3 = cpuMs();
if (!out || out.length !== net.info.classes) throw new Error('no output');
// outside the cold start: what the same run costs once the code is warm(er), the first run's excess
let secondRunMs;
if (!argv.includes('--first-run-only')) {
  const t4 = performance.now();
  net.run(input);
  secondRunMs = performance.now() - t4;
}

// the memory budget of the issue: packed weights + 2 x the largest activation + 1 MiB
const budget = net.info.weightBytes + 2 * net.info.maxActivationBytes + 2 ** 20;
console.log(
  JSON.stringify({
    model: modelPath.split('/').pop(),
    kernels: net.info.kernels,
    entry: opt('entry') ?? 'dist/node.js',
    ...(packCache ? { pack_cache: packCache } : {}),
    bytes_in_clock: !bytesOutside,
    cold_start_ms: Number((t3 - t0).toFixed(1)),
    import_ms: Number((t1 - t0).toFixed(1)),
    read_ms: Number((tRead - t1).toFixed(1)),
    load_ms: Number((t2 - tWarm).toFixed(1)),
    first_run_ms: Number((t3 - t2).toFixed(1)),
    ...(secondRunMs === undefined ? {} : { second_run_ms: Number(secondRunMs.toFixed(1)) }),
    cpu_cold_start_ms: Number((c3 - c0).toFixed(1)),
    cpu_import_ms: Number((c1 - c0).toFixed(1)),
    cpu_read_ms: Number((cRead - c1).toFixed(1)),
    cpu_load_ms: Number((c2 - cWarm).toFixed(1)),
    cpu_first_run_ms: Number((c3 - c2).toFixed(1)),
    ...(warmMs === undefined ? {} : { warm_tiny_ms: Number(warmMs.toFixed(1)) }),
    weight_bytes: net.info.weightBytes,
    max_activation_bytes: net.info.maxActivationBytes,
    memory_bytes: net.info.memoryBytes,
    memory_budget_bytes: budget,
    memory_within_budget: net.info.memoryBytes <= budget,
  }),
);
