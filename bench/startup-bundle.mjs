#!/usr/bin/env node
/**
 * Issue 11 item 3 (start-up): `npm run build:ts` compiles src/ with tsc into tmp/dist-tsc and
 * then runs this to write dist/: everything tsc wrote (the .d.ts files, the browser entries,
 * every module for deep imports) plus the Node-side entries bundled with esbuild, code split so the entries share chunks (one
 * instance of every module, e.g. one MobileNetError class, across 'mobilenet-wasm',
 * 'mobilenet-wasm/worker' and the worker scripts). Each original module's `import.meta.url` is
 * rewritten to the URL its file had in dist/, so `new URL('../../build/...', import.meta.url)`,
 * the worker script URLs and createRequire keep resolving as before wherever the code lands.
 * Packages (node_modules) stay external. The browser entries are left out: bundlers must still
 * see the literal `new URL(..., import.meta.url)` patterns (test/bundlers).
 *
 * A Node entry is then ~4 files instead of ~80 ESM modules: its import takes a quarter of the
 * time (bench/STARTUP.md). Deep imports of dist/<module>.js still work, as second instances of
 * those modules.
 *
 *   npx tsc -p tsconfig.json --outDir tmp/dist-tsc && node bench/startup-bundle.mjs --from tmp/dist-tsc --out dist
 *   node bench/startup.mjs --runs 9 --entry tmp/dist-bundled/node.js
 *
 * The output is written beside `--out` and renamed over it at the end: a process importing dist/
 * meanwhile finds it missing only between that remove and rename, not while tsc and esbuild run.
 */
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const from = resolve(opt('from', 'dist'));
const finalOut = resolve(opt('out', 'tmp/dist-bundled'));
/** where the tree is built before it replaces finalOut */
const out = `${finalOut}.building-${process.pid}`;
/** --minify: whitespace and syntax only (names kept, so stack traces and error names stay readable) */
const minify = argv.includes('--minify');
if (from === finalOut) throw new Error('--from and --out must differ (esbuild reads the one and writes the other)');

/**
 * The entries a program imports side by side (package.json "node"/"default" conditions): bundled
 * together, code split, so they share one instance of every module (one MobileNetError class).
 */
const LIBRARY_ENTRIES = ['node.js', 'worker/node.js', 'tfjs-compat-node.js'];
/**
 * The entries that start a realm of their own (the CLI's process, the worker threads' scripts):
 * each one self-contained file. Split with the library entries they cost the library's import
 * extra chunk files: the Node entry's import was 9 files, ~18 ms more CPU than one file under
 * load (bench/STARTUP.md).
 */
const STANDALONE_ENTRIES = ['worker/node-worker-script.js', 'worker/pool-worker-script.js', 'cli/main.js', 'cli/eval.js'];
const NODE_ENTRIES = [...LIBRARY_ENTRIES, ...STANDALONE_ENTRIES];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// everything first (the .d.ts files, the browser entries untouched), then the bundled entries over it
cpSync(from, out, { recursive: true });

const keepMetaUrl = {
  name: 'import-meta-url-of-the-original-file',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      let code = readFileSync(args.path, 'utf8');
      if (args.path.startsWith(from) && code.includes('import.meta.url')) {
        // the file's URL in the output tree: its path below the root, resolved against the root
        // URL each emitted file computes from its own location (__bundleRoot, added below)
        const below = relative(from, args.path).split('\\').join('/');
        code = code.replaceAll('import.meta.url', `new URL(${JSON.stringify('./' + below)}, __bundleRoot).href`);
      }
      if (args.path.startsWith(from) && b.initialOptions.splitting && LAZY_IMPORT.test(code)) code = staticLazyImports(code);
      return { contents: code, loader: 'js' };
    });
  },
};

/** a dynamic import of one of our own modules (the ops beyond v1's, the metadata reader) */
const LAZY_IMPORT = /\bimport\((['"])(\.{1,2}\/[^'"]+)\1\)/g;

/**
 * In the code-split library build, our own dynamic imports become static ones: each would be an
 * entry point of its own, and the modules it shares with the core would leave the core's chunk
 * for chunks of their own, each one more file for every import of the Node entry to resolve and
 * load (9 files before). In Node nothing is downloaded, so loading them up front costs only their
 * evaluation; the browser entries keep them lazy (bench/size.mjs).
 */
function staticLazyImports(code) {
  const names = new Map();
  const body = code.replace(LAZY_IMPORT, (_, _q, path) => {
    if (!names.has(path)) names.set(path, `__lazy${names.size}`);
    return `Promise.resolve(${names.get(path)})`;
  });
  return [...names].map(([path, name]) => `import * as ${name} from ${JSON.stringify(path)};\n`).join('') + body;
}

const existing = (entries) => entries.map((e) => join(from, e)).filter((p) => {
  try {
    readFileSync(p);
    return true;
  } catch {
    return false;
  }
});
const options = {
  outdir: out,
  outbase: from,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node18',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  allowOverwrite: true,
  metafile: true,
  logLevel: 'warning',
  plugins: [keepMetaUrl],
  minifyWhitespace: minify,
  minifySyntax: minify,
  keepNames: minify,
};
const library = await build({ ...options, entryPoints: existing(LIBRARY_ENTRIES), splitting: true });
const standalone = await Promise.all(existing(STANDALONE_ENTRIES).map((entry) => build({ ...options, entryPoints: [entry], splitting: false })));
const result = { metafile: { outputs: Object.assign({}, library.metafile.outputs, ...standalone.map((r) => r.metafile.outputs)) } };
// __bundleRoot: the output root as seen from each emitted file
for (const file of Object.keys(result.metafile.outputs)) {
  const abs = resolve(file);
  const text = readFileSync(abs, 'utf8');
  if (!text.includes('__bundleRoot')) continue;
  const up = relative(dirname(abs), out) || '.';
  writeFileSync(abs, `const __bundleRoot = new URL(${JSON.stringify(up + '/')}, import.meta.url);\n` + text);
}
const outputs = Object.entries(result.metafile.outputs).map(([f, o]) => `${relative(out, resolve(f))} ${(o.bytes / 1024).toFixed(0)} KB`);
rmSync(finalOut, { recursive: true, force: true });
renameSync(out, finalOut);
console.log(`bundled ${NODE_ENTRIES.length} Node entries into ${relative(process.cwd(), finalOut) || '.'}: ${outputs.join(', ')}`);
