#!/usr/bin/env node
// Images per second of `classify --jobs N` (decode included) over the shared photos, for
// 0.25/128 and 1.0/224 uint8: the worker pool against one thread, in one run.
// Usage: node bench/pool.mjs [--images 200] [--jobs 1,2]
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const count = Number(opt('--images', '200'));
const jobsList = opt('--jobs', '1,2').split(',').map(Number);
const shared = join(root, '../shared');
const { MobileNetPool, minDecodedSizeFor } = await import(join(root, 'dist/node.js'));
const dir = join(shared, 'images/photos');
const photos = readdirSync(dir).filter((f) => f.endsWith('.jpeg')).sort().slice(0, count).map((f) => join(dir, f));
console.log(`${photos.length} photos, ${cpus().length} cores (${cpus()[0].model}), Node ${process.version}`);
console.log('| model | jobs | seconds | images/s | speed-up |\n|---|---|---|---|---|');
for (const model of ['mobilenet_v1_0.25_128_quant', 'mobilenet_v1_1.0_224_quant']) {
  let base;
  for (const jobs of jobsList) {
    const pool = await MobileNetPool.load(join(shared, 'models', `${model}.tflite`), { jobs, decode: { minDecodedSize: minDecodedSizeFor(model.includes('224') ? 224 : 128) } });
    await pool.classifyFiles(photos.slice(0, 10 * jobs)); // warm the threads
    const t = performance.now();
    const results = await pool.classifyFiles(photos);
    const s = (performance.now() - t) / 1000;
    await pool.dispose();
    const rate = photos.length / s;
    base ??= rate;
    console.log(`| ${model} | ${jobs} | ${s.toFixed(2)} | ${rate.toFixed(1)} | ${(rate / base).toFixed(2)}x | ${results.filter((r) => r.error).length ? 'errors!' : ''}`);
  }
}

// the CLI end to end, as a user runs it: `classify --jobs N --json` over the same photos
import { spawnSync } from 'node:child_process';
console.log('\n| CLI classify (process start to exit) | jobs | seconds | images/s | speed-up |\n|---|---|---|---|---|');
for (const model of ['mobilenet_v1_0.25_128_quant', 'mobilenet_v1_1.0_224_quant']) {
  let base;
  for (const jobs of jobsList) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'bin/mobilenet-wasm.js'), 'classify', '--json', '--top', '1', '--jobs', String(jobs), '--model', join(shared, 'models', `${model}.tflite`), ...photos], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    const s = (performance.now() - t) / 1000;
    if (r.status !== 0) throw new Error(`classify failed: ${r.stderr.slice(-500)}`);
    const rate = photos.length / s;
    base ??= rate;
    console.log(`| ${model} | ${jobs} | ${s.toFixed(2)} | ${rate.toFixed(1)} | ${(rate / base).toFixed(2)}x |`);
  }
}
