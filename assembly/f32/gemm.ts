// C[M x N] = A[M x K] * B[K x N] + bias, clamped: pointwise (1x1) convolution and fully connected.
// A is row-major (NHWC pixels x input channels). B comes packed by the host (src/ops/f32) in
// panels of 8 output columns: panel j holds K rows of 8 floats, columns past N are zero, and
// bias is padded to a multiple of 8 the same way.
import { madd, clamp4, clamp1, storeLanes8 } from "./common";

// Rows of A per cache block: this much of A stays in L2 while every B panel (K x 8 floats,
// at most 32 KB for K = 1024, so in L1) sweeps over it.
const A_BLOCK_BYTES: i32 = 128 * 1024;

export function f32_gemm(
  a: usize, b: usize, bias: usize, c: usize,
  M: i32, K: i32, N: i32, actMin: f32, actMax: f32,
): void {
  if (M <= 0 || N <= 0 || K < 0) return;
  const lda = <usize>K << 2;
  const ldc = <usize>N << 2;
  const panels = (N + 7) >> 3;
  const panelBytes = <usize>K << 5;
  let mc = (A_BLOCK_BYTES / max(K << 2, 1)) & ~3;
  if (mc < 4) mc = 4;
  for (let m0 = 0; m0 < M; m0 += mc) {
    const m1 = min(M, m0 + mc);
    for (let j = 0; j < panels; j++) {
      const cols = min(8, N - (j << 3));
      const bp = b + <usize>j * panelBytes;
      const bb = bias + (<usize>j << 5);
      const cj = c + (<usize>j << 5);
      let m = m0;
      if (ASC_FEATURE_SIMD) {
        for (; m + 4 <= m1; m += 4) {
          tile4x8(a + <usize>m * lda, lda, bp, bb, cj + <usize>m * ldc, ldc, K, cols, actMin, actMax);
        }
      }
      for (; m < m1; m++) {
        row1x8(a + <usize>m * lda, bp, bb, cj + <usize>m * ldc, K, cols, actMin, actMax);
      }
    }
  }
}

// 4 rows x 8 columns in 8 f32x4 accumulators; per k: 4 broadcasts of A, 2 loads of B.
// One k per iteration on purpose: unrolled, Binaryen hoists the next k's loads above the
// multiply-adds and V8 then spills accumulators to the stack (seen in --print-wasm-code).
function tile4x8(
  a0: usize, lda: usize, bp: usize, bias: usize, c: usize, ldc: usize,
  K: i32, cols: i32, actMin: f32, actMax: f32,
): void {
  let c00 = v128.load(bias), c01 = v128.load(bias, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  const a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
  // pointer bumps rather than base + offset: fewer address ops per k in V8's code
  const bEnd = bp + (<usize>K << 5);
  let p0 = a0, p1 = a1, p2 = a2, p3 = a3;
  while (bp < bEnd) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(p0);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(p1);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(p2);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(p3);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    bp += 32; p0 += 4; p1 += 4; p2 += 4; p3 += 4;
  }
  const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
  c00 = clamp4(c00, lo, hi); c01 = clamp4(c01, lo, hi);
  c10 = clamp4(c10, lo, hi); c11 = clamp4(c11, lo, hi);
  c20 = clamp4(c20, lo, hi); c21 = clamp4(c21, lo, hi);
  c30 = clamp4(c30, lo, hi); c31 = clamp4(c31, lo, hi);
  if (cols == 8) {
    v128.store(c, c00); v128.store(c, c01, 16);
    c += ldc;
    v128.store(c, c10); v128.store(c, c11, 16);
    c += ldc;
    v128.store(c, c20); v128.store(c, c21, 16);
    c += ldc;
    v128.store(c, c30); v128.store(c, c31, 16);
  } else {
    storeLanes8(c, c00, c01, cols);
    storeLanes8(c + ldc, c10, c11, cols);
    storeLanes8(c + 2 * ldc, c20, c21, cols);
    storeLanes8(c + 3 * ldc, c30, c31, cols);
  }
}

// One row x 8 columns: the M % 4 remainder and the fully connected GEMV (M = 1). Two
// accumulator pairs so consecutive k do not wait on each other's adds (four would spill).
function row1x8(
  a: usize, bp: usize, bias: usize, c: usize, K: i32, cols: i32, actMin: f32, actMax: f32,
): void {
  const end = <usize>K << 2;
  let off: usize = 0;
  if (ASC_FEATURE_SIMD) {
    let s0 = v128.load(bias), s1 = v128.load(bias, 16);
    let t0 = f32x4.splat(0), t1 = t0;
    for (; off + 8 <= end; off += 8) {
      let x = v128.load32_splat(a + off);
      s0 = madd(x, v128.load(bp), s0); s1 = madd(x, v128.load(bp, 16), s1);
      x = v128.load32_splat(a + off, 4);
      t0 = madd(x, v128.load(bp, 32), t0); t1 = madd(x, v128.load(bp, 48), t1);
      bp += 64;
    }
    if (off < end) {
      const x = v128.load32_splat(a + off);
      s0 = madd(x, v128.load(bp), s0); s1 = madd(x, v128.load(bp, 16), s1);
    }
    s0 = f32x4.add(s0, t0);
    s1 = f32x4.add(s1, t1);
    const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
    s0 = clamp4(s0, lo, hi); s1 = clamp4(s1, lo, hi);
    if (cols == 8) {
      v128.store(c, s0); v128.store(c, s1, 16);
    } else {
      storeLanes8(c, s0, s1, cols);
    }
  } else {
    let s0 = load<f32>(bias), s1 = load<f32>(bias, 4), s2 = load<f32>(bias, 8), s3 = load<f32>(bias, 12);
    let s4 = load<f32>(bias, 16), s5 = load<f32>(bias, 20), s6 = load<f32>(bias, 24), s7 = load<f32>(bias, 28);
    for (; off < end; off += 4) {
      const x = load<f32>(a + off);
      s0 += x * load<f32>(bp); s1 += x * load<f32>(bp, 4);
      s2 += x * load<f32>(bp, 8); s3 += x * load<f32>(bp, 12);
      s4 += x * load<f32>(bp, 16); s5 += x * load<f32>(bp, 20);
      s6 += x * load<f32>(bp, 24); s7 += x * load<f32>(bp, 28);
      bp += 32;
    }
    // columns past N are never written
    store<f32>(c, clamp1(s0, actMin, actMax));
    if (cols > 1) store<f32>(c, clamp1(s1, actMin, actMax), 4);
    if (cols > 2) store<f32>(c, clamp1(s2, actMin, actMax), 8);
    if (cols > 3) store<f32>(c, clamp1(s3, actMin, actMax), 12);
    if (cols > 4) store<f32>(c, clamp1(s4, actMin, actMax), 16);
    if (cols > 5) store<f32>(c, clamp1(s5, actMin, actMax), 20);
    if (cols > 6) store<f32>(c, clamp1(s6, actMin, actMax), 24);
    if (cols > 7) store<f32>(c, clamp1(s7, actMin, actMax), 28);
  }
}
