// MEAN over the H and W axes of one [h, w, c] int8 image (the host loops over the batch):
// TFLite 2.14's reference QuantizedMeanOrSum. Per channel the int32 sum of the stored values,
// minus zp_in * N (the host's zpTimesCount, int32 wrap as C's cast), then
// MultiplyByQuantizedMultiplier with the multiplier that already has 1/N folded in (see
// src/ops/mean), + output zero point, clamped to int8 storage. The sums are exact int32 adds in
// any lane order, so scalar, simd and relaxed builds agree bit for bit.

// TFLite MultiplyByQuantizedMultiplier (double rounding): x << left, SaturatingRoundingDoublingHighMul
// (floor((a*b + 2^30) / 2^31); the multiplier is >= 0 so it never saturates), RoundingDivideByPOT
@inline
function multiplyByQuantizedMultiplier(x: i32, multiplier: i32, shift: i32): i32 {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const scaled = x << left;
  const high = <i32>((<i64>scaled * <i64>multiplier + (<i64>1 << 30)) >> 31);
  const mask = <i32>((<u32>1 << <u32>right) - 1);
  const remainder = high & mask;
  const threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
}

@inline
function finish(sum: i32, zpTimesCount: i32, multiplier: i32, shift: i32, outZp: i32): i8 {
  let r = multiplyByQuantizedMultiplier(sum - zpTimesCount, multiplier, shift) + outZp;
  if (r < -128) r = -128;
  if (r > 127) r = 127;
  return <i8>r;
}

export function q8_mean_hw(inp: usize, pixels: i32, c: i32, zpTimesCount: i32, multiplier: i32, shift: i32, outZp: i32, out: usize): void {
  const stride = <usize>c;
  let ch = 0;
  if (ASC_FEATURE_SIMD) {
    // 8 channels at a time, widened to two i32x4 sums
    for (; ch + 8 <= c; ch += 8) {
      let lo = i32x4.splat(0);
      let hi = i32x4.splat(0);
      let p = inp + <usize>ch;
      for (let i = 0; i < pixels; i++, p += stride) {
        const v = v128.load8x8_s(p);
        lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(v));
        hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(v));
      }
      const dst = out + <usize>ch;
      store<i8>(dst, finish(i32x4.extract_lane(lo, 0), zpTimesCount, multiplier, shift, outZp), 0);
      store<i8>(dst, finish(i32x4.extract_lane(lo, 1), zpTimesCount, multiplier, shift, outZp), 1);
      store<i8>(dst, finish(i32x4.extract_lane(lo, 2), zpTimesCount, multiplier, shift, outZp), 2);
      store<i8>(dst, finish(i32x4.extract_lane(lo, 3), zpTimesCount, multiplier, shift, outZp), 3);
      store<i8>(dst, finish(i32x4.extract_lane(hi, 0), zpTimesCount, multiplier, shift, outZp), 4);
      store<i8>(dst, finish(i32x4.extract_lane(hi, 1), zpTimesCount, multiplier, shift, outZp), 5);
      store<i8>(dst, finish(i32x4.extract_lane(hi, 2), zpTimesCount, multiplier, shift, outZp), 6);
      store<i8>(dst, finish(i32x4.extract_lane(hi, 3), zpTimesCount, multiplier, shift, outZp), 7);
    }
  }
  for (; ch < c; ch++) {
    let sum = 0;
    let p = inp + <usize>ch;
    for (let i = 0; i < pixels; i++, p += stride) sum += <i32>load<i8>(p);
    store<i8>(out + <usize>ch, finish(sum, zpTimesCount, multiplier, shift, outZp));
  }
}
