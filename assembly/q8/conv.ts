// Full KxK convolution straight from NHWC input (no im2col), meant for the MobileNet stem
// (3x3, stride 2, 3 input channels).
//
// Weights packed by the host (src/quant/pack.ts packConvWeights): int16 (w - w_zp) as
// [kh][kw][inC][OCp], OCp = outC rounded up to 8, zero in the padded output channels.
// bias: int32 [OCp]. Out-of-image taps are skipped (TFLite adds nothing for them), in-image taps
// contribute (x - x_zp) * (w - w_zp).

import { RQ_GROUP_BYTES, pack8, requant4, requantScalar, storePartial } from "./requant";

export function q8_conv(
  inp: usize, inH: i32, inW: i32, inC: i32, w: usize, bias: usize, rq: usize, mode: i32, outC: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  inZp: i32, outZp: i32, actMin: i32, actMax: i32, out: usize,
): void {
  const ocp = (outC + 7) & ~7;
  const icStride = <usize>ocp << 1; // bytes between input channels in the packed weights
  const tapStride = <usize>inC * icStride;
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * sh - padTop;
    const ky0 = max(0, -iy0), ky1 = min(kh, inH - iy0);
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * sw - padLeft;
      const kx0 = max(0, -ix0), kx1 = min(kw, inW - ix0);
      const outp = out + (<usize>oy * <usize>outW + <usize>ox) * <usize>outC;
      if (ASC_FEATURE_SIMD) {
        const zp16 = i16x8.splat(<i16>outZp);
        const lo8 = i8x16.splat(<i8>actMin);
        const hi8 = i8x16.splat(<i8>actMax);
        for (let ob = 0; ob < outC; ob += 8) {
          let a0 = v128.load(bias + (<usize>ob << 2));
          let a1 = v128.load(bias + (<usize>ob << 2), 16);
          for (let ky = ky0; ky < ky1; ky++) {
            for (let kx = kx0; kx < kx1; kx++) {
              const xp = inp + (<usize>(iy0 + ky) * <usize>inW + <usize>(ix0 + kx)) * <usize>inC;
              let wp = w + <usize>(ky * kw + kx) * tapStride + (<usize>ob << 1);
              for (let ic = 0; ic < inC; ic++) {
                const xv = i16x8.splat(<i16>(<i32>load<i8>(xp + <usize>ic) - inZp));
                const wv = v128.load(wp);
                a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(xv, wv));
                a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(xv, wv));
                wp += icStride;
              }
            }
          }
          const rqg = rq + <usize>(ob >> 2) * RQ_GROUP_BYTES;
          const b = pack8(requant4(a0, rqg, mode), requant4(a1, rqg + RQ_GROUP_BYTES, mode), zp16, lo8, hi8);
          const valid = outC - ob;
          if (valid >= 8) v128.store64_lane(outp + <usize>ob, b, 0);
          else storePartial(outp + <usize>ob, b, valid);
        }
      } else {
        for (let oc = 0; oc < outC; oc++) {
          let acc = load<i32>(bias + (<usize>oc << 2));
          for (let ky = ky0; ky < ky1; ky++) {
            for (let kx = kx0; kx < kx1; kx++) {
              const xp = inp + (<usize>(iy0 + ky) * <usize>inW + <usize>(ix0 + kx)) * <usize>inC;
              const wp = w + <usize>(ky * kw + kx) * tapStride + (<usize>oc << 1);
              for (let ic = 0; ic < inC; ic++) {
                acc += (<i32>load<i8>(xp + <usize>ic) - inZp) * <i32>load<i16>(wp + <usize>ic * icStride);
              }
            }
          }
          store<i8>(outp + <usize>oc, <i8>requantScalar(acc, rq, oc, outZp, actMin, actMax));
        }
      }
    }
  }
}
