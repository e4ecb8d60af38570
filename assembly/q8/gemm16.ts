// Pointwise GEMM on centred int16 activations: out[M, N] = requant(A[M, K] * W^T + bias).
//
// A: int16 (x - x_zp) in tiles of 4 rows, written by the depthwise of a fused depthwise +
// pointwise step: tile t holds rows 4t..4t+3 as 16-byte blocks per pair of k:
// [row0 k k+1][row1 k k+1][row2][row3], K rounded up to 2. Rows past M (in the last tile) and
// the k-padding lane are computed on but never stored / meet zero weights, so any value works.
// W: packed by the host (src/quant/pack.ts packGemm16Weights): 8-bit weights in int8 storage
// (uint8 - 128, as activations), in panels of 8 output columns; inside a panel one 16-byte
// block per pair of k (k, k+1): [c0 k k+1][c1 k k+1][c2][c3] [c4][c5][c6][c7], N padded to 8
// with columns of `wZp` (the stored weight zero point: each weight is widened with
// load8x8_s and wZp subtracted, one instruction each, giving the exact w - w_zp in int16).
// bias: int32 [N padded to 8], the model's bias (A is already centred, nothing to fold).
//
// SIMD ("c2" layout): v128.load32_splat puts a row's (k, k+1) pair in every lane, so one
// i32x4.dot_i16x8_s against a block half gives 4 columns' partial sums directly: a 4x8 tile is
// 8 accumulators, per k-pair 4 splat loads (constant offsets in the tile) + 2 weight loads +
// 8 dots, and no horizontal reduction at the end. The weight loads read a panel widened to
// int16 (w - w_zp) in `wScratch` (K rounded up to 2, x 16 bytes; then 64 bytes of mode -3's
// per-panel requantization parameters) once per block of tiles: 16-byte operands V8 folds into
// pmaddwd (widening in the loop, load8x8_s + sub, measured 1.5x slower).

import { rqGroupBytes, pack8, requant4Fast, requant4Scaled, requantScalar, shortShiftBound, shortShiftScale, storePartial } from "./requant";

// Rows of A kept hot while every column panel streams past them (about half of L1), and at
// least MIN_BLOCK_TILES tiles, over which one panel's widening is spread.
const A_BLOCK_BYTES: i32 = 24576;
const MIN_BLOCK_TILES: i32 = 8;

// Widen `bytes` 8-bit weights at `src` into int16 (w - w_zp) at `dst` (bytes a multiple of 8).
@inline
export function widenWeights(src: usize, dst: usize, bytes: usize, wzp16: v128): void {
  for (let i: usize = 0; i < bytes; i += 8) v128.store(dst + (i << 1), i16x8.sub(v128.load8x8_s(src + i), wzp16));
}

// requant4Fast, or for kind 1 requant4Scaled with the group's [scale][bound] at `aux` (computed
// once per panel into scratch: loads, not four more vectors live across the tile loop)
@inline
function requantTile(acc: v128, rqg: usize, kind: i32, shift: i32, nudge: v128, mode: i32, aux: usize): v128 {
  return kind == 1 ? requant4Scaled(acc, rqg, v128.load(aux, 16), v128.load(aux)) : requant4Fast(acc, rqg, kind, shift, nudge, mode);
}

@inline
function storeRow8(dst: usize, b: v128, valid: i32): void {
  if (valid >= 8) v128.store64_lane(dst, b, 0);
  else storePartial(dst, b, valid);
}

@inline
function gemm16Simd(
  a: usize, m: i32, k: i32, w: usize, wZp: i32, n: i32, bias: usize, rq: usize, mode: i32,
  outZp: i32, actMin: i32, actMax: i32, out: usize, kind: i32, shift: i32, wScratch: usize,
): void {
  const kPairs = (k + 1) >> 1;
  const panelBytes8 = <usize>kPairs << 4;
  const panelBytes = <usize>kPairs << 5;
  const rqStep = rqGroupBytes(mode);
  const wzp16 = i16x8.splat(<i16>wZp);
  const tileBytes = <usize>kPairs << 4;
  const panels = (n + 7) >> 3;
  const tiles = (m + 3) >> 2;
  const outStride = <usize>n;
  const zp16 = i16x8.splat(<i16>outZp);
  const lo8 = i8x16.splat(<i8>actMin);
  const hi8 = i8x16.splat(<i8>actMax);
  const nudge = i32x4.splat(kind == 0 ? 1 << (shift - 1) : 0);
  const tileBlock = max(MIN_BLOCK_TILES, A_BLOCK_BYTES / <i32>tileBytes);
  for (let t0 = 0; t0 < tiles; t0 += tileBlock) {
    const t1 = min(tiles, t0 + tileBlock);
    for (let g = 0; g < panels; g++) {
      const wp0 = wScratch;
      widenWeights(w + <usize>g * panelBytes8, wp0, panelBytes8, wzp16);
      const b0 = v128.load(bias + (<usize>g << 5));
      const b1 = v128.load(bias + (<usize>g << 5), 16);
      const rqg = rq + <usize>(g << 1) * rqStep;
      // kind 1: the two groups' per-lane [scale][bound], after the widened panel
      const aux = wp0 + panelBytes;
      if (kind == 1) {
        const scale0 = shortShiftScale(rqg), scale1 = shortShiftScale(rqg + rqStep);
        v128.store(aux, scale0);
        v128.store(aux, shortShiftBound(scale0), 16);
        v128.store(aux, scale1, 32);
        v128.store(aux, shortShiftBound(scale1), 48);
      }
      const valid = n - (g << 3);
      const col = <usize>(g << 3);
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
        const r = t << 2;
        const rows = m - r;
        const dst = out + <usize>r * outStride + col;
        storeRow8(dst, pack8(requantTile(c00, rqg, kind, shift, nudge, mode, aux), requantTile(c01, rqg + rqStep, kind, shift, nudge, mode, aux + 32), zp16, lo8, hi8), valid);
        if (rows > 1) storeRow8(dst + outStride, pack8(requantTile(c10, rqg, kind, shift, nudge, mode, aux), requantTile(c11, rqg + rqStep, kind, shift, nudge, mode, aux + 32), zp16, lo8, hi8), valid);
        if (rows > 2) storeRow8(dst + outStride * 2, pack8(requantTile(c20, rqg, kind, shift, nudge, mode, aux), requantTile(c21, rqg + rqStep, kind, shift, nudge, mode, aux + 32), zp16, lo8, hi8), valid);
        if (rows > 3) storeRow8(dst + outStride * 3, pack8(requantTile(c30, rqg, kind, shift, nudge, mode, aux), requantTile(c31, rqg + rqStep, kind, shift, nudge, mode, aux + 32), zp16, lo8, hi8), valid);
      }
    }
  }
}

// Entry points by requantization kind (the host picks one from the mode): separate functions,
// because Binaryen folds the three inlined copies of one function back into a loop that
// branches on the kind at every requantization.
// Every right shift equal to `mode` in [1, 22]:
export function q8_gemm16_rs(
  a: usize, m: i32, k: i32, w: usize, wZp: i32, n: i32, bias: usize, rq: usize, mode: i32,
  outZp: i32, actMin: i32, actMax: i32, out: usize, wScratch: usize,
): void {
  if (ASC_FEATURE_SIMD) gemm16Simd(a, m, k, w, wZp, n, bias, rq, mode, outZp, actMin, actMax, out, 0, mode, wScratch);
  else gemm16Scalar(a, m, k, w, wZp, n, bias, rq, mode, outZp, actMin, actMax, out);
}

// Mode -3: per-channel right shifts, all in [1, 22]:
export function q8_gemm16_rl(
  a: usize, m: i32, k: i32, w: usize, wZp: i32, n: i32, bias: usize, rq: usize, mode: i32,
  outZp: i32, actMin: i32, actMax: i32, out: usize, wScratch: usize,
): void {
  if (ASC_FEATURE_SIMD) gemm16Simd(a, m, k, w, wZp, n, bias, rq, mode, outZp, actMin, actMax, out, 1, 0, wScratch);
  else gemm16Scalar(a, m, k, w, wZp, n, bias, rq, mode, outZp, actMin, actMax, out);
}

// Any mode:
export function q8_gemm16(
  a: usize, m: i32, k: i32, w: usize, wZp: i32, n: i32, bias: usize, rq: usize, mode: i32,
  outZp: i32, actMin: i32, actMax: i32, out: usize, wScratch: usize,
): void {
  if (ASC_FEATURE_SIMD) gemm16Simd(a, m, k, w, wZp, n, bias, rq, mode, outZp, actMin, actMax, out, 2, 0, wScratch);
  else gemm16Scalar(a, m, k, w, wZp, n, bias, rq, mode, outZp, actMin, actMax, out);
}

function gemm16Scalar(
  a: usize, m: i32, k: i32, w: usize, wZp: i32, n: i32, bias: usize, rq: usize, mode: i32,
  outZp: i32, actMin: i32, actMax: i32, out: usize,
): void {
  const kPairs = (k + 1) >> 1;
  const panelBytes = <usize>kPairs << 4;
  const tileBytes = <usize>kPairs << 4;
  const outStride = <usize>n;
  for (let r = 0; r < m; r++) {
    const arow = a + <usize>(r >> 2) * tileBytes + (<usize>(r & 3) << 2);
    for (let c = 0; c < n; c++) {
      let wp = w + <usize>(c >> 3) * panelBytes + (<usize>(c & 7) << 1);
      let ap = arow;
      let acc = load<i32>(bias + (<usize>c << 2));
      for (let j = 0; j < kPairs; j++) {
        acc += <i32>load<i16>(ap) * (<i32>load<i8>(wp) - wZp) + <i32>load<i16>(ap, 2) * (<i32>load<i8>(wp, 1) - wZp);
        ap += 16;
        wp += 16;
      }
      store<i8>(out + <usize>r * outStride + <usize>c, <i8>requantScalar(acc, rq, c, mode, outZp, actMin, actMax));
    }
  }
}
