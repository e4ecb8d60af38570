// The int8 GEMM formulation comparison (issue 11 item 2), engine-neutral: `dotBench` uses only
// WebAssembly and performance.now and closes over nothing, so Node calls it directly and
// Chromium runs the same function through page.evaluate (bench/kernels/dot.mjs).
// It packs the tile layouts of bench/kernels/probe.ts, checks every formulation exact against a
// plain-loop reference on each shape (extremes included), then times them interleaved.

/**
 * @param {{ wasm: number[], shapes: {name: string, m: number, k: number, n: number}[],
 *           roundMs: number, rounds: number, warmupMs: number, probeIters: number }} opts
 */
export async function dotBench(opts) {
  const { instance } = await WebAssembly.instantiate(new Uint8Array(opts.wasm), { env: { abort: () => { throw new Error('abort'); } } });
  const ex = instance.exports;
  const now = () => performance.now();
  let top = ex.heap_base() + 1024;
  const alloc = (bytes) => {
    const p = (top + 63) & ~63;
    top = p + bytes + 64;
    const need = top - ex.memory.buffer.byteLength;
    if (need > 0) ex.memory.grow(Math.ceil(need / 65536));
    return p;
  };
  const reset = () => { top = ex.heap_base() + 1024; };
  let seed = 0x9e3779b9;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // int8 in [lo, hi], one in eight an extreme so -128 / 127 / lo / hi always occur
  const fill = (arr, lo, hi) => {
    for (let i = 0; i < arr.length; i++) {
      const r = rand();
      arr[i] = r < 0.0625 ? lo : r < 0.125 ? hi : lo + Math.floor(rand() * (hi - lo + 1));
    }
  };

  // Packs one shape's operands for every formulation; returns the calls and the reference:
  // bias + sum (x - xzp)(w - wzp), TFLite's sum, with the zero points as stored (uint8 - 128).
  // i16 centres both operands as the shipped packers do; the relaxed forms fold the zero points:
  // sum (x - xzp)(w - wzp) = sum x w - xzp sum w + K xzp wzp (per column: the bias) - wzp sum x
  // (per row: an epilogue term, applied here after the call as a kernel's epilogue would).
  function setup({ m, k, n, wLo, xzp = 0, wzp = 0 }) {
    reset();
    const A = new Int8Array(m * k);
    const W = new Int8Array(n * k); // [c][k]
    fill(A, -128, 127);
    fill(W, wLo ?? -127, 127);
    const bias = new Int32Array(n);
    for (let c = 0; c < n; c++) bias[c] = Math.floor(rand() * 2000) - 1000;
    const put = (bytes) => {
      const p = alloc(bytes.byteLength);
      new Uint8Array(ex.memory.buffer, p, bytes.byteLength).set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return p;
    };
    // i16: A tiles of 4 rows, per k pair [r k k+1] int16; W panels of 8, per k pair [c k k+1]
    const a16 = new Int16Array(m * k);
    for (let r = 0; r < m; r++) for (let j = 0; j < k; j++) a16[(r >> 2) * 4 * k + (j >> 1) * 8 + (r & 3) * 2 + (j & 1)] = A[r * k + j] - xzp;
    const w16 = new Int16Array(n * k);
    for (let c = 0; c < n; c++) for (let j = 0; j < k; j++) w16[(c >> 3) * 8 * k + (j >> 1) * 16 + (c & 7) * 2 + (j & 1)] = W[c * k + j] - wzp;
    // the relaxed forms' zero-point folds: per column into the bias, per row after the call
    const colSum = new Int32Array(n);
    for (let c = 0; c < n; c++) for (let j = 0; j < k; j++) colSum[c] += W[c * k + j];
    const rowSum = new Int32Array(m);
    for (let r = 0; r < m; r++) for (let j = 0; j < k; j++) rowSum[r] += A[r * k + j];
    const folded = bias.map((b, c) => b - xzp * colSum[c] + k * xzp * wzp);
    const rowTerm = (got) => { for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) got[r * n + c] -= wzp * rowSum[r]; };
    // wsplit: W panels of 8, per k quad 32 bytes of w+ then 32 of w-; bias + sum w-
    const ws = new Int8Array(n * k * 2);
    const biasW = Int32Array.from(folded);
    for (let c = 0; c < n; c++) for (let j = 0; j < k; j++) {
      const v = W[c * k + j];
      const base = (c >> 3) * 16 * k + (j >> 2) * 64 + (c & 7) * 4 + (j & 3);
      ws[base] = Math.max(v, 0);
      ws[base + 32] = Math.max(-v, 0);
      biasW[c] += Math.max(-v, 0);
    }
    const a8 = new Int8Array(m * k);
    for (let r = 0; r < m; r++) for (let j = 0; j < k; j++) a8[(r >> 2) * 4 * k + (j >> 2) * 16 + (r & 3) * 4 + (j & 3)] = A[r * k + j];
    // asplit: W panels of 8, per k quad [c k..k+3]; bias - 128 sum w; A split by the kernel
    const wa = new Int8Array(n * k);
    const biasA = Int32Array.from(folded);
    for (let c = 0; c < n; c++) for (let j = 0; j < k; j++) {
      wa[(c >> 3) * 8 * k + (j >> 2) * 32 + (c & 7) * 4 + (j & 3)] = W[c * k + j];
      biasA[c] -= 128 * W[c * k + j];
    }
    const ref = new Int32Array(m * n);
    for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) {
      let s = bias[c];
      for (let j = 0; j < k; j++) s += (A[r * k + j] - xzp) * (W[c * k + j] - wzp);
      ref[r * n + c] = s;
    }
    const out = alloc(m * n * 4);
    const pA16 = put(a16), pW16 = put(w16), pB = put(bias);
    const pA8 = put(a8), pWs = put(ws), pBW = put(biasW);
    const pArow = put(A), pSplit = alloc(m * k * 2), pWa = put(wa), pBA = put(biasA);
    return {
      ref, out, epilogue: { wsplit: rowTerm, asplit: rowTerm },
      kernels: {
        i16: () => ex.tile_i16(pA16, pW16, pB, out, m, k, n),
        wsplit: () => ex.tile_wsplit(pA8, pWs, pBW, out, m, k, n),
        // the pre-pass is part of the cost (in a fused step the depthwise would write the planes)
        asplit: () => { ex.split_rows(pArow, m, k, pSplit); ex.tile_asplit(pSplit, pWa, pBA, out, m, k, n); },
      },
    };
  }

  const result = { exactCold: {}, exact: {}, gopsMedian: {}, gopsAll: {}, ceilings: {} };
  // ceilings: G multiply-adds/s x 2 = GOP/s; per iteration 8 instructions of the kind
  const lanesPerInstr = { probe_f32_muladd: 4, probe_f32_relaxed_madd: 4, probe_dot_i16x8: 8, probe_relaxed_dot: 16 };
  const probes = opts.probeIters > 0 ? Object.keys(lanesPerInstr) : [];
  const tp = now();
  while (probes.length && now() - tp < opts.warmupMs) for (const name of probes) ex[name](1000);
  for (const name of probes) {
    const runs = [];
    for (let r = 0; r < 5; r++) {
      const t0 = now();
      ex[name](opts.probeIters);
      runs.push((2 * 8 * lanesPerInstr[name] * opts.probeIters) / ((now() - t0) * 1e6));
    }
    runs.sort((x, y) => x - y);
    result.ceilings[name] = runs[2];
  }

  for (let shape of opts.shapes) {
    shape = { wLo: opts.wLo, xzp: opts.xzp, wzp: opts.wzp, ...shape };
    const s = setup(shape);
    const ops = 2 * shape.m * shape.k * shape.n;
    const names = Object.keys(s.kernels);
    const mismatches = () => Object.fromEntries(names.map((nm) => {
      new Int32Array(ex.memory.buffer, s.out, shape.m * shape.n).fill(0x55555555);
      s.kernels[nm]();
      const got = new Int32Array(ex.memory.buffer, s.out, shape.m * shape.n).slice();
      s.epilogue[nm]?.(got);
      let bad = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== s.ref[i]) bad++;
      return [nm, bad];
    }));
    // the first call of the first shape may run in the baseline tier (Node 20's Liftoff computes
    // the relaxed dot wrongly), so exactness is checked before and after warm-up
    result.exactCold[shape.name] = mismatches();
    // warm-up: every kernel until warmupMs have passed (V8 tiers hot wasm up in the background)
    const tw = now();
    while (now() - tw < opts.warmupMs) for (const nm of names) s.kernels[nm]();
    result.exact[shape.name] = mismatches();
    const all = Object.fromEntries(names.map((nm) => [nm, []]));
    for (let r = 0; r < opts.rounds; r++) {
      for (const nm of r % 2 ? [...names].reverse() : names) {
        const f = s.kernels[nm];
        let reps = 0;
        const t0 = now();
        let t = t0;
        while (t - t0 < opts.roundMs) { f(); reps++; t = now(); }
        all[nm].push((ops * reps) / ((t - t0) * 1e6));
      }
    }
    result.gopsAll[shape.name] = all;
    result.gopsMedian[shape.name] = Object.fromEntries(names.map((nm) => {
      const v = [...all[nm]].sort((x, y) => x - y);
      return [nm, v[v.length >> 1]];
    }));
  }
  return result;
}
