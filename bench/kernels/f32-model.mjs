// Whole-model float32 latency and per-layer profile with kernel builds from any folder, so a
// dev build can be measured without writing into build/. Also reports CPU time per inference
// (process.cpuUsage), which a loaded shared machine disturbs less than wall time.
// Usage: npx tsc -p tsconfig.json && node bench/kernels/f32-model.mjs [--dir build/dev-f32full]
//   [--alpha 1] [--res 224] [--kernels simd|relaxed] [--runs 30] [--warmup-ms 3000] [--profile]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, enableRelaxedSimd } from '../../dist/node.js';
import { buildMobileNetV1 } from '../../dist/arch/mobilenet.js';
import { randomInput } from '../../dist/cli/bench.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const dir = opt('--dir', process.env.MNW_WASM_DIR ?? 'build');
const alpha = Number(opt('--alpha', '1'));
const resolution = Number(opt('--res', '224'));
const kernels = opt('--kernels', 'simd');
const runs = Number(opt('--runs', '30'));
const warmupMs = Number(opt('--warmup-ms', '3000'));
const profile = args.includes('--profile');

enableRelaxedSimd();
const graph = buildMobileNetV1({ alpha, resolution, precision: 'float32', classes: 1001, seed: 1 });
const net = await loadModel(graph, {
  kernels,
  wasm: (f) => WebAssembly.compile(readFileSync(join(dir, `mobilenet-${f}.wasm`))),
});
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
const med = times[Math.floor(times.length / 2)];
const cpuMs = (cpu.user + cpu.system) / 1000 / runs;
console.log(
  `${alpha}/${resolution} f32 ${net.info.kernels} (${dir}): median ${med.toFixed(2)} ms, min ${times[0].toFixed(2)}, cpu ${cpuMs.toFixed(2)} ms/inference, ${(net.info.macs / times[0] / 1e6).toFixed(1)} GMAC/s at min`,
);
if (profile) {
  // per layer: median and min over the runs (min = the layer when it had the core)
  const steps = net.plan.steps;
  const k = net.live();
  net.writeInput(k, input);
  const t = steps.map(() => []);
  for (let r = 0; r <= Math.max(10, runs); r++) {
    for (let i = 0; i < steps.length; i++) {
      const s = performance.now();
      net.step(k, i);
      if (r > 0) t[i].push(performance.now() - s);
    }
  }
  let totMed = 0, totMin = 0;
  console.log(' #  op                                 kernel           output             Mmacs   med ms  GOP/s   min ms  GOP/s');
  steps.forEach((st, i) => {
    const v = t[i].sort((a, b) => a - b);
    const med = v[v.length >> 1], mn = v[0];
    totMed += med; totMin += mn;
    const macs = st.prepared?.macs ?? 0;
    const g = (ms) => (ms > 0 ? (2 * macs) / ms / 1e6 : 0).toFixed(1).padStart(6);
    console.log(
      `${String(i).padStart(2)}  ${st.ops.map((o) => o.op).join('+').padEnd(34)} ${(st.prepared?.kernel ?? 'none').padEnd(16)} ${st.op.output.shape.join('x').padEnd(14)} ${(macs / 1e6).toFixed(2).padStart(8)} ${med.toFixed(3).padStart(8)} ${g(med)} ${mn.toFixed(3).padStart(8)} ${g(mn)}`,
    );
  });
  console.log(`sum of layer medians ${totMed.toFixed(3)} ms, of layer minima ${totMin.toFixed(3)} ms`);
}
net.dispose();
