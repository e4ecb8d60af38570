/**
 * The package as a user gets it: `npm pack`, installed into a fresh consumer project, then
 * compiled by tsc and resolved by Node and by a bundler. Guards the newcomer traps of issue 8:
 * types that named the global `WebAssembly` namespace (TS2503 without the DOM lib),
 * `mobilenet-wasm/core` not resolving under moduleResolution node10, label files blocked by the
 * exports map, and a browser bundle of `mobilenet-wasm` pulling in node:fs.
 *
 * One packed install serves every check. The dist/ in the tarball is compiled from src/ into a
 * temporary folder (the repo's dist/ is neither used nor touched), and the tarball is packed
 * with the repo's package.json, so its `files` and `exports` are the ones under test.
 *
 * TypeScript 7 (this repo's) has removed moduleResolution node10, so node10 is checked with
 * TypeScript 5.9 installed into the consumer, as a project still on node10 would have it.
 * Skips with a message only when `npm pack` or the install cannot work.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NPM, ROOT, TSC, installPacked, packPackage, run, typesNodeSpec, type Run } from './consumer.js';

const TS_NODE10 = '5.9.3';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

// ---- the consumer project ----------------------------------------------------------------

/** the portable core: what a page, a worker or an edge function compiles */
const CORE_TS = `
import {
  MobileNet, MobileNetError, chooseFlavour, parseLabels, topK,
  type Classification, type ClassifyOptions, type Flavour, type KernelSource, type LoadOptions,
  type ModelInfo, type RawImage, type WasmModule, type WasmSources,
} from 'mobilenet-wasm/core';

export async function classifyWith(model: Uint8Array, simd: KernelSource, image: RawImage): Promise<Classification[]> {
  const wasm: WasmSources = { simd };
  const options: LoadOptions = { wasm, kernels: 'auto', labels: parseLabels('background\\ntench\\n') };
  const net = await MobileNet.load(model, options);
  const info: ModelInfo = net.info;
  const flavour: Flavour = info.kernels;
  const cls: ClassifyOptions = { topK: 3, crop: 'central' };
  try {
    return net.classify(image, cls);
  } catch (e) {
    if (e instanceof MobileNetError) throw new Error(\`\${e.code} on \${flavour}\`);
    throw e;
  } finally {
    net.dispose();
  }
}
export const picked: Flavour = chooseFlavour('auto');
export const best: number[] = topK(new Float32Array(4), 2).map((s) => s.index);
export const fromModule = (m: WasmModule): KernelSource => m;
`;

/** the Node entry, next to the core; its types must not need @types/node or the DOM lib either */
const NODE_TS = `
import { MobileNet, loadModel, nodeKernelModule, decodeImageFile, readModelFile, type NodeLoadOptions } from 'mobilenet-wasm';
import { MobileNet as CoreMobileNet, type Classification, type KernelSource } from 'mobilenet-wasm/core';

export async function main(path: string, image: string): Promise<Classification[]> {
  const options: NodeLoadOptions = { kernels: 'simd', maxModelBytes: 2 ** 26 };
  const simd: KernelSource = await nodeKernelModule('simd');
  const net: MobileNet = await loadModel(path, { ...options, wasm: { simd } });
  const same: CoreMobileNet = net;
  const again = await MobileNet.load(await readModelFile(path), { wasm: { simd } });
  again.dispose();
  const top = same.classify(await decodeImageFile(image), { topK: 5 });
  net.dispose();
  return top;
}

// the tfjs-models-shaped entry: its types compile everywhere the others do
import { load as loadCompat, type ClassResult, type CompatMobileNet, type ModelConfig } from 'mobilenet-wasm/tfjs-compat';
export async function compat(path: string, image: string): Promise<[ClassResult[], Float32Array]> {
  const config: ModelConfig = { version: 1, modelUrl: path, inputRange: [-1, 1] };
  const model: CompatMobileNet = await loadCompat(config);
  const classes = await model.classify(await decodeImageFile(image));
  const logits = await model.infer(await decodeImageFile(image), false);
  model.dispose();
  return [classes, logits];
}

// the metadata reader, apart from the core (a page that never calls it does not download it)
import { readTfliteMetadata, type TfliteMetadata } from 'mobilenet-wasm/metadata';
export const metadataOf: (bytes: Uint8Array) => TfliteMetadata | undefined = readTfliteMetadata;

// teaching new classes and quantizing, each its own entry (issue 12)
import { createClassifier, loadClassifierHead, type Classifier, type Prediction } from 'mobilenet-wasm/transfer';
export async function teach(net: MobileNet, photo: RawImage): Promise<[Prediction[], Uint8Array, Classifier]> {
  const classifier = createClassifier(net, { head: 'softmax' });
  await classifier.addExample(photo, 'mug');
  await classifier.train({ onProgress: ({ epoch, epochs, loss }) => void [epoch, epochs, loss] });
  const head = classifier.toTflite();
  return [await classifier.predict(photo, { topK: 1 }), head, loadClassifierHead(net, head)];
}
import { Calibrator, quantizeToTflite, type QuantizeOptions } from 'mobilenet-wasm/quantize';
import type { Graph, RawImage } from 'mobilenet-wasm/core';
export async function quantize(graph: Graph, input: Float32Array): Promise<Uint8Array> {
  const calibrator = await Calibrator.create(graph);
  calibrator.add(input);
  calibrator.dispose();
  const options: QuantizeOptions = { method: 'percentile', io: 'float' };
  return quantizeToTflite(graph, calibrator.stats, options);
}
`;

/** with the DOM lib: our WebAssembly aliases are exactly the DOM's, and ImageData is an image */
const DOM_TS = `
import { MobileNet, nodeKernelModule, type KernelSource, type WasmMemory, type WasmModule } from 'mobilenet-wasm';

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export const sameModule: Same<WasmModule, WebAssembly.Module> = true;
export const sameMemory: Same<WasmMemory, WebAssembly.Memory> = true;

export async function dom(bytes: Uint8Array, canvas: HTMLCanvasElement): Promise<string | undefined> {
  const module: WebAssembly.Module = await WebAssembly.compile(new Uint8Array(bytes));
  const src: KernelSource = module;
  const fromNode: WebAssembly.Module = await nodeKernelModule('simd');
  void fromNode;
  const net = await MobileNet.load(bytes, { wasm: { simd: src } });
  const ctx = canvas.getContext('2d')!;
  const image: ImageData = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return net.classify(image)[0]?.label;
}
`;

const RESOLVE_MJS = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const out = {};
for (const s of process.argv.slice(2)) {
  let esm, cjs;
  try { esm = import.meta.resolve(s); } catch (e) { esm = 'error ' + e.code; }
  try { cjs = require.resolve(s); } catch (e) { cjs = 'error ' + e.code; }
  out[s] = { esm, cjs };
}
console.log(JSON.stringify(out));
`;

const SMOKE_MJS = `
import { MobileNet, nodeKernelModule, WASM_DIR } from 'mobilenet-wasm';
import * as core from 'mobilenet-wasm/core';
const m = await nodeKernelModule('simd');
console.log(JSON.stringify({
  load: typeof MobileNet.load, core: core.MobileNet === MobileNet, module: m instanceof WebAssembly.Module, dir: WASM_DIR,
}));
`;

type Lib = 'node' | 'dom' | 'bare';
type Resolution = 'bundler' | 'node16' | 'nodenext' | 'node10';
const LIBS: Record<Lib, { lib: string[]; types: string[]; files: string[]; what: string }> = {
  node: { lib: ['ES2022'], types: ['node'], files: ['core.ts', 'node-entry.ts'], what: 'lib ES2022 + types node' },
  dom: { lib: ['ES2022', 'DOM'], types: [], files: ['core.ts', 'node-entry.ts', 'dom.ts'], what: 'lib ES2022 + DOM' },
  bare: { lib: ['ES2022'], types: [], files: ['core.ts', 'node-entry.ts'], what: 'lib ES2022 only' },
};
const MODULE: Record<Resolution, string> = { bundler: 'esnext', node16: 'node16', nodenext: 'nodenext', node10: 'esnext' };
const CONFIGS = (['node', 'dom', 'bare'] as Lib[]).flatMap((lib) =>
  (['bundler', 'node16', 'nodenext', 'node10'] as Resolution[]).map((res) => ({ lib, res, name: `${lib}-${res}` })),
);

// ---- one packed install ------------------------------------------------------------------

let work = '';
let consumer = '';
let skipNote: string | undefined;
let ts5: string | undefined;
let ts5Note = '';
const compiles = new Map<string, Promise<Run>>();

beforeAll(async () => {
  const t0 = Date.now();
  work = mkdtempSync(join(tmpdir(), 'mobilenet-wasm-pack-'));
  const packed = await packPackage(work);
  if ('skip' in packed) {
    skipNote = packed.skip;
    return;
  }
  const tarball = packed.tarball;

  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'core.ts'), CORE_TS);
  writeFileSync(join(consumer, 'node-entry.ts'), NODE_TS);
  writeFileSync(join(consumer, 'dom.ts'), DOM_TS);
  writeFileSync(join(consumer, 'resolve.mjs'), RESOLVE_MJS);
  writeFileSync(join(consumer, 'smoke.mjs'), SMOKE_MJS);
  // the consumer's own @types/node: the one this repo uses (already in the npm cache)
  const install = (extra: string[]) => installPacked(consumer, tarball, [typesNodeSpec(), ...extra]);
  let inst = await install([`typescript@${TS_NODE10}`]);
  if (inst.code === 0) {
    ts5 = join(consumer, 'node_modules', 'typescript', 'bin', 'tsc');
  } else {
    ts5Note = `TypeScript ${TS_NODE10} could not be installed (${inst.out.split('\n').slice(-2).join(' ')}): moduleResolution node10 not checked`;
    inst = await install([]);
  }
  if (inst.code !== 0) {
    skipNote = `cannot install the packed tarball offline (${inst.out.split('\n').slice(-3).join(' ')})`;
    return;
  }

  // every tsc configuration, two at a time, each test awaiting its own
  const queue: (() => void)[] = [];
  let active = 0;
  const width = Math.max(2, Math.min(4, availableParallelism()));
  const next = () => {
    active--;
    queue.shift()?.();
  };
  for (const c of CONFIGS) {
    const tsc = c.res === 'node10' ? ts5 : TSC;
    if (!tsc) continue;
    const { lib, types, files } = LIBS[c.lib];
    const file = `tsconfig.${c.name}.json`;
    const compilerOptions = {
      strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022',
      lib, types, module: MODULE[c.res], moduleResolution: c.res,
    };
    writeFileSync(join(consumer, file), JSON.stringify({ compilerOptions, files }, null, 2));
    compiles.set(
      c.name,
      new Promise<void>((go) => (active < width ? (active++, go()) : queue.push(() => (active++, go())))).then(() =>
        run(process.execPath, [tsc, '-p', file], consumer).finally(next),
      ),
    );
  }
  console.log(`packed and installed in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${ts5 ? `node10 with TypeScript ${TS_NODE10}` : ts5Note}`);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled(compiles.values());
  if (work) rmSync(work, { recursive: true, force: true });
});

// ---- the checks ----------------------------------------------------------------------------

describe('package.json', () => {
  it('has no side effects but its worker scripts, and "types" comes first in every condition block', () => {
    // a worker script runs for its effect (it listens for messages): a bundler must not drop
    // `import 'mobilenet-wasm/worker/script'` as unused; everything else may be tree-shaken
    expect(pkg.sideEffects).toEqual(['./dist/worker/worker-script.js', './dist/worker/node-worker-script.js', './dist/worker/pool-worker-script.js']);
    const walk = (node: unknown, at: string) => {
      if (typeof node !== 'object' || node === null) return;
      const keys = Object.keys(node);
      if (keys.every((k) => !k.startsWith('.'))) {
        if (keys.includes('types')) expect(keys[0], `${at}: "types" first`).toBe('types');
        if (keys.includes('default')) expect(keys.at(-1), `${at}: "default" last`).toBe('default');
      }
      for (const k of keys) walk((node as Record<string, unknown>)[k], `${at}.${k}`);
    };
    walk(pkg.exports, 'exports');
  });

  it('npm pack ships dist, the kernel builds and the labels, and no tests or fetched models', async (ctx) => {
    const r = await run(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT);
    if (r.code !== 0) ctx.skip(`npm pack does not work here: ${r.out.split('\n').slice(-3).join(' ')}`);
    const files: string[] = JSON.parse(r.out.slice(r.out.indexOf('['))).at(0).files.map((f: { path: string }) => f.path);
    for (const f of ['package.json', 'bin/mobilenet-wasm.js', 'weights/labels/imagenet_1001_short.txt', 'weights/models.json']) expect(files).toContain(f);
    // per flavour: the combined build, each precision's own build, and the wasm2js scalar JS of each
    for (const f of ['scalar', 'simd', 'relaxed']) for (const set of ['', 'q8-', 'f32-']) expect(files).toContain(`build/mobilenet-${set}${f}.wasm`);
    for (const set of ['', 'q8-', 'f32-']) expect(files).toContain(`build/mobilenet-${set}scalar.js`);
    if (existsSync(join(ROOT, 'dist', 'index.js'))) {
      for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts']) expect(files).toContain(f);
    }
    const stray = files.filter((f) => /^(test|src|scripts|bench|assembly|fuzz-out|\.ci)\/|^weights\/models\/|\.(tflite|bin|tgz)$/.test(f));
    expect(stray).toEqual([]);
  });
});

describe('installed from the packed tarball', () => {
  const resolveIn = async (conditions: string[], specifiers: string[]) => {
    const r = await run(process.execPath, [...conditions.map((c) => `--conditions=${c}`), 'resolve.mjs', ...specifiers], consumer);
    expect(r.code, r.out).toBe(0);
    return JSON.parse(r.out) as Record<string, { esm: string; cjs: string }>;
  };
  const pkgDir = () => join(consumer, 'node_modules', 'mobilenet-wasm');

  it('Node resolves the entries, the label files and the kernel builds (import and require)', async (ctx) => {
    if (skipNote) ctx.skip(skipNote);
    const labels = 'mobilenet-wasm/labels/imagenet_1001_short.txt';
    const wasm = 'mobilenet-wasm/wasm/mobilenet-simd.wasm';
    const got = await resolveIn([], ['mobilenet-wasm', 'mobilenet-wasm/core', labels, wasm, 'mobilenet-wasm/package.json']);
    const want = {
      'mobilenet-wasm': join(pkgDir(), 'dist', 'node.js'),
      'mobilenet-wasm/core': join(pkgDir(), 'dist', 'index.js'),
      [labels]: join(pkgDir(), 'weights', 'labels', 'imagenet_1001_short.txt'),
      [wasm]: join(pkgDir(), 'build', 'mobilenet-simd.wasm'),
      'mobilenet-wasm/package.json': join(pkgDir(), 'package.json'),
    };
    for (const [s, path] of Object.entries(want)) {
      expect(got[s].esm, s).toMatch(/^file:/);
      expect(fileURLToPath(got[s].esm), s).toBe(path);
      expect(got[s].cjs, s).toBe(path);
      expect(statSync(path).size, s).toBeGreaterThan(0);
    }
    const lines = readFileSync(want[labels], 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1001);
    expect(readFileSync(want[wasm]).subarray(0, 4)).toEqual(Buffer.from([0, 97, 115, 109]));
  });

  it('browser, worker, workerd and deno conditions get the portable core, Node the Node entry', async (ctx) => {
    if (skipNote) ctx.skip(skipNote);
    for (const c of ['browser', 'worker', 'workerd', 'deno']) {
      const got = await resolveIn([c], ['mobilenet-wasm', 'mobilenet-wasm/tfjs-compat']);
      expect(fileURLToPath(got['mobilenet-wasm'].esm), c).toBe(join(pkgDir(), 'dist', 'index.js'));
      expect(fileURLToPath(got['mobilenet-wasm/tfjs-compat'].esm), c).toBe(join(pkgDir(), 'dist', 'tfjs-compat.js'));
    }
    const node = await resolveIn([], ['mobilenet-wasm/tfjs-compat']);
    expect(fileURLToPath(node['mobilenet-wasm/tfjs-compat'].esm)).toBe(join(pkgDir(), 'dist', 'tfjs-compat-node.js'));
  });

  it('the installed Node entry runs and finds its kernel builds', async (ctx) => {
    if (skipNote) ctx.skip(skipNote);
    const r = await run(process.execPath, ['smoke.mjs'], consumer);
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ load: 'function', core: true, module: true, dir: join(pkgDir(), 'build') });
  });

  it('a browser or Workers bundle of mobilenet-wasm gets the core, without node: imports', async (ctx) => {
    if (skipNote) ctx.skip(skipNote);
    const esbuild = await import('esbuild');
    const targets = [
      { name: 'browser', platform: 'browser' as const, conditions: [] },
      { name: 'workers', platform: 'neutral' as const, conditions: ['workerd', 'worker', 'browser'], mainFields: ['module', 'main'] },
    ];
    for (const t of targets) {
      const out = await esbuild.build({
        stdin: { contents: "import { MobileNet } from 'mobilenet-wasm';\nexport { MobileNet };\n", resolveDir: consumer, loader: 'js' },
        absWorkingDir: consumer, bundle: true, write: false, metafile: true, format: 'esm', logLevel: 'silent',
        platform: t.platform, conditions: t.conditions, mainFields: t.mainFields,
      });
      const inputs = Object.keys(out.metafile.inputs);
      expect(inputs, t.name).toContain('node_modules/mobilenet-wasm/dist/index.js');
      expect(inputs.filter((f) => f.endsWith('mobilenet-wasm/dist/node.js')), t.name).toEqual([]);
      expect(out.outputFiles[0].text, t.name).not.toMatch(/from\s*["']node:/);
    }
  });

  describe.each(CONFIGS)('tsc, strict, skipLibCheck false: $lib, moduleResolution $res', ({ lib, res, name }) => {
    it(`compiles with no errors (${LIBS[lib].what}; ${LIBS[lib].files.join(', ')})`, async (ctx) => {
      if (skipNote) ctx.skip(skipNote);
      if (res === 'node10' && !ts5) ctx.skip(ts5Note);
      const r = await compiles.get(name)!;
      expect(r.out).toBe('');
      expect(r.code).toBe(0);
    });
  });
});
