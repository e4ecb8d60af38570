// The browser as a benchmark (issue 11, item 1):
//   npm run bench:browser [-- --sizes 1.0/224,0.5/160,0.25/128] [--runs 30] [--warmup-ms 3000]
//                            [--repeat 1] [--only ours,tfjs,tflite,ort] [--out bench/RESULTS.md]
//                            [--kernels auto,simd] [--no-write] [--json out.json]
//   npm run bench:browser -- --from-json out.json   (rewrites the section from a saved run, runs nothing)
// In headless Debian Chromium (the browser tests' harness, test/browser/harness.ts), each
// configuration in its own fresh page (new browser context: empty cache): mobilenet-wasm
// (mobilenet-wasm/core, kernels 'auto' = relaxed SIMD in Chromium, and 'simd'), tfjs-backend-wasm
// (SIMD, 1 thread), TFLite wasm from @tensorflow/tfjs-tflite (SIMD, 1 thread) and onnxruntime-web
// (wasm EP, 1 thread), on MobileNet v1 in float32, uint8 and int8: the same model files the Node
// bench (bench/run.mjs) uses. Each page times itself with performance.now() (bench/browser/common.ts:
// >= --warmup-ms of warm-up, then --runs samples) and reports the wasm features it runs with; the
// driver adds which .wasm files the page fetched, with their MIME type.
// Writes the "## Chromium" section of bench/RESULTS.md (between the chromium markers; the rest of
// the file, the Node tables, is kept). A peer that fails is a row saying so with its error; if
// mobilenet-wasm fails in a page the run exits 1 and RESULTS.md is left alone.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundlePages, launchBrowser, pageResult, repoRoot, serveStatic, sharedDir, tempDir, writePage } from '../test/browser/harness.ts';
import { environment, round, summarize } from './lib/timing.mjs';
import { busyFraction } from './lib/runner.mjs';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1.0/224,0.5/160,0.25/128' },
    runs: { type: 'string', default: '30' },
    'warmup-ms': { type: 'string', default: '3000' },
    repeat: { type: 'string', default: '1' },
    only: { type: 'string', default: 'ours,tfjs,tflite,ort' },
    kernels: { type: 'string', default: 'auto,simd' },
    out: { type: 'string', default: join(repoRoot, 'bench', 'RESULTS.md') },
    'no-write': { type: 'boolean', default: false },
    json: { type: 'string' },
    'from-json': { type: 'string' },
  },
});
const sizes = values.sizes.split(',');
const runs = Number(values.runs);
const warmupMs = Number(values['warmup-ms']);
const repeat = Number(values.repeat);
const only = new Set(values.only.split(','));
const ourKernels = values.kernels.split(',');
if (![runs, repeat].every((n) => Number.isInteger(n) && n > 0) || !(warmupMs >= 0)) {
  throw new Error('--runs and --repeat must be positive integers and --warmup-ms a number >= 0');
}
// V8 keeps tiering up and re-optimising hot wasm for about a second (ort's 14 MB module longer)
if (warmupMs < 3000) console.error(`bench:browser: --warmup-ms ${warmupMs} is under 3000: a smoke test, not figures to publish`);
for (const s of sizes) if (!/^\d+(\.\d+)?\/\d+$/.test(s)) throw new Error(`--sizes: ${s} is not <alpha>/<resolution>`);

const benchDir = join(repoRoot, 'bench');
const peersDir = join(benchDir, 'peers');
const generated = join(benchDir, 'out', 'models');
const peerModules = (peer) => join(peersDir, peer, 'node_modules');
const pkgVersion = (file) => JSON.parse(readFileSync(file, 'utf8')).version;

const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
};

/** The model file for a size and precision, as bench/run.mjs picks it: the real shared file where one exists. */
function modelFile(size, precision, ext = 'tflite') {
  const [a, r] = size.split('/');
  if (ext === 'tflite') {
    const real = precision === 'float32' ? `mobilenet_v1_${a}_${r}.tflite` : precision === 'uint8' ? `mobilenet_v1_${a}_${r}_quant.tflite` : undefined;
    if (real && existsSync(join(sharedDir, 'models', real))) return { url: `/shared/models/${real}`, weights: 'real' };
  }
  return { url: `/gen/mobilenet_v1_${a}_${r}_${precision}.${ext}`, weights: 'random' };
}

const OURS = 'mobilenet-wasm';
const RUNTIMES = {
  tfjs: 'tfjs-backend-wasm',
  tflite: 'TFLite wasm (XNNPACK)',
  ort: 'onnxruntime-web',
};

function configurations() {
  const configs = [];
  for (const size of sizes) {
    for (const precision of ['float32', 'uint8', 'int8']) {
      const tflite = modelFile(size, precision);
      if (only.has('ours')) {
        for (const kernels of ourKernels) configs.push({ size, precision, who: `${OURS} ${kernels}`, page: 'ours', query: { model: tflite.url, kernels }, weights: tflite.weights });
      }
      // tfjs-backend-wasm builds its float graph from tf ops (no file), as in Node
      if (only.has('tfjs') && precision === 'float32') configs.push({ size, precision, who: RUNTIMES.tfjs, page: 'tfjs', query: {}, weights: 'random' });
      if (only.has('tflite')) configs.push({ size, precision, who: RUNTIMES.tflite, page: 'tflite', query: { model: tflite.url }, weights: tflite.weights });
      // onnxruntime-web: no uint8 .onnx is made (its int8 file already has uint8 activations)
      if (only.has('ort') && precision !== 'uint8') configs.push({ size, precision, who: RUNTIMES.ort, page: 'ort', query: { model: modelFile(size, precision, 'onnx').url }, weights: 'random' });
    }
  }
  return configs;
}

/** esbuild: bench/lib/mobilenet-v1.mjs's `./timing.mjs` (Node-only) becomes bench/browser/timing-shim.mjs. */
const timingShim = {
  name: 'bench-timing-shim',
  setup(build) {
    build.onResolve({ filter: /^\.\/timing\.mjs$/ }, (args) =>
      args.importer.endsWith('mobilenet-v1.mjs') ? { path: join(benchDir, 'browser', 'timing-shim.mjs') } : undefined);
  },
};

/** Bundles each page against its own runtime's node_modules (the peers pin different tfjs-core versions). */
async function bundleAll(outdir) {
  const page = (name) => join(benchDir, 'browser', `${name}.ts`);
  const rootModules = join(repoRoot, 'node_modules');
  await bundlePages({ ours: page('ours') }, outdir);
  if (only.has('tfjs')) await bundlePages({ tfjs: page('tfjs') }, outdir, { nodePaths: [peerModules('tfjs'), rootModules], plugins: [timingShim] });
  if (only.has('tflite')) {
    // the package's ESM entry imports ./tflite_web_api_client, which it does not ship; its flat ESM bundle is complete
    const fesm = join(peerModules('tflite'), '@tensorflow', 'tfjs-tflite', 'dist', 'tf-tflite.fesm.js');
    await bundlePages({ tflite: page('tflite') }, outdir, { nodePaths: [peerModules('tflite')], alias: { '@tensorflow/tfjs-tflite': fesm } });
  }
  if (only.has('ort')) await bundlePages({ ort: page('ort') }, outdir, { nodePaths: [peerModules('ort'), rootModules] });
  for (const name of ['ours', 'tfjs', 'tflite', 'ort']) if (name === 'ours' || only.has(name)) writePage(outdir, `${name}.html`, `./${name}.js`);
}

async function main() {
  if (values['from-json']) {
    const doc = JSON.parse(readFileSync(values['from-json'], 'utf8'));
    return publish(doc);
  }
  const loadAtStart = environment().load1;
  if (!existsSync(join(repoRoot, 'dist', 'index.js'))) sh('npm', ['run', 'build']);
  if (['tfjs', 'tflite', 'ort'].some((p) => only.has(p))) sh(process.execPath, [join(peersDir, 'install.mjs')]);
  const missing = sizes.some((s) => ['float32', 'uint8', 'int8'].some((p) => !existsSync(join(generated, `mobilenet_v1_${s.replace('/', '_')}_${p}.tflite`))));
  if (missing) sh(process.execPath, [join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(peersDir, 'make-models.ts'), '--sizes', sizes.join(',')]);

  const versions = {
    [RUNTIMES.tfjs]: pkgVersion(join(peerModules('tfjs'), '@tensorflow', 'tfjs-backend-wasm', 'package.json')),
    [RUNTIMES.tflite]: `@tensorflow/tfjs-tflite ${pkgVersion(join(peerModules('tflite'), '@tensorflow', 'tfjs-tflite', 'package.json'))}`,
    [RUNTIMES.ort]: pkgVersion(join(peerModules('ort'), 'onnxruntime-web', 'package.json')),
  };
  const pages = tempDir('mnw-bench-browser-');
  let server;
  let browser;
  try {
    await bundleAll(pages.dir);
    // not cross-origin isolated: one thread needs no SharedArrayBuffer, and the peers' loaders pick
    // their non-threaded SIMD builds only without it (bench/browser/common.ts times in batches for the coarse clock)
    server = await serveStatic({
      '/': pages.dir,
      '/shared': sharedDir,
      '/gen': generated,
      '/peers/tfjs': join(peerModules('tfjs'), '@tensorflow', 'tfjs-backend-wasm', 'dist'),
      '/peers/tflite': join(peerModules('tflite'), '@tensorflow', 'tfjs-tflite', 'wasm'),
      '/peers/ort': join(peerModules('ort'), 'onnxruntime-web', 'dist'),
    });
    browser = await launchBrowser();
    const results = await measure(browser, server.url);
    const env = { ...environment(), loadAtStart, browser: `Chromium ${browser.version()}`, date: new Date().toISOString() };
    const command = `npm run bench:browser${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    const doc = { env, command, sizes, runs, warmupMs, repeat, versions, results, sweeps };
    if (values.json) writeFileSync(values.json, JSON.stringify(doc, null, 2));
    publish(doc);
  } finally {
    await browser?.close();
    await server?.close();
    pages.remove();
  }
}

/** Prints the section and writes it into RESULTS.md, unless mobilenet-wasm failed somewhere (then throws: exit 1). */
function publish(doc) {
  const section = markdown(doc);
  console.log(section);
  const oursFailed = doc.results.filter((r) => r.who.startsWith(OURS) && (r.error || !(r.median_ms > 0)));
  if (oursFailed.length) {
    throw new Error(`mobilenet-wasm failed in the page: ${oursFailed.map((r) => `${r.size} ${r.precision} ${r.who}: ${r.error}`).join('; ')}`);
  }
  if (!values['no-write']) {
    writeSection(values.out, section);
    console.error(`bench:browser: wrote the Chromium section of ${values.out}`);
  }
}

/** One fresh page (its own context: empty HTTP cache) per configuration, the matrix swept `repeat` times. */
const sweeps = []; // every page's result, kept in --json beside the best ones

async function measure(browser, url) {
  const configs = configurations();
  const best = new Map();
  for (let sweep = 0; sweep < repeat; sweep++) {
    for (const c of configs) {
      if (best.get(c)?.error) continue;
      const busy = busyFraction();
      const r = await runPage(browser, url, c);
      r.busy_before = round(busy, 2);
      sweeps.push({ sweep, size: c.size, precision: c.precision, who: c.who, ...r });
      const b = best.get(c);
      // on a shared machine other processes only ever slow a run down: keep the fastest median
      if (r.error || !b || r.median_ms < b.median_ms) best.set(c, r);
      process.stderr.write(`[${sweep + 1}/${repeat}] ${c.size} ${c.precision} ${c.who}: ${r.error ? `error: ${r.error}` : `median ${r.median_ms} ms (x${r.batch} per sample) ${r.wasmFiles.join(', ')}`}\n`);
    }
  }
  // a configuration that produced nothing is an error, so a bug here cannot pass for a result
  return configs.map((c) => ({ ...c, ...(best.get(c) ?? { error: 'no result recorded' }) }));
}

async function runPage(browser, url, c) {
  const context = await browser.newContext();
  const wasmFiles = [];
  try {
    const page = await context.newPage();
    // which .wasm the runtime fetched and the MIME type it was served with (streaming compile needs application/wasm)
    page.on('response', (res) => {
      const path = new URL(res.url()).pathname;
      if (path.endsWith('.wasm')) wasmFiles.push(`${path.split('/').pop().replace(/-[A-Z0-9]{8}\.wasm$/, '.wasm')} (${res.headers()['content-type'] ?? 'no content-type'})`);
    });
    const query = new URLSearchParams({ ...c.query, size: c.size, precision: c.precision, runs: String(runs), warmup: String(warmupMs) });
    const res = await pageResult(page, `${url}/${c.page}.html?${query}`, 600_000);
    return { ...summarize(res.times), batch: res.batch, warmup_runs: res.warmupRuns, features: res.features, model_note: res.modelNote, top1: res.top1, wasmFiles };
  } catch (e) {
    return { error: String(e?.message ?? e).split('\n')[0].slice(0, 300), wasmFiles };
  } finally {
    await context.close();
  }
}

const fmt = (x) => (x === undefined ? '' : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const cell = (s) => String(s).replace(/\|/g, '/');

/** What the runtime says it runs with, plus the .wasm files it fetched. */
function featureText(r) {
  const f = r.features ?? {};
  const parts = [];
  if ('kernels' in f) parts.push(`${f.kernels} kernels`);
  if (f.simd !== undefined) parts.push(`simd ${f.simd}`);
  if (f.multithread !== undefined) parts.push(`threads support ${f.multithread}`);
  if (f.multiThreading !== undefined) parts.push(`threads support ${f.multiThreading}`);
  const threads = f.threads ?? f.numThreads;
  if (threads !== undefined) parts.push(`${threads} thread`);
  const files = [...new Set(r.wasmFiles ?? [])];
  return [...parts, ...files].join(', ');
}

/** One line per model and precision: every runtime's median, and ours (auto) over the fastest peer. */
function summary(sizes, results) {
  const who = [`${OURS} auto`, `${OURS} simd`, RUNTIMES.tfjs, RUNTIMES.tflite, RUNTIMES.ort].filter((w) => results.some((r) => r.who === w));
  const lines = [
    `| MobileNet v1 | ${who.map((w) => w.replace(`${OURS} `, 'ours ')).join(' | ')} | ours auto / fastest peer |`,
    `|---|${who.map(() => '---:|').join('')}---:|`,
  ];
  for (const size of sizes) {
    for (const precision of ['float32', 'uint8', 'int8']) {
      const rows = results.filter((x) => x.size === size && x.precision === precision);
      if (!rows.length) continue;
      const cells = who.map((w) => {
        const r = rows.find((x) => x.who === w);
        return !r ? '' : r.error ? 'fails' : `${fmt(r.median_ms)}`;
      });
      const peers = rows.filter((x) => !x.who.startsWith(OURS) && !x.error);
      const fastest = peers.sort((a, b) => a.median_ms - b.median_ms)[0];
      const auto = rows.find((x) => x.who === `${OURS} auto` && !x.error);
      const ratio = fastest && auto ? `${(auto.median_ms / fastest.median_ms).toFixed(2)}x ${fastest.who.replace(' (XNNPACK)', '')}` : '';
      lines.push(`| ${size} ${precision} | ${cells.join(' | ')} | ${ratio} |`);
    }
  }
  return lines;
}

function markdown({ env, command, sizes, runs, warmupMs, repeat, versions, results }) {
  const cpu = env.cpu;
  const lines = [
    '## Chromium',
    '',
    `Made by \`${command}\` on ${env.date.slice(0, 10)}: ${env.browser} headless (Debian, driven by playwright-core), ${cpu}, ${env.cores} vCPU, ` +
      `load average ${env.loadAtStart ?? '?'} at the start and ${env.load1} at the end (other work on the machine slows every runtime; compare rows of one run). ` +
      `Each configuration in a fresh page (new browser context, empty cache), one thread, not cross-origin isolated; timed inside the page with performance.now(): ` +
      `>= ${warmupMs / 1000} s of warm-up, then the median of ${runs} samples${repeat > 1 ? `, the fastest median of ${repeat} pages per configuration (the matrix swept ${repeat} times)` : ''}. ` +
      'A sample is one inference, or for models faster than 20 ms a batch of back-to-back inferences lasting >= 20 ms divided by its size, ' +
      'because a page that is not isolated gets a 100 us clock.',
    '',
    `Peers: tfjs-backend-wasm ${versions[RUNTIMES.tfjs]} (float32, its graph built from tf ops with random weights, as in Node), ${versions[RUNTIMES.tflite]} (TFLiteWebModelRunner, XNNPACK), ` +
      `onnxruntime-web ${versions[RUNTIMES.ort]} (wasm EP; int8 = QLinearConv with uint8 activations). Model files as in the Node tables: \`real\` = ../shared's models, \`random\` = bench/peers/make-models.ts. ` +
      'Ratios are our median over the peer\'s; below 1 is faster. `auto` is what mobilenet-wasm picks by itself (relaxed SIMD in Chromium). The last column is what each runtime reports it runs with and the .wasm files the page fetched.',
    '',
    'Medians in ms:',
    '',
    ...summary(sizes, results),
    '',
  ];
  for (const size of sizes) {
    for (const precision of ['float32', 'uint8', 'int8']) {
      const rows = results.filter((x) => x.size === size && x.precision === precision);
      if (!rows.length) continue;
      const peers = rows.filter((x) => !x.who.startsWith(OURS) && !x.error);
      lines.push(`### Chromium: MobileNet v1 ${size} ${precision}`, '');
      lines.push(`| runtime | median ms | min ms | p90 ms | ${peers.map((p) => `vs ${p.who}`).join(' | ')}${peers.length ? ' | ' : ''}weights | wasm features in use |`);
      lines.push(`|---|---:|---:|---:|${peers.map(() => '---:|').join('')}---|---|`);
      for (const x of rows) {
        if (x.error) {
          lines.push(`| ${x.who} | n/a: ${cell(x.error)} | | | ${peers.map(() => ' | ').join('')}${x.weights} | ${cell(featureText(x))} |`);
          continue;
        }
        const ratios = peers.map((p) => (x.who.startsWith(OURS) ? `${(x.median_ms / p.median_ms).toFixed(2)}x` : ''));
        lines.push(`| ${x.who} | ${fmt(x.median_ms)} | ${fmt(x.min_ms)} | ${fmt(x.p90_ms)} | ${ratios.map((r) => `${r} | `).join('')}${x.weights} | ${cell(featureText(x))} |`);
      }
      lines.push('');
    }
  }
  return lines.join('\n').trimEnd();
}

const START = '<!-- chromium:start -->';
const END = '<!-- chromium:end -->';

/** Replaces the text between the chromium markers (or appends the markers), keeping the rest of the file. */
function writeSection(file, section) {
  const block = `${START}\n${section}\n${END}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const next = start >= 0 && end > start ? text.slice(0, start) + block + text.slice(end + END.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

main().catch((e) => {
  console.error(`bench:browser: ${e?.stack ?? e}`);
  process.exitCode = 1;
});
