// Dev-only AssemblyScript for the kernel microbenchmarks (compiled by bench/kernels/probe.mjs
// into a temporary folder, never shipped): the ceiling probes (each family's core instruction
// in registers) and the int8 GEMM tile formulations compared for issue 11 item 2.
//
// Tiles accumulate raw int32 sums (no requantization), so the three formulations are compared
// on the inner loop alone: out[r * n + c] = bias[c] + sum_k A[r][k] * W[c][k] (A int8 as stored,
// W int8), exact for all 8-bit inputs.
//   i16  - today's shipped scheme (assembly/q8/gemm16.ts): int16 operands, i32x4.dot_i16x8_s,
//          4x8 tile, 8 accumulators.
//   wsplit - weights split at pack time into w+ = max(w, 0) and w- = max(-w, 0) (both 0..127,
//          the relaxed dot's 7-bit operand) and x * w = x * w+ + (~x) * w- + w- (since ~x = -x - 1),
//          so sum x*w = dot(x, w+) + dot(~x, w-) + sum w-; the last term folds into the bias.
//          One accumulator set (4x8 tile, 8 accumulators), 2 relaxed dots per 16 multiply-adds,
//          weights 2 bytes each, needs every weight in [-127, 127] (TFLite int8 weights are).
//   asplit - activations split u = x + 128 = l + 128 h (l = u & 127, h = u >> 7, both 0..127);
//          sum w*x = dot(w, l) + 128 dot(w, h) - 128 sum w (the last term folds into the bias).
//          Weights stay 1 byte, any int8; two accumulator sets (2x8 tile, 8 accumulators),
//          2 relaxed dots per 16 multiply-adds, A split into planes by a pre-pass.

// Rows of A kept hot while the column panels stream past them (as gemm16.ts).
const A_BLOCK_BYTES: i32 = 24576;

// ---- ceilings: `iters` rounds of 8 independent accumulators, operands in registers ----
// The shape of the kernels' 4x8 tile: four row operands held in registers, two column operands
// read each round, 8 products. The operands come from memory (OPERANDS): with constant operands
// Binaryen folded the products away (the dot_i16x8 and f32 mul+add probes then timed the adds
// alone), and the two loads per round keep V8 from hoisting loop-invariant products.

// 48 bytes of operands: floats near 1 (no denormals in the f32 probes; any bits do for the integer ones)
const OPERANDS = memory.data(48, 16);
for (let i = 0; i < 12; i++) store<f32>(OPERANDS + (<usize>i << 2), 1 + <f32>i / 64);

export function probe_f32_muladd(iters: i32): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const x0 = v128.load(OPERANDS), x1 = v128.load(OPERANDS, 4), x2 = v128.load(OPERANDS, 8), x3 = v128.load(OPERANDS, 12);
  for (let i = 0; i < iters; i++) {
    const y0 = v128.load(OPERANDS, 16), y1 = v128.load(OPERANDS, 32);
    a0 = f32x4.add(a0, f32x4.mul(x0, y0)); a1 = f32x4.add(a1, f32x4.mul(x0, y1));
    a2 = f32x4.add(a2, f32x4.mul(x1, y0)); a3 = f32x4.add(a3, f32x4.mul(x1, y1));
    a4 = f32x4.add(a4, f32x4.mul(x2, y0)); a5 = f32x4.add(a5, f32x4.mul(x2, y1));
    a6 = f32x4.add(a6, f32x4.mul(x3, y0)); a7 = f32x4.add(a7, f32x4.mul(x3, y1));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0);
}

export function probe_f32_relaxed_madd(iters: i32): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const x0 = v128.load(OPERANDS), x1 = v128.load(OPERANDS, 4), x2 = v128.load(OPERANDS, 8), x3 = v128.load(OPERANDS, 12);
  for (let i = 0; i < iters; i++) {
    const y0 = v128.load(OPERANDS, 16), y1 = v128.load(OPERANDS, 32);
    a0 = f32x4.relaxed_madd(x0, y0, a0); a1 = f32x4.relaxed_madd(x0, y1, a1);
    a2 = f32x4.relaxed_madd(x1, y0, a2); a3 = f32x4.relaxed_madd(x1, y1, a3);
    a4 = f32x4.relaxed_madd(x2, y0, a4); a5 = f32x4.relaxed_madd(x2, y1, a5);
    a6 = f32x4.relaxed_madd(x3, y0, a6); a7 = f32x4.relaxed_madd(x3, y1, a7);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0);
}

// 8 multiply-adds per dot (plus the add that accumulates it)
export function probe_dot_i16x8(iters: i32): i32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const x0 = v128.load(OPERANDS), x1 = v128.load(OPERANDS, 4), x2 = v128.load(OPERANDS, 8), x3 = v128.load(OPERANDS, 12);
  for (let i = 0; i < iters; i++) {
    const y0 = v128.load(OPERANDS, 16), y1 = v128.load(OPERANDS, 32);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0, y0)); a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x0, y1));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x1, y0)); a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x1, y1));
    a4 = i32x4.add(a4, i32x4.dot_i16x8_s(x2, y0)); a5 = i32x4.add(a5, i32x4.dot_i16x8_s(x2, y1));
    a6 = i32x4.add(a6, i32x4.dot_i16x8_s(x3, y0)); a7 = i32x4.add(a7, i32x4.dot_i16x8_s(x3, y1));
  }
  const s = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, a7)));
  return i32x4.extract_lane(s, 0);
}

// 16 multiply-adds per dot
export function probe_relaxed_dot(iters: i32): i32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const x0 = v128.load(OPERANDS), x1 = v128.load(OPERANDS, 4), x2 = v128.load(OPERANDS, 8), x3 = v128.load(OPERANDS, 12);
  for (let i = 0; i < iters; i++) {
    const y0 = v128.load(OPERANDS, 16), y1 = v128.load(OPERANDS, 32);
    a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, y0, a0); a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, y1, a1);
    a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, y0, a2); a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, y1, a3);
    a4 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x2, y0, a4); a5 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x2, y1, a5);
    a6 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x3, y0, a6); a7 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x3, y1, a7);
  }
  const s = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, a7)));
  return i32x4.extract_lane(s, 0);
}

// One relaxed dot of a constant pair, for the tier test: lanes of dot(a, b) + c.
export function relaxed_dot_once(a: usize, b: usize, c: usize, out: usize): void {
  v128.store(out, i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(a), v128.load(b), v128.load(c)));
}

// ---- GEMM tiles (accumulate only) ----

@inline
function store8(dst: usize, c0: v128, c1: v128): void {
  v128.store(dst, c0);
  v128.store(dst, c1, 16);
}

// A: tiles of 4 rows, per k pair 16 bytes [r0 k k+1][r1][r2][r3] int16; W: panels of 8 columns,
// per k pair 32 bytes [c0 k k+1]..[c7] int16 (the gemm16.ts layout). k even.
export function tile_i16(a: usize, w: usize, bias: usize, out: usize, m: i32, k: i32, n: i32): void {
  const kPairs = k >> 1;
  const panelBytes = <usize>kPairs << 5;
  const tileBytes = <usize>kPairs << 4;
  const panels = n >> 3;
  const tiles = m >> 2;
  const tileBlock = max(1, A_BLOCK_BYTES / <i32>tileBytes);
  for (let t0 = 0; t0 < tiles; t0 += tileBlock) {
    const t1 = min(tiles, t0 + tileBlock);
    for (let g = 0; g < panels; g++) {
      const wp0 = w + <usize>g * panelBytes;
      const b0 = v128.load(bias + (<usize>g << 5));
      const b1 = v128.load(bias + (<usize>g << 5), 16);
      for (let t = t0; t < t1; t++) {
        let ap = a + <usize>t * tileBytes;
        let wp = wp0;
        let c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        const wEnd = wp0 + panelBytes;
        while (wp < wEnd) {
          const w0 = v128.load(wp);
          const w1 = v128.load(wp, 16);
          const x0 = v128.load32_splat(ap);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, w1));
          const x1 = v128.load32_splat(ap, 4);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, w1));
          const x2 = v128.load32_splat(ap, 8);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(x2, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(x2, w1));
          const x3 = v128.load32_splat(ap, 12);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(x3, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(x3, w1));
          ap += 16;
          wp += 32;
        }
        const dst = out + ((<usize>(t << 2) * <usize>n + (<usize>g << 3)) << 2);
        const rowBytes = <usize>n << 2;
        store8(dst, c00, c01);
        store8(dst + rowBytes, c10, c11);
        store8(dst + rowBytes * 2, c20, c21);
        store8(dst + rowBytes * 3, c30, c31);
      }
    }
  }
}

// A: tiles of 4 rows, per k quad 16 bytes [r0 k..k+3][r1][r2][r3] int8 as stored; W: panels of
// 8 columns, per k quad 64 bytes: w+ [c0 k..k+3]..[c7], then w- likewise; bias includes sum w-.
export function tile_wsplit(a: usize, w: usize, bias: usize, out: usize, m: i32, k: i32, n: i32): void {
  const kQuads = k >> 2;
  const panelBytes = <usize>kQuads << 6;
  const tileBytes = <usize>kQuads << 4;
  const panels = n >> 3;
  const tiles = m >> 2;
  const tileBlock = max(1, A_BLOCK_BYTES / <i32>tileBytes);
  for (let t0 = 0; t0 < tiles; t0 += tileBlock) {
    const t1 = min(tiles, t0 + tileBlock);
    for (let g = 0; g < panels; g++) {
      const wp0 = w + <usize>g * panelBytes;
      const b0 = v128.load(bias + (<usize>g << 5));
      const b1 = v128.load(bias + (<usize>g << 5), 16);
      for (let t = t0; t < t1; t++) {
        let ap = a + <usize>t * tileBytes;
        let wp = wp0;
        let c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        const wEnd = wp0 + panelBytes;
        while (wp < wEnd) {
          const p0 = v128.load(wp);
          const p1 = v128.load(wp, 16);
          const n0 = v128.load(wp, 32);
          const n1 = v128.load(wp, 48);
          const x0 = v128.load32_splat(ap);
          const y0 = v128.not(x0);
          c00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, p0, c00);
          c01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x0, p1, c01);
          c00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(y0, n0, c00);
          c01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(y0, n1, c01);
          const x1 = v128.load32_splat(ap, 4);
          const y1 = v128.not(x1);
          c10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, p0, c10);
          c11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x1, p1, c11);
          c10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(y1, n0, c10);
          c11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(y1, n1, c11);
          const x2 = v128.load32_splat(ap, 8);
          const y2 = v128.not(x2);
          c20 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x2, p0, c20);
          c21 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x2, p1, c21);
          c20 = i32x4.relaxed_dot_i8x16_i7x16_add_s(y2, n0, c20);
          c21 = i32x4.relaxed_dot_i8x16_i7x16_add_s(y2, n1, c21);
          const x3 = v128.load32_splat(ap, 12);
          const y3 = v128.not(x3);
          c30 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x3, p0, c30);
          c31 = i32x4.relaxed_dot_i8x16_i7x16_add_s(x3, p1, c31);
          c30 = i32x4.relaxed_dot_i8x16_i7x16_add_s(y3, n0, c30);
          c31 = i32x4.relaxed_dot_i8x16_i7x16_add_s(y3, n1, c31);
          ap += 16;
          wp += 64;
        }
        const dst = out + ((<usize>(t << 2) * <usize>n + (<usize>g << 3)) << 2);
        const rowBytes = <usize>n << 2;
        store8(dst, c00, c01);
        store8(dst + rowBytes, c10, c11);
        store8(dst + rowBytes * 2, c20, c21);
        store8(dst + rowBytes * 3, c30, c31);
      }
    }
  }
}

// A: tiles of 2 rows, per k quad 16 bytes [r0 l k..k+3][r0 h][r1 l][r1 h] (l, h of u = x + 128,
// see splitRows); W: panels of 8 columns, per k quad 32 bytes [c0 k..k+3]..[c7] int8; bias
// includes -128 sum w.
export function tile_asplit(a: usize, w: usize, bias: usize, out: usize, m: i32, k: i32, n: i32): void {
  const kQuads = k >> 2;
  const panelBytes = <usize>kQuads << 5;
  const tileBytes = <usize>kQuads << 4;
  const panels = n >> 3;
  const tiles = m >> 1;
  const tileBlock = max(1, A_BLOCK_BYTES / <i32>tileBytes);
  const zero = i32x4.splat(0);
  for (let t0 = 0; t0 < tiles; t0 += tileBlock) {
    const t1 = min(tiles, t0 + tileBlock);
    for (let g = 0; g < panels; g++) {
      const wp0 = w + <usize>g * panelBytes;
      const b0 = v128.load(bias + (<usize>g << 5));
      const b1 = v128.load(bias + (<usize>g << 5), 16);
      for (let t = t0; t < t1; t++) {
        let ap = a + <usize>t * tileBytes;
        let wp = wp0;
        let l00 = b0, l01 = b1, l10 = b0, l11 = b1;
        let h00 = zero, h01 = zero, h10 = zero, h11 = zero;
        const wEnd = wp0 + panelBytes;
        while (wp < wEnd) {
          const w0 = v128.load(wp);
          const w1 = v128.load(wp, 16);
          const xl0 = v128.load32_splat(ap);
          const xh0 = v128.load32_splat(ap, 4);
          l00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, xl0, l00);
          l01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, xl0, l01);
          h00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, xh0, h00);
          h01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, xh0, h01);
          const xl1 = v128.load32_splat(ap, 8);
          const xh1 = v128.load32_splat(ap, 12);
          l10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, xl1, l10);
          l11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, xl1, l11);
          h10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, xh1, h10);
          h11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, xh1, h11);
          ap += 16;
          wp += 32;
        }
        const dst = out + ((<usize>(t << 1) * <usize>n + (<usize>g << 3)) << 2);
        const rowBytes = <usize>n << 2;
        store8(dst, i32x4.add(l00, i32x4.shl(h00, 7)), i32x4.add(l01, i32x4.shl(h01, 7)));
        store8(dst + rowBytes, i32x4.add(l10, i32x4.shl(h10, 7)), i32x4.add(l11, i32x4.shl(h11, 7)));
      }
    }
  }
}

// The asplit pre-pass: A int8 [m][k] row-major -> the tile_asplit layout (m even, k % 16 == 0).
export function split_rows(a: usize, m: i32, k: i32, out: usize): void {
  const seven = i8x16.splat(0x7f);
  const bias = i8x16.splat(-128);
  const tileBytes = <usize>(k >> 2) << 4;
  for (let r = 0; r < m; r += 2) {
    const dst = out + <usize>(r >> 1) * tileBytes;
    for (let kk = 0; kk < k; kk += 16) {
      for (let half = 0; half < 2; half++) {
        const u = v128.xor(v128.load(a + <usize>(r + half) * <usize>k + <usize>kk), bias);
        const l = v128.and(u, seven);
        const h = i8x16.shr_u(u, 7);
        // quads of l and h interleave: [l q0][h q0] per row, 4 quads per 16 bytes of k
        const d = dst + (<usize>kk << 2) + (<usize>half << 3);
        // lanes 0..3 = quad 0 etc.: write l quad i at d + 16 i, h quad i at d + 16 i + 4
        v128.store32_lane(d, l, 0); v128.store32_lane(d, h, 0, 4);
        v128.store32_lane(d, l, 1, 16); v128.store32_lane(d, h, 1, 20);
        v128.store32_lane(d, l, 2, 32); v128.store32_lane(d, h, 2, 36);
        v128.store32_lane(d, l, 3, 48); v128.store32_lane(d, h, 3, 52);
      }
    }
  }
}

export function heap_base(): usize {
  return __heap_base;
}
