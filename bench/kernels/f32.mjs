// Microbenchmark of the float32 kernels on MobileNet v1 1.0/224 layer shapes, per build flavour.
// Usage: node bench/kernels/f32.mjs [--dir build/dev-f32] [--warmup 3] [--time 1] [--only simd,relaxed]
// Loads build/*.wasm directly (MNW_WASM_DIR or --dir, default build/). Prints GFLOP/s
// (2 flops per multiply-add) after warming every kernel for --warmup seconds, so V8 has
// tiered the hot functions up, then the best ~2 ms window seen during --time seconds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const dir = opt('--dir', process.env.MNW_WASM_DIR ?? 'build');
const warmupS = Number(opt('--warmup', '3'));
const timeS = Number(opt('--time', '1'));
const flavours = opt('--only', 'scalar,simd,relaxed').split(',');

const SAME = (inSize, k, s) => {
  const out = Math.ceil(inSize / s);
  return { out, pad: Math.floor(Math.max((out - 1) * s + k - inSize, 0) / 2) };
};

// [label, flops, setup(heap) -> () => void]
function cases(e, heap) {
  const list = [];
  for (const [M, K, N, name] of [[112 * 112, 64, 128, 'pw 112x112 64->128'], [14 * 14, 512, 512, 'pw 14x14 512->512'], [7 * 7, 1024, 1024, 'pw 7x7 1024->1024'], [1, 1024, 1001, 'fc 1024->1001']]) {
    const a = heap.rand(M * K), b = heap.rand(Math.ceil(N / 8) * 8 * K), bias = heap.rand(Math.ceil(N / 8) * 8), c = heap.alloc(M * N);
    list.push([`gemm ${name}`, 2 * M * K * N, () => e.f32_gemm(a, b, bias, c, M, K, N, 0, 6)]);
  }
  for (const [H, C, s] of [[112, 64, 1], [112, 64, 2], [14, 512, 1]]) {
    const g = SAME(H, 3, s);
    const inp = heap.rand(H * H * C), w = heap.rand(9 * Math.ceil(C / 4) * 4), bias = heap.rand(Math.ceil(C / 4) * 4);
    const out = heap.alloc(g.out * g.out * C);
    list.push([`dw3x3 ${H}x${H}x${C} s${s}`, 2 * 9 * g.out * g.out * C,
      () => e.f32_dwconv(inp, w, bias, out, H, H, C, g.out, g.out, 3, 3, s, s, g.pad, g.pad, 0, 6)]);
  }
  {
    // the stem as the model runs it: taps gathered 5 pixels at a time, packed 5x8 GEMM
    const g = SAME(224, 3, 2);
    const inp = heap.rand(224 * 224 * 3), w = heap.rand(27 * 32), bias = heap.rand(32), out = heap.alloc(g.out * g.out * 32);
    const block = 455, scratch = heap.alloc(block * 27);
    list.push(['convgemm stem 224x224x3 -> 112x112x32', 2 * g.out * g.out * 32 * 27,
      () => e.f32_convgemm(inp, w, bias, out, scratch, 224, 224, 3, g.out, g.out, 32, 3, 3, 2, 2, g.pad, g.pad, 0, 6, block)]);
  }
  // fused depthwise 3x3 + pointwise, as the model runs every 1.0/224 pair
  for (const [H, C, N, s] of [[112, 32, 64, 1], [56, 128, 128, 1], [14, 512, 512, 1], [7, 1024, 1024, 1]]) {
    const g = SAME(H, 3, s);
    const inp = heap.rand(H * H * C), dw = heap.rand(9 * C), dwb = heap.rand(C), b = heap.rand(N * C), bb = heap.rand(N);
    const out = heap.alloc(g.out * g.out * N);
    const block = Math.max(5, Math.floor((48 * 1024) / (C * 4) / 5) * 5), scratch = heap.alloc(block * C);
    list.push([`dwpw ${H}x${H}x${C} s${s} -> ${N}`, 2 * g.out * g.out * C * (9 + N),
      () => e.f32_dwpw(inp, dw, dwb, b, bb, out, scratch, H, H, C, g.out, g.out, s, s, g.pad, g.pad, 0, 6, N, 0, 6, block)]);
  }
  return list;
}

for (const flavour of flavours) {
  const bytes = readFileSync(join(dir, `mobilenet-${flavour}.wasm`));
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort() { throw new Error('kernel abort'); } } });
  const e = instance.exports;
  let top = 65536;
  const heap = {
    alloc(n) {
      const p = (top + 63) & ~63;
      top = p + n * 4 + 64;
      const need = top - e.memory.buffer.byteLength;
      if (need > 0) e.memory.grow(Math.ceil(need / 65536));
      return p;
    },
    rand(n) {
      const p = heap.alloc(n);
      const v = new Float32Array(e.memory.buffer, p, n);
      for (let i = 0; i < n; i++) v[i] = Math.random() * 2 - 1;
      return p;
    },
  };
  const list = cases(e, heap);
  // warm up every kernel, round robin, so each is tiered up before timing
  const until = performance.now() + warmupS * 1000;
  while (performance.now() < until) for (const [, , run] of list) run();
  console.log(`\n${flavour} (${bytes.length} bytes)`);
  for (const [label, flops, run] of list) {
    // Best of many short windows: on a shared machine a long window mostly measures the
    // scheduler; the fastest ~2 ms window is what the kernel does when it has the core.
    let t = performance.now();
    run();
    const once = Math.max(performance.now() - t, 1e-3);
    const reps = Math.max(1, Math.round(2 / once));
    let best = Infinity;
    const stop = performance.now() + timeS * 1000;
    do {
      t = performance.now();
      for (let i = 0; i < reps; i++) run();
      best = Math.min(best, (performance.now() - t) / reps);
    } while (performance.now() < stop);
    const sec = best / 1000;
    console.log(`  ${label.padEnd(36)} ${(flops / sec / 1e9).toFixed(1).padStart(6)} GFLOP/s  ${(sec * 1e3).toFixed(3)} ms`);
  }
}
