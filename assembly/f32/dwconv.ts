// Depthwise KxK convolution, depth multiplier 1, NHWC, fused bias + activation clamp.
// Weights come packed by the host as [ceil(C/4) channel groups][KH*KW taps][4 lanes] (zero
// padded), so one group's taps are contiguous and the 3x3 path reads them at fixed offsets.
// Bias is padded to a multiple of 4. Input taps outside [0,inH) x [0,inW) are padding (missing).
// Vector loads of a channel tail may read up to 12 bytes past the input (ACTIVATION_SLACK);
// stores never pass the output.
import { madd, clamp4, clamp1, storeLanes } from "./common";

export function f32_dwconv(
  input: usize, w: usize, bias: usize, output: usize,
  inH: i32, inW: i32, C: i32, outH: i32, outW: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  actMin: f32, actMax: f32,
): void {
  if (C <= 0 || outW <= 0) return;
  const pixB = <usize>C << 2;
  const outRowB = <usize>outW * pixB;
  if (ASC_FEATURE_SIMD) {
    // output columns whose taps are all inside the input: [oxLo, oxHi)
    let oxLo = min((padLeft + strideW - 1) / strideW, outW);
    const room = inW - KW + padLeft;
    let oxHi = room >= 0 ? min(room / strideW + 1, outW) : 0;
    if (oxHi < oxLo) oxHi = oxLo;
    const fast3x3 = KH == 3 && KW == 3;
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * strideH - padTop;
      const out = output + <usize>oy * outRowB;
      // kernel rows inside the input; the 3x3 path also serves the top and bottom rows
      const kyLo = max(0, -iy0), kyHi = min(KH, inH - iy0);
      if (fast3x3 && kyHi > kyLo && oxHi > oxLo) {
        for (let ox = 0; ox < oxLo; ox++) {
          dwPixel(input, w, bias, out + <usize>ox * pixB, iy0, ox * strideW - padLeft, inH, inW, C, KH, KW, actMin, actMax);
        }
        const first = input + (<usize>((iy0 + kyLo) * inW + oxLo * strideW - padLeft)) * pixB;
        dwRow3x3(first, w + <usize>kyLo * 48, <usize>(kyHi - kyLo) * 48, bias, out + <usize>oxLo * pixB, oxHi - oxLo,
          <usize>strideW * pixB, pixB, <usize>inW * pixB, C, strideW, actMin, actMax);
        for (let ox = oxHi; ox < outW; ox++) {
          dwPixel(input, w, bias, out + <usize>ox * pixB, iy0, ox * strideW - padLeft, inH, inW, C, KH, KW, actMin, actMax);
        }
      } else {
        for (let ox = 0; ox < outW; ox++) {
          dwPixel(input, w, bias, out + <usize>ox * pixB, iy0, ox * strideW - padLeft, inH, inW, C, KH, KW, actMin, actMax);
        }
      }
    }
  } else {
    const taps = KH * KW;
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * strideH - padTop;
      const kyLo = max(0, -iy0), kyHi = min(KH, inH - iy0);
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * strideW - padLeft;
        const kxLo = max(0, -ix0), kxHi = min(KW, inW - ix0);
        const out = output + (<usize>(oy * outW + ox)) * pixB;
        // four channels (one packed weight group) per pass, so the tap loops run C/4 times
        let wg = w;
        for (let c = 0; c < C; c += 4) {
          const co = <usize>c << 2;
          let a0 = load<f32>(bias + co), a1 = load<f32>(bias + co, 4);
          let a2 = load<f32>(bias + co, 8), a3 = load<f32>(bias + co, 12);
          for (let ky = kyLo; ky < kyHi; ky++) {
            let ip = input + <usize>((iy0 + ky) * inW + ix0 + kxLo) * pixB + co;
            let wp = wg + (<usize>(ky * KW + kxLo) << 4);
            for (let kx = kxLo; kx < kxHi; kx++) {
              // lanes past C read the next pixel (or the slack) against zero weights
              a0 += load<f32>(ip) * load<f32>(wp);
              a1 += load<f32>(ip, 4) * load<f32>(wp, 4);
              a2 += load<f32>(ip, 8) * load<f32>(wp, 8);
              a3 += load<f32>(ip, 12) * load<f32>(wp, 12);
              ip += pixB;
              wp += 16;
            }
          }
          const op = out + co;
          store<f32>(op, clamp1(a0, actMin, actMax));
          if (c + 1 < C) store<f32>(op, clamp1(a1, actMin, actMax), 4);
          if (c + 2 < C) store<f32>(op, clamp1(a2, actMin, actMax), 8);
          if (c + 3 < C) store<f32>(op, clamp1(a3, actMin, actMax), 12);
          wg += <usize>taps << 4;
        }
      }
    }
  }
}

// Any pixel, any kernel size: only the taps inside the input are summed.
function dwPixel(
  input: usize, w: usize, bias: usize, out: usize, iy0: i32, ix0: i32,
  inH: i32, inW: i32, C: i32, KH: i32, KW: i32, actMin: f32, actMax: f32,
): void {
  const kyLo = max(0, -iy0), kyHi = min(KH, inH - iy0);
  const kxLo = max(0, -ix0), kxHi = min(KW, inW - ix0);
  const pixB = <usize>C << 2;
  const groupB = <usize>(KH * KW) << 4;
  const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
  let wg = w;
  for (let c = 0; c < C; c += 4) {
    const co = <usize>c << 2;
    let acc = v128.load(bias + co);
    for (let ky = kyLo; ky < kyHi; ky++) {
      const row = input + (<usize>((iy0 + ky) * inW + ix0)) * pixB + co;
      const wr = wg + (<usize>(ky * KW) << 4);
      for (let kx = kxLo; kx < kxHi; kx++) {
        acc = madd(v128.load(row + <usize>kx * pixB), v128.load(wr + (<usize>kx << 4)), acc);
      }
    }
    acc = clamp4(acc, lo, hi);
    if (c + 4 <= C) v128.store(out + co, acc);
    else storeLanes(out + co, acc, C - c);
    wg += groupB;
  }
}

// 4 channels of one output pixel, all 9 taps inside: q is the top-left tap of this channel group.
// A loop over the 3 kernel rows, not 9 straight-line taps: V8 schedules all 18 loads of a
// straight-line version first and spills (seen with --print-wasm-code); the loop keeps ~7 live.
// Each row's taps go into a partial sum added once (as in dwQuad3x3): the loop-carried chain
// is one add per row, so the rows' multiply-adds overlap.
// @ts-ignore: decorator
@inline function group3x3(q: usize, wg: usize, rowsB: usize, b: v128, pixB: usize, rowB: usize): v128 {
  const pix2 = pixB << 1;
  let acc = b;
  const wEnd = wg + rowsB;
  do {
    acc = f32x4.add(acc, madd(v128.load(q + pix2), v128.load(wg, 32),
      madd(v128.load(q + pixB), v128.load(wg, 16), f32x4.mul(v128.load(q), v128.load(wg)))));
    q += rowB;
    wg += 48;
  } while (wg < wEnd);
  return acc;
}

// Two horizontally adjacent output pixels of one channel group, all taps inside: they share
// the weight loads, and at stride 1 (2) also 2 (1) of the 3 input columns per kernel row.
// Stores lanes [0, lanes) of each pixel.
// @ts-ignore: decorator
@inline function pair3x3(
  q: usize, wg: usize, rowsB: usize, b: v128, out: usize, pixB: usize, rowB: usize, strideW: i32,
  lo: v128, hi: v128, lanes: i32,
): void {
  const pix2 = pixB << 1;
  let a = b, c = b;
  const wEnd = wg + rowsB;
  if (strideW == 1) {
    do {
      const w0 = v128.load(wg), w1 = v128.load(wg, 16), w2 = v128.load(wg, 32);
      const x0 = v128.load(q), x1 = v128.load(q + pixB), x2 = v128.load(q + pix2), x3 = v128.load(q + pix2 + pixB);
      a = f32x4.add(a, madd(x2, w2, madd(x1, w1, f32x4.mul(x0, w0))));
      c = f32x4.add(c, madd(x3, w2, madd(x2, w1, f32x4.mul(x1, w0))));
      q += rowB;
      wg += 48;
    } while (wg < wEnd);
  } else {
    // stride 2
    do {
      const w0 = v128.load(wg), w1 = v128.load(wg, 16), w2 = v128.load(wg, 32);
      const x0 = v128.load(q), x1 = v128.load(q + pixB), x2 = v128.load(q + pix2);
      a = f32x4.add(a, madd(x2, w2, madd(x1, w1, f32x4.mul(x0, w0))));
      const x3 = v128.load(q + pix2 + pixB), x4 = v128.load(q + (pix2 << 1));
      c = f32x4.add(c, madd(x4, w2, madd(x3, w1, f32x4.mul(x2, w0))));
      q += rowB;
      wg += 48;
    } while (wg < wEnd);
  }
  a = clamp4(a, lo, hi);
  c = clamp4(c, lo, hi);
  if (lanes == 4) {
    v128.store(out, a);
    v128.store(out + pixB, c);
  } else {
    storeLanes(out, a, lanes);
    storeLanes(out + pixB, c, lanes);
  }
}

// A run of `count` output pixels of one row whose columns are all inside, 3x3 taps, no bounds
// checks: `first` and `w` start at the first kernel row inside the input, rowsB = rows * 48
// bytes of weights. Pixels go in pairs at stride 1 and 2.
function dwRow3x3(
  first: usize, w: usize, rowsB: usize, bias: usize, out: usize, count: i32, stepB: usize,
  pixB: usize, rowB: usize, C: i32, strideW: i32, actMin: f32, actMax: f32,
): void {
  const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
  const fullB = <usize>(C & ~3) << 2;
  const tail = C & 3;
  let n = 0;
  // 4 pixels at a time where they fit: four independent chains per kernel row hide the
  // multiply-add latency that bounds the pair and single paths
  for (; n + 4 <= count; n += 4) {
    dwQuad3x3(first, w, rowsB, bias, out, C, strideW, rowB, actMin, actMax, false);
    first += stepB << 2;
    out += pixB << 2;
  }
  if (strideW <= 2) {
    for (; n + 2 <= count; n += 2) {
      let wg = w;
      let co: usize = 0;
      for (; co < fullB; co += 16) {
        pair3x3(first + co, wg, rowsB, v128.load(bias + co), out + co, pixB, rowB, strideW, lo, hi, 4);
        wg += 144;
      }
      if (tail) pair3x3(first + co, wg, rowsB, v128.load(bias + co), out + co, pixB, rowB, strideW, lo, hi, tail);
      first += stepB << 1;
      out += pixB << 1;
    }
  }
  for (; n < count; n++) {
    let wg = w;
    let co: usize = 0;
    for (; co < fullB; co += 16) {
      const acc = group3x3(first + co, wg, rowsB, v128.load(bias + co), pixB, rowB);
      v128.store(out + co, clamp4(acc, lo, hi));
      wg += 144;
    }
    if (tail) {
      const acc = group3x3(first + co, wg, rowsB, v128.load(bias + co), pixB, rowB);
      storeLanes(out + co, clamp4(acc, lo, hi), tail);
    }
    first += stepB;
    out += pixB;
  }
}

// 4 horizontally adjacent output pixels, all 3 columns of taps inside, kernel rows from the
// first one inside (rowsB = rows * 48 bytes of weights). q: input of the first tap.
// packed: dst is a 5-pixel group of f32_dwpw's scratch (channel k's pixels at dst + 20 k);
// else dst is the first of 4 NHWC output pixels.
export function dwQuad3x3(
  q: usize, w: usize, rowsB: usize, bias: usize, dst: usize, C: i32, strideW: i32, rowB: usize,
  actMin: f32, actMax: f32, packed: bool,
): void {
  const pixB = <usize>C << 2;
  const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
  let wg = w;
  for (let c = 0; c < C; c += 4) {
    const b = v128.load(bias + (<usize>c << 2));
    let a0 = b, a1 = b, a2 = b, a3 = b;
    let p = q + (<usize>c << 2);
    let wp = wg;
    const wEnd = wg + rowsB;
    // Per kernel row, each pixel's 3 taps go into a fresh partial sum added to its
    // accumulator once: the loop-carried chain is one add per row instead of 3 multiply-adds
    // (the 4 accumulators alone left the FMA units half idle waiting on latency).
    if (strideW == 1) {
      do {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32);
        const x0 = v128.load(p), x1 = v128.load(p + pixB), x2 = v128.load(p + 2 * pixB);
        a0 = f32x4.add(a0, madd(x2, w2, madd(x1, w1, f32x4.mul(x0, w0))));
        const x3 = v128.load(p + 3 * pixB);
        a1 = f32x4.add(a1, madd(x3, w2, madd(x2, w1, f32x4.mul(x1, w0))));
        const x4 = v128.load(p + 4 * pixB);
        a2 = f32x4.add(a2, madd(x4, w2, madd(x3, w1, f32x4.mul(x2, w0))));
        const x5 = v128.load(p + 5 * pixB);
        a3 = f32x4.add(a3, madd(x5, w2, madd(x4, w1, f32x4.mul(x3, w0))));
        p += rowB;
        wp += 48;
      } while (wp < wEnd);
    } else if (strideW == 2) {
      do {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32);
        const x0 = v128.load(p), x1 = v128.load(p + pixB), x2 = v128.load(p + 2 * pixB);
        a0 = f32x4.add(a0, madd(x2, w2, madd(x1, w1, f32x4.mul(x0, w0))));
        const x3 = v128.load(p + 3 * pixB), x4 = v128.load(p + 4 * pixB);
        a1 = f32x4.add(a1, madd(x4, w2, madd(x3, w1, f32x4.mul(x2, w0))));
        const x5 = v128.load(p + 5 * pixB), x6 = v128.load(p + 6 * pixB);
        a2 = f32x4.add(a2, madd(x6, w2, madd(x5, w1, f32x4.mul(x4, w0))));
        const x7 = v128.load(p + 7 * pixB), x8 = v128.load(p + 8 * pixB);
        a3 = f32x4.add(a3, madd(x8, w2, madd(x7, w1, f32x4.mul(x6, w0))));
        p += rowB;
        wp += 48;
      } while (wp < wEnd);
    } else {
      const sB = <usize>strideW * pixB;
      do {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32);
        let r = p;
        a0 = madd(v128.load(r + 2 * pixB), w2, madd(v128.load(r + pixB), w1, madd(v128.load(r), w0, a0)));
        r += sB;
        a1 = madd(v128.load(r + 2 * pixB), w2, madd(v128.load(r + pixB), w1, madd(v128.load(r), w0, a1)));
        r += sB;
        a2 = madd(v128.load(r + 2 * pixB), w2, madd(v128.load(r + pixB), w1, madd(v128.load(r), w0, a2)));
        r += sB;
        a3 = madd(v128.load(r + 2 * pixB), w2, madd(v128.load(r + pixB), w1, madd(v128.load(r), w0, a3)));
        p += rowB;
        wp += 48;
      } while (wp < wEnd);
    }
    a0 = clamp4(a0, lo, hi); a1 = clamp4(a1, lo, hi); a2 = clamp4(a2, lo, hi); a3 = clamp4(a3, lo, hi);
    if (packed) {
      storeTransposed(dst + <usize>c * 20, a0, a1, a2, a3, C - c);
    } else {
      const o = dst + (<usize>c << 2);
      if (c + 4 <= C) {
        v128.store(o, a0); v128.store(o + pixB, a1); v128.store(o + 2 * pixB, a2); v128.store(o + 3 * pixB, a3);
      } else {
        storeLanes(o, a0, C - c); storeLanes(o + pixB, a1, C - c);
        storeLanes(o + 2 * pixB, a2, C - c); storeLanes(o + 3 * pixB, a3, C - c);
      }
    }
    wg += 144;
  }
}

// Pixels a0..a3 (4 channels each) -> channel j's 4 pixels at dst + 20 j, for the first n channels.
// @ts-ignore: decorator
@inline function storeTransposed(dst: usize, a0: v128, a1: v128, a2: v128, a3: v128, n: i32): void {
  const u0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
  const u1 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
  const u2 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
  const u3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(u0, u1, 0, 1, 4, 5));
  if (n > 1) v128.store(dst, v128.shuffle<f32>(u0, u1, 2, 3, 6, 7), 20);
  if (n > 2) v128.store(dst, v128.shuffle<f32>(u2, u3, 0, 1, 4, 5), 40);
  if (n > 3) v128.store(dst, v128.shuffle<f32>(u2, u3, 2, 3, 6, 7), 60);
}
