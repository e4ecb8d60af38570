// Softmax over the last axis (rows x n), TFLite float semantics:
// exp(beta * (x - max)) / sum. Scalar in every build: exp has no SIMD instruction, and a
// vector exp polynomial would cost more code than it saves on MobileNet's single 1001-wide row.

export function f32_softmax(input: usize, output: usize, rows: i32, n: i32, beta: f32): void {
  if (n <= 0) return;
  const rowB = <usize>n << 2;
  for (let r = 0; r < rows; r++) {
    const x = input + <usize>r * rowB;
    const y = output + <usize>r * rowB;
    let m = load<f32>(x);
    for (let i = 1; i < n; i++) {
      const v = load<f32>(x + (<usize>i << 2));
      if (v > m) m = v;
    }
    let sum: f32 = 0;
    for (let i = 0; i < n; i++) {
      const e = expf((load<f32>(x + (<usize>i << 2)) - m) * beta);
      store<f32>(y + (<usize>i << 2), e);
      sum += e;
    }
    for (let i = 0; i < n; i++) {
      const p = y + (<usize>i << 2);
      store<f32>(p, load<f32>(p) / sum);
    }
  }
}

/**
 * exp for float32, evaluated in float64 so the one rounding to f32 leaves it within 1 ulp.
 * Own polynomial rather than Mathf.exp: that one reads lookup tables from a data segment at
 * low addresses, which the host's arena would overwrite (the kernels own no memory at all).
 */
function expf(xf: f32): f32 {
  if (xf != xf) return xf; // NaN
  if (xf > 89) return Infinity;
  if (xf < -104) return 0;
  const x = <f64>xf;
  const n = nearest<f64>(x * 1.4426950408889634); // x / ln 2
  const r = x - n * 0.6931471805599453; // |r| <= ln2 / 2
  // Taylor series to r^10: truncation error < 2e-13 relative on |r| <= 0.347
  let p = 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^n as a float64 (n in [-151, 129], inside the normal f64 range)
  const scale = reinterpret<f64>(<i64>(<i32>n + 1023) << 52);
  return <f32>(p * scale);
}
