/**
 * Engines without WebAssembly (issue 9): the core runs in QuickJS (compiled to wasm by
 * quickjs-emscripten, so this runs anywhere Node does) with the wasm2js build of the scalar
 * kernels, build/mobilenet-scalar.js. Integer outputs must be byte-identical to the wasm builds;
 * the float model within 1e-5. QuickJS interprets: about 6 s per 0.25/128 inference here.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { getQuickJS, type QuickJSContext, type QuickJSRuntime } from 'quickjs-emscripten';
import { loadModel } from '../../src/node.js';
import { MODELS_DIR, SHARED_MISSING, rng } from '../helpers/kernels.js';

const root = join(__dirname, '..', '..');
const JS_KERNELS = join(root, 'build', 'mobilenet-scalar.js');

// What runs inside QuickJS: the core and the JavaScript kernels, bundled as one ES module.
const ENTRY = `
import { MobileNet, MobileNetError } from ${JSON.stringify(join(root, 'src/index.ts'))};
import * as scalar from ${JSON.stringify(JS_KERNELS)};
globalThis.__engine = { hasWebAssembly: typeof WebAssembly !== 'undefined' };
globalThis.__run = async (modelBuf, inputs, Type) => {
  const net = await MobileNet.load(new Uint8Array(modelBuf), { wasm: { scalar } });
  const outs = inputs.map((buf) => {
    const input = Type === 'float32' ? new Float32Array(buf) : Type === 'int8' ? new Int8Array(buf) : new Uint8Array(buf);
    const out = net.run(input);
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  });
  return { kernels: net.info.kernels, outs };
};
globalThis.__noWasm = async (modelBuf) => {
  try { await MobileNet.load(new Uint8Array(modelBuf), { wasm: { simd: new Uint8Array(8) } }); return 'loaded'; }
  catch (e) { return (e instanceof MobileNetError ? e.code : 'untyped') + ': ' + e.message; }
};
`;

describe.skipIf(!MODELS_DIR || !existsSync(JS_KERNELS))('QuickJS with the wasm2js kernels', () => {
  if (!MODELS_DIR) console.warn(`[quickjs] ${SHARED_MISSING}`);
  let rt: QuickJSRuntime;
  let vm: QuickJSContext;

  beforeAll(async () => {
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: root, loader: 'js' },
      bundle: true, write: false, format: 'esm', platform: 'neutral', target: 'es2020', logLevel: 'error',
    });
    const QuickJS = await getQuickJS();
    rt = QuickJS.newRuntime();
    rt.setMemoryLimit(512 * 2 ** 20);
    vm = rt.newContext();
    const r = vm.evalCode(bundle.outputFiles[0].text, 'bundle.mjs', { type: 'module' });
    if (r.error) throw new Error(`QuickJS could not evaluate the core: ${JSON.stringify(vm.dump(r.error))}`);
    r.value.dispose();
    rt.executePendingJobs();
  });
  afterAll(() => {
    vm?.dispose();
    rt?.dispose();
  });

  /** calls a global async function inside QuickJS with ArrayBuffer arguments, returns the dumped result */
  async function call(name: string, args: (ArrayBuffer | ArrayBuffer[] | string)[]): Promise<any> {
    const fn = vm.getProp(vm.global, name);
    const handles = args.map((a) => {
      if (typeof a === 'string') return vm.newString(a);
      if (a instanceof ArrayBuffer) return vm.newArrayBuffer(a);
      const arr = vm.newArray();
      a.forEach((b, i) => { const h = vm.newArrayBuffer(b); vm.setProp(arr, i, h); h.dispose(); });
      return arr;
    });
    const res = vm.callFunction(fn, vm.undefined, ...handles);
    handles.forEach((h) => h.dispose());
    fn.dispose();
    if (res.error) throw new Error(JSON.stringify(vm.dump(res.error)));
    const promise = vm.resolvePromise(res.value);
    res.value.dispose();
    rt.executePendingJobs();
    const settled = await promise;
    if (settled.error) throw new Error(JSON.stringify(vm.dump(settled.error)));
    // ArrayBuffers inside the result are read out one by one
    const v = settled.value;
    const out: any = {};
    if (vm.typeof(v) === 'string') { const s = vm.getString(v); v.dispose(); return s; }
    const kernels = vm.getProp(v, 'kernels');
    out.kernels = vm.getString(kernels);
    kernels.dispose();
    const outs = vm.getProp(v, 'outs');
    const n = vm.getNumber(vm.getProp(outs, 'length'));
    out.outs = [];
    for (let i = 0; i < n; i++) {
      const h = vm.getProp(outs, i);
      const buf = vm.getArrayBuffer(h);
      out.outs.push(new Uint8Array(buf.value.slice()));
      buf.dispose();
      h.dispose();
    }
    outs.dispose();
    v.dispose();
    return out;
  }

  const fileBuffer = (p: string) => { const b = readFileSync(p); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer; };

  it('has no WebAssembly there, and a .wasm build gets a typed error pointing to the JavaScript kernels', async () => {
    const h = vm.getProp(vm.global, '__engine');
    expect(vm.dump(h)).toEqual({ hasWebAssembly: false });
    h.dispose();
    const msg: string = await call('__noWasm', [fileBuffer(join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'))]);
    expect(msg).toMatch(/^INVALID_OPTION: /);
    expect(msg).toMatch(/mobilenet-scalar\.js/);
  });

  for (const [file, dtype] of [['mobilenet_v1_0.25_128_quant.tflite', 'uint8'], ['vww_96_int8.tflite', 'int8'], ['mobilenet_v1_0.25_128.tflite', 'float32']] as const) {
    it(`${file}: outputs in QuickJS equal the wasm builds' (${dtype === 'float32' ? 'within 1e-5' : 'byte for byte'})`, async () => {
      const path = join(MODELS_DIR!, file);
      const wasmNets = await Promise.all((['scalar', 'simd'] as const).map((k) => loadModel(path, { kernels: k })));
      const size = wasmNets[0].info.input.shape.reduce((a, b) => a * b, 1);
      const r = rng(file);
      const inputs = [0].map(() => {
        if (dtype === 'float32') return Float32Array.from({ length: size }, () => r() * 2 - 1);
        const bytes = Uint8Array.from({ length: size }, () => Math.floor(r() * 256));
        return dtype === 'int8' ? new Int8Array(bytes.buffer) : bytes;
      });
      const got = await call('__run', [fileBuffer(path), inputs.map((t) => t.slice().buffer as ArrayBuffer), dtype]);
      expect(got.kernels).toBe('scalar');
      for (const net of wasmNets) {
        inputs.forEach((input, i) => {
          const want = net.run(input);
          const wantBytes = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
          if (dtype === 'float32') {
            const a = new Float32Array(got.outs[i].buffer), b = want as Float32Array;
            let worst = 0;
            for (let j = 0; j < b.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
            expect(worst).toBeLessThanOrEqual(1e-5);
          } else {
            expect(Buffer.from(got.outs[i]).equals(Buffer.from(wantBytes))).toBe(true);
          }
        });
        net.dispose();
      }
    });
  }
});
