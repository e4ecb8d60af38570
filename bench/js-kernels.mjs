#!/usr/bin/env node
// The wasm2js build of the scalar kernels (build/mobilenet-scalar.js) against the wasm builds, on
// 0.25/128 uint8: in Node's V8 (where a page would use it if compiling wasm were refused) and in
// QuickJS (quickjs-emscripten: an interpreter, as in embedded engines without WebAssembly).
// Median ms per inference after a warm-up. Usage: node bench/js-kernels.mjs [--model M.tflite]
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { getQuickJS } from 'quickjs-emscripten';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const modelPath = args.includes('--model') ? args[args.indexOf('--model') + 1] : join(root, '../shared/models/mobilenet_v1_0.25_128_quant.tflite');
const { MobileNet } = await import(join(root, 'dist/index.js'));
const scalarJs = await import(join(root, 'build/mobilenet-scalar.js'));
const model = new Uint8Array(readFileSync(modelPath));
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];

async function timeIt(label, run, warmMs, n) {
  const t0 = performance.now();
  while (performance.now() - t0 < warmMs) run();
  const times = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); run(); times.push(performance.now() - t); }
  console.log(`${label.padEnd(34)} ${median(times).toFixed(2).padStart(9)} ms (median of ${n})`);
  return median(times);
}

const rows = {};
for (const [label, wasm, kernels] of [
  ['wasm simd (V8)', { simd: readFileSync(join(root, 'build/mobilenet-simd.wasm')) }, 'simd'],
  ['wasm scalar (V8)', { scalar: readFileSync(join(root, 'build/mobilenet-scalar.wasm')) }, 'scalar'],
  ['wasm2js scalar (V8)', { scalar: scalarJs }, 'scalar'],
]) {
  const net = await MobileNet.load(model, { wasm, kernels });
  const input = new Uint8Array(net.info.input.shape.reduce((a, b) => a * b, 1)).map((_, i) => (i * 31) & 255);
  rows[label] = await timeIt(label, () => net.run(input), 3000, 30);
  net.dispose();
}

// QuickJS: the same core and JS kernels bundled into the interpreter
const bundle = await build({
  stdin: {
    contents: `import { MobileNet } from ${JSON.stringify(join(root, 'dist/index.js'))};
import * as scalar from ${JSON.stringify(join(root, 'build/mobilenet-scalar.js'))};
let net, input;
globalThis.__load = async (buf) => { net = await MobileNet.load(new Uint8Array(buf), { wasm: { scalar } });
  input = new Uint8Array(net.info.input.shape.reduce((a, b) => a * b, 1)).map((_, i) => (i * 31) & 255); };
globalThis.__run = () => { net.run(input); };`,
    resolveDir: root, loader: 'js',
  },
  bundle: true, write: false, format: 'esm', platform: 'neutral', target: 'es2020', logLevel: 'error',
});
const QuickJS = await getQuickJS();
const rt = QuickJS.newRuntime();
rt.setMemoryLimit(512 * 2 ** 20);
const vm = rt.newContext();
vm.unwrapResult(vm.evalCode(bundle.outputFiles[0].text, 'bundle.mjs', { type: 'module' })).dispose();
rt.executePendingJobs();
const buf = vm.newArrayBuffer(model.buffer.slice(model.byteOffset, model.byteOffset + model.length));
const loadFn = vm.getProp(vm.global, '__load');
const p = vm.resolvePromise(vm.unwrapResult(vm.callFunction(loadFn, vm.undefined, buf)));
rt.executePendingJobs();
vm.unwrapResult(await p).dispose();
const runFn = vm.getProp(vm.global, '__run');
rows['wasm2js scalar (QuickJS)'] = await timeIt('wasm2js scalar (QuickJS)', () => vm.unwrapResult(vm.callFunction(runFn, vm.undefined)).dispose(), 0, 5);
console.log(`\nQuickJS / wasm scalar = ${(rows['wasm2js scalar (QuickJS)'] / rows['wasm scalar (V8)']).toFixed(0)}x; wasm2js in V8 / wasm scalar = ${(rows['wasm2js scalar (V8)'] / rows['wasm scalar (V8)']).toFixed(1)}x`);
