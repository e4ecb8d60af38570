// Average pooling KxK (MobileNet uses a global 7x7 one) over int8 activations, input and output
// sharing scale and zero point as TFLite requires. Padded taps are not counted.
// TFLite's uint8 kernel rounds (sum + n/2) / n on non-negative sums; on our shifted storage
// (value - 128) that is floor((S + floor(n/2)) / n) for the shifted sum S (roundMode 0).
// The int8 kernel rounds half away from zero with C division (roundMode 1).
// SIMD: 8 channels summed at a time in int16 lanes (exact while the window has <= 256 taps:
// |sum| <= 256 * 128), then the division per channel; loads may read 7 bytes past a pixel.

// TFLite's rounding of the window sum s over n taps, then the activation clamp
@inline
function average(s: i32, n: i32, roundMode: i32, actMin: i32, actMax: i32): i32 {
  let r: i32;
  if (n <= 0) {
    r = 0;
  } else if (roundMode == 0) {
    const t = s + (n >> 1);
    // floor division for either sign
    r = t >= 0 ? t / n : -((-t + n - 1) / n);
  } else {
    r = s > 0 ? (s + (n >> 1)) / n : (s - (n >> 1)) / n;
  }
  if (r < actMin) r = actMin;
  if (r > actMax) r = actMax;
  return r;
}

export function q8_avgpool(
  inp: usize, inH: i32, inW: i32, c: i32, kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
  outH: i32, outW: i32, actMin: i32, actMax: i32, roundMode: i32, out: usize,
): void {
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * sh - padTop;
    const y0 = max(0, iy0), y1 = min(inH, iy0 + kh);
    for (let ox = 0; ox < outW; ox++) {
      const ix0 = ox * sw - padLeft;
      const x0 = max(0, ix0), x1 = min(inW, ix0 + kw);
      const n = (y1 - y0) * (x1 - x0);
      const outp = out + (<usize>oy * <usize>outW + <usize>ox) * <usize>c;
      let ch = 0;
      if (ASC_FEATURE_SIMD) {
        if (n <= 256) {
          for (; ch < c; ch += 8) {
            let acc = i16x8.splat(0);
            for (let y = y0; y < y1; y++) {
              for (let x = x0; x < x1; x++) {
                acc = i16x8.add(acc, v128.load8x8_s(inp + (<usize>y * <usize>inW + <usize>x) * <usize>c + <usize>ch));
              }
            }
            const valid = c - ch;
            const dst = outp + <usize>ch;
            store<i8>(dst, <i8>average(i16x8.extract_lane_s(acc, 0), n, roundMode, actMin, actMax));
            if (valid > 1) store<i8>(dst, <i8>average(i16x8.extract_lane_s(acc, 1), n, roundMode, actMin, actMax), 1);
            if (valid > 2) store<i8>(dst, <i8>average(i16x8.extract_lane_s(acc, 2), n, roundMode, actMin, actMax), 2);
            if (valid > 3) store<i8>(dst, <i8>average(i16x8.extract_lane_s(acc, 3), n, roundMode, actMin, actMax), 3);
            if (valid > 4) store<i8>(dst, <i8>average(i16x8.extract_lane_s(acc, 4), n, roundMode, actMin, actMax), 4);
            if (valid > 5) store<i8>(dst, <i8>average(i16x8.extract_lane_s(acc, 5), n, roundMode, actMin, actMax), 5);
            if (valid > 6) store<i8>(dst, <i8>average(i16x8.extract_lane_s(acc, 6), n, roundMode, actMin, actMax), 6);
            if (valid > 7) store<i8>(dst, <i8>average(i16x8.extract_lane_s(acc, 7), n, roundMode, actMin, actMax), 7);
          }
        }
      }
      for (; ch < c; ch++) {
        let s = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            s += <i32>load<i8>(inp + (<usize>y * <usize>inW + <usize>x) * <usize>c + <usize>ch);
          }
        }
        const r = average(s, n, roundMode, actMin, actMax);
        store<i8>(outp + <usize>ch, <i8>r);
      }
    }
  }
}
