// PAD / PADV2 over a 4-D tensor [n, h, w, c] of any element size (1 byte: quantized int8
// storage, 4 bytes: float32): the output is the input surrounded by `fill`. Pure data movement,
// so one kernel serves every dtype and the three builds give identical bytes; the host
// (src/ops/pad) folds other ranks into 4-D. Rows without channel padding are copied whole with
// memory.copy, and every padded run is one memory.fill (or a 32-bit store loop for a
// non-zero float fill).

// `bytes` bytes of the fill value at dst: `fill` is the element's bit pattern (low byte for
// 1-byte elements); a 4-byte pattern whose bytes all match is still one memory.fill
@inline
function fillRun(dst: usize, bytes: usize, fill: i32, elemBytes: i32, uniform: bool): void {
  if (bytes == 0) return;
  if (elemBytes == 1 || uniform) {
    memory.fill(dst, <u8>fill, bytes);
  } else {
    for (let i: usize = 0; i < bytes; i += 4) store<i32>(dst + i, fill);
  }
}

export function pad4d(
  inp: usize, n: i32, h: i32, w: i32, c: i32, elemBytes: i32,
  padN0: i32, padN1: i32, padH0: i32, padH1: i32, padW0: i32, padW1: i32, padC0: i32, padC1: i32,
  fill: i32, out: usize,
): void {
  const eb = <usize>elemBytes;
  // a 4-byte pattern made of one repeated byte (0.0f, or any 1-byte fill) fills with memory.fill
  const lowByte = fill & 0xff;
  const uniform = elemBytes == 1 || fill == (lowByte | (lowByte << 8) | (lowByte << 16) | (lowByte << 24));
  const oc = <usize>(c + padC0 + padC1);
  const ow = <usize>(w + padW0 + padW1);
  const oh = <usize>(h + padH0 + padH1);
  const pixelBytes = oc * eb;
  const rowBytes = ow * pixelBytes;
  const planeBytes = oh * rowBytes;
  const inRowBytes = <usize>w * <usize>c * eb;
  const inPixelBytes = <usize>c * eb;
  let dst = out;
  let src = inp;
  // leading batch planes
  fillRun(dst, <usize>padN0 * planeBytes, fill, elemBytes, uniform);
  dst += <usize>padN0 * planeBytes;
  for (let batch = 0; batch < n; batch++) {
    fillRun(dst, <usize>padH0 * rowBytes, fill, elemBytes, uniform);
    dst += <usize>padH0 * rowBytes;
    for (let y = 0; y < h; y++) {
      fillRun(dst, <usize>padW0 * pixelBytes, fill, elemBytes, uniform);
      dst += <usize>padW0 * pixelBytes;
      if (padC0 == 0 && padC1 == 0) {
        // whole input row in one copy
        memory.copy(dst, src, inRowBytes);
        dst += inRowBytes;
        src += inRowBytes;
      } else {
        const before = <usize>padC0 * eb;
        const after = <usize>padC1 * eb;
        for (let x = 0; x < w; x++) {
          fillRun(dst, before, fill, elemBytes, uniform);
          dst += before;
          memory.copy(dst, src, inPixelBytes);
          dst += inPixelBytes;
          src += inPixelBytes;
          fillRun(dst, after, fill, elemBytes, uniform);
          dst += after;
        }
      }
      fillRun(dst, <usize>padW1 * pixelBytes, fill, elemBytes, uniform);
      dst += <usize>padW1 * pixelBytes;
    }
    fillRun(dst, <usize>padH1 * rowBytes, fill, elemBytes, uniform);
    dst += <usize>padH1 * rowBytes;
  }
  fillRun(dst, <usize>padN1 * planeBytes, fill, elemBytes, uniform);
}
