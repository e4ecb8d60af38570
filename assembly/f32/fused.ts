// Depthwise 3x3 + pointwise (1x1) convolution in one pass, so the depthwise output never goes
// to memory: for each block of output pixels (raster order), the depthwise result is written
// to a small scratch buffer that stays in cache, then the GEMM runs over that block.
//
// The scratch holds the block packed for the GEMM: groups of 5 pixels, and within a group
// channel k's 5 pixel values side by side: [ceil(block/5)][C][5]. The GEMM tile is 5 rows x 8
// columns: 10 accumulators hide the multiply-add latency (8 chains of a 4x8 tile leave the
// FMA units ~10% idle), and it reads its 5 rows through one pointer. The depthwise stage
// writes that layout directly: 4 pixels of a row with a 4x4 transpose, others lane by lane.
//
// Weights are those of f32_dwconv ([ceil(C/4)][9][4]) and f32_gemm (panels of 8 columns).
import { madd, clamp4, clamp1, storeLanes8 } from "./common";
import { dwQuad3x3 } from "./dwconv";

export function f32_dwpw(
  input: usize, dwW: usize, dwBias: usize, pwB: usize, pwBias: usize, output: usize, scratch: usize,
  inH: i32, inW: i32, C: i32, outH: i32, outW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  dwMin: f32, dwMax: f32, N: i32, pwMin: f32, pwMax: f32, blockPixels: i32,
): void {
  if (C <= 0 || N <= 0 || outH <= 0 || outW <= 0) return;
  const M = outH * outW;
  const mb = max(5, blockPixels - blockPixels % 5);
  const groupB = <usize>C * 20;
  const ldc = <usize>N << 2;
  const panels = (N + 7) >> 3;
  const panelB = <usize>C << 5;
  // output columns whose 3 taps are all inside the input: [oxLo, oxHi)
  const oxLo = min((padLeft + strideW - 1) / strideW, outW);
  const room = inW - 3 + padLeft;
  const oxHi = max(oxLo, room >= 0 ? min(room / strideW + 1, outW) : 0);
  for (let m0 = 0; m0 < M; m0 += mb) {
    const m1 = min(M, m0 + mb);
    // depthwise: 5 pixels per group
    let dst = scratch;
    for (let m = m0; m < m1; m += 5) {
      const valid = min(5, m1 - m);
      if (ASC_FEATURE_SIMD) {
        let r = 0;
        const oy = m / outW, ox = m - oy * outW;
        const iy0 = oy * strideH - padTop;
        const kyLo = max(0, -iy0), kyHi = min(3, inH - iy0);
        if (valid >= 4 && ox >= oxLo && ox + 4 <= oxHi && kyHi > kyLo) {
          dwQuad3x3(input + (<usize>((iy0 + kyLo) * inW + ox * strideW - padLeft) * C << 2),
            dwW + <usize>kyLo * 48, <usize>(kyHi - kyLo) * 48, dwBias, dst, C, strideW, <usize>inW * C << 2, dwMin, dwMax, true);
          r = 4;
        }
        // the rest pixel by pixel; rows past `valid` are left as they are (never stored)
        for (; r < valid; r++) {
          const mm = m + r;
          const py = mm / outW, px = mm - py * outW;
          dwPixelPacked(input, dwW, dwBias, dst + (<usize>r << 2), py * strideH - padTop, px * strideW - padLeft,
            inH, inW, C, px >= oxLo && px < oxHi, dwMin, dwMax);
        }
      } else {
        dwScalar(input, dwW, dwBias, dst, m, valid, inH, inW, C, outW, strideH, strideW, padTop, padLeft, dwMin, dwMax);
      }
      dst += groupB;
    }
    // pointwise: panel outer so the panel (C x 8 floats) stays in L1 over the block
    for (let j = 0; j < panels; j++) {
      const cols = min(8, N - (j << 3));
      const bp = pwB + <usize>j * panelB;
      const bb = pwBias + (<usize>j << 5);
      let pa = scratch;
      let cp = output + <usize>m0 * ldc + (<usize>j << 5);
      for (let m = m0; m < m1; m += 5) {
        tile5x8(pa, bp, bb, cp, ldc, C, cols, min(5, m1 - m), reinterpret<i32>(pwMin), reinterpret<i32>(pwMax));
        pa += groupB;
        cp += ldc * 5;
      }
    }
  }
}

// One output pixel, all channels, into its slot `dst` of the packed group (channel k at dst + 20 k).
// fullCols: all 3 tap columns are inside the input (only rows need clipping).
function dwPixelPacked(
  input: usize, w: usize, bias: usize, dst: usize, iy0: i32, ix0: i32,
  inH: i32, inW: i32, C: i32, fullCols: bool, actMin: f32, actMax: f32,
): void {
  const pixB = <usize>C << 2;
  const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
  const kyLo = max(0, -iy0), kyHi = min(3, inH - iy0);
  const kxLo = max(0, -ix0), kxHi = min(3, inW - ix0);
  const rowB = <usize>inW * pixB;
  // first kernel row inside, at column ix0 (taps left of the input are never read)
  const q0 = input + (<usize>((iy0 + kyLo) * inW + ix0)) * pixB;
  const wRows = <usize>kyLo * 48, rowsB = <usize>(kyHi - kyLo) * 48;
  let wg = w;
  for (let c = 0; c < C; c += 4) {
    const co = <usize>c << 2;
    let acc = v128.load(bias + co);
    if (rowsB > 0) {
      let q = q0 + co;
      let wp = wg + wRows;
      const wEnd = wp + rowsB;
      if (fullCols) {
        do {
          // a partial sum per kernel row (see dwQuad3x3)
          acc = f32x4.add(acc, madd(v128.load(q + 2 * pixB), v128.load(wp, 32),
            madd(v128.load(q + pixB), v128.load(wp, 16), f32x4.mul(v128.load(q), v128.load(wp)))));
          q += rowB;
          wp += 48;
        } while (wp < wEnd);
      } else {
        do {
          for (let kx = kxLo; kx < kxHi; kx++) {
            acc = madd(v128.load(q + <usize>kx * pixB), v128.load(wp + (<usize>kx << 4)), acc);
          }
          q += rowB;
          wp += 48;
        } while (wp < wEnd);
      }
    }
    acc = clamp4(acc, lo, hi);
    const d = dst + <usize>c * 20;
    v128.store32_lane(d, acc, 0);
    if (c + 1 < C) v128.store32_lane(d, acc, 1, 20);
    if (c + 2 < C) v128.store32_lane(d, acc, 2, 40);
    if (c + 3 < C) v128.store32_lane(d, acc, 3, 60);
    wg += 144;
  }
}

// Scalar build: `valid` (1..5) pixels from raster index m straight into the packed layout;
// pixels past `valid` get zeros.
function dwScalar(
  input: usize, w: usize, bias: usize, dst: usize, m: i32, valid: i32,
  inH: i32, inW: i32, C: i32, outW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  actMin: f32, actMax: f32,
): void {
  const pixB = <usize>C << 2;
  for (let r = 0; r < 5; r++) {
    const mm = m + r;
    const oy = mm / outW, ox = mm - oy * outW;
    const iy0 = oy * strideH - padTop, ix0 = ox * strideW - padLeft;
    const kyLo = max(0, -iy0), kyHi = min(3, inH - iy0);
    const kxLo = max(0, -ix0), kxHi = min(3, inW - ix0);
    for (let c = 0; c < C; c++) {
      let v: f32 = 0;
      if (r < valid) {
        const wc = w + (<usize>(c >> 2) * 144) + (<usize>(c & 3) << 2);
        let acc = load<f32>(bias + (<usize>c << 2));
        for (let ky = kyLo; ky < kyHi; ky++) {
          const row = input + (<usize>((iy0 + ky) * inW + ix0)) * pixB + (<usize>c << 2);
          for (let kx = kxLo; kx < kxHi; kx++) {
            acc += load<f32>(row + <usize>kx * pixB) * load<f32>(wc + <usize>((ky * 3 + kx) << 4));
          }
        }
        v = clamp1(acc, actMin, actMax);
      }
      store<f32>(dst + <usize>c * 20 + (<usize>r << 2), v);
    }
  }
}

// @ts-ignore: decorator
@inline function storeRow8(p: usize, a: v128, b: v128, cols: i32): void {
  if (cols == 8) {
    v128.store(p, a);
    v128.store(p, b, 16);
  } else {
    storeLanes8(p, a, b, cols);
  }
}

// a 5x8 tile's raw result when it is partial
const TILE_TMP: usize = memory.data(160, 16);

// @ts-ignore: decorator
@inline function clampRows(c: usize, ldc: usize, loBits: i32, hiBits: i32): void {
  const lo = f32x4.splat(reinterpret<f32>(loBits)), hi = f32x4.splat(reinterpret<f32>(hiBits));
  for (let r = 0; r < 5; r++) {
    v128.store(c, clamp4(v128.load(c), lo, hi));
    v128.store(c, clamp4(v128.load(c, 16), lo, hi), 16);
    c += ldc;
  }
}

function copyClamped(c: usize, ldc: usize, rows: i32, cols: i32, loBits: i32, hiBits: i32): void {
  const lo = f32x4.splat(reinterpret<f32>(loBits)), hi = f32x4.splat(reinterpret<f32>(hiBits));
  let t = TILE_TMP;
  for (let r = 0; r < rows; r++) {
    storeRow8(c, clamp4(v128.load(t), lo, hi), clamp4(v128.load(t, 16), lo, hi), cols);
    c += ldc;
    t += 32;
  }
}

/**
 * A 5x8 tile's accumulators to the output (first `rows` rows, `cols` columns), clamped.
 * Raw stores, then a clamp pass over what was stored: clamping the accumulators in registers
 * makes V8 spill two of them inside the loop (2.5x slower, seen in its code). Partial tiles go
 * through TILE_TMP so nothing is written outside the output.
 */
// @ts-ignore: decorator
@inline export function storeTile5x8(
  c: usize, ldc: usize, cols: i32, rows: i32, actMinBits: i32, actMaxBits: i32,
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128, c40: v128, c41: v128,
): void {
  const full = cols == 8 && rows == 5;
  let t = full ? c : TILE_TMP;
  const ldt = full ? ldc : 32;
  v128.store(t, c00); v128.store(t, c01, 16);
  t += ldt;
  v128.store(t, c10); v128.store(t, c11, 16);
  t += ldt;
  v128.store(t, c20); v128.store(t, c21, 16);
  t += ldt;
  v128.store(t, c30); v128.store(t, c31, 16);
  t += ldt;
  v128.store(t, c40); v128.store(t, c41, 16);
  if (full) clampRows(c, ldc, actMinBits, actMaxBits);
  else copyClamped(c, ldc, rows, cols, actMinBits, actMaxBits);
}

// 5 rows (one packed group) x 8 columns; stores the first `rows` rows and `cols` columns.
// The clamp bounds come as bit patterns in integer registers: as f32 arguments they would
// hold 2 of x64's 15 usable xmm registers through the loop and V8 would spill 2 accumulators.
export function tile5x8(
  pa: usize, bp: usize, bias: usize, c: usize, ldc: usize, K: i32, cols: i32, rows: i32,
  actMinBits: i32, actMaxBits: i32,
): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = v128.load(bias), c01 = v128.load(bias, 16);
    let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01, c40 = c00, c41 = c01;
    const bEnd = bp + (<usize>K << 5);
    while (bp < bEnd) {
      const b0 = v128.load(bp), b1 = v128.load(bp, 16);
      let x = v128.load32_splat(pa);
      c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
      x = v128.load32_splat(pa, 4);
      c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
      x = v128.load32_splat(pa, 8);
      c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
      x = v128.load32_splat(pa, 12);
      c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
      x = v128.load32_splat(pa, 16);
      c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
      bp += 32; pa += 20;
    }
    storeTile5x8(c, ldc, cols, rows, actMinBits, actMaxBits, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41);
  } else {
    const actMin = reinterpret<f32>(actMinBits), actMax = reinterpret<f32>(actMaxBits);
    for (let r = 0; r < rows; r++) {
      let s0 = load<f32>(bias), s1 = load<f32>(bias, 4), s2 = load<f32>(bias, 8), s3 = load<f32>(bias, 12);
      let s4 = load<f32>(bias, 16), s5 = load<f32>(bias, 20), s6 = load<f32>(bias, 24), s7 = load<f32>(bias, 28);
      let ap = pa + (<usize>r << 2);
      let wp = bp;
      const end = bp + (<usize>K << 5);
      for (; wp < end; wp += 32) {
        const x = load<f32>(ap);
        s0 += x * load<f32>(wp); s1 += x * load<f32>(wp, 4);
        s2 += x * load<f32>(wp, 8); s3 += x * load<f32>(wp, 12);
        s4 += x * load<f32>(wp, 16); s5 += x * load<f32>(wp, 20);
        s6 += x * load<f32>(wp, 24); s7 += x * load<f32>(wp, 28);
        ap += 20;
      }
      const o = c + <usize>r * ldc;
      store<f32>(o, clamp1(s0, actMin, actMax));
      if (cols > 1) store<f32>(o, clamp1(s1, actMin, actMax), 4);
      if (cols > 2) store<f32>(o, clamp1(s2, actMin, actMax), 8);
      if (cols > 3) store<f32>(o, clamp1(s3, actMin, actMax), 12);
      if (cols > 4) store<f32>(o, clamp1(s4, actMin, actMax), 16);
      if (cols > 5) store<f32>(o, clamp1(s5, actMin, actMax), 20);
      if (cols > 6) store<f32>(o, clamp1(s6, actMin, actMax), 24);
      if (cols > 7) store<f32>(o, clamp1(s7, actMin, actMax), 28);
    }
  }
}

// tile5x8 reading its 5 rows through their own pointers (rows of A in f32_gemm, input pixels
// in f32_convgemm): row r's K values are `runs` runs of segB bytes from p_r, each run skipB
// bytes after the end of the previous one.
export function tileRows5x8(
  p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, segB: usize, skipB: usize, runs: i32,
  bp: usize, bias: usize, c: usize, ldc: usize, cols: i32, rows: i32, actMinBits: i32, actMaxBits: i32,
): void {
  let c00 = v128.load(bias), c01 = v128.load(bias, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01, c40 = c00, c41 = c01;
  const segW = segB << 3; // weight bytes per run: 8 floats per tap
  let run = runs;
  do {
    const segEnd = bp + segW;
    do {
      const b0 = v128.load(bp), b1 = v128.load(bp, 16);
      let x = v128.load32_splat(p0);
      c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
      x = v128.load32_splat(p1);
      c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
      x = v128.load32_splat(p2);
      c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
      x = v128.load32_splat(p3);
      c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
      x = v128.load32_splat(p4);
      c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
      bp += 32; p0 += 4; p1 += 4; p2 += 4; p3 += 4; p4 += 4;
    } while (bp < segEnd);
    p0 += skipB; p1 += skipB; p2 += skipB; p3 += skipB; p4 += skipB;
  } while (--run);
  storeTile5x8(c, ldc, cols, rows, actMinBits, actMaxBits, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41);
}
