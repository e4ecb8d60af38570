// Full KxK convolution straight from NHWC input (no im2col), meant for the MobileNet stem
// (3x3, stride 2, 3 input channels).
//
// One filter row (kw * inC values, contiguous in NHWC input) is taken two values at a time:
// the pair (x[k] - x_zp, x[k+1] - x_zp) is splatted as an i32 and i32x4.dot_i16x8_s'ed with
// four output channels' (w[k], w[k+1]), giving 4 output channels per instruction and no
// horizontal reduction. Up to 32 output channels stay in registers while the patch streams by.
//
// Weights packed by the host (src/quant/pack.ts packConvWeights): 8-bit in int8 storage (uint8
// - 128, as activations) as [kh][P][OCp][2] with P = ceil(kw * inC / 2) pairs per row, OCp =
// outC rounded up to 8; the odd pad value and padded channels are `wZp` (the stored weight zero
// point). bias: int32 [OCp]. The weight zero point is taken off on the activation side: the
// kernel sums (x - x_zp) * w over a pair and, once for all channels, (x - x_zp) * w_zp in one
// more dot, subtracted at the end (exact in int32: both sums are the terms of TFLite's).
// Out-of-image taps contribute nothing (TFLite skips them): interior pixels read pairs straight
// from memory (a pair may overrun its row by one byte; it meets a zero weight), border pixels
// build pairs with zeros for the missing taps.

import { rqGroupBytes, pack8, requant4Call, requantScalar, storePartial } from "./requant";

// (x[k] - zp, x[k+1] - zp) for a border pixel: taps outside the image give 0
@inline
function borderPair(rowp: usize, k: i32, rowLen: i32, inC: i32, ix0: i32, inW: i32, inZp: i32): v128 {
  let lo = 0, hi = 0;
  const ix = ix0 + k / inC;
  if (ix >= 0 && ix < inW) lo = <i32>load<i8>(rowp + <usize>k) - inZp;
  const k1 = k + 1;
  const ix1 = ix0 + k1 / inC;
  if (k1 < rowLen && ix1 >= 0 && ix1 < inW) hi = <i32>load<i8>(rowp + <usize>k1) - inZp;
  return i32x4.splat((lo & 0xffff) | (hi << 16));
}

@inline
function storeUpTo8(dst: usize, b: v128, valid: i32): void {
  if (valid >= 8) v128.store64_lane(dst, b, 0);
  else if (valid > 0) storePartial(dst, b, valid);
}

export function q8_conv(
  inp: usize, inH: i32, inW: i32, inC: i32, w: usize, wZp: i32, bias: usize, rq: usize, mode: i32, outC: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  inZp: i32, outZp: i32, actMin: i32, actMax: i32, out: usize,
): void {
  const ocp = (outC + 7) & ~7;
  const rowLen = kw * inC;
  const pairs = (rowLen + 1) >> 1;
  const pairStride = <usize>ocp << 1; // bytes per pair index in the packed weights
  const rqStep = rqGroupBytes(mode);
  const rowStride = <usize>pairs * pairStride; // bytes per filter row
  const inRowBytes = <usize>inW * <usize>inC;
  if (ASC_FEATURE_SIMD) {
    const zp16 = i16x8.splat(<i16>outZp);
    const lo8 = i8x16.splat(<i8>actMin);
    const hi8 = i8x16.splat(<i8>actMax);
    const xzp = i16x8.splat(<i16>inZp);
    const wzp16 = i16x8.splat(<i16>wZp);
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * sh - padTop;
      const ky0 = max(0, -iy0), ky1 = min(kh, inH - iy0);
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * sw - padLeft;
        const interior = ix0 >= 0 && ix0 + kw <= inW;
        const outp = out + (<usize>oy * <usize>outW + <usize>ox) * <usize>outC;
        const patch = inp + <usize>iy0 * inRowBytes + <usize>ix0 * <usize>inC; // may be "negative": only offset, never read out of bounds
        let ob = 0;
        // 32 output channels at a time: 8 accumulators
        for (; ob + 32 <= ocp; ob += 32) {
          let a0 = v128.load(bias + (<usize>ob << 2)), a1 = v128.load(bias + (<usize>ob << 2), 16);
          let a2 = v128.load(bias + (<usize>ob << 2), 32), a3 = v128.load(bias + (<usize>ob << 2), 48);
          let a4 = v128.load(bias + (<usize>ob << 2), 64), a5 = v128.load(bias + (<usize>ob << 2), 80);
          let a6 = v128.load(bias + (<usize>ob << 2), 96), a7 = v128.load(bias + (<usize>ob << 2), 112);
          let az = i32x4.splat(0);
          for (let ky = ky0; ky < ky1; ky++) {
            const rowp = patch + <usize>ky * inRowBytes;
            let wp = w + <usize>ky * rowStride + (<usize>ob << 1);
            for (let k = 0; k < rowLen; k += 2) {
              const xp = interior
                ? i16x8.sub(i16x8.extend_low_i8x16_s(v128.load16_splat(rowp + <usize>k)), xzp)
                : borderPair(rowp, k, rowLen, inC, ix0, inW, inZp);
              az = i32x4.add(az, i32x4.dot_i16x8_s(xp, wzp16));
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp)));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp, 8)));
              a2 = i32x4.add(a2, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp, 16)));
              a3 = i32x4.add(a3, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp, 24)));
              a4 = i32x4.add(a4, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp, 32)));
              a5 = i32x4.add(a5, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp, 40)));
              a6 = i32x4.add(a6, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp, 48)));
              a7 = i32x4.add(a7, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp, 56)));
              wp += pairStride;
            }
          }
          a0 = i32x4.sub(a0, az); a1 = i32x4.sub(a1, az); a2 = i32x4.sub(a2, az); a3 = i32x4.sub(a3, az);
          a4 = i32x4.sub(a4, az); a5 = i32x4.sub(a5, az); a6 = i32x4.sub(a6, az); a7 = i32x4.sub(a7, az);
          const rqg = rq + <usize>(ob >> 2) * rqStep;
          const b0 = pack8(requant4Call(a0, rqg, mode), requant4Call(a1, rqg + rqStep, mode), zp16, lo8, hi8);
          const b1 = pack8(requant4Call(a2, rqg + rqStep * 2, mode), requant4Call(a3, rqg + rqStep * 3, mode), zp16, lo8, hi8);
          const b2 = pack8(requant4Call(a4, rqg + rqStep * 4, mode), requant4Call(a5, rqg + rqStep * 5, mode), zp16, lo8, hi8);
          const b3 = pack8(requant4Call(a6, rqg + rqStep * 6, mode), requant4Call(a7, rqg + rqStep * 7, mode), zp16, lo8, hi8);
          const valid = outC - ob;
          const dst = outp + <usize>ob;
          if (valid >= 32) {
            v128.store64_lane(dst, b0, 0);
            v128.store64_lane(dst, b1, 0, 8);
            v128.store64_lane(dst, b2, 0, 16);
            v128.store64_lane(dst, b3, 0, 24);
          } else {
            // the last block of channels: whole groups of 8, then the rest
            storeUpTo8(dst, b0, valid);
            storeUpTo8(dst + 8, b1, valid - 8);
            storeUpTo8(dst + 16, b2, valid - 16);
            storeUpTo8(dst + 24, b3, valid - 24);
          }
        }
        // remaining channels 8 at a time
        for (; ob < ocp; ob += 8) {
          let a0 = v128.load(bias + (<usize>ob << 2)), a1 = v128.load(bias + (<usize>ob << 2), 16);
          let az = i32x4.splat(0);
          for (let ky = ky0; ky < ky1; ky++) {
            const rowp = patch + <usize>ky * inRowBytes;
            let wp = w + <usize>ky * rowStride + (<usize>ob << 1);
            for (let k = 0; k < rowLen; k += 2) {
              const xp = interior
                ? i16x8.sub(i16x8.extend_low_i8x16_s(v128.load16_splat(rowp + <usize>k)), xzp)
                : borderPair(rowp, k, rowLen, inC, ix0, inW, inZp);
              az = i32x4.add(az, i32x4.dot_i16x8_s(xp, wzp16));
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp)));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xp, v128.load8x8_s(wp, 8)));
              wp += pairStride;
            }
          }
          const rqg = rq + <usize>(ob >> 2) * rqStep;
          const b = pack8(requant4Call(i32x4.sub(a0, az), rqg, mode), requant4Call(i32x4.sub(a1, az), rqg + rqStep, mode), zp16, lo8, hi8);
          const valid = outC - ob;
          if (valid >= 8) v128.store64_lane(outp + <usize>ob, b, 0);
          else storePartial(outp + <usize>ob, b, valid);
        }
      }
    }
  } else {
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * sh - padTop;
      const ky0 = max(0, -iy0), ky1 = min(kh, inH - iy0);
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * sw - padLeft;
        const kx0 = max(0, -ix0), kx1 = min(kw, inW - ix0);
        const outp = out + (<usize>oy * <usize>outW + <usize>ox) * <usize>outC;
        for (let oc = 0; oc < outC; oc++) {
          let acc = load<i32>(bias + (<usize>oc << 2));
          for (let ky = ky0; ky < ky1; ky++) {
            const rowp = inp + <usize>(iy0 + ky) * inRowBytes + <usize>(ix0 + kx0) * <usize>inC;
            const wrow = w + <usize>ky * rowStride + (<usize>oc << 1);
            for (let k = kx0 * inC; k < kx1 * inC; k++) {
              const wv = <i32>load<i8>(wrow + <usize>(k >> 1) * pairStride + <usize>(k & 1)) - wZp;
              acc += (<i32>load<i8>(rowp + <usize>(k - kx0 * inC)) - inZp) * wv;
            }
          }
          store<i8>(outp + <usize>oc, <i8>requantScalar(acc, rq, oc, mode, outZp, actMin, actMax));
        }
      }
    }
  }
}
