/**
 * Kernel choice that cannot trap a user (issue 8, item 1):
 * - 'auto' picks the fastest build that is both supplied and validated, so the README's
 *   `MobileNet.load(bytes, { wasm: { simd } })` works on engines that validate relaxed SIMD;
 * - an explicit flavour that was not supplied is INVALID_OPTION;
 * - in Node, a load asking for kernels: 'relaxed' sets V8's process-wide flag, and that never
 *   changes what 'auto' means for other loads (checked in child processes, whose flags are fresh);
 * - an engine that refuses to compile wasm from bytes (Workers) gets an error saying to import
 *   the .wasm as a module.
 */
import { describe, it, expect, afterEach, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { MobileNet } from '../../src/mobilenet.js';
import { MobileNetError } from '../../src/errors.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { chooseFlavour, engineSupports } from '../../src/runtime/kernels.js';
import { MODELS_DIR, SHARED_MISSING } from '../helpers/kernels.js';

// Stand in for an engine that validates relaxed SIMD out of the box (Chromium, Deno, Bun,
// workerd). Set here directly, as a user's `node --experimental-wasm-relaxed-simd` would (the
// test helpers imported above do the same): not by the library, so 'auto' may use relaxed.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const ROOT = resolve(__dirname, '..', '..');
const bytesOf = (f: string) => new Uint8Array(readFileSync(join(ROOT, 'build', `mobilenet-${f}.wasm`)));
const small = () => buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'uint8', classes: 10, seed: 3 });

async function rejects(p: Promise<unknown>, code: string, msg: RegExp): Promise<MobileNetError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MobileNetError);
    expect((e as MobileNetError).code).toBe(code);
    expect((e as Error).message).toMatch(msg);
    return e as MobileNetError;
  }
  throw new Error('expected a MobileNetError');
}

describe("kernels: 'auto' among the builds supplied", () => {
  it('this engine validates relaxed SIMD (precondition of the trap)', () => {
    expect(engineSupports('relaxed')).toBe(true);
  });

  it("the README snippet { wasm: { simd } } loads with 'auto' on an engine that validates relaxed SIMD", async () => {
    const net = await MobileNet.load(small(), { wasm: { simd: bytesOf('simd') } });
    expect(net.info.kernels).toBe('simd');
    const explicitAuto = await MobileNet.load(small(), { kernels: 'auto', wasm: { simd: bytesOf('simd') } });
    expect(explicitAuto.info.kernels).toBe('simd');
  });

  it('picks the fastest build supplied and validated', async () => {
    expect((await MobileNet.load(small(), { wasm: { scalar: bytesOf('scalar') } })).info.kernels).toBe('scalar');
    expect((await MobileNet.load(small(), { wasm: { scalar: bytesOf('scalar'), simd: bytesOf('simd') } })).info.kernels).toBe('simd');
    const all = { scalar: bytesOf('scalar'), simd: bytesOf('simd'), relaxed: bytesOf('relaxed') };
    expect((await MobileNet.load(small(), { wasm: all })).info.kernels).toBe('relaxed');
    // a promise counts as supplied; null / undefined entries do not
    expect((await MobileNet.load(small(), { wasm: { relaxed: undefined, simd: Promise.resolve(bytesOf('simd')) } })).info.kernels).toBe('simd');
    expect((await MobileNet.load(small(), { wasm: { relaxed: null as never, scalar: bytesOf('scalar') } })).info.kernels).toBe('scalar');
  });

  it('a function of builds supplies every flavour', async () => {
    const asked: string[] = [];
    const net = await MobileNet.load(small(), { wasm: (f) => (asked.push(f), bytesOf(f)) });
    expect(net.info.kernels).toBe('relaxed');
    expect(asked).toEqual(['relaxed']);
  });

  it('chooseFlavour takes the supplied builds', () => {
    expect(chooseFlavour('auto', ['simd'])).toBe('simd');
    expect(chooseFlavour('auto', ['scalar'])).toBe('scalar');
    expect(chooseFlavour('auto', ['scalar', 'simd'])).toBe('simd');
    expect(chooseFlavour('auto', ['simd', 'relaxed'])).toBe('relaxed');
    expect(chooseFlavour('auto')).toBe('relaxed');
    expect(chooseFlavour('simd', ['simd'])).toBe('simd');
    expect(() => chooseFlavour('relaxed', ['simd'])).toThrow(/no 'relaxed' build/);
    expect(() => chooseFlavour('auto', [])).toThrow(/no kernel build/);
    expect(() => chooseFlavour('auto', 'simd' as never)).toThrow(MobileNetError);
  });

  it('an explicit flavour that was not supplied is INVALID_OPTION naming it and what was given', async () => {
    const e = await rejects(MobileNet.load(small(), { kernels: 'relaxed', wasm: { simd: bytesOf('simd') } }), 'INVALID_OPTION', /kernels 'relaxed' requested but options.wasm has no 'relaxed' build \(mobilenet-relaxed.wasm\); it has simd/);
    expect(e.cause).toBeUndefined();
    await rejects(MobileNet.load(small(), { kernels: 'scalar', wasm: { simd: bytesOf('simd'), relaxed: bytesOf('relaxed') } }), 'INVALID_OPTION', /no 'scalar' build.*it has relaxed, simd/);
  });

  it('an object with no build is INVALID_OPTION', async () => {
    await rejects(MobileNet.load(small(), { wasm: {} }), 'INVALID_OPTION', /options.wasm has no kernel build/);
    await rejects(MobileNet.load(small(), { wasm: { SIMD: bytesOf('simd') } as never }), 'INVALID_OPTION', /options.wasm has no kernel build/);
  });
});

describe('an engine that refuses to compile wasm from bytes (Cloudflare Workers)', () => {
  afterEach(() => vi.restoreAllMocks());

  /** WebAssembly.compile / instantiate throw as workerd's do for bytes; Modules still instantiate */
  function refuseBytes(make: (msg: string) => Error) {
    const realInstantiate = WebAssembly.instantiate.bind(WebAssembly);
    vi.spyOn(WebAssembly, 'compile').mockImplementation(async () => {
      throw make('WebAssembly.compile(): Wasm code generation disallowed by embedder');
    });
    vi.spyOn(WebAssembly, 'instantiate').mockImplementation((async (src: unknown, imports?: WebAssembly.Imports) => {
      if (src instanceof WebAssembly.Module) return realInstantiate(src, imports);
      throw make('WebAssembly.instantiate(): Wasm code generation disallowed by embedder');
    }) as never);
  }

  for (const [name, make] of [
    ['CompileError', (m: string) => new WebAssembly.CompileError(m)],
    ['EvalError', (m: string) => new EvalError(m)],
  ] as const) {
    it(`bytes give INVALID_OPTION saying to import the .wasm as a module (${name})`, async () => {
      refuseBytes(make);
      const e = await rejects(MobileNet.load(small(), { wasm: { simd: bytesOf('simd') } }), 'INVALID_OPTION', /refuses to compile WebAssembly from bytes/);
      expect(e.message).toContain("import simd from 'mobilenet-wasm/wasm/mobilenet-simd.wasm'");
      expect(e.message).toContain('WebAssembly.Module');
      expect(e.message).toContain('disallowed by embedder');
      expect(e.cause).toBeUndefined();
    });
  }

  it('a WebAssembly.Module still loads', async () => {
    const simd = new WebAssembly.Module(bytesOf('simd'));
    refuseBytes((m) => new WebAssembly.CompileError(m));
    const net = await MobileNet.load(small(), { wasm: { simd } });
    expect(net.info.kernels).toBe('simd');
  });

  it('other compile errors keep their plain message', async () => {
    await rejects(MobileNet.load(small(), { kernels: 'simd', wasm: { simd: new Uint8Array([0, 97, 115, 109, 9, 9]) } }), 'INVALID_OPTION', /cannot instantiate the simd kernels/);
  });
});

/**
 * V8's flag is process-wide, so the rule is checked in fresh `node` processes running the
 * source through tsx (no stale dist/). Prints the flavour each load ran and whether the float
 * outputs of the 'auto' loads before and after an explicit relaxed load are identical.
 */
describe.skipIf(!MODELS_DIR)("Node: kernels: 'relaxed' never changes what 'auto' means", () => {
  if (!MODELS_DIR) it.skip(SHARED_MISSING, () => {});

  function runChild(nodeFlags: string[]): Record<string, unknown> {
    const dir = mkdtempSync(join(tmpdir(), 'kernel-choice-'));
    try {
      const script = join(dir, 'child.mjs');
      writeFileSync(
        script,
        `
import { readFileSync } from 'node:fs';
const lib = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'node.ts')).href)});
const model = ${JSON.stringify(join(MODELS_DIR!, 'mobilenet_v1_0.25_128.tflite'))};
const out = { validatesAtStart: lib.engineSupports('relaxed') };
const x = Float32Array.from({ length: 128 * 128 * 3 }, (_, i) => Math.sin(i * 0.37));
const before = await lib.loadModel(model);
out.autoBefore = before.info.kernels;
const relaxed = await lib.loadModel(model, { kernels: 'relaxed' });
out.explicit = relaxed.info.kernels;
const after = await lib.loadModel(model);
out.autoAfter = after.info.kernels;
out.kernelsAutoAfter = (await lib.loadModel(model, { kernels: 'auto' })).info.kernels;
out.coreAutoAfter = (await lib.MobileNet.load(new Uint8Array(readFileSync(model)), { wasm: lib.nodeKernelModule })).info.kernels;
lib.enableRelaxedSimd();
out.autoAfterEnable = (await lib.loadModel(model)).info.kernels;
out.chooseAuto = lib.chooseFlavour('auto');
const a = before.run(x), b = after.run(x);
out.sameFloats = a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
out.relaxedStillExplicit = (await lib.loadModel(model, { kernels: 'relaxed' })).info.kernels;
console.log(JSON.stringify(out));
`,
      );
      const stdout = execFileSync(process.execPath, [...nodeFlags, '--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      return JSON.parse(stdout.trim().split('\n').pop()!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("Node 20 without the flag: 'auto' stays on SIMD after a relaxed load, outputs unchanged", () => {
    const r = runChild([]);
    // on an engine that ships relaxed SIMD this test has nothing to show
    if (r.validatesAtStart === true) return;
    expect(r).toEqual({
      validatesAtStart: false,
      autoBefore: 'simd',
      explicit: 'relaxed',
      autoAfter: 'simd',
      kernelsAutoAfter: 'simd',
      coreAutoAfter: 'simd',
      autoAfterEnable: 'simd',
      chooseAuto: 'simd',
      sameFloats: true,
      relaxedStillExplicit: 'relaxed',
    });
  });

  it("started with --experimental-wasm-relaxed-simd: 'auto' is relaxed throughout", () => {
    const r = runChild(['--experimental-wasm-relaxed-simd']);
    expect(r).toMatchObject({ validatesAtStart: true, autoBefore: 'relaxed', explicit: 'relaxed', autoAfter: 'relaxed', coreAutoAfter: 'relaxed', autoAfterEnable: 'relaxed', sameFloats: true });
  });
});
