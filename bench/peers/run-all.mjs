#!/usr/bin/env node
/**
 * Runs the peer matrix, one fresh process per configuration, and prints a table:
 *
 *   node bench/peers/run-all.mjs [--runs 30] [--warmup-ms 3000] [--repeat 1] [--only tfjs,tflite,ort]
 *                                [--sizes 1.0/224,0.5/160,0.25/128] [--out bench/out/peers.jsonl] [--wait-quiet S]
 *
 * Every JSON line the runners print is appended to --out. With --repeat N each configuration
 * runs N times (separate processes) and the table shows the run with the lowest median: on a
 * shared 2-core machine, other processes only ever make a run slower. Each result records
 * busy_before (CPU share busy just before it); --wait-quiet S waits up to S s for a quiet machine.
 * TFLite sizes without a shared or generated .tflite are reported as skipped
 * (`npx tsx bench/peers/make-models.ts` writes them).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyFraction, runRunner } from '../lib/runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const runs = opt('runs', '30');
const warmupMs = opt('warmup-ms', '3000');
const repeat = Number(opt('repeat', '1'));
const waitQuiet = Number(opt('wait-quiet', '0'));
const only = opt('only', 'tfjs,tflite,ort').split(',');
const sizes = opt('sizes', '1.0/224,0.5/160,0.25/128').split(',');
const out = resolve(opt('out', join(here, '..', 'out', 'peers.jsonl')));
mkdirSync(dirname(out), { recursive: true });

const matrix = [];
for (const size of sizes) {
  if (only.includes('tfjs')) matrix.push(['tfjs', size, 'float32']);
  if (only.includes('tflite')) for (const p of ['float32', 'uint8', 'int8']) matrix.push(['tflite', size, p]);
  if (only.includes('ort')) for (const p of ['float32', 'int8']) matrix.push(['ort', size, p]);
}

const rows = [];
for (const [peer, size, precision] of matrix) {
  let best;
  for (let r = 0; r < repeat; r++) {
    let busy = busyFraction();
    // --wait-quiet S: up to S seconds for the machine to be mostly idle (< 25% busy) before a run.
    for (const deadline = Date.now() + waitQuiet * 1000; busy > 0.25 && Date.now() < deadline; ) busy = busyFraction(1000);
    const result = runRunner(join(here, peer, 'run.mjs'), ['--model', size, '--precision', precision, '--runs', runs, '--warmup-ms', warmupMs, '--json']);
    result.request = { peer, size, precision };
    result.busy_before = Number(busy.toFixed(2)); // CPU share busy just before the run (other processes)
    appendFileSync(out, JSON.stringify(result) + '\n');
    if (result.error) {
      best = result;
      break;
    }
    if (!best || result.median_ms < best.median_ms) best = result;
  }
  rows.push(best);
  const r = best;
  console.error(r.error ? `${peer} ${size} ${precision}: ${r.error}` : `${peer} ${size} ${precision}: median ${r.median_ms} ms`);
}

const pad = (s, n) => String(s).padEnd(n);
console.log(`\n${pad('peer', 18)}${pad('size', 9)}${pad('prec', 9)}${pad('median', 9)}${pad('min', 9)}${pad('p90', 9)}${pad('cpu med', 9)}${pad('cold', 9)}${pad('wasm KiB', 10)}model`);
for (const r of rows) {
  const q = r.request;
  if (r.error) {
    console.log(`${pad(q.peer, 18)}${pad(q.size, 9)}${pad(q.precision, 9)}skipped: ${r.error}`);
    continue;
  }
  console.log(
    `${pad(r.peer, 18)}${pad(q.size, 9)}${pad(r.precision, 9)}${pad(r.median_ms, 9)}${pad(r.min_ms, 9)}${pad(r.p90_ms, 9)}${pad(r.cpu_median_ms, 9)}` +
      `${pad(Math.round(r.cold_start_ms), 9)}${pad(Math.round(r.wasm_bytes / 1024), 10)}${r.model}`,
  );
}
console.log(`\n(all results appended to ${out})`);
