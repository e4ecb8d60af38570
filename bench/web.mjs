// Browser figures (issue 8, item 10), in headless Chromium (the browser tests' harness):
//   npm run bench:web [-- --runs 20 --warmup-ms 3000 --loads 5 --rates 1,4,6 --json out.json
//                        --only latency,first,cached,sizes]
// - in-page latency: median of --runs classifications of grace_hopper after >= --warmup-ms of
//   back-to-back runs, timed with performance.now() inside the page, at each CPU throttling rate
//   (Emulation.setCPUThrottlingRate), for 0.25/128 and 1.0/224, uint8 and float32, with the
//   kernels 'auto' picks (relaxed SIMD in Chromium) and with 'simd';
// - page load to first result: a fresh page (new browser context, so nothing cached) from
//   navigation start to the first classification, the model fetched from the local server;
// - cached navigation to first result (issue 11 item 3): the same, but the page, the model and
//   the .wasm come from Chromium's HTTP cache (served through a front that marks every response
//   cacheable): one context navigates once to fill its cache, then --loads more navigations are
//   timed, each a new page in that context (a new renderer's JS heap, the disk cache and V8's
//   code cache kept); and cached again with the page compiling the kernels while the model
//   downloads (web-page.ts ?overlap=q8|f32), all three interleaved;
// - bundle sizes: esbuild --minify of a page importing mobilenet-wasm/core, gzip -9; each .wasm.
// ../shared has no float 1.0/224 model: one is built with random weights (latency does not depend
// on the weight values). Prints Markdown tables (bench/WEB.md holds a run).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { bundlePages, pageResult, repoRoot, startPageSuite, tempDir, throttleCpu } from '../test/browser/harness.ts';
import { environment, round, summarize } from './lib/timing.mjs';
import { buildMobileNetV1, writeTflite } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    'warmup-ms': { type: 'string', default: '3000' },
    loads: { type: 'string', default: '5' },
    rates: { type: 'string', default: '1,4,6' },
    json: { type: 'string' },
    only: { type: 'string', default: 'latency,first,cached,sizes' },
    /** only the models whose title contains this (e.g. '1.0/224 uint8') */
    model: { type: 'string', default: '' },
  },
});
const runs = Number(values.runs);
const warmupMs = Number(values['warmup-ms']);
const loads = Number(values.loads);
const rates = values.rates.split(',').map(Number);
const parts = new Set(values.only.split(','));
if (![runs, loads].every((n) => Number.isInteger(n) && n > 0) || !(warmupMs >= 0) || !rates.every((r) => r >= 1)) {
  throw new Error('--runs and --loads must be positive integers, --warmup-ms >= 0, --rates a list of numbers >= 1');
}

const RANDOM_FLOAT = 'mobilenet_v1_1.0_224_random_float.tflite';
const MODELS = [
  { title: '0.25/128 uint8', url: '/shared/models/mobilenet_v1_0.25_128_quant.tflite', set: 'q8' },
  { title: '0.25/128 float32', url: '/shared/models/mobilenet_v1_0.25_128.tflite', set: 'f32' },
  { title: '1.0/224 uint8', url: '/shared/models/mobilenet_v1_1.0_224_quant.tflite', set: 'q8' },
  { title: '1.0/224 float32 (random weights)', url: `/gen/${RANDOM_FLOAT}`, set: 'f32' },
].filter((m) => m.title.includes(values.model));
const KERNELS = ['auto', 'simd'];

const sizesDir = tempDir('mnw-bench-sizes-');
const gen = tempDir('mnw-bench-gen-');
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

/**
 * esbuild --minify of `contents` (a page's code importing the package), or of a package module
 * bundled as an entry of its own (`entry`: a worker script, which an import would tree-shake
 * away under sideEffects: false), and its gzip -9 size.
 */
async function minified(name, { contents, entry }) {
  const dir = join(sizesDir.dir, `size-${sizeCount++}`);
  if (entry) await bundlePages({ bundle: entry }, dir, { minify: true });
  else await bundlePages({}, dir, { stdin: { contents, resolveDir: repoRoot, sourcefile: 'bundle.js' }, minify: true, entryNames: 'bundle' });
  const js = readFileSync(join(dir, 'bundle.js'));
  return { name, min: js.length, gz: gzipSync(js, { level: 9 }).length };
}
let sizeCount = 0;

async function bundleSizes() {
  const js = [
    await minified('mobilenet-wasm/core: MobileNet (load + classify)', { contents: "import { MobileNet } from 'mobilenet-wasm/core'; globalThis.m = MobileNet;" }),
    await minified('mobilenet-wasm/core: every export', { contents: "import * as core from 'mobilenet-wasm/core'; globalThis.m = core;" }),
    await minified('mobilenet-wasm/worker: MobileNetWorker (page side)', { contents: "import { MobileNetWorker } from 'mobilenet-wasm/worker'; globalThis.m = MobileNetWorker;" }),
    await minified('mobilenet-wasm/worker/script (the worker)', { entry: 'mobilenet-wasm/worker/script' }),
  ];
  const wasm = readdirSync(join(repoRoot, 'build'))
    .filter((f) => f.endsWith('.wasm'))
    .sort()
    .map((f) => {
      const bytes = readFileSync(join(repoRoot, 'build', f));
      return { name: f, raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
    });
  return { js, wasm };
}

async function main() {
  writeFileSync(join(gen.dir, RANDOM_FLOAT), writeTflite(buildMobileNetV1({ alpha: 1, resolution: 224, precision: 'float32', classes: 1001, seed: 1 })));
  const suite = await startPageSuite(
    { bench: { entry: join(repoRoot, 'bench/web-page.ts'), body: '<img src="/shared/images/samples/grace_hopper.bmp">' } },
    // cross-origin isolated: performance.now() then ticks in 5 us, not 100 us (0.25/128 takes ~1 ms)
    { mounts: { '/gen': gen.dir }, isolated: true },
  );
  try {
    const results = await measure(suite);
    if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
    console.log(markdown(results));
  } finally {
    await suite.close();
  }
}

/**
 * A front for the suite's server (which says no-store: sirv in dev mode) that passes every
 * request through and marks the responses cacheable for an hour, so a second navigation can
 * take the page, the model and the .wasm from Chromium's HTTP cache.
 */
async function cachingFront(target) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      const headers = { ...up.headers, 'cache-control': 'public, max-age=3600' };
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    });
    upstream.on('error', (e) => {
      res.statusCode = 502;
      res.end(String(e));
    });
    req.pipe(upstream);
  });
  await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}`, requests: () => requests, close: () => new Promise((ok) => server.close(() => ok())) };
}

async function measure(suite) {
  const { browser } = suite;
  // other processes on the machine skew every figure: the load average is recorded to spot it
  const loadAtStart = environment().load1;

  /** One fresh page (its own context: empty HTTP cache) at `rate`, run to its result. */
  async function freshPage(query, rate) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await throttleCpu(page, rate);
      return await pageResult(page, `${suite.url}/bench.html?${new URLSearchParams(query)}`, 600_000);
    } finally {
      await context.close();
    }
  }

  const latency = [];
  for (const model of parts.has('latency') ? MODELS : []) {
    for (const kernels of KERNELS) {
      const row = { model: model.title, kernels, byRate: {} };
      for (const rate of rates) {
        const r = await freshPage({ model: model.url, kernels, runs: runs, warmup: warmupMs }, rate);
        row.ran = r.kernels;
        row.top1 = r.top1;
        row.byRate[rate] = summarize(r.times);
        process.stderr.write(`latency ${model.title} ${kernels}=${r.kernels} ${rate}x: median ${row.byRate[rate].median_ms} ms (top-1 ${r.top1})\n`);
      }
      latency.push(row);
    }
  }

  const firstResult = [];
  for (const model of parts.has('first') ? MODELS : []) {
    const row = { model: model.title, byRate: {} };
    for (const rate of rates) {
      const times = [];
      for (let i = 0; i < loads; i++) {
        const r = await freshPage({ model: model.url, kernels: 'auto', runs: 0 }, rate);
        times.push(r.firstResultMs);
        row.ran = r.kernels;
      }
      row.byRate[rate] = summarize(times);
      process.stderr.write(`first result ${model.title} ${rate}x: median ${row.byRate[rate].median_ms} ms\n`);
    }
    firstResult.push(row);
  }

  // fresh and cached navigations interleaved (the machine's load drifts), the cached ones in one
  // context that loaded the page once; requests counts what reached the server per cached navigation
  const cachedResult = [];
  if (parts.has('cached')) {
    const front = await cachingFront(suite.url);
    try {
      for (const model of MODELS) {
        const row = { model: model.title, byRate: {} };
        for (const rate of rates) {
          const url = `${front.url}/bench.html?${new URLSearchParams({ model: model.url, kernels: 'auto', runs: 0 })}`;
          const overlapUrl = `${url}&overlap=${model.set}`;
          const packedUrl = `${overlapUrl}&packCache=1`;
          const context = await browser.newContext();
          try {
            const open = async (ctx, at = url) => {
              const page = await ctx.newPage();
              try {
                await throttleCpu(page, rate);
                return await pageResult(page, at, 600_000);
              } finally {
                await page.close();
              }
            };
            await open(context); // fills the HTTP cache (and V8's code cache) of this context
            await open(context, overlapUrl);
            await open(context, packedUrl); // stores the packed model in the context's Cache API
            const fresh = [];
            const packed = [];
            const cached = [];
            const overlapped = [];
            const phases = { script: [], fetch: [], load: [], firstRun: [] };
            const packedPhases = { script: [], fetch: [], load: [], firstRun: [] };
            let requests = 0;
            for (let i = 0; i < loads; i++) {
              const other = await browser.newContext();
              try {
                fresh.push((await open(other)).firstResultMs);
              } finally {
                await other.close();
              }
              const before = front.requests();
              const r = await open(context);
              requests += front.requests() - before;
              cached.push(r.firstResultMs);
              for (const k of Object.keys(phases)) phases[k].push(r.phases[k]);
              row.ran = r.kernels;
              overlapped.push((await open(context, overlapUrl)).firstResultMs);
              const p = await open(context, packedUrl);
              packed.push(p.firstResultMs);
              process.stderr.write(`packed load: ${JSON.stringify(p.packLog)} load ${Math.round(p.phases.load)}\n`);
              if (!(p.packLog.got === 1 && p.packLog.put === 0)) throw new Error(`the packed navigation did not load from the cache: ${JSON.stringify(p.packLog)}`);
              for (const k of Object.keys(packedPhases)) packedPhases[k].push(p.phases[k]);
            }
            const cachedPhases = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, summarize(v).median_ms]));
            const packedMedians = Object.fromEntries(Object.entries(packedPhases).map(([k, v]) => [k, summarize(v).median_ms]));
            row.byRate[rate] = { fresh: summarize(fresh), cached: summarize(cached), overlapped: summarize(overlapped), packed: summarize(packed), cachedPhases, packedPhases: packedMedians, requestsPerLoad: requests / loads };
          } finally {
            await context.close();
          }
          const b = row.byRate[rate];
          const ph = Object.entries(b.cachedPhases).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
          const pph = Object.entries(b.packedPhases).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
          process.stderr.write(`navigation to first result ${model.title} ${rate}x: fresh ${b.fresh.median_ms} ms, cached ${b.cached.median_ms} ms (${ph}), cached + kernels compiled during the download ${b.overlapped.median_ms} ms, + packed model from the Cache API ${b.packed.median_ms} ms (${pph}) (${b.requestsPerLoad} requests reached the server per cached load)\n`);
        }
        cachedResult.push(row);
      }
    } finally {
      await front.close();
    }
  }

  const sizes = parts.has('sizes') ? await bundleSizes() : { js: [], wasm: [] };
  const env = { ...environment(), loadAtStart, browser: `Chromium ${browser.version()}`, date: new Date().toISOString() };
  return { env, runs, warmupMs, loads, rates, latency, firstResult, cachedResult, sizes };
}

function markdown({ env, runs, warmupMs, loads, rates, latency, firstResult, cachedResult, sizes }) {
  const rateCols = rates.map((r) => `${r}x`);
  const ratioCols = rates.slice(1).map((r) => `${r}x / ${rates[0]}x`);
  // text columns (the first `textCols`) left-aligned, numbers right-aligned
  const table = (head, rows, textCols = 1) =>
    rows.length ? [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < textCols ? '---' : '---:')).join('|')}|`, ...rows, ''] : [];
  const lines = [
    `Machine: ${env.cpu}, ${env.cores} cores, load average ${env.loadAtStart} at the start and ${env.load1} at the end; ${env.browser} headless; Node ${env.node}; ${env.date}.`,
    '',
    ...(latency.length
      ? [`In-page latency of one classification (ms: median of ${runs} after >= ${warmupMs / 1000} s of warm-up, the fastest in brackets), by CPU throttling rate; the ratios are of the medians:`, '']
      : []),
    ...table(
      ['model', 'kernels', ...rateCols, ...ratioCols],
      latency.map((row) => {
        const med = rates.map((r) => row.byRate[r].median_ms);
        const cells = rates.map((r) => `${ms(row.byRate[r].median_ms)} (${ms(row.byRate[r].min_ms)})`);
        const kernels = row.kernels === 'auto' ? `auto (${row.ran})` : row.ran;
        return `| ${row.model} | ${kernels} | ${[...cells, ...med.slice(1).map((m) => `${round(m / med[0], 1)}`)].join(' | ')} |`;
      }),
      2,
    ),
    ...(firstResult.length ? [`Page load to first result (ms from navigation start, fresh page, median of ${loads}), kernels auto:`, ''] : []),
    ...table(['model', ...rateCols], firstResult.map((row) => `| ${row.model} | ${rates.map((r) => Math.round(row.byRate[r].median_ms)).join(' | ')} |`)),
    ...(cachedResult.length
      ? [`Navigation to first result, ms from navigation start, median of ${loads} (the fastest in brackets), kernels auto: fresh = a new context (empty HTTP cache), cached = a new page in a context that loaded the page once (page, model and .wasm from the HTTP cache), overlapped = cached, the page compiling the kernels while the model downloads; packed = overlapped with the packed model from the Cache API (LoadOptions.packCache); the four interleaved:`, '']
      : []),
    ...table(
      ['model', ...rates.flatMap((r) => [`fresh ${r}x`, `cached ${r}x`, `cached ${r}x: script start / fetch / load / first run`, `overlapped ${r}x`, `packed ${r}x`, `packed ${r}x: script start / fetch / load / first run`])],
      cachedResult.map((row) => {
        const cells = rates.flatMap((r) => {
          const b = row.byRate[r];
          const ph = ['script', 'fetch', 'load', 'firstRun'].map((k) => Math.round(b.cachedPhases[k])).join(' / ');
          const cell = (t) => `${Math.round(t.median_ms)} (${Math.round(t.min_ms)})`;
          const pph = ['script', 'fetch', 'load', 'firstRun'].map((k) => Math.round(b.packedPhases[k])).join(' / ');
          return [cell(b.fresh), cell(b.cached), ph, cell(b.overlapped), cell(b.packed), pph];
        });
        return `| ${row.model} | ${cells.join(' | ')} |`;
      }),
    ),
    ...(sizes.js.length ? ['Bundle sizes (esbuild --minify, gzip -9):', ''] : []),
    ...table(['file', 'min', 'min + gzip'], sizes.js.map((s) => `| ${s.name} | ${kib(s.min)} | ${kib(s.gz)} |`)),
    ...table(['kernel build', 'raw', 'gzip -9'], sizes.wasm.map((s) => `| ${s.name} | ${kib(s.raw)} | ${kib(s.gz)} |`)),
  ];
  return lines.join('\n').trimEnd();
}

main()
  .catch((e) => {
    console.error(`bench:web: ${e?.stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(() => {
    sizesDir.remove();
    gen.remove();
  });
