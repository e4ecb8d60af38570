// Kernel microbenchmarks (issue 11 item 7), driven by benchmark.js: every kernel family on
// MobileNet v1 1.0/224 and 0.25/128 layer shapes (bench/kernels/cases.ts, prepared through the
// runtime's own src/ops entries), per build flavour, in GOP/s (2 ops per multiply-add) against
// the family's ceiling: the register-only rate of its core instruction (bench/kernels/probe.ts:
// f32x4 mul+add for the SIMD build, f32x4.relaxed_madd for the relaxed one, i32x4.dot_i16x8_s
// for the integer kernels; i32x4.relaxed_dot_i8x16_i7x16_add_s for reference).
//   npm run bench:kernels [-- --flavours simd,relaxed] [--precisions float32,uint8,int8]
//     [--models 1.0/224,0.25/128] [--filter gemm] [--max-time 0.5] [--warmup-ms 3000]
//     [--dir build] [--out bench/kernels/RESULTS.md] [--no-write]
// The integer vs 8-bit-dot formulation comparison is bench/kernels/dot.mjs.
import v8 from 'node:v8';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import Benchmark from 'benchmark';
import { register } from 'tsx/esm/api';
import { probeWasm, repoRoot } from './probe.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
register();
const { kernelCases } = await import('./cases.ts');
const { instantiateKernels } = await import('../../src/runtime/kernels.ts');

const { values } = parseArgs({ options: {
  flavours: { type: 'string', default: 'simd,relaxed' },
  precisions: { type: 'string', default: 'float32,uint8,int8' },
  models: { type: 'string', default: '1.0/224,0.25/128' },
  filter: { type: 'string', default: '' },
  'max-time': { type: 'string', default: '0.5' },
  'warmup-ms': { type: 'string', default: '3000' },
  dir: { type: 'string', default: process.env.MNW_WASM_DIR ?? join(repoRoot, 'build') },
  out: { type: 'string', default: join(repoRoot, 'bench', 'kernels', 'RESULTS.md') },
  'no-write': { type: 'boolean', default: false },
} });
const maxTime = Number(values['max-time']);
const warmupMs = Number(values['warmup-ms']);

const fmt = (x) => (x >= 10 ? x.toFixed(1) : x.toPrecision(2));

/** bump allocator over a kernel instance's memory, 16-byte aligned, 64 bytes of slack per block */
function heap(k) {
  let top = Math.max(1024, k.exports.heap_base());
  const alloc = (bytes) => {
    const p = (top + 15) & ~15;
    top = p + bytes + 64;
    const need = top - k.memory.buffer.byteLength;
    if (need > 0) k.memory.grow(Math.ceil(need / 65536));
    return p;
  };
  const put = (data) => {
    const p = alloc(data.byteLength);
    new Uint8Array(k.memory.buffer, p, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return p;
  };
  return { alloc, put };
}

/** places a case's constants, inputs, output and scratch; returns the call to time */
function place(k, h, c) {
  const constants = c.prepared.constants.map((x) => h.put(x));
  const inputs = c.inputs.map((x) => h.put(x));
  const output = h.alloc(c.outBytes);
  const scratch = h.alloc(c.prepared.scratchBytes);
  const p = { input: inputs[0], output, inputs, outputs: [output], constants, scratch };
  return () => c.prepared.run(k.exports, p);
}

/** benchmark.js on a list of [name, fn]; returns name -> { hz, rme } */
function measure(entries) {
  const suite = new Benchmark.Suite();
  for (const [name, fn] of entries) suite.add(name, fn, { maxTime, minSamples: 5 });
  const res = new Map();
  suite.on('cycle', (e) => res.set(e.target.name, { hz: e.target.hz, rme: e.target.stats.rme }));
  suite.on('error', (e) => { throw e.target.error; });
  suite.run({ async: false });
  return res;
}

// ceilings, from the dev-only probe module: G multiply-adds per second x 2
const probe = (await WebAssembly.instantiate(probeWasm(), { env: { abort: () => { throw new Error('abort'); } } })).instance.exports;
const PROBE_ITERS = 100_000;
const PROBES = { f32_muladd: 4, f32_relaxed_madd: 4, dot_i16x8: 8, relaxed_dot: 16 }; // lanes per instruction, 8 per iteration
const t0 = performance.now();
while (performance.now() - t0 < warmupMs) for (const name of Object.keys(PROBES)) probe[`probe_${name}`](1000);
const probeFns = Object.fromEntries(Object.keys(PROBES).map((name) => [name, () => probe[`probe_${name}`](PROBE_ITERS)]));
const probeGops = (name, hz) => (hz * 2 * 8 * PROBES[name] * PROBE_ITERS) / 1e9;
const probeRes = measure(Object.entries(probeFns));
const ceilings = Object.fromEntries(Object.keys(PROBES).map((name) => [name, probeGops(name, probeRes.get(name).hz)]));
console.log('ceilings GOP/s', Object.fromEntries(Object.entries(ceilings).map(([k, v]) => [k, +v.toFixed(1)])));

const rows = [];
const cases = kernelCases(values.precisions.split(','), values.models.split(',')).filter((c) => `${c.family} ${c.model} ${c.layer}`.includes(values.filter));
const usedFiles = new Set();
for (const flavour of values.flavours.split(',')) {
  // each precision's kernels from its own build (mobilenet-<f32|q8>-<flavour>.wasm, what a model
  // loads) where the folder has it, else the combined mobilenet-<flavour>.wasm
  const kernelsFor = new Map();
  for (const set of new Set(cases.map((c) => (c.precision === 'float32' ? 'f32' : 'q8')))) {
    const own = join(values.dir, `mobilenet-${set}-${flavour}.wasm`);
    const file = existsSync(own) ? own : join(values.dir, `mobilenet-${flavour}.wasm`);
    usedFiles.add(basename(file));
    const k = await instantiateKernels(readFileSync(file), flavour);
    kernelsFor.set(set, { k, h: heap(k), file });
  }
  const calls = cases.map((c) => {
    const { k, h, file } = kernelsFor.get(c.precision === 'float32' ? 'f32' : 'q8');
    const call = place(k, h, c);
    // a kernel trapping here is most often a build older than src/ (packers and kernels change together)
    try { call(); } catch (e) { throw new Error(`${c.family} ${c.model} ${c.layer} on ${file}: ${e.message} (is the build older than src/? npm run build:wasm)`); }
    return call;
  });
  // warm-up: every kernel, round robin, until V8 has tiered them up (>= warmupMs)
  const tw = performance.now();
  while (performance.now() - tw < warmupMs) for (const f of calls) f();
  const f32Probe = flavour === 'relaxed' ? 'f32_relaxed_madd' : 'f32_muladd';
  cases.forEach((c, i) => {
    // the case and its ceiling probe back to back, so both see the same machine load
    const probeName = c.core === 'f32' ? f32Probe : c.core === 'dot_i16x8' ? 'dot_i16x8' : undefined;
    const res = measure([[String(i), calls[i]], ...(probeName ? [[probeName, probeFns[probeName]]] : [])]);
    const { hz, rme } = res.get(String(i));
    const gops = (hz * c.ops) / 1e9;
    const ceiling = probeName && probeGops(probeName, res.get(probeName).hz);
    rows.push({ flavour, family: c.family, model: c.model, layer: c.layer, kernel: c.prepared.kernel, us: 1e6 / hz, gops, rme, ceiling, probeName });
    console.log(`${flavour.padEnd(8)} ${c.family.padEnd(26)} ${c.model.padEnd(9)} ${c.layer.padEnd(28)} ${(1e6 / hz).toFixed(1).padStart(9)} us ${fmt(gops).padStart(6)} GOP/s ±${rme.toFixed(1)}%` + (ceiling ? ` ${((100 * gops) / ceiling).toFixed(0)}% of ${ceiling.toFixed(0)}` : ''));
  });
}

if (!values['no-write']) {
  const lines = [
    '# Kernel microbenchmarks',
    '',
    `\`npm run bench:kernels\` (bench/kernels/run.mjs, benchmark.js), ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} vCPU, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}; kernels from ${values.dir.startsWith(repoRoot) ? values.dir.slice(repoRoot.length + 1) : values.dir} (${[...usedFiles].join(', ')}).`,
    `Synthetic ops on MobileNet v1 layer shapes prepared through src/ops (the runtime's packing), ReLU6; uint8 = per-tensor weights with a zero point. int8 = per-channel symmetric weights. GOP/s counts a multiply-add as 2 ops (average pooling: an add as 1; softmax: an element as 1).`,
    `Ceiling = the family's core instruction with 8 independent accumulators in registers (bench/kernels/probe.ts), timed right after each case (same load); at the start of the run, GOP/s: ` +
      Object.entries(ceilings).map(([name, v]) => `${name} ${v.toFixed(1)}`).join(', ') + '. Float families: f32x4 mul+add on the simd build, f32x4.relaxed_madd on the relaxed one; integer families: i32x4.dot_i16x8_s (+ add).',
    'Timing on a shared 2-vCPU VM drifts by a third between runs: compare rows of one run.',
    '',
    '| flavour | family | model | layer | kernel | µs | GOP/s | ±rme | ceiling GOP/s | % of ceiling |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.flavour} | ${r.family} | ${r.model} | ${r.layer} | ${r.kernel} | ${r.us.toFixed(1)} | ${fmt(r.gops)} | ${r.rme.toFixed(1)}% | ${r.ceiling ? `${r.ceiling.toFixed(0)} (${r.probeName})` : '-'} | ${r.ceiling ? `${((100 * r.gops) / r.ceiling).toFixed(0)}%` : '-'} |`),
    '',
  ];
  const dotPart = (() => { try { return readFileSync(values.out, 'utf8').split('<!-- dot -->')[1]; } catch { return undefined; } })();
  writeFileSync(values.out, lines.join('\n') + (dotPart !== undefined ? `<!-- dot -->${dotPart}<!-- dot -->\n` : ''));
  console.log(`wrote ${values.out}`);
}
