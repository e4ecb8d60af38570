// Microbenchmark of the q8 kernels on MobileNet-1.0/224 shapes, per flavour.
// Usage: node bench/kernels/q8.mjs [--dir build] [--only simd,relaxed] [--seconds 1] [--filter gemm] [--min]
// GOP/s counts a multiply-add as 2 ops. Each flavour warms up >= 3 s first (V8 tiers up hot
// wasm for about a second).
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const dir = opt('--dir', process.env.MNW_WASM_DIR ?? join(root, 'build'));
const flavours = opt('--only', 'scalar,simd,relaxed').split(',');
const filter = opt('--filter', '');
const seconds = Number(opt('--seconds', '1'));

async function instantiate(flavour) {
  const bytes = readFileSync(join(dir, `mobilenet-${flavour}.wasm`));
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort: () => { throw new Error('abort'); } } });
  return instance.exports;
}

// bump allocator over the module memory
function heap(ex) {
  let top = 1024;
  return (bytes) => {
    const p = (top + 15) & ~15;
    top = p + bytes + 64;
    const need = top - ex.memory.buffer.byteLength;
    if (need > 0) ex.memory.grow(Math.ceil(need / 65536));
    return p;
  };
}

function fillRandom(ex, ptr, bytes, lo, hi) {
  const v = new Int8Array(ex.memory.buffer, ptr, bytes);
  let s = 12345;
  for (let i = 0; i < bytes; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    v[i] = lo + ((s >>> 16) % (hi - lo + 1));
  }
}

// requantization block (assembly/q8/requant.ts): per-lane shifts when `perChannel`
function requantBlock(ex, alloc, channels, perChannel) {
  const groups = Math.ceil(channels / 8) * 2;
  const p = alloc(groups * 96);
  const v = new Int32Array(ex.memory.buffer, p, groups * 24);
  for (let c = 0; c < groups * 4; c++) {
    const right = perChannel ? 8 + (c % 5) : 10;
    const base = (c >> 2) * 24 + (c & 3);
    v[base] = 1518500250;
    v[base + 4] = 1;
    v[base + 8] = 2 ** (31 - right) | 0;
    v[base + 12] = 2 ** right - 1;
    v[base + 16] = right;
    v[base + 20] = 2 ** (right - 1);
  }
  return p;
}

function gemmCase(ex, alloc, m, k, n, perChannel) {
  const kp = Math.ceil(k / 8) * 8;
  const a = alloc(m * k);
  fillRandom(ex, a, m * k, -128, 127);
  const wBytes = Math.ceil(n / 4) * kp * 8;
  const w = alloc(wBytes);
  const wv = new Int16Array(ex.memory.buffer, w, wBytes / 2);
  for (let i = 0; i < wv.length; i++) wv[i] = ((i * 7919) % 255) - 127;
  const bias = alloc(Math.ceil(n / 4) * 16);
  const rq = requantBlock(ex, alloc, n, perChannel);
  const out = alloc(m * n);
  return {
    name: `gemm M=${m} K=${k} N=${n} ${perChannel ? 'per-channel' : 'per-tensor'}`,
    ops: 2 * m * k * n,
    run: () => ex.q8_gemm(a, m, k, w, n, bias, rq, perChannel ? -1 : 10, -5, -128, 127, out),
  };
}

// int16 centred activations, c2 panels of 8 columns (assembly/q8/gemm16.ts)
function gemm16Case(ex, alloc, m, k, n, perChannel) {
  const kp = k + (k & 1);
  const mp = Math.ceil(m / 4) * 4;
  const a = alloc(mp * kp * 2);
  const av = new Int16Array(ex.memory.buffer, a, mp * kp);
  for (let i = 0; i < av.length; i++) av[i] = ((i * 40503) % 511) - 255;
  const wBytes = Math.ceil(n / 8) * kp * 16;
  const w = alloc(wBytes);
  const wv = new Int16Array(ex.memory.buffer, w, wBytes / 2);
  for (let i = 0; i < wv.length; i++) wv[i] = ((i * 7919) % 255) - 127;
  const bias = alloc(Math.ceil(n / 8) * 32);
  const rq = requantBlock(ex, alloc, n, perChannel);
  const out = alloc(m * n);
  return {
    name: `gemm16 M=${m} K=${k} N=${n} ${perChannel ? 'per-channel' : 'per-tensor'}`,
    ops: 2 * m * k * n,
    run: () => (perChannel ? ex.q8_gemm16_rl : ex.q8_gemm16_rs)(a, m, k, w, n, bias, rq, perChannel ? -3 : 10, -5, -128, 127, out),
  };
}

function dwCase(ex, alloc, h, w, c, stride, perChannel, wide = false) {
  const oh = Math.ceil(h / stride);
  const ow = Math.ceil(w / stride);
  const total = Math.max((oh - 1) * stride + 3 - h, 0);
  const pad = Math.floor(total / 2);
  const cp = Math.ceil(c / 8) * 8;
  const inp = alloc(h * w * c);
  fillRandom(ex, inp, h * w * c, -128, 127);
  // [9][cp] taps, then [5][cp][2] tap pairs (src/quant/pack.ts packDepthwiseWeights)
  const wt = alloc(9 * cp * 2 + 5 * cp * 4);
  const wv = new Int16Array(ex.memory.buffer, wt, 9 * cp + 10 * cp);
  for (let i = 0; i < wv.length; i++) wv[i] = ((i * 31) % 255) - 127;
  const bias = alloc(2 * cp * 4);
  const rq = requantBlock(ex, alloc, c, perChannel);
  // int8 NHWC, or (wide) int16 4-pixel tiles for a fused pointwise (q8_dwconv16)
  const out = alloc(wide ? Math.ceil((oh * ow) / 4) * Math.ceil(c / 2) * 16 : oh * ow * c);
  return {
    name: `dw3x3${wide ? '->i16' : ''} ${h}x${w}x${c} s${stride} ${perChannel ? 'per-channel' : 'per-tensor'}`,
    ops: 2 * oh * ow * c * 9,
    run: wide
      ? () => (perChannel ? ex.q8_dwconv16_rl : ex.q8_dwconv16_rs)(inp, h, w, c, wt, bias, rq, perChannel ? -3 : 10, 3, 3, stride, stride, pad, pad, oh, ow, 3, -5, -128, 127, out, 0, oh, 7)
      : () => ex.q8_dwconv(inp, h, w, c, wt, bias, rq, perChannel ? -1 : 10, 3, 3, stride, stride, pad, pad, oh, ow, 3, -5, -128, 127, out),
  };
}

// min over many short timed batches, cases interleaved: the least disturbed figure on a
// shared machine
function minTimes(cases, secs) {
  const best = cases.map(() => Infinity);
  const t0 = performance.now();
  while (performance.now() - t0 < secs * 1000 * cases.length) {
    cases.forEach((c, i) => {
      const reps = Math.max(1, Math.round(2e6 / c.ops * 8));
      const s = performance.now();
      for (let j = 0; j < reps; j++) c.run();
      best[i] = Math.min(best[i], (performance.now() - s) / reps);
    });
  }
  return best;
}

// The machine is shared (2 vCPUs, other jobs): time with this process's CPU time, which is
// what one uncontended core would take; wall time is reported alongside.
function time(fn, secs) {
  let iters = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let cpu = 0;
  while (cpu < secs * 1e6) {
    fn();
    iters++;
    const c = process.cpuUsage(c0);
    cpu = c.user + c.system;
  }
  return { cpuMs: cpu / 1000 / iters, wallMs: (performance.now() - t0) / iters };
}

for (const flavour of flavours) {
  const ex = await instantiate(flavour);
  const alloc = heap(ex);
  const cases = [
    gemmCase(ex, alloc, 112 * 112, 32, 64, false),
    gemmCase(ex, alloc, 112 * 112, 64, 128, false),
    gemmCase(ex, alloc, 112 * 112, 64, 128, true),
    gemmCase(ex, alloc, 14 * 14, 512, 512, false),
    gemmCase(ex, alloc, 14 * 14, 512, 512, true),
    gemmCase(ex, alloc, 7 * 7, 1024, 1024, true),
    gemmCase(ex, alloc, 1, 1024, 1001, false),
    ...(ex.q8_gemm16 ? [
      gemm16Case(ex, alloc, 112 * 112, 32, 64, false),
      gemm16Case(ex, alloc, 112 * 112, 64, 128, false),
      gemm16Case(ex, alloc, 112 * 112, 64, 128, true),
      gemm16Case(ex, alloc, 14 * 14, 512, 512, false),
      gemm16Case(ex, alloc, 14 * 14, 512, 512, true),
      gemm16Case(ex, alloc, 7 * 7, 1024, 1024, true),
    ] : []),
    dwCase(ex, alloc, 112, 112, 64, 1, true),
    dwCase(ex, alloc, 112, 112, 64, 2, true),
    dwCase(ex, alloc, 14, 14, 512, 1, true),
    dwCase(ex, alloc, 14, 14, 512, 1, false),
    ...(ex.q8_dwconv16 ? [
      dwCase(ex, alloc, 112, 112, 32, 1, false, true),
      dwCase(ex, alloc, 112, 112, 64, 2, false, true),
      dwCase(ex, alloc, 56, 56, 128, 1, false, true),
      dwCase(ex, alloc, 14, 14, 512, 1, false, true),
      dwCase(ex, alloc, 14, 14, 512, 1, true, true),
    ] : []),
  ];
  // warm-up: every case, in rotation, for at least 3 s
  const w0 = performance.now();
  while (performance.now() - w0 < 3000) for (const c of cases) c.run();
  console.log(`\n${flavour}`);
  const chosen = cases.filter((x) => x.name.includes(filter));
  if (args.includes('--min')) {
    const best = minTimes(chosen, seconds);
    chosen.forEach((c, i) => console.log(`  ${c.name.padEnd(42)} ${(c.ops / best[i] / 1e6).toFixed(1).padStart(7)} GOP/s  min ${best[i].toFixed(3)} ms`));
    continue;
  }
  for (const c of chosen) {
    const { cpuMs, wallMs } = time(c.run, seconds);
    console.log(`  ${c.name.padEnd(42)} ${(c.ops / cpuMs / 1e6).toFixed(1).padStart(7)} GOP/s  ${cpuMs.toFixed(3)} ms cpu  (${(c.ops / wallMs / 1e6).toFixed(1)} GOP/s wall)`);
  }
}
