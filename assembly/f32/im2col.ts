// General KxK convolution (the MobileNet stem: 3x3 stride 2 over 3 channels) as a GEMM over
// 5 output pixels x 8 output channels at a time. Weights are the OHWI filter packed as GEMM
// panels (row k = (ky*KW + kx)*inC + ic), bias padded to 8.
// - Small filters (every weight panel together fits in L1, the stem): pixel groups outer,
//   panels inner. A group whose taps all lie inside the input is read straight from it (a
//   kernel row's KW*inC taps are contiguous in NHWC); only groups touching the padding are
//   gathered into scratch. Gathering every group cost as much as the multiply-adds when the
//   stem has one panel (0.25/128: 8 output channels).
// - Larger filters: per block of pixels, the taps of 5 pixels at a time are gathered into
//   scratch in the packed layout of the fused kernel ([ceil(block/5)][K][5], zeros for
//   padding), then the 5x8 tile runs over every weight panel, each staying in L1.
import { tile5x8, tileRows5x8 } from "./fused";

/** weight panels up to this size are streamed per pixel group (direct path) */
const DIRECT_MAX_WEIGHT_BYTES: usize = 16 * 1024;

// the 5 input pointers of a direct group
const GROUP_PTRS: usize = memory.data(5 * sizeof<usize>(), 8);

export function f32_convgemm(
  input: usize, w: usize, bias: usize, output: usize, scratch: usize,
  inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  actMin: f32, actMax: f32, blockPixels: i32,
): void {
  if (outC <= 0 || inC <= 0 || outH <= 0 || outW <= 0) return;
  const M = outH * outW;
  const K = KH * KW * inC;
  const groupB = <usize>K * 20;
  const ldc = <usize>outC << 2;
  const panels = (outC + 7) >> 3;
  const panelB = <usize>K << 5;
  const loBits = reinterpret<i32>(actMin), hiBits = reinterpret<i32>(actMax);
  if (ASC_FEATURE_SIMD) if (<usize>panels * panelB <= DIRECT_MAX_WEIGHT_BYTES) {
    const segB = <usize>(KW * inC) << 2;
    const skipB = (<usize>inW * inC << 2) - segB;
    let oy = 0, ox = 0;
    for (let m = 0; m < M; m += 5) {
      const rows = min(5, M - m);
      let inside = true;
      let d = scratch;
      for (let r = 0; r < 5; r++) {
        // rows past the last pixel repeat it (computed, never stored)
        const iy0 = oy * strideH - padTop, ix0 = ox * strideW - padLeft;
        store<usize>(GROUP_PTRS + (<usize>r * sizeof<usize>()), input + (<usize>(iy0 * inW + ix0) * inC << 2));
        inside = inside && iy0 >= 0 && iy0 + KH <= inH && ix0 >= 0 && ix0 + KW <= inW;
        if (r + 1 < rows && ++ox == outW) { ox = 0; oy++; }
      }
      if (!inside) {
        // back to the group's first pixel and gather it
        let gy = m / outW, gx = m - gy * outW;
        for (let r = 0; r < rows; r++) {
          gatherPixel(input, d + (<usize>r << 2), gy * strideH - padTop, gx * strideW - padLeft, inH, inW, inC, KH, KW);
          if (++gx == outW) { gx = 0; gy++; }
        }
      }
      const p0 = load<usize>(GROUP_PTRS), p1 = load<usize>(GROUP_PTRS, 4), p2 = load<usize>(GROUP_PTRS, 8);
      const p3 = load<usize>(GROUP_PTRS, 12), p4 = load<usize>(GROUP_PTRS, 16);
      let cp = output + <usize>m * ldc;
      for (let j = 0; j < panels; j++) {
        const cols = min(8, outC - (j << 3));
        const bp = w + <usize>j * panelB;
        const bb = bias + (<usize>j << 5);
        if (inside) tileRows5x8(p0, p1, p2, p3, p4, segB, skipB, KH, bp, bb, cp, ldc, cols, rows, loBits, hiBits);
        else tile5x8(scratch, bp, bb, cp, ldc, K, cols, rows, loBits, hiBits);
        cp += 32;
      }
      if (++ox == outW) { ox = 0; oy++; }
    }
    return;
  }
  const mb = max(5, blockPixels - blockPixels % 5);
  for (let m0 = 0; m0 < M; m0 += mb) {
    const m1 = min(M, m0 + mb);
    let dst = scratch;
    for (let m = m0; m < m1; m += 5) {
      const valid = min(5, m1 - m);
      for (let r = 0; r < valid; r++) {
        const mm = m + r;
        const oy = mm / outW, ox = mm - oy * outW;
        gatherPixel(input, dst + (<usize>r << 2), oy * strideH - padTop, ox * strideW - padLeft, inH, inW, inC, KH, KW);
      }
      dst += groupB;
    }
    for (let j = 0; j < panels; j++) {
      const cols = min(8, outC - (j << 3));
      const bp = w + <usize>j * panelB;
      const bb = bias + (<usize>j << 5);
      let pa = scratch;
      let cp = output + <usize>m0 * ldc + (<usize>j << 5);
      for (let m = m0; m < m1; m += 5) {
        tile5x8(pa, bp, bb, cp, ldc, K, cols, min(5, m1 - m), loBits, hiBits);
        pa += groupB;
        cp += ldc * 5;
      }
    }
  }
}

// One output pixel's K taps (input row iy0.., column ix0..) into its slot d of a packed group
// (tap k at d + 20 k), zeros for padding.
function gatherPixel(
  input: usize, d: usize, iy0: i32, ix0: i32, inH: i32, inW: i32, inC: i32, KH: i32, KW: i32,
): void {
  const colsInside = ix0 >= 0 && ix0 + KW <= inW;
  const runB = <usize>(KW * inC) << 2; // one kernel row of taps, contiguous in the input
  for (let ky = 0; ky < KH; ky++) {
    const iy = iy0 + ky;
    if (iy < 0 || iy >= inH) {
      for (let k = 0; k < KW * inC; k++) { store<f32>(d, 0); d += 20; }
    } else if (colsInside) {
      // a contiguous run of KW * inC floats; 4 at a time into 4 strided slots
      let s = input + (<usize>(iy * inW + ix0) * inC << 2);
      const end = s + runB;
      if (ASC_FEATURE_SIMD) {
        for (; s + 16 <= end; s += 16) {
          const v = v128.load(s);
          v128.store32_lane(d, v, 0);
          v128.store32_lane(d, v, 1, 20);
          v128.store32_lane(d, v, 2, 40);
          v128.store32_lane(d, v, 3, 60);
          d += 80;
        }
      }
      for (; s < end; s += 4) { store<f32>(d, load<f32>(s)); d += 20; }
    } else {
      for (let kx = 0; kx < KW; kx++) {
        const ix = ix0 + kx;
        if (ix >= 0 && ix < inW) {
          let s = input + (<usize>(iy * inW + ix) * inC << 2);
          for (let ic = 0; ic < inC; ic++) { store<f32>(d, load<f32>(s)); s += 4; d += 20; }
        } else {
          for (let ic = 0; ic < inC; ic++) { store<f32>(d, 0); d += 20; }
        }
      }
    }
  }
}
