// General KxK convolution (the MobileNet stem: 3x3 stride 2 over 3 input channels), NHWC,
// without an im2col copy: per output pixel, loop the in-bounds taps and input channels and
// keep output channels in vectors. Weights come packed by the host as
// [KH][KW][inC][outC padded to 8] (zeros past outC); bias padded to 8 too.
import { madd, clamp4, clamp1, storeLanes8 } from "./common";

export function f32_conv(
  input: usize, w: usize, bias: usize, output: usize,
  inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  actMin: f32, actMax: f32,
): void {
  if (outC <= 0 || inC <= 0) return;
  const outCp = (outC + 7) & ~7;
  const wRowB = <usize>outCp << 2; // one (tap, input channel) row of packed weights
  const inPixB = <usize>inC << 2;
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padTop;
    const kyLo = max(0, -iy0), kyHi = min(KH, inH - iy0);
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * strideW - padLeft;
      const kxLo = max(0, -ix0), kxHi = min(KW, inW - ix0);
      const out = output + (<usize>(oy * outW + ox) * outC << 2);
      if (ASC_FEATURE_SIMD) {
        let ob = 0;
        // 16 output channels per pass where possible: each broadcast input feeds 4 vectors
        for (; ob + 16 <= outCp; ob += 16) {
          convBlock16(input, w, bias, out, ob, iy0, ix0, kyLo, kyHi, kxLo, kxHi, inW, inC, KW, outC, wRowB, actMin, actMax);
        }
        if (ob < outCp) {
          convBlock8(input, w, bias, out, ob, iy0, ix0, kyLo, kyHi, kxLo, kxHi, inW, inC, KW, outC, wRowB, actMin, actMax);
        }
      } else {
        // 8 output channels (one packed weight row) per pass, as in the GEMM's scalar row
        for (let ob = 0; ob < outC; ob += 8) {
          const bo = <usize>ob << 2;
          let a0 = load<f32>(bias + bo), a1 = load<f32>(bias + bo, 4), a2 = load<f32>(bias + bo, 8), a3 = load<f32>(bias + bo, 12);
          let a4 = load<f32>(bias + bo, 16), a5 = load<f32>(bias + bo, 20), a6 = load<f32>(bias + bo, 24), a7 = load<f32>(bias + bo, 28);
          for (let ky = kyLo; ky < kyHi; ky++) {
            for (let kx = kxLo; kx < kxHi; kx++) {
              let ip = input + <usize>((iy0 + ky) * inW + ix0 + kx) * inPixB;
              let wp = w + <usize>((ky * KW + kx) * inC) * wRowB + bo;
              const end = ip + inPixB;
              for (; ip < end; ip += 4) {
                const x = load<f32>(ip);
                a0 += x * load<f32>(wp); a1 += x * load<f32>(wp, 4);
                a2 += x * load<f32>(wp, 8); a3 += x * load<f32>(wp, 12);
                a4 += x * load<f32>(wp, 16); a5 += x * load<f32>(wp, 20);
                a6 += x * load<f32>(wp, 24); a7 += x * load<f32>(wp, 28);
                wp += wRowB;
              }
            }
          }
          const op = out + bo;
          const n = outC - ob;
          store<f32>(op, clamp1(a0, actMin, actMax));
          if (n > 1) store<f32>(op, clamp1(a1, actMin, actMax), 4);
          if (n > 2) store<f32>(op, clamp1(a2, actMin, actMax), 8);
          if (n > 3) store<f32>(op, clamp1(a3, actMin, actMax), 12);
          if (n > 4) store<f32>(op, clamp1(a4, actMin, actMax), 16);
          if (n > 5) store<f32>(op, clamp1(a5, actMin, actMax), 20);
          if (n > 6) store<f32>(op, clamp1(a6, actMin, actMax), 24);
          if (n > 7) store<f32>(op, clamp1(a7, actMin, actMax), 28);
        }
      }
    }
  }
}

function convBlock16(
  input: usize, w: usize, bias: usize, out: usize, ob: i32, iy0: i32, ix0: i32,
  kyLo: i32, kyHi: i32, kxLo: i32, kxHi: i32, inW: i32, inC: i32, KW: i32, outC: i32,
  wRowB: usize, actMin: f32, actMax: f32,
): void {
  const bo = <usize>ob << 2;
  let a0 = v128.load(bias + bo), a1 = v128.load(bias + bo, 16);
  let a2 = v128.load(bias + bo, 32), a3 = v128.load(bias + bo, 48);
  for (let ky = kyLo; ky < kyHi; ky++) {
    for (let kx = kxLo; kx < kxHi; kx++) {
      let ip = input + (<usize>((iy0 + ky) * inW + ix0 + kx) * inC << 2);
      let wp = w + <usize>((ky * KW + kx) * inC) * wRowB + bo;
      const end = ip + (<usize>inC << 2);
      for (; ip < end; ip += 4) {
        const x = v128.load32_splat(ip);
        a0 = madd(x, v128.load(wp), a0);
        a1 = madd(x, v128.load(wp, 16), a1);
        a2 = madd(x, v128.load(wp, 32), a2);
        a3 = madd(x, v128.load(wp, 48), a3);
        wp += wRowB;
      }
    }
  }
  const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
  a0 = clamp4(a0, lo, hi); a1 = clamp4(a1, lo, hi);
  a2 = clamp4(a2, lo, hi); a3 = clamp4(a3, lo, hi);
  const left = outC - ob;
  if (left >= 16) {
    v128.store(out + bo, a0); v128.store(out + bo, a1, 16);
    v128.store(out + bo, a2, 32); v128.store(out + bo, a3, 48);
  } else if (left > 8) {
    v128.store(out + bo, a0); v128.store(out + bo, a1, 16);
    storeLanes8(out + bo + 32, a2, a3, left - 8);
  } else {
    storeLanes8(out + bo, a0, a1, left);
  }
}

function convBlock8(
  input: usize, w: usize, bias: usize, out: usize, ob: i32, iy0: i32, ix0: i32,
  kyLo: i32, kyHi: i32, kxLo: i32, kxHi: i32, inW: i32, inC: i32, KW: i32, outC: i32,
  wRowB: usize, actMin: f32, actMax: f32,
): void {
  const bo = <usize>ob << 2;
  let a0 = v128.load(bias + bo), a1 = v128.load(bias + bo, 16);
  for (let ky = kyLo; ky < kyHi; ky++) {
    for (let kx = kxLo; kx < kxHi; kx++) {
      let ip = input + (<usize>((iy0 + ky) * inW + ix0 + kx) * inC << 2);
      let wp = w + <usize>((ky * KW + kx) * inC) * wRowB + bo;
      const end = ip + (<usize>inC << 2);
      for (; ip < end; ip += 4) {
        const x = v128.load32_splat(ip);
        a0 = madd(x, v128.load(wp), a0);
        a1 = madd(x, v128.load(wp, 16), a1);
        wp += wRowB;
      }
    }
  }
  const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
  a0 = clamp4(a0, lo, hi); a1 = clamp4(a1, lo, hi);
  const left = outC - ob;
  if (left >= 8) {
    v128.store(out + bo, a0); v128.store(out + bo, a1, 16);
  } else {
    storeLanes8(out + bo, a0, a1, left);
  }
}
