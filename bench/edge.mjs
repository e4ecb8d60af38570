#!/usr/bin/env node
/**
 * The Workers example (examples/worker) in workerd, per uint8 model bundled: upload size
 * (gzipped worker + wasm + model), server-side CPU ms per image (decode; preprocess + inference),
 * workerd's memory before and after the model loads, and which Workers plan each fits.
 *
 *   npm run build:ts && node bench/edge.mjs [--requests 20] [--json]
 *
 * Plan limits (Cloudflare's published figures): free 3 MB gzipped upload and 10 ms CPU per
 * request; paid 10 MB gzipped (CPU: 30 s by default). Timings are the worker's own (its clock
 * advances only on I/O: see elapsed() in the example), medians over --requests requests after
 * two warm-up requests, on this machine's x86-64 cores, not Cloudflare's.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleWorker, freePort, serveWorkerd, workerdBinary, workerdConfig } from '../examples/worker/build.mjs';

const argv = process.argv.slice(2);
const requests = Number(argv.includes('--requests') ? argv[argv.indexOf('--requests') + 1] : 20);
const shared = new URL('../../shared/', import.meta.url).pathname;
const MODELS = ['0.25_128', '0.5_160', '0.75_192', '1.0_224'].map((m) => ({ name: m.replace('_', '/'), file: join(shared, 'models', `mobilenet_v1_${m}_quant.tflite`) }));
const PHOTOS = [
  ['cat_720p.jpg', 'jpeg'],
  ['grace_hopper.bmp', 'bmp'],
];
const FREE = { bytes: 3e6, cpuMs: 10 };
const PAID = { bytes: 10e6 };

if (!(await workerdBinary())) {
  console.error('bench/edge.mjs: the workerd binary is missing (npm install: it is a devDependency)');
  process.exit(2);
}
for (const m of MODELS) if (!existsSync(m.file)) (console.error(`bench/edge.mjs: ${m.file} is missing`), process.exit(2));

const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
for (const m of MODELS) {
  const dir = mkdtempSync(join(tmpdir(), 'mnw-edge-'));
  try {
    const modules = await bundleWorker({ outdir: dir, model: m.file });
    const gz = Object.fromEntries(modules.map((x) => [x.name, gzipSync(readFileSync(x.path), { level: 9 }).length]));
    const total = Object.values(gz).reduce((a, b) => a + b, 0);
    const port = await freePort();
    writeFileSync(join(dir, 'config.capnp'), workerdConfig({ modules, instances: [{ port }] }));
    const server = await serveWorkerd(join(dir, 'config.capnp'), [port]);
    try {
      const rssBefore = rss(server.child.pid);
      const row = { model: `${m.name} uint8`, gzipBytes: total, gzip: gz, rssBefore };
      for (const [photo, key] of PHOTOS) {
        const body = readFileSync(join(shared, 'images', 'samples', photo));
        const decode = [], inference = [];
        for (let i = 0; i < requests + 2; i++) {
          const r = await (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body })).json();
          if (!r.timings) throw new Error(`${photo}: ${JSON.stringify(r)}`);
          row.rssFirst ??= rss(server.child.pid); // the model loaded, one photo classified
          if (i < 2) continue;
          decode.push(r.timings.decodeMs);
          inference.push(r.timings.inferenceMs);
        }
        row[key] = { decodeMs: median(decode), inferenceMs: median(inference), cpuMs: median(decode.map((d, i) => d + inference[i])) };
      }
      row.rssAfter = rss(server.child.pid);
      // the free plan needs both the size and the CPU time; which photo formats stay within 10 ms
      const quick = PHOTOS.filter(([, key]) => row[key].cpuMs <= FREE.cpuMs).map(([, key]) => key.toUpperCase());
      row.plan =
        total > PAID.bytes ? 'none' : total > FREE.bytes ? 'paid (over 3 MB)' : quick.length ? `free for ${quick.join(', ')}; paid otherwise (CPU)` : 'paid (CPU over 10 ms)';
      rows.push(row);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (argv.includes('--json')) console.log(JSON.stringify({ requests, rows }));
else {
  const mb = (b) => (b / 1e6).toFixed(2);
  console.log(`workerd ${(await import('workerd')).default.version}, ${requests} requests per photo (medians)\n`);
  console.log('| model | gzipped upload (MB) | 720p JPEG: decode + inference (ms) | 512x600 BMP: decode + inference (ms) | workerd RSS: started / first answer / after all (MB) | fits |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const t = (x) => `${x.decodeMs} + ${x.inferenceMs}`;
    console.log(`| ${r.model} | ${mb(r.gzipBytes)} | ${t(r.jpeg)} | ${t(r.bmp)} | ${[r.rssBefore, r.rssFirst, r.rssAfter].map((b) => (b / 2 ** 20).toFixed(0)).join(' / ')} | ${r.plan} |`);
  }
  const g = rows[0].gzip;
  console.log(`\ngzipped parts without the model: ${Object.entries(g).filter(([k]) => k !== 'model.tflite').map(([k, v]) => `${k} ${(v / 1e3).toFixed(0)} kB`).join(', ')}`);
}
