// MEAN over the H and W axes of one [h, w, c] float32 image (the host loops over the batch), as
// TFLite's reference: per channel a float32 running sum over the pixels in order, then one
// float32 division by the pixel count. SIMD lanes are channels, so every lane adds in the same
// order as the scalar loop and the builds agree bit for bit.
export function f32_mean_hw(inp: usize, pixels: i32, c: i32, out: usize): void {
  const stride = <usize>c << 2;
  const count = <f32>pixels;
  let ch = 0;
  if (ASC_FEATURE_SIMD) {
    const countV = f32x4.splat(count);
    for (; ch + 4 <= c; ch += 4) {
      let sum = f32x4.splat(0);
      let p = inp + (<usize>ch << 2);
      for (let i = 0; i < pixels; i++, p += stride) sum = f32x4.add(sum, v128.load(p));
      v128.store(out + (<usize>ch << 2), f32x4.div(sum, countV));
    }
  }
  for (; ch < c; ch++) {
    let sum: f32 = 0;
    let p = inp + (<usize>ch << 2);
    for (let i = 0; i < pixels; i++, p += stride) sum += load<f32>(p);
    store<f32>(out + (<usize>ch << 2), sum / count);
  }
}
