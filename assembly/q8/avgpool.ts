// Average pooling KxK (MobileNet uses a global 7x7 one) over int8 activations, input and output
// sharing scale and zero point as TFLite requires. Padded taps are not counted.
// TFLite's uint8 kernel rounds (sum + n/2) / n on non-negative sums; on our shifted storage
// (value - 128) that is floor((S + floor(n/2)) / n) for the shifted sum S (roundMode 0).
// The int8 kernel rounds half away from zero with C division (roundMode 1).
// Runs once per model on a few thousand values: scalar in every build.

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
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            s += <i32>load<i8>(inp + (<usize>y * <usize>inW + <usize>x) * <usize>c + <usize>ch);
          }
        }
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
        store<i8>(outp + <usize>ch, <i8>r);
      }
    }
  }
}
