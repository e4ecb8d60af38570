// QUANTIZE float32 -> int8 storage (uint8 tensors stored shifted by -128), as TFLite's reference
// kernel: q = clamp(round_half_away(x / scale) + zero_point, qmin, qmax), the division in float32.
// The rounding runs in f64 on the float32 quotient (exact there), as the host's JS did; NaN goes
// to qmin (TFLite's int conversion of NaN is undefined).
export function q8_quantize_f32(
  inp: usize, out: usize, n: i32, scale: f32, zeroPoint: i32, qmin: i32, qmax: i32, storedShift: i32,
): void {
  const lo = <f64>qmin, hi = <f64>qmax, zp = <f64>zeroPoint;
  for (let i = 0; i < n; i++) {
    const q = <f64>(load<f32>(inp + (<usize>i << 2)) / scale);
    const r: f64 = q < 0 ? -Math.floor(-q + 0.5) : Math.floor(q + 0.5);
    const v = r + zp;
    const o: i32 = v >= lo ? (v <= hi ? <i32>v : qmax) : qmin;
    store<i8>(out + <usize>i, <i8>(o - storedShift));
  }
}
