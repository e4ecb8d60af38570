/**
 * `npm run build:ts` writes dist/ as tsc's output with the Node-side entries bundled by
 * bench/startup-bundle.mjs (issue 11 item 3: an import of a handful of files, not ~80 modules).
 * These checks build that tree from src/ in a package-shaped folder under tmp/ (node_modules
 * found from the repository) and run it in fresh processes: the bundled Node entry computes
 * what src/ computes, finds the kernel builds beside dist/ (import.meta.url of every bundled
 * module rewritten to its own file's URL), shares one MobileNetError class with the worker entry,
 * and the bundled CLI prints what tsc's CLI prints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, TSC, run } from './consumer.js';
import { MobileNet } from '../../src/mobilenet.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { nodeKernelModule } from '../../src/node.js';

const BUNDLER = join(ROOT, 'bench', 'startup-bundle.mjs');
/** the model both trees run: small, uint8, fixed weights */
const MODEL = "{ alpha: 0.25, resolution: 96, precision: 'uint8', classes: 7, seed: 11 }";

let work: string;
/** tsc's output (the tree before bundling) and the bundled package, each with build/ beside dist/ */
let plain: string;
let bundled: string;

/** Runs an ES module script in a fresh Node process; its stdout. */
async function node(script: string): Promise<string> {
  const r = await run(process.execPath, ['--input-type=module', '-e', script], work, 120_000);
  if (r.code !== 0) throw new Error(`node -e failed (${r.code}):\n${r.out}`);
  return r.out;
}

beforeAll(async () => {
  mkdirSync(join(ROOT, 'tmp'), { recursive: true });
  work = mkdtempSync(join(ROOT, 'tmp', 'node-bundle-'));
  plain = join(work, 'plain');
  bundled = join(work, 'bundled');
  const built = await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(plain, 'dist')], ROOT);
  if (built.code !== 0) throw new Error(`tsc failed:\n${built.out}`);
  const bundle = await run(process.execPath, [BUNDLER, '--from', join(plain, 'dist'), '--out', join(bundled, 'dist')], ROOT);
  if (bundle.code !== 0) throw new Error(`bench/startup-bundle.mjs failed:\n${bundle.out}`);
  for (const pkg of [plain, bundled]) {
    mkdirSync(join(pkg, 'build'));
    for (const f of readdirSync(join(ROOT, 'build'))) if (/\.(wasm|js)$/.test(f)) cpSync(join(ROOT, 'build', f), join(pkg, 'build', f));
  }
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the bundled Node entry (dist/ as npm run build:ts writes it)', () => {
  it('is a few files: the entry imports chunks, not the modules tsc wrote', () => {
    expect(existsSync(join(bundled, 'dist', 'chunks'))).toBe(true);
    expect(existsSync(join(bundled, 'dist', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(bundled, 'dist', 'node.d.ts'))).toBe(true);
    // no leftover build folder beside the output
    expect(readdirSync(work).sort()).toEqual(['bundled', 'plain']);
  });

  it('runs a model to the same bytes as src/, with the kernels found beside dist/', async () => {
    const entry = pathToFileURL(join(bundled, 'dist', 'node.js')).href;
    const out = await node(`
      const m = await import(${JSON.stringify(entry)});
      const net = await m.loadModel(m.buildMobileNetV1(${MODEL}), { kernels: 'simd' });
      const input = new Uint8Array(net.info.input.shape.reduce((a, b) => a * b, 1)).map((_, i) => (i * 37) & 255);
      console.log(JSON.stringify({ wasmDir: m.WASM_DIR, out: Array.from(net.run(input)) }));`);
    const got = JSON.parse(out.trim().split('\n').pop()!);
    expect(got.wasmDir).toBe(join(bundled, 'build'));

    const net = await MobileNet.load(buildMobileNetV1({ alpha: 0.25, resolution: 96, precision: 'uint8', classes: 7, seed: 11 }), { wasm: nodeKernelModule, kernels: 'simd' });
    const input = new Uint8Array(net.info.input.shape.reduce((a, b) => a * b, 1)).map((_, i) => (i * 37) & 255);
    expect(got.out).toEqual(Array.from(net.run(input) as Uint8Array));
    net.dispose();
  });

  it('has one MobileNetError class across mobilenet-wasm and mobilenet-wasm/worker', async () => {
    const entry = pathToFileURL(join(bundled, 'dist', 'node.js')).href;
    const worker = pathToFileURL(join(bundled, 'dist', 'worker', 'node.js')).href;
    const out = await node(`
      const { MobileNetError } = await import(${JSON.stringify(entry)});
      const { MobileNetWorker } = await import(${JSON.stringify(worker)});
      const e = await MobileNetWorker.load(new Uint8Array([1, 2, 3])).then(() => null, (e) => e);
      console.log(JSON.stringify({ same: e instanceof MobileNetError, code: e?.code }));`);
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ same: true, code: 'INVALID_MODEL' });
  });

  it('has a CLI that prints what tsc output prints', async () => {
    const cli = (pkg: string) => `
      const { main } = await import(${JSON.stringify(pathToFileURL(join(pkg, 'dist', 'cli', 'main.js')).href)});
      process.exitCode = await main(['fetch', '--list']);`;
    const [a, b] = await Promise.all([node(cli(plain)), node(cli(bundled))]);
    expect(b).toBe(a);
    expect(a).toContain('mobilenet_v1_1.0_224_quant');
  });
});
