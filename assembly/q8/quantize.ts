// QUANTIZE float32 -> int8 storage (uint8 tensors stored shifted by -128), as TFLite's reference
// kernel: q = clamp(round_half_away(x / scale) + zero_point, qmin, qmax), the division in float32.
// The rounding runs in f64 on the float32 quotient (exact there), as the host's JS did; NaN goes
// to qmin (TFLite's int conversion of NaN is undefined).
// SIMD: 8 elements at a time, all in f32 and exact (the scalar f64 loop was the slowest layer of
// a small full-integer model: 0.22 of 1.28 ms at 0.25/128):
//   rounding is monotonic and maps integers to themselves, so clamping the quotient to the
//   integers [qmin - zp, qmax - zp] first gives the same result as clamping after; pmax/pmin
//   also send NaN (every compare false) to qmin, as the loop does, and +-Infinity to the ends;
//   t = trunc(c), and d = c - t is exact (the fraction of a float is a float), so
//   round_half_away(c) = t + trunc(2d) (2d in (-2, 2): +-1 exactly when |d| >= 0.5);
//   the integer r (|r| < 2^9) is read from the bits of r + 1.5 * 2^23, whose unit is 1.
const MAGIC: f32 = 12582912; // 1.5 * 2^23, bits 0x4B400000

@inline
function quantize4(p: usize, s: v128, lo: v128, hi: v128, magic: v128, offset: v128): v128 {
  const c = f32x4.pmin(hi, f32x4.pmax(lo, f32x4.div(v128.load(p), s)));
  const t = f32x4.trunc(c);
  const d = f32x4.sub(c, t);
  return i32x4.sub(f32x4.add(f32x4.add(t, f32x4.trunc(f32x4.add(d, d))), magic), offset);
}

export function q8_quantize_f32(
  inp: usize, out: usize, n: i32, scale: f32, zeroPoint: i32, qmin: i32, qmax: i32, storedShift: i32,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(scale);
    const lo = f32x4.splat(<f32>(qmin - zeroPoint)), hi = f32x4.splat(<f32>(qmax - zeroPoint));
    const magic = f32x4.splat(MAGIC);
    // bits(r + magic) - offset = r + zero point - storedShift
    const offset = i32x4.splat(0x4b400000 - zeroPoint + storedShift);
    for (; i + 8 <= n; i += 8) {
      const p = inp + (<usize>i << 2);
      // stored values lie in [-128, 127]: the saturating narrows are exact
      const w = i16x8.narrow_i32x4_s(quantize4(p, s, lo, hi, magic, offset), quantize4(p + 16, s, lo, hi, magic, offset));
      v128.store64_lane(out + <usize>i, i8x16.narrow_i16x8_s(w, w), 0);
    }
  }
  const lo = <f64>qmin, hi = <f64>qmax, zp = <f64>zeroPoint;
  for (; i < n; i++) {
    const q = <f64>(load<f32>(inp + (<usize>i << 2)) / scale);
    const r: f64 = q < 0 ? -Math.floor(-q + 0.5) : Math.floor(q + 0.5);
    const v = r + zp;
    const o: i32 = v >= lo ? (v <= hi ? <i32>v : qmax) : qmin;
    store<i8>(out + <usize>i, <i8>(o - storedShift));
  }
}
