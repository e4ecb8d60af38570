// Pointwise (1x1) convolution and fully connected layer: out[M, N] = requant(A[M, K] * W^T + bias).
//
// A: int8 activations, row stride K. Rows may be over-read by up to 7 bytes past K (the packed
// weights are w_zp there, i.e. zero after centring, and the arena keeps slack after every buffer).
// W: packed by the host (src/quant/pack.ts packGemmRows): 8-bit weights in int8 storage
// (uint8 - 128, as activations), in panels of 4 output columns; inside a panel, blocks of 8
// k-values: [col0 k0..7][col1 k0..7][col2][col3] (32 bytes), K padded to a multiple of 8 and N
// to a multiple of 4 with `wZp` (the stored weight zero point). SIMD widens each panel once per
// block of rows into `wScratch` (K rounded up to 8, x 8 bytes) as int16 (w - w_zp), so the loop
// reads 16-byte operands V8 folds into pmaddwd.
// bias: int32 [N padded to 4], with -x_zp * sum_k(w - w_zp) already folded in, so the kernel
// multiplies raw activations (no padding in a 1x1 convolution, so the fold is exact).
//
// SIMD: a row's 8 activations widened once with load8x8_s, one i32x4.dot_i16x8_s per
// (row, column) per 8 k, so each accumulator holds 4 partial sums that are reduced at the end.
// Tile 2 rows x 4 columns: 8 accumulators leave V8 (16 xmm registers on x64) room for the
// operands; 3x4 and 4x4 measured no faster (3x4 is at the register limit).

import { widenWeights } from "./gemm16";
import { rqGroupBytes, rqLeftMul, rqRightFactor, rqRightMask, pack8, requant4With, requantScalar, storePartial } from "./requant";

// [sum(a0), sum(a1), sum(a2), sum(a3)] of four i32x4
@inline
function reduce4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = i32x4.add(i32x4.shuffle(a0, a1, 0, 4, 1, 5), i32x4.shuffle(a0, a1, 2, 6, 3, 7));
  const t1 = i32x4.add(i32x4.shuffle(a2, a3, 0, 4, 1, 5), i32x4.shuffle(a2, a3, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7));
}

// store 4 columns (bytes 0..3 of b) of one row, or the first `valid` of them
@inline
function store4(dst: usize, b: v128, valid: i32): void {
  if (valid >= 4) v128.store32_lane(dst, b, 0);
  else storePartial(dst, b, valid);
}

export function q8_gemm(
  a: usize, m: i32, k: i32, w: usize, wZp: i32, n: i32, bias: usize, rq: usize, mode: i32,
  outZp: i32, actMin: i32, actMax: i32, out: usize, wScratch: usize,
): void {
  const kBlocks = (k + 7) >> 3;
  const panelBytes = <usize>kBlocks << 5;
  const groups = (n + 3) >> 2;
  const rqStep = rqGroupBytes(mode);
  if (ASC_FEATURE_SIMD) {
    const wzp16 = i16x8.splat(<i16>wZp);
    const zp16 = i16x8.splat(<i16>outZp);
    const lo8 = i8x16.splat(<i8>actMin);
    const hi8 = i8x16.splat(<i8>actMax);
    const rowStride = <usize>k;
    // Row blocks keep a slice of A in L1 while all column panels stream past it.
    // (at least 32 rows, over which one panel's widening is spread)
    let rowBlock = 16384 / max(k, 1);
    rowBlock = max(32, rowBlock & ~1);
    for (let m0 = 0; m0 < m; m0 += rowBlock) {
      const m1 = min(m, m0 + rowBlock);
      for (let g = 0; g < groups; g++) {
        const wp0 = wScratch;
        widenWeights(w + <usize>g * panelBytes, wp0, panelBytes, wzp16);
        const biasv = v128.load(bias + (<usize>g << 4));
        const rqg = rq + <usize>g * rqStep;
        const valid = n - (g << 2);
        const col = <usize>(g << 2);
        const mult = v128.load(rqg);
        const leftMul = rqLeftMul(rqg, mode);
        const rightFactor = rqRightFactor(rqg, mode);
        const rightMask = rqRightMask(rqg, mode);
        let r = m0;
        for (; r + 2 <= m1; r += 2) {
          let ap = a + <usize>r * rowStride;
          let wp = wp0;
          let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c02 = i32x4.splat(0), c03 = i32x4.splat(0);
          let c10 = i32x4.splat(0), c11 = i32x4.splat(0), c12 = i32x4.splat(0), c13 = i32x4.splat(0);
          for (let kb = 0; kb < kBlocks; kb++) {
            const x0 = v128.load8x8_s(ap);
            const x1 = v128.load8x8_s(ap + rowStride);
            let wv = v128.load(wp);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(x0, wv));
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(x1, wv));
            wv = v128.load(wp, 16);
            c01 = i32x4.add(c01, i32x4.dot_i16x8_s(x0, wv));
            c11 = i32x4.add(c11, i32x4.dot_i16x8_s(x1, wv));
            wv = v128.load(wp, 32);
            c02 = i32x4.add(c02, i32x4.dot_i16x8_s(x0, wv));
            c12 = i32x4.add(c12, i32x4.dot_i16x8_s(x1, wv));
            wv = v128.load(wp, 48);
            c03 = i32x4.add(c03, i32x4.dot_i16x8_s(x0, wv));
            c13 = i32x4.add(c13, i32x4.dot_i16x8_s(x1, wv));
            ap += 8;
            wp += 64;
          }
          const r0 = requant4With(i32x4.add(reduce4(c00, c01, c02, c03), biasv), mult, leftMul, rightFactor, rightMask, mode);
          const r1 = requant4With(i32x4.add(reduce4(c10, c11, c12, c13), biasv), mult, leftMul, rightFactor, rightMask, mode);
          const b = pack8(r0, r1, zp16, lo8, hi8);
          const dst = out + <usize>r * <usize>n + col;
          store4(dst, b, valid);
          store4(dst + <usize>n, i64x2.shr_u(b, 32), valid);
        }
        if (r < m1) {
          let ap = a + <usize>r * rowStride;
          let wp = wp0;
          let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0);
          for (let kb = 0; kb < kBlocks; kb++) {
            const x0 = v128.load8x8_s(ap);
            c0 = i32x4.add(c0, i32x4.dot_i16x8_s(x0, v128.load(wp)));
            c1 = i32x4.add(c1, i32x4.dot_i16x8_s(x0, v128.load(wp, 16)));
            c2 = i32x4.add(c2, i32x4.dot_i16x8_s(x0, v128.load(wp, 32)));
            c3 = i32x4.add(c3, i32x4.dot_i16x8_s(x0, v128.load(wp, 48)));
            ap += 8;
            wp += 64;
          }
          const r0 = requant4With(i32x4.add(reduce4(c0, c1, c2, c3), biasv), mult, leftMul, rightFactor, rightMask, mode);
          store4(out + <usize>r * <usize>n + col, pack8(r0, r0, zp16, lo8, hi8), valid);
        }
      }
    }
  } else {
    const fullBlocks = k >> 3;
    for (let r = 0; r < m; r++) {
      const arow = a + <usize>r * <usize>k;
      for (let c = 0; c < n; c++) {
        let wp = w + <usize>(c >> 2) * panelBytes + (<usize>(c & 3) << 3);
        let ap = arow;
        let acc = load<i32>(bias + (<usize>c << 2));
        for (let kb = 0; kb < fullBlocks; kb++) {
          acc += <i32>load<i8>(ap) * (<i32>load<i8>(wp) - wZp)
            + <i32>load<i8>(ap, 1) * (<i32>load<i8>(wp, 1) - wZp)
            + <i32>load<i8>(ap, 2) * (<i32>load<i8>(wp, 2) - wZp)
            + <i32>load<i8>(ap, 3) * (<i32>load<i8>(wp, 3) - wZp)
            + <i32>load<i8>(ap, 4) * (<i32>load<i8>(wp, 4) - wZp)
            + <i32>load<i8>(ap, 5) * (<i32>load<i8>(wp, 5) - wZp)
            + <i32>load<i8>(ap, 6) * (<i32>load<i8>(wp, 6) - wZp)
            + <i32>load<i8>(ap, 7) * (<i32>load<i8>(wp, 7) - wZp);
          ap += 8;
          wp += 32;
        }
        for (let kk = fullBlocks << 3; kk < k; kk++) {
          acc += <i32>load<i8>(ap) * (<i32>load<i8>(wp) - wZp);
          ap++;
          wp++;
        }
        store<i8>(out + <usize>r * <usize>n + <usize>c, <i8>requantScalar(acc, rq, c, mode, outZp, actMin, actMax));
      }
    }
  }
}
