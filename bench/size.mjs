#!/usr/bin/env node
/**
 * Download sizes (issue 11 item 5): every kernel build in build/ raw and gzipped (-9, what a
 * server's static compression gives at best), and the total a page downloads to classify with a
 * uint8 and with a float32 model: the page's JavaScript (bench/size/page-uint8.ts, which imports
 * the core as an app would, bundled and minified with esbuild for the browser; only the chunks
 * loaded at start, not those behind a dynamic import) plus the one .wasm the library then
 * fetches for the model (its precision's build, in the flavour Chromium's 'auto' picks: relaxed).
 * Writes the "## Download size" section of bench/RESULTS.md between its markers, keeping the rest.
 *
 *   node bench/size.mjs [--build build] [--page bench/size/page-uint8.ts] [--out bench/RESULTS.md] [--no-write]
 */
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const buildDir = resolve(root, opt('build', 'build'));
const outMd = resolve(root, opt('out', join('bench', 'RESULTS.md')));

/** the issue's limits */
const LIMITS = { wasmRaw: 32 * 1024, wasmGzip: 10 * 1024, uint8PageGzip: 60 * 1024 };

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const kb = (n) => (n / 1024).toFixed(1);

// every build file: the per-precision ones a model loads, the combined ones, the wasm2js JS
const files = readdirSync(buildDir).filter((f) => /^mobilenet-.*\.(wasm|js)$/.test(f)).sort();
if (!files.some((f) => f.startsWith('mobilenet-q8-'))) throw new Error(`${buildDir} has no per-precision builds: run npm run build:wasm`);
const sizes = new Map(files.map((f) => {
  const bytes = readFileSync(join(buildDir, f));
  return [f, { raw: bytes.length, gzip: gz(bytes) }];
}));

/** a source path as the repository names it (src/..., or the package inside node_modules) */
const shortPath = (p) => p.replace(/^.*node_modules\//, '').replace(/^(\.\.\/)*(.*?\/)?src\//, 'src/');

/** the page's JavaScript at start: the entry chunk and the chunks it imports statically */
async function pageScript(entry) {
  const outdir = mkdtempSync(join(tmpdir(), 'mnw-size-'));
  try {
    const result = await build({
      entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
      splitting: true, outdir, metafile: true, logLevel: 'silent',
    });
    // metafile keys are relative to the working directory, import paths may be absolute: key both absolute
    const outputs = Object.fromEntries(Object.entries(result.metafile.outputs).map(([k, v]) => [resolve(process.cwd(), k), { ...v, imports: v.imports.map((i) => ({ ...i, path: resolve(process.cwd(), i.path) })) }]));
    // dynamically imported modules are entry points too: the page's own is the one built from `entry`
    const entryOut = Object.keys(outputs).find((o) => outputs[o].entryPoint && resolve(process.cwd(), outputs[o].entryPoint) === resolve(entry));
    const seen = new Set();
    const visit = (o) => {
      if (seen.has(o)) return;
      seen.add(o);
      for (const imp of outputs[o].imports) if (imp.kind === 'import-statement' && outputs[imp.path]) visit(imp.path);
    };
    visit(entryOut);
    let raw = 0;
    let gzip = 0;
    for (const o of seen) {
      const bytes = readFileSync(resolve(process.cwd(), o));
      raw += bytes.length;
      gzip += gz(bytes);
    }
    // chunks behind a dynamic import, each named by its largest source module
    const lazy = Object.keys(outputs).filter((o) => o.endsWith('.js') && !seen.has(o)).map((o) => {
      const bytes = readFileSync(resolve(process.cwd(), o));
      const main = Object.entries(outputs[o].inputs).filter(([, v]) => v.bytesInOutput > 0).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)[0]?.[0];
      return { module: main ? shortPath(main) : `${basename(o)} (re-exports of a start chunk)`, raw: bytes.length, gzip: gz(bytes) };
    });
    // the biggest inputs of the start chunks, to see what a page pulls in
    const inputs = {};
    for (const o of seen) for (const [path, { bytesInOutput }] of Object.entries(outputs[o].inputs)) inputs[path] = (inputs[path] ?? 0) + bytesInOutput;
    const top = Object.entries(inputs).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([path, bytes]) => [shortPath(path), bytes]);
    return { raw, gzip, chunks: seen.size, lazy, top };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const page = await pageScript(resolve(root, opt('page', join('bench', 'size', 'page-uint8.ts'))));
// a uint8 model's page fetches the start chunks only; a float one also the lazy chunks (the
// .tflite metadata reader for its input normalization): counted whole, an upper bound
const lazyGzip = page.lazy.reduce((a, c) => a + c.gzip, 0);
const pages = ['q8', 'f32'].map((set) => {
  const wasm = `mobilenet-${set}-relaxed.wasm`;
  const w = sizes.get(wasm);
  const js = page.gzip + (set === 'f32' ? lazyGzip : 0);
  return { set, wasm, jsGzip: js, wasmGzip: w.gzip, total: js + w.gzip };
});

const check = (ok) => (ok ? 'ok' : '**over**');
const lines = [];
lines.push('<!-- size:start -->');
lines.push('## Download size');
lines.push('');
lines.push(`\`node bench/size.mjs\`, ${new Date().toISOString().slice(0, 10)}: gzip -9 sizes in KB (1024 bytes). A model loads only its precision's build: mobilenet-q8-<flavour>.wasm (uint8 / int8), mobilenet-f32-<flavour>.wasm (float32); the combined mobilenet-<flavour>.wasm serves a model needing both. Limits (issue 11): each .wasm <= 32 KB raw and <= 10 KB gzipped; JS + wasm a page downloads for a uint8 model <= 60 KB gzipped.`);
lines.push('');
lines.push('| build | raw KB | gzip KB | within limits |');
lines.push('|---|---:|---:|---|');
for (const [f, s] of sizes) {
  const limited = f.endsWith('.wasm') && /^mobilenet-(q8|f32)-/.test(f);
  lines.push(`| ${f} | ${kb(s.raw)} | ${kb(s.gzip)} | ${limited ? check(s.raw <= LIMITS.wasmRaw && s.gzip <= LIMITS.wasmGzip) : '-'} |`);
}
lines.push('');
lines.push(`A page classifying with a .tflite model (bench/size/page-uint8.ts: \`MobileNet.load\` + \`classify\` from the core, esbuild --bundle --minify, browser): ${page.chunks} start chunk(s), ${kb(page.raw)} KB raw, ${kb(page.gzip)} KB gzipped; behind dynamic imports, fetched only when used: ${page.lazy.map((c) => `${c.module} ${kb(c.gzip)} KB gzipped`).join(', ') || 'none'}.`);
lines.push('');
lines.push('| model | .wasm fetched (Chromium, relaxed) | JS gzip KB | wasm gzip KB | total gzip KB | limit |');
lines.push('|---|---|---:|---:|---:|---|');
for (const p of pages) {
  const limit = p.set === 'q8' ? `${check(p.total <= LIMITS.uint8PageGzip)} (<= 60)` : '-';
  lines.push(`| ${p.set === 'q8' ? 'uint8 / int8' : 'float32'} | ${p.wasm} | ${kb(p.jsGzip)} | ${kb(p.wasmGzip)} | ${kb(p.total)} | ${limit} |`);
}
lines.push('');
lines.push(`Largest modules in the page's start chunks (minified bytes): ${page.top.map(([p, b]) => `${p} ${kb(b)}`).join(', ')}.`);
lines.push('<!-- size:end -->');
const section = lines.join('\n');
console.log(section);

if (!argv.includes('--no-write')) {
  const previous = existsSync(outMd) ? readFileSync(outMd, 'utf8') : '';
  const re = /<!-- size:start -->[\s\S]*?<!-- size:end -->/;
  writeFileSync(outMd, re.test(previous) ? previous.replace(re, section) : `${previous.trimEnd()}\n\n${section}\n`);
  console.error(`wrote ${outMd}`);
}
