#!/usr/bin/env node
/**
 * The side-by-side benchmark: this project (float32, uint8, int8; simd, relaxed, scalar kernels)
 * and the peers (tfjs-backend-wasm, TFLite wasm, onnxruntime-web) on the same MobileNet v1 models,
 * one fresh process per configuration, single thread, >= 3 s warm-up, then min / median / p90.
 * Also .wasm sizes, cold start and wasm memory. Writes bench/RESULTS.md.
 *
 *   npm run bench [-- --sizes 1.0/224,0.5/160,0.25/128] [--runs 30] [--warmup-ms 3000] [--repeat 2]
 *                 [--no-peers] [--no-scalar] [--out bench/RESULTS.md]
 *
 * Needs `npm run build` (done by npm ci) and, for the peers, their own packages:
 * `node bench/peers/install.mjs` (run here on demand) and the random-weight model files
 * (`npx tsx bench/peers/make-models.ts`, also run on demand into the git-ignored bench/out/).
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync, appendFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { busyFraction, runRunner } from './lib/runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const flag = (name) => argv.includes(`--${name}`);
const sizes = opt('sizes', '1.0/224,0.5/160,0.25/128').split(',');
const runs = opt('runs', '30');
const warmupMs = opt('warmup-ms', '3000');
const repeat = Number(opt('repeat', '1'));
const peers = !flag('no-peers');
const scalar = !flag('no-scalar');
const outMd = resolve(opt('out', join(here, 'RESULTS.md')));
const shared = resolve(process.env.MOBILENET_WASM_MODELS ?? join(root, '..', 'shared', 'models'));
const generated = join(here, 'out', 'models');
const jsonl = join(here, 'out', 'results.jsonl');
mkdirSync(dirname(jsonl), { recursive: true });

const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
};
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) sh('npm', ['run', 'build']);
if (peers) sh(process.execPath, [join(here, 'peers', 'install.mjs')]);
const needModels = sizes.some((s) => ['float32', 'uint8', 'int8'].some((p) => !existsSync(join(generated, `mobilenet_v1_${s.replace('/', '_')}_${p}.tflite`))));
if (needModels) sh(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(here, 'peers', 'make-models.ts'), '--sizes', sizes.join(',')]);

/** the model file for a size and precision: the real shared file where one exists, else the generated one */
function modelFile(size, precision) {
  const [a, r] = size.split('/');
  const real = precision === 'float32' ? `mobilenet_v1_${a}_${r}.tflite` : precision === 'uint8' ? `mobilenet_v1_${a}_${r}_quant.tflite` : undefined;
  if (real && existsSync(join(shared, real))) return { path: join(shared, real), weights: 'real' };
  return { path: join(generated, `mobilenet_v1_${a}_${r}_${precision}.tflite`), weights: 'random' };
}

const ours = (size, precision, kernels) => {
  const m = modelFile(size, precision);
  const res = runRunner(join(root, 'bin', 'mobilenet-wasm.js'), ['bench', '--model', m.path, '--kernels', kernels, '--runs', runs, '--warmup-ms', warmupMs, '--json']);
  return { ...res, peer: 'mobilenet-wasm', weights: m.weights, model: relative(root, m.path) };
};
const peer = (name, size, precision) =>
  runRunner(join(here, 'peers', name, 'run.mjs'), ['--model', size, '--precision', precision, '--runs', runs, '--warmup-ms', warmupMs, '--json']);

const configs = [];
for (const size of sizes) {
  for (const precision of ['float32', 'uint8', 'int8']) {
    for (const k of ['simd', 'relaxed', ...(scalar && size === '1.0/224' ? ['scalar'] : [])]) {
      configs.push({ size, precision, who: `mobilenet-wasm ${k}`, run: () => ours(size, precision, k) });
    }
    if (!peers) continue;
    if (precision === 'float32') configs.push({ size, precision, who: 'tfjs-backend-wasm', run: () => peer('tfjs', size, precision) });
    configs.push({ size, precision, who: 'TFLite wasm (XNNPACK)', run: () => peer('tflite', size, precision) });
    if (precision !== 'uint8') configs.push({ size, precision, who: 'onnxruntime-web', run: () => peer('ort', size, precision) });
  }
}

// The matrix is swept `repeat` times, each configuration once per sweep, keeping each one's
// fastest median: on a shared machine other processes only ever slow a run down, and sweeping
// (rather than repeating a configuration back to back) spreads a slow spell over all of them.
const best = new Map();
for (let sweep = 0; sweep < repeat; sweep++) {
  for (const c of configs) {
    if (best.get(c)?.error) continue;
    const busy = busyFraction();
    const r = c.run();
    r.busy_before = Number(busy.toFixed(2));
    r.sweep = sweep;
    appendFileSync(jsonl, JSON.stringify({ ...c, run: undefined, result: r }) + '\n');
    const b = best.get(c);
    if (r.error || !b || r.median_ms < b.median_ms) best.set(c, r);
    console.error(`[${sweep + 1}/${repeat}] ${c.size} ${c.precision} ${c.who}: ${r.error ? `error: ${r.error}` : `median ${r.median_ms} ms`}`);
  }
}
const results = configs.map((c) => ({ ...c, r: best.get(c) }));

// sizes of the shipped kernels
const wasm = ['scalar', 'simd', 'relaxed'].map((f) => {
  const b = readFileSync(join(root, 'build', `mobilenet-${f}.wasm`));
  return { f, raw: b.length, gzip: gzipSync(b, { level: 9 }).length };
});

// cold start: 5 fresh processes, median
const starts = [];
const uint8Model = join(shared, 'mobilenet_v1_1.0_224_quant.tflite');
if (existsSync(uint8Model)) {
  for (let i = 0; i < 5; i++) {
    const r = runRunner(join(here, 'startup.mjs'), ['--model', uint8Model, '--kernels', 'simd']);
    if (!r.error) starts.push(r);
  }
}
starts.sort((a, b) => a.cold_start_ms - b.cold_start_ms);
const start = starts[starts.length >> 1];

// ------------------------------------------------------------------ report
const fmt = (x) => (x === undefined ? '' : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const lines = [];
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
lines.push('# Benchmark results', '');
lines.push(`Made by \`node bench/run.mjs ${argv.join(' ')}\`.trim() on ${new Date().toISOString().slice(0, 10)}, ${cpu}, ${os.cpus().length} vCPU, Node ${process.version}, one thread, median of ${runs} runs after a ${warmupMs} ms warm-up, each configuration in a fresh process${repeat > 1 ? `, the fastest of ${repeat} processes per configuration (the whole matrix swept ${repeat} times)` : ''}.`.replace('`.trim()', '`'));
lines.push('');
lines.push('Ratios are our median over the peer\'s; below 1 is faster. `uint8` rows use the real shared models where they exist, other rows random weights in the same architecture (TF-slim channel rule, 1001 classes), from the same .tflite file for every runtime.', '');
for (const size of sizes) {
  for (const precision of ['float32', 'uint8', 'int8']) {
    const rows = results.filter((x) => x.size === size && x.precision === precision);
    if (!rows.length) continue;
    const peerRows = rows.filter((x) => !x.who.startsWith('mobilenet-wasm') && !x.r.error);
    lines.push(`## MobileNet v1 ${size} ${precision}`, '');
    lines.push(`| runtime | median ms | min ms | p90 ms | ${peerRows.map((p) => `vs ${p.who}`).join(' | ')} | weights |`);
    lines.push(`|---|---:|---:|---:|${peerRows.map(() => '---:').join('|')}${peerRows.length ? '|' : ''}---|`);
    for (const x of rows) {
      if (x.r.error) {
        lines.push(`| ${x.who} | n/a: ${String(x.r.error).slice(0, 120).replace(/\|/g, '/')} | | | ${peerRows.map(() => '').join(' | ')} | |`);
        continue;
      }
      const ratios = peerRows.map((p) => (x.who.startsWith('mobilenet-wasm') ? `${(x.r.median_ms / p.r.median_ms).toFixed(2)}x` : ''));
      lines.push(`| ${x.who} | ${fmt(x.r.median_ms)} | ${fmt(x.r.min_ms)} | ${fmt(x.r.p90_ms)} | ${ratios.join(' | ')} | ${x.r.weights ?? (x.r.notes ?? '').slice(0, 40)} |`);
    }
    lines.push('');
  }
}
lines.push('## Size, start-up, memory', '');
lines.push('| kernel build | raw bytes | gzip -9 bytes |', '|---|---:|---:|');
for (const w of wasm) lines.push(`| build/mobilenet-${w.f}.wasm | ${w.raw} | ${w.gzip} |`);
const peerWasm = results.filter((x) => !x.who.startsWith('mobilenet-wasm') && x.r.wasm_bytes).reduce((m, x) => ((m[x.who] = x.r.wasm_bytes), m), {});
lines.push('', `Peers' .wasm: ${Object.entries(peerWasm).map(([k, v]) => `${k} ${(v / 1024).toFixed(0)} KiB`).join(', ')}.`, '');
if (start) {
  lines.push(
    `Cold start (import of mobilenet-wasm to the first result, fresh Node process, model bytes already read, 1.0/224 uint8, simd), median of ${starts.length}: **${start.cold_start_ms} ms** (import ${start.import_ms}, load ${start.load_ms}, first run ${start.first_run_ms}).`,
    '',
    `Wasm memory of the loaded 1.0/224 uint8 model: ${start.memory_bytes} bytes; budget packed weights (${start.weight_bytes}) + 2 x largest activation (${start.max_activation_bytes}) + 1 MiB = ${start.memory_budget_bytes}: ${start.memory_within_budget ? 'within' : 'OVER'}.`,
  );
  const peerCold = results.filter((x) => !x.who.startsWith('mobilenet-wasm') && x.r.cold_start_ms && x.size === '1.0/224');
  if (peerCold.length) lines.push('', `Peers' cold start at 1.0/224: ${peerCold.map((x) => `${x.who} ${x.precision} ${Math.round(x.r.cold_start_ms)} ms`).join(', ')}.`);
}
lines.push('', `Raw results: bench/out/results.jsonl (git-ignored). Per-layer profile: \`node bin/mobilenet-wasm.js bench --model M --profile\`.`);
// keep the sections other scripts write between their markers: Chromium (npm run bench:browser)
// and download size (bench/size.mjs)
const previous = existsSync(outMd) ? readFileSync(outMd, 'utf8') : '';
for (const section of ['chromium', 'size']) {
  const kept = previous.match(new RegExp(`<!-- ${section}:start -->[\\s\\S]*?<!-- ${section}:end -->`));
  if (kept) lines.push('', kept[0]);
}
writeFileSync(outMd, lines.join('\n') + '\n');
console.log(lines.join('\n'));
