// Shared pieces of the float32 kernels: multiply-add, the activation clamp and partial stores.

/** acc + a * b; fused (and a little faster) only in the relaxed build, where the engine may fuse. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, acc);
  } else {
    return f32x4.add(acc, f32x4.mul(a, b));
  }
}

/**
 * min(max(v, lo), hi) as TFLite's ActivationFunctionWithMinMax. pmin/pmax lower to one
 * minps/maxps each (f32x4.min/max need NaN fix-ups), and pass NaN through like std::max/min.
 */
// @ts-ignore: decorator
@inline export function clamp4(v: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(v, lo), hi);
}

// @ts-ignore: decorator
@inline export function clamp1(v: f32, lo: f32, hi: f32): f32 {
  v = v < lo ? lo : v;
  return hi < v ? hi : v;
}

/** Store the first n (0..3) lanes of v, so a channel tail never writes past its pixel. */
// @ts-ignore: decorator
@inline export function storeLanes(p: usize, v: v128, n: i32): void {
  if (n & 2) {
    v128.store64_lane(p, v, 0);
    v = v128.shuffle<f32>(v, v, 2, 3, 2, 3);
    p += 8;
  }
  if (n & 1) v128.store32_lane(p, v, 0);
}

/** Store the first n (0..7) lanes of the 8 columns (a, b). */
// @ts-ignore: decorator
@inline export function storeLanes8(p: usize, a: v128, b: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, a);
    a = b;
    p += 16;
    n -= 4;
  }
  storeLanes(p, a, n);
}
