/**
 * `node bench/family.mjs`: the MobileNet family models of the graph runtime (issue 10) next to
 * TFLite's own wasm build (@tensorflow/tfjs-tflite, XNNPACK, SIMD, one thread) on the same
 * files, in Node; and, with `--before DIR` (a checkout of an earlier commit, built), the v1
 * models on that build and on this one in the same sweeps, to show the graph runtime costs v1
 * nothing. Each configuration runs once per sweep (`--repeat`, default 2), keeping its fastest
 * median (other processes only ever slow a run down). Writes bench/FAMILY.md.
 *
 *   node bench/family.mjs [--repeat 2] [--runs 30] [--warmup-ms 3000] [--before /tmp/before] [--no-peers]
 */
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
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
const runs = opt('runs', '30');
const warmupMs = opt('warmup-ms', '3000');
const repeat = Number(opt('repeat', '2'));
const before = opt('before', undefined);
const peers = !flag('no-peers');
const shared = resolve(process.env.MOBILENET_WASM_MODELS ?? join(root, '..', 'shared', 'models'));
const outMd = resolve(opt('out', join(here, 'FAMILY.md')));

if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (peers) {
  const r = spawnSync(process.execPath, [join(here, 'peers', 'install.mjs'), '--only', 'tflite'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('installing the TFLite peer failed');
}

const FAMILY = [
  ['mobilenet_v2_1.0_224_quant.tflite', 'MobileNet v2 1.0/224 uint8 (TF1 converter)'],
  ['tf2_mobilenet_v2_1.0_224_ptq.tflite', 'MobileNet v2 1.0/224 int8, uint8 ends (TF2 converter)'],
  ['person_detect_int8.tflite', 'person detector, v1 0.25/96 grayscale int8'],
  ['ssd_mobilenet_v1_coco_quant.tflite', 'SSD MobileNet v1 300x300 uint8 + post-processing'],
];
const V1 = [
  ['mobilenet_v1_1.0_224_quant.tflite', 'MobileNet v1 1.0/224 uint8'],
  ['mobilenet_v1_0.25_128_quant.tflite', 'MobileNet v1 0.25/128 uint8'],
  ['mobilenet_v1_0.25_128.tflite', 'MobileNet v1 0.25/128 float32'],
];

const ours = (pkg, file, kernels) => runRunner(join(pkg, 'bin', 'mobilenet-wasm.js'), ['bench', '--model', join(shared, file), '--kernels', kernels, '--runs', runs, '--warmup-ms', warmupMs, '--json']);
const tflite = (file) => runRunner(join(here, 'peers', 'tflite', 'run.mjs'), ['--model', join(shared, file), '--runs', runs, '--warmup-ms', warmupMs, '--json']);

const configs = [];
for (const [file, what] of FAMILY) {
  if (!existsSync(join(shared, file))) continue;
  for (const k of ['simd', 'relaxed']) configs.push({ table: 'family', file, what, who: `mobilenet-wasm ${k}`, run: () => ours(root, file, k) });
  if (peers) configs.push({ table: 'family', file, what, who: 'TFLite wasm (XNNPACK)', run: () => tflite(file) });
}
if (before) {
  for (const [file, what] of V1) {
    if (!existsSync(join(shared, file))) continue;
    configs.push({ table: 'v1', file, what, who: 'before', run: () => ours(resolve(before), file, 'simd') });
    configs.push({ table: 'v1', file, what, who: 'after', run: () => ours(root, file, 'simd') });
  }
}

const best = new Map();
for (let sweep = 0; sweep < repeat; sweep++) {
  for (const c of configs) {
    const busy = busyFraction();
    const r = c.run();
    r.busy_before = Number(busy.toFixed(2));
    const b = best.get(c);
    if (r.error || !b || (!b.error && r.median_ms < b.median_ms)) best.set(c, r);
    console.error(`[${sweep + 1}/${repeat}] ${c.file} ${c.who}: ${r.error ? `error: ${r.error}` : `median ${r.median_ms} ms`}`);
  }
}

const ms = (r) => (r?.error ? `error: ${r.error}` : r ? r.median_ms.toFixed(2) : '-');
const lines = [];
lines.push('# The MobileNet family in Node (graph runtime, issue 10)', '');
lines.push(`Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} vCPU), Node ${process.version}, one thread; ` +
  `${runs} runs after a ${warmupMs} ms warm-up, best median of ${repeat} sweeps. Command: \`node bench/family.mjs ${argv.join(' ')}\`. Compare ratios from one run, not absolute times.`, '');
lines.push('| model | runtime | median ms | vs TFLite wasm |', '|---|---|---|---|');
for (const [file, what] of FAMILY) {
  const rows = configs.filter((c) => c.table === 'family' && c.file === file);
  if (!rows.length) continue;
  const peer = best.get(rows.find((c) => c.who.startsWith('TFLite')));
  for (const c of rows) {
    const r = best.get(c);
    const ratio = peer && !peer.error && r && !r.error && !c.who.startsWith('TFLite') ? `${(r.median_ms / peer.median_ms).toFixed(2)}x` : '';
    lines.push(`| ${what} | ${c.who} | ${ms(r)} | ${ratio} |`);
  }
}
if (before) {
  lines.push('', `## MobileNet v1 before and after the graph runtime (SIMD build, same sweeps; before = \`${before}\`)`, '');
  lines.push('| model | before ms | after ms | after / before |', '|---|---|---|---|');
  for (const [file, what] of V1) {
    const b = best.get(configs.find((c) => c.table === 'v1' && c.file === file && c.who === 'before'));
    const a = best.get(configs.find((c) => c.table === 'v1' && c.file === file && c.who === 'after'));
    if (!a || !b) continue;
    lines.push(`| ${what} | ${ms(b)} | ${ms(a)} | ${!a.error && !b.error ? (a.median_ms / b.median_ms).toFixed(3) : ''} |`);
  }
}
writeFileSync(outMd, lines.join('\n') + '\n');
console.log(lines.join('\n'));
