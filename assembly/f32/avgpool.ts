// Average pooling, NHWC, TFLite semantics: each output divides by the number of taps inside
// the input (padding is not counted), then the activation clamp.
import { clamp4, clamp1, storeLanes } from "./common";

export function f32_avgpool(
  input: usize, output: usize,
  inH: i32, inW: i32, C: i32, outH: i32, outW: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  actMin: f32, actMax: f32,
): void {
  if (C <= 0) return;
  const pixB = <usize>C << 2;
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padTop;
    const kyLo = max(0, -iy0), kyHi = min(KH, inH - iy0);
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * strideW - padLeft;
      const kxLo = max(0, -ix0), kxHi = min(KW, inW - ix0);
      const count = <f32>(max(0, kyHi - kyLo) * max(0, kxHi - kxLo));
      const out = output + <usize>(oy * outW + ox) * pixB;
      if (ASC_FEATURE_SIMD) {
        const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
        const n = f32x4.splat(count);
        for (let c = 0; c < C; c += 4) {
          const co = <usize>c << 2;
          let acc = f32x4.splat(0);
          for (let ky = kyLo; ky < kyHi; ky++) {
            const row = input + <usize>((iy0 + ky) * inW + ix0) * pixB + co;
            for (let kx = kxLo; kx < kxHi; kx++) {
              acc = f32x4.add(acc, v128.load(row + <usize>kx * pixB));
            }
          }
          // divide (not multiply by 1/count) to round like TFLite
          acc = clamp4(f32x4.div(acc, n), lo, hi);
          if (c + 4 <= C) v128.store(out + co, acc);
          else storeLanes(out + co, acc, C - c);
        }
      } else {
        for (let c = 0; c < C; c++) {
          const co = <usize>c << 2;
          let acc: f32 = 0;
          for (let ky = kyLo; ky < kyHi; ky++) {
            const row = input + <usize>((iy0 + ky) * inW + ix0) * pixB + co;
            for (let kx = kxLo; kx < kxHi; kx++) acc += load<f32>(row + <usize>kx * pixB);
          }
          store<f32>(out + co, clamp1(acc / count, actMin, actMax));
        }
      }
    }
  }
}
