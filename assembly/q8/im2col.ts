// im2col for a small full convolution (the MobileNet stem: 3x3 over 3 channels): output rows
// [oy0, oy1) become GEMM rows of int16 (x - x_zp), in the 4-pixel tile layout q8_gemm16 reads
// (assembly/q8/gemm16.ts). Each filter row's kw*c taps start at a pair boundary: row ky occupies
// k = ky * rowPad .. ky * rowPad + kw*c - 1, rowPad = kw*c rounded up to even (the host packs
// zero weights into the gaps). Taps in the padding are 0, i.e. they add nothing, exactly as
// TFLite skips them. The value in a gap slot is arbitrary (it meets a zero weight).
//
// SIMD: an interior pixel's filter row is kw*c <= 16 contiguous bytes: two load8x8_s, minus
// x_zp, stored a pair (4 bytes) at a time into its tile lane. Reads up to 16 bytes from the
// row start (the arena keeps slack after every activation buffer).

@inline
function storePairs(dst: usize, v: v128, pairs: i32): void {
  // pair j of the row goes to dst + j * 16 (the next k-pair block of the tile)
  v128.store32_lane(dst, v, 0);
  if (pairs > 1) v128.store32_lane(dst, v, 1, 16);
  if (pairs > 2) v128.store32_lane(dst, v, 2, 32);
  if (pairs > 3) v128.store32_lane(dst, v, 3, 48);
}

export function q8_im2col16(
  inp: usize, inH: i32, inW: i32, c: i32, kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
  outW: i32, oy0: i32, oy1: i32, inZp: i32, out: usize,
): void {
  const rowLen = kw * c;
  const rowPad = (rowLen + 1) & ~1;
  const kPairs = (kh * rowPad) >> 1;
  const tileBytes = <usize>kPairs << 4;
  const rowPairs = rowPad >> 1;
  const pixelStride = <usize>c;
  for (let oy = oy0; oy < oy1; oy++) {
    const iy0 = oy * sh - padTop;
    const rowInterior = iy0 >= 0 && iy0 + kh <= inH;
    for (let ox = 0; ox < outW; ox++) {
      const p = <usize>(oy - oy0) * <usize>outW + <usize>ox;
      const lane = out + (p >> 2) * tileBytes + ((p & 3) << 2);
      const ix0 = ox * sw - padLeft;
      if (ASC_FEATURE_SIMD) {
        if (rowInterior && ix0 >= 0 && ix0 + kw <= inW && rowLen <= 16) {
          const xzp = i16x8.splat(<i16>inZp);
          let src = inp + (<usize>iy0 * <usize>inW + <usize>ix0) * pixelStride;
          let dst = lane;
          for (let ky = 0; ky < kh; ky++) {
            storePairs(dst, i16x8.sub(v128.load8x8_s(src), xzp), rowPairs);
            if (rowPairs > 4) storePairs(dst + 64, i16x8.sub(v128.load8x8_s(src, 8), xzp), rowPairs - 4);
            src += <usize>inW * pixelStride;
            dst += <usize>rowPairs << 4;
          }
          continue;
        }
      }
      for (let ky = 0; ky < kh; ky++) {
        const iy = iy0 + ky;
        for (let j = 0; j < rowLen; j++) {
          const ix = ix0 + j / c;
          const k = ky * rowPad + j;
          let v = 0;
          if (iy >= 0 && iy < inH && ix >= 0 && ix < inW) {
            v = <i32>load<i8>(inp + (<usize>iy * <usize>inW + <usize>ix) * pixelStride + <usize>(j % c)) - inZp;
          }
          store<i16>(lane + (<usize>(k >> 1) << 4) + (<usize>(k & 1) << 1), <i16>v);
        }
      }
    }
  }
}
