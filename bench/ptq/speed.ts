/**
 * Does a model written by `mobilenet-wasm quantize` run at int8 speed? Times it, in one process
 * and interleaved (round r runs every model once in turn, order rotated each round), against
 * the official uint8 0.25/128 (../shared/models/mobilenet_v1_0.25_128_quant.tflite), a
 * random-weight int8 0.25/128 from buildMobileNetV1, and the float model it came from.
 *
 *   npx tsx bench/ptq/speed.ts --quantized int8.tflite[,int8-io.tflite,...] [--float F.tflite] [--rounds 40] [--inner 20] [--warmup-ms 3000] [--kernels auto] [--wasm-dir DIR]
 *
 * Prints each model's median ms per inference over the rounds and its ratio to the random int8.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { randomInput } from '../../src/cli/bench.js';
import { loadModel } from '../../src/node.js';
import type { KernelChoice } from '../../src/runtime/kernels.js';
import { SHARED } from './accuracy.js';

const { values } = parseArgs({
  options: {
    quantized: { type: 'string' },
    float: { type: 'string', default: join(SHARED, 'models', 'mobilenet_v1_0.25_128.tflite') },
    official: { type: 'string', default: join(SHARED, 'models', 'mobilenet_v1_0.25_128_quant.tflite') },
    rounds: { type: 'string', default: '40' },
    inner: { type: 'string', default: '20' },
    'warmup-ms': { type: 'string', default: '3000' },
    kernels: { type: 'string', default: 'auto' },
    // kernel builds from this folder (node scripts/build-wasm.mjs --out DIR) instead of build/
    'wasm-dir': { type: 'string' },
  },
});
if (!values.quantized) throw new Error('--quantized INT8.tflite[,...] is required');
const wasmDir = values['wasm-dir'];
const options = {
  kernels: values.kernels as KernelChoice,
  ...(wasmDir ? { wasm: (_flavour: string, file: string) => WebAssembly.compile(readFileSync(join(wasmDir, file))) } : {}),
};
const quantized = await Promise.all(
  values.quantized.split(',').map(async (file) => {
    const net = await loadModel(file, options);
    return { name: `quantized by this tool (${basename(file)}, ${net.info.input.dtype} I/O)`, net };
  }),
);
const models = [
  ...quantized,
  { name: 'official uint8 0.25/128 (QAT)', net: await loadModel(values.official!, options) },
  { name: 'random-weight int8 0.25/128', net: await loadModel(buildMobileNetV1({ alpha: 0.25, resolution: 128, precision: 'int8' }), options) },
  { name: 'float source model', net: await loadModel(values.float!, options) },
];
const inputs = models.map((m) => randomInput(m.net));
const inner = Number(values.inner);
const times: number[][] = models.map(() => []);
const t0 = performance.now();
while (performance.now() - t0 < Number(values['warmup-ms'])) models.forEach((m, i) => m.net.run(inputs[i]));
for (let r = 0; r < Number(values.rounds); r++) {
  for (let k = 0; k < models.length; k++) {
    const i = (k + r) % models.length;
    const s = performance.now();
    for (let j = 0; j < inner; j++) models[i].net.run(inputs[i]);
    times[i].push((performance.now() - s) / inner);
  }
}
const median = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const ref = median(times[quantized.length + 1]);
console.log(`kernels ${models[0].net.info.kernels} from ${wasmDir ?? 'build/'}; ${values.rounds} interleaved rounds of ${inner} runs after ${values['warmup-ms']} ms warm-up`);
console.log('| model | precision | median ms | ratio to random int8 |');
console.log('|---|---|---|---|');
models.forEach((m, i) => console.log(`| ${m.name} | ${m.net.info.precision} | ${median(times[i]).toFixed(3)} | ${(median(times[i]) / ref).toFixed(2)} |`));
