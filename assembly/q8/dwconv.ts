// Depthwise KxK convolution (depth multiplier 1), any stride, TFLite padding (padTop/padLeft given).
//
// Weights packed by the host (src/quant/pack.ts packDepthwiseRows): 8-bit in int8 storage
// (uint8 - 128, as activations), consecutive taps paired per channel for dot_i16x8:
// [ceil(kh*kw/2)][Cp][2] = (w[2p][c], w[2p+1][c]), Cp = C rounded up to 8; padded channels and
// an odd last tap's partner hold `wZp` (the stored weight zero point), which the kernel
// subtracts from every widened weight (exact w - w_zp in int16).
// bias: int32 [Cp], bias - x_zp * sum_taps(w - w_zp) (the interior bias).
// SIMD: each call first widens the weights into `wScratch` (src/quant/pack.ts
// depthwiseScratchBytes: a few KB, in L1 for the whole call) as int16 (w - w_zp), both
// [kh*kw][Cp] and the tap pairs [ceil(kh*kw/2)][Cp][2], rebuilds the model's bias (interior bias
// + x_zp * sum_taps(w - w_zp)) and, for mode -3, the per-lane requantization parameters, so the
// loops read 16-byte operands that V8 folds into pmaddwd / pmullw.
// Interior pixels (every tap inside the image) multiply raw activations with the interior bias;
// border pixels subtract x_zp from each in-bounds tap and skip the others, which is exactly
// TFLite's sum over valid taps of (x - x_zp) * (w - w_zp).
// Scalar: straight from the 8-bit weights; a tap outside the image reads x_zp, which adds back
// its share of the folded sum (the same total).
// Channel loads read 8 (or 16) channels even at the end of a pixel; the extra lanes meet zero
// weights and are not stored.

import { rqGroupBytes, requant4Common, requantNudge, requantScalar, shortShiftBound, shortShiftScale, storePartial } from "./requant";

// Where a pixel's output starts: int8 NHWC, or its lane in a tile of 4 pixels (see q8_dwconv16).
@inline
function outPixel(out: usize, wide: bool, row: i32, ox: i32, outW: i32, pixelStride: usize, tileBytes: usize): usize {
  const p = <usize>row * <usize>outW + <usize>ox;
  return wide ? out + (p >> 2) * tileBytes + ((p & 3) << 2) : out + p * pixelStride;
}

// Requantize 8 channels and store them: as int8, or as int16 (y - nextZp) pairs into a tile
// (four 4-byte lanes 16 bytes apart; `pairs` of them are inside the row's K). The mode and
// `wide` branches are taken the same way for the whole call (predicted; measured no slower
// than the copies specialised per mode, which cost 8 KB of the q8 build).
@inline
function emit(
  acc0: v128, acc1: v128, rq: usize, ch: i32, mode: i32, zp16: v128, dst: usize, valid: i32,
  wide: bool, lo16: v128, hi16: v128, nz16: v128, pairs: i32, nudge: v128, aux: usize,
): void {
  const rqStep = rqGroupBytes(mode);
  const rqg = rq + <usize>(ch >> 2) * rqStep;
  const auxg = aux + (<usize>(ch >> 2) << 5);
  const r0 = requant4Common(acc0, rqg, mode, nudge, auxg);
  const r1 = requant4Common(acc1, rqg + rqStep, mode, nudge, auxg + 32);
  // saturating narrow + zero point + clamp in int16 for both outputs (exact for the same reason
  // as pack8; one set of clamp vectors live in the loops instead of an int8 and an int16 one)
  const y = i16x8.min_s(i16x8.max_s(i16x8.add_sat_s(i16x8.narrow_i32x4_s(r0, r1), zp16), lo16), hi16);
  if (!wide) {
    const b = i8x16.narrow_i16x8_s(y, y);
    if (valid >= 8) v128.store64_lane(dst, b, 0);
    else storePartial(dst, b, valid);
    return;
  }
  const v = i16x8.sub(y, nz16);
  if (pairs >= 4) {
    v128.store32_lane(dst, v, 0);
    v128.store32_lane(dst, v, 1, 16);
    v128.store32_lane(dst, v, 2, 32);
    v128.store32_lane(dst, v, 3, 48);
  } else {
    v128.store32_lane(dst, v, 0);
    if (pairs > 1) v128.store32_lane(dst, v, 1, 16);
    if (pairs > 2) v128.store32_lane(dst, v, 2, 32);
  }
}

export function q8_dwconv(
  inp: usize, inH: i32, inW: i32, c: i32, w: usize, wZp: i32, bias: usize, rq: usize, mode: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  inZp: i32, outZp: i32, actMin: i32, actMax: i32, out: usize, wScratch: usize,
): void {
  dwconv(inp, inH, inW, c, w, wZp, bias, rq, mode, kh, kw, sh, sw, padTop, padLeft, outH, outW, inZp, outZp, actMin, actMax, out, false, 0, outH, 0, wScratch);
}

// The same for output rows [oy0, oy1), written for the pointwise GEMM that follows in a fused
// step (assembly/q8/gemm16.ts): int16 (y - nextZp), where y is the clamped int8 output and
// nextZp the pointwise input zero point (exact: nextZp is the same tensor's zero point), in
// tiles of 4 pixels [pair of channels][pixel][2]. Pixel 0 is the first pixel of row oy0.
export function q8_dwconv16(
  inp: usize, inH: i32, inW: i32, c: i32, w: usize, wZp: i32, bias: usize, rq: usize, mode: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  inZp: i32, outZp: i32, actMin: i32, actMax: i32, out: usize, oy0: i32, oy1: i32, nextZp: i32, wScratch: usize,
): void {
  dwconv(inp, inH, inW, c, w, wZp, bias, rq, mode, kh, kw, sh, sw, padTop, padLeft, outH, outW, inZp, outZp, actMin, actMax, out, true, oy0, oy1, nextZp, wScratch);
}

// Widen the 8-bit tap pairs [pairs][cp][2] into int16 (w - w_zp) at `dst`: [taps][cp], then the
// pairs [pairs][cp][2] (the layouts the SIMD loops read), then the model's bias [cp]
// (interior bias + x_zp * sum_taps(w - w_zp), for border pixels), then for mode -3 each group's
// [scale][bound] (requant4Scaled, [cp / 4][2][4] int32); returns the bias's address.
@inline
function widenDepthwise(w: usize, wZp: i32, bias: usize, inZp: i32, taps: i32, cp: i32, dst: usize, rq: usize, mode: i32): usize {
  const wzp16 = i16x8.splat(<i16>wZp);
  const ones = i16x8.splat(1);
  const xzp = i32x4.splat(inZp);
  const pairs = (taps + 1) >> 1;
  const plain = dst;
  const paired = dst + (<usize>(taps * cp) << 1);
  const biasModel = paired + (<usize>(pairs * cp) << 2);
  for (let cb = 0; cb < cp; cb += 8) {
    let s0 = i32x4.splat(0), s1 = i32x4.splat(0);
    for (let p = 0; p < pairs; p++) {
      const v = v128.load(w + (<usize>(p * cp + cb) << 1));
      const lo = i16x8.sub(i16x8.extend_low_i8x16_s(v), wzp16); // channels cb..cb+3, taps (2p, 2p+1)
      const hi = i16x8.sub(i16x8.extend_high_i8x16_s(v), wzp16); // channels cb+4..cb+7
      const at = paired + (<usize>(p * cp + cb) << 2);
      v128.store(at, lo);
      v128.store(at, hi, 16);
      // an odd last tap's partner is w_zp: zero here, so it adds nothing to the sums
      s0 = i32x4.add(s0, i32x4.dot_i16x8_s(lo, ones));
      s1 = i32x4.add(s1, i32x4.dot_i16x8_s(hi, ones));
      v128.store(plain + (<usize>(2 * p * cp + cb) << 1), i16x8.shuffle(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14));
      if (2 * p + 1 < taps) v128.store(plain + (<usize>((2 * p + 1) * cp + cb) << 1), i16x8.shuffle(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15));
    }
    const b = bias + (<usize>cb << 2);
    v128.store(biasModel + (<usize>cb << 2), i32x4.add(v128.load(b), i32x4.mul(s0, xzp)));
    v128.store(biasModel + (<usize>cb << 2), i32x4.add(v128.load(b, 16), i32x4.mul(s1, xzp)), 16);
  }
  if (mode == -3) {
    const aux = biasModel + (<usize>cp << 2);
    for (let g = 0; g < cp >> 2; g++) {
      const scale = shortShiftScale(rq + <usize>g * rqGroupBytes(mode));
      v128.store(aux + (<usize>g << 5), scale);
      v128.store(aux + (<usize>g << 5), shortShiftBound(scale), 16);
    }
  }
  return biasModel;
}

// The pixels the 3x3 loop does not take, one call each (not inlined: they cost 1 KB a copy, and
// a call per pixel is small next to a pixel's work): an interior pixel of another filter size,
// 16 channels at a time; w: the widened [taps][cp] weights.
function interiorPixel(
  inp0: usize, c: i32, w: usize, biasInterior: usize, rq: usize, mode: i32, kh: i32, kw: i32, inW: i32,
  outp: usize, wide: bool, outZp: i32, actMin: i32, actMax: i32, nextZp: i32, aux: usize,
): void {
  const cp = (c + 7) & ~7;
  const pixelStride = <usize>c;
  const tapStride = <usize>cp << 1;
  const kPairs = (c + 1) >> 1;
  const chScale: usize = wide ? 8 : 1;
  const zp16 = i16x8.splat(<i16>outZp);
  const lo16 = i16x8.splat(<i16>actMin);
  const hi16 = i16x8.splat(<i16>actMax);
  const nz16 = i16x8.splat(<i16>nextZp);
  const nudge = requantNudge(mode);
  let cb = 0;
  for (; cb + 8 < c; cb += 16) {
    let a0 = v128.load(biasInterior + (<usize>cb << 2));
    let a1 = v128.load(biasInterior + (<usize>cb << 2), 16);
    let a2 = v128.load(biasInterior + (<usize>cb << 2), 32);
    let a3 = v128.load(biasInterior + (<usize>cb << 2), 48);
    let wp = w + (<usize>cb << 1);
    let rowp = inp0 + <usize>cb;
    for (let ky = 0; ky < kh; ky++) {
      let xp = rowp;
      let kx = 0;
      // three taps at a time (the whole row of a 3x3 filter) without loop overhead
      for (; kx + 3 <= kw; kx += 3) {
        let x0 = v128.load8x8_s(xp);
        let x1 = v128.load8x8_s(xp, 8);
        let w0 = v128.load(wp);
        let w1 = v128.load(wp, 16);
        a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x0, w0));
        a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x0, w0));
        a2 = i32x4.add(a2, i32x4.extmul_low_i16x8_s(x1, w1));
        a3 = i32x4.add(a3, i32x4.extmul_high_i16x8_s(x1, w1));
        x0 = v128.load8x8_s(xp + pixelStride);
        x1 = v128.load8x8_s(xp + pixelStride, 8);
        w0 = v128.load(wp + tapStride);
        w1 = v128.load(wp + tapStride, 16);
        a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x0, w0));
        a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x0, w0));
        a2 = i32x4.add(a2, i32x4.extmul_low_i16x8_s(x1, w1));
        a3 = i32x4.add(a3, i32x4.extmul_high_i16x8_s(x1, w1));
        x0 = v128.load8x8_s(xp + pixelStride * 2);
        x1 = v128.load8x8_s(xp + pixelStride * 2, 8);
        w0 = v128.load(wp + tapStride * 2);
        w1 = v128.load(wp + tapStride * 2, 16);
        a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x0, w0));
        a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x0, w0));
        a2 = i32x4.add(a2, i32x4.extmul_low_i16x8_s(x1, w1));
        a3 = i32x4.add(a3, i32x4.extmul_high_i16x8_s(x1, w1));
        xp += pixelStride * 3;
        wp += tapStride * 3;
      }
      for (; kx < kw; kx++) {
        const x0 = v128.load8x8_s(xp);
        const x1 = v128.load8x8_s(xp, 8);
        const w0 = v128.load(wp);
        const w1 = v128.load(wp, 16);
        a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x0, w0));
        a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x0, w0));
        a2 = i32x4.add(a2, i32x4.extmul_low_i16x8_s(x1, w1));
        a3 = i32x4.add(a3, i32x4.extmul_high_i16x8_s(x1, w1));
        xp += pixelStride;
        wp += tapStride;
      }
      rowp += <usize>inW * pixelStride;
    }
    emit(a0, a1, rq, cb, mode, zp16, outp + <usize>(cb) * chScale, c - cb, wide, lo16, hi16, nz16, kPairs - ((cb) >> 1), nudge, aux);
    emit(a2, a3, rq, cb + 8, mode, zp16, outp + <usize>(cb + 8) * chScale, c - cb - 8, wide, lo16, hi16, nz16, kPairs - ((cb + 8) >> 1), nudge, aux);
  }
  if (cb < c) {
    let a0 = v128.load(biasInterior + (<usize>cb << 2));
    let a1 = v128.load(biasInterior + (<usize>cb << 2), 16);
    let wp = w + (<usize>cb << 1);
    let rowp = inp0 + <usize>cb;
    for (let ky = 0; ky < kh; ky++) {
      let xp = rowp;
      for (let kx = 0; kx < kw; kx++) {
        const x0 = v128.load8x8_s(xp);
        const w0 = v128.load(wp);
        a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x0, w0));
        a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x0, w0));
        xp += pixelStride;
        wp += tapStride;
      }
      rowp += <usize>inW * pixelStride;
    }
    emit(a0, a1, rq, cb, mode, zp16, outp + <usize>(cb) * chScale, c - cb, wide, lo16, hi16, nz16, kPairs - ((cb) >> 1), nudge, aux);
  }
}

// A pixel whose window crosses the image border: x_zp subtracted from each in-bounds tap, the
// others skipped. Inlined: as a call it made
// layers of few pixels, most of them border, up to 1.4x slower.
@inline
function borderPixel(
  inp: usize, inH: i32, inW: i32, c: i32, w: usize, biasModel: usize, rq: usize, mode: i32, kh: i32, kw: i32,
  iy0: i32, ix0: i32, inZp: i32, outp: usize, wide: bool, outZp: i32, actMin: i32, actMax: i32, nextZp: i32,
): void {
  const cp = (c + 7) & ~7;
  const pixelStride = <usize>c;
  const tapStride = <usize>cp << 1;
  const kPairs = (c + 1) >> 1;
  const chScale: usize = wide ? 8 : 1;
  const zp16 = i16x8.splat(<i16>outZp);
  const lo16 = i16x8.splat(<i16>actMin);
  const hi16 = i16x8.splat(<i16>actMax);
  const nz16 = i16x8.splat(<i16>nextZp);
  const nudge = requantNudge(mode);
  const xzp = i16x8.splat(<i16>inZp);
  const aux = biasModel + (<usize>cp << 2);
  const ky0 = max(0, -iy0), ky1 = min(kh, inH - iy0);
  const kx0 = max(0, -ix0), kx1 = min(kw, inW - ix0);
  for (let cb = 0; cb < c; cb += 8) {
    let a0 = v128.load(biasModel + (<usize>cb << 2));
    let a1 = v128.load(biasModel + (<usize>cb << 2), 16);
    for (let ky = ky0; ky < ky1; ky++) {
      for (let kx = kx0; kx < kx1; kx++) {
        const xp = inp + (<usize>(iy0 + ky) * <usize>inW + <usize>(ix0 + kx)) * pixelStride + <usize>cb;
        const wp = w + <usize>(ky * kw + kx) * tapStride + (<usize>cb << 1);
        const x0 = i16x8.sub(v128.load8x8_s(xp), xzp);
        const w0 = v128.load(wp);
        a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x0, w0));
        a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x0, w0));
      }
    }
    emit(a0, a1, rq, cb, mode, zp16, outp + <usize>(cb) * chScale, c - cb, wide, lo16, hi16, nz16, kPairs - ((cb) >> 1), nudge, aux);
  }
}

// Inlined into each entry with `wide` a constant (a runtime flag measured 5-10% slower on
// small-channel layers); only the 3x3 interior loop is inlined in it, the rest are calls.
@inline
function dwconv(
  inp: usize, inH: i32, inW: i32, c: i32, w: usize, wZp: i32, bias: usize, rq: usize, mode: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  inZp: i32, outZp: i32, actMin: i32, actMax: i32, out: usize, wide: bool, oy0: i32, oy1: i32, nextZp: i32, wScratch: usize,
): void {
  const kPairs = (c + 1) >> 1;
  const tileBytes = <usize>kPairs << 4;
  // byte step per channel in the output: int8 pixels, or (pair * 16 + lane * 2) in a tile
  const chScale: usize = wide ? 8 : 1;
  const cp = (c + 7) & ~7;
  const pixelStride = <usize>c;
  const pairStride8 = <usize>cp << 1; // bytes between tap pairs in the 8-bit weights
  const tapStride = <usize>cp << 1; // bytes between taps in the widened weights
  const taps = kh * kw;
  if (ASC_FEATURE_SIMD) {
    const zp16 = i16x8.splat(<i16>outZp);
    const lo16 = i16x8.splat(<i16>actMin);
    const hi16 = i16x8.splat(<i16>actMax);
    const nz16 = i16x8.splat(<i16>nextZp);
    const nudge = requantNudge(mode);
    const wide16 = wScratch;
    const biasModel = widenDepthwise(w, wZp, bias, inZp, taps, cp, wide16, rq, mode);
    const aux = biasModel + (<usize>cp << 2);
    const biasInterior = bias;
    w = wide16;
    for (let oy = oy0; oy < oy1; oy++) {
      const iy0 = oy * sh - padTop;
      const rowInterior = iy0 >= 0 && iy0 + kh <= inH;
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * sw - padLeft;
        const outp = outPixel(out, wide, oy - oy0, ox, outW, pixelStride, tileBytes);
        if (rowInterior && ix0 >= 0 && ix0 + kw <= inW) {
          const inp0 = inp + (<usize>iy0 * <usize>inW + <usize>ix0) * pixelStride;
          if (kh == 3 && kw == 3) {
            // 3x3: taps paired (t0,t1) (t2,t3) (t4,t5) (t6,t7) (t8,-) through dot_i16x8, 8
            // channels at a time (two accumulators: no spills in V8). The last pair's partner
            // weight is zero, so its activation half may be anything (t8 itself here).
            const rowOff = <usize>inW * pixelStride;
            const pairStride = <usize>cp << 2;
            const wPairs = w + tapStride * 9;
            for (let cb = 0; cb < c; cb += 8) {
              let a0 = v128.load(biasInterior + (<usize>cb << 2));
              let a1 = v128.load(biasInterior + (<usize>cb << 2), 16);
              const x = inp0 + <usize>cb;
              const wq = wPairs + (<usize>cb << 2);
              let p = v128.load8x8_s(x);
              let q = v128.load8x8_s(x + pixelStride);
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.shuffle(p, q, 0, 8, 1, 9, 2, 10, 3, 11), v128.load(wq)));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.shuffle(p, q, 4, 12, 5, 13, 6, 14, 7, 15), v128.load(wq, 16)));
              p = v128.load8x8_s(x + pixelStride * 2);
              q = v128.load8x8_s(x + rowOff);
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.shuffle(p, q, 0, 8, 1, 9, 2, 10, 3, 11), v128.load(wq + pairStride)));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.shuffle(p, q, 4, 12, 5, 13, 6, 14, 7, 15), v128.load(wq + pairStride, 16)));
              p = v128.load8x8_s(x + rowOff + pixelStride);
              q = v128.load8x8_s(x + rowOff + pixelStride * 2);
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.shuffle(p, q, 0, 8, 1, 9, 2, 10, 3, 11), v128.load(wq + pairStride * 2)));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.shuffle(p, q, 4, 12, 5, 13, 6, 14, 7, 15), v128.load(wq + pairStride * 2, 16)));
              p = v128.load8x8_s(x + rowOff * 2);
              q = v128.load8x8_s(x + rowOff * 2 + pixelStride);
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.shuffle(p, q, 0, 8, 1, 9, 2, 10, 3, 11), v128.load(wq + pairStride * 3)));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.shuffle(p, q, 4, 12, 5, 13, 6, 14, 7, 15), v128.load(wq + pairStride * 3, 16)));
              p = v128.load8x8_s(x + rowOff * 2 + pixelStride * 2);
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.shuffle(p, p, 0, 8, 1, 9, 2, 10, 3, 11), v128.load(wq + pairStride * 4)));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.shuffle(p, p, 4, 12, 5, 13, 6, 14, 7, 15), v128.load(wq + pairStride * 4, 16)));
              emit(a0, a1, rq, cb, mode, zp16, outp + <usize>(cb) * chScale, c - cb, wide, lo16, hi16, nz16, kPairs - ((cb) >> 1), nudge, aux);
            }
          } else {
            interiorPixel(inp0, c, w, biasInterior, rq, mode, kh, kw, inW, outp, wide, outZp, actMin, actMax, nextZp, aux);
          }
        } else {
          borderPixel(inp, inH, inW, c, w, biasModel, rq, mode, kh, kw, iy0, ix0, inZp, outp, wide, outZp, actMin, actMax, nextZp);
        }
      }
    }
  } else {
    for (let oy = oy0; oy < oy1; oy++) {
      const iy0 = oy * sh - padTop;
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * sw - padLeft;
        const outp = outPixel(out, wide, oy - oy0, ox, outW, pixelStride, tileBytes);
        for (let ch = 0; ch < c; ch++) {
          let acc = load<i32>(bias + (<usize>ch << 2));
          for (let t = 0; t < taps; t++) {
            const iy = iy0 + t / kw, ix = ix0 + t % kw;
            const xv = iy >= 0 && iy < inH && ix >= 0 && ix < inW ? <i32>load<i8>(inp + (<usize>iy * <usize>inW + <usize>ix) * pixelStride + <usize>ch) : inZp;
            const wv = <i32>load<i8>(w + <usize>(t >> 1) * pairStride8 + (<usize>ch << 1) + <usize>(t & 1)) - wZp;
            acc += xv * wv;
          }
          const y = requantScalar(acc, rq, ch, mode, outZp, actMin, actMax);
          if (wide) store<i16>(outp + (<usize>(ch >> 1) << 4) + (<usize>(ch & 1) << 1), <i16>(y - nextZp));
          else store<i8>(outp + <usize>ch, <i8>y);
        }
      }
    }
  }
}
