// Whole-model latency of a quantized MobileNet with the kernels of a chosen build directory
// (so a kernel change can be measured without touching build/). Run with tsx (imports src/):
//   MNW_WASM_DIR=build/dev-q8full npx tsx bench/kernels/q8-model.mjs \
//     [--model ../shared/models/mobilenet_v1_1.0_224_quant.tflite | --alpha 1 --resolution 224 --precision int8]
//     [--kernels simd|relaxed] [--runs 30] [--warmup-ms 3000] [--profile]
// Prints min / median wall time, CPU time per inference (process.cpuUsage) and the load
// average, and with --profile the per-layer medians.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import v8 from 'node:v8';
import { loadModel } from '../../src/node.ts';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.ts';
import { randomInput } from '../../src/cli/bench.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const dir = process.env.MNW_WASM_DIR ?? join(root, 'build');
const kernels = opt('--kernels', 'simd');
const runs = Number(opt('--runs', '30'));
const warmupMs = Number(opt('--warmup-ms', '3000'));
const wasm = (flavour) => WebAssembly.compile(readFileSync(join(dir, `mobilenet-${flavour}.wasm`)));
const model = opt('--model', undefined);
const source = model ?? buildMobileNetV1({ alpha: Number(opt('--alpha', '1')), resolution: Number(opt('--resolution', '224')), precision: opt('--precision', 'int8'), classes: 1001, seed: 1 });
const net = await loadModel(source, { kernels, wasm });
const input = randomInput(net);
const until = performance.now() + warmupMs;
while (performance.now() < until) net.run(input);
const times = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < runs; i++) {
  const s = performance.now();
  net.run(input);
  times.push(performance.now() - s);
}
const cpu = process.cpuUsage(cpu0);
times.sort((a, b) => a - b);
const name = model ? model.split('/').pop() : `random ${opt('--alpha', '1')}/${opt('--resolution', '224')} ${opt('--precision', 'int8')}`;
console.log(`${name} ${net.info.kernels}: median ${times[runs >> 1].toFixed(3)} ms, min ${times[0].toFixed(3)} ms, cpu ${((cpu.user + cpu.system) / 1000 / runs).toFixed(3)} ms/inference, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (args.includes('--profile')) {
  const layers = net.profile(input, Math.max(10, runs));
  let total = 0;
  for (const l of layers) {
    total += l.ms;
    console.log(`${String(l.index).padStart(2)} ${l.kernel.padEnd(14)} ${l.shape.join('x').padEnd(14)} ${(l.macs / 1e6).toFixed(2).padStart(8)}M ${l.ms.toFixed(3).padStart(7)} ms ${((2 * l.macs) / l.ms / 1e6).toFixed(1).padStart(6)} GOP/s`);
  }
  console.log(`sum of layer medians ${total.toFixed(3)} ms`);
}
net.dispose();
