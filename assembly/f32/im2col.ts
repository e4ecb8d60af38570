// General KxK convolution (the MobileNet stem: 3x3 stride 2 over 3 channels) as a GEMM: per
// block of output pixels, the taps of 5 pixels at a time are gathered into scratch in the
// packed layout of the fused kernel ([ceil(block/5)][K][5], K = KH*KW*inC, zeros for padding),
// then the 5x8 tile runs over every 8-column weight panel. Weights are the OHWI filter
// packed as GEMM panels (row k = (ky*KW + kx)*inC + ic), bias padded to 8.
import { tile5x8 } from "./fused";

export function f32_convgemm(
  input: usize, w: usize, bias: usize, output: usize, scratch: usize,
  inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32,
  actMin: f32, actMax: f32, blockPixels: i32,
): void {
  if (outC <= 0 || inC <= 0 || outH <= 0 || outW <= 0) return;
  const M = outH * outW;
  const K = KH * KW * inC;
  const mb = max(5, blockPixels - blockPixels % 5);
  const groupB = <usize>K * 20;
  const ldc = <usize>outC << 2;
  const panels = (outC + 7) >> 3;
  const panelB = <usize>K << 5;
  const runB = <usize>(KW * inC) << 2; // one kernel row of taps, contiguous in the input
  const loBits = reinterpret<i32>(actMin), hiBits = reinterpret<i32>(actMax);
  for (let m0 = 0; m0 < M; m0 += mb) {
    const m1 = min(M, m0 + mb);
    let dst = scratch;
    for (let m = m0; m < m1; m += 5) {
      const valid = min(5, m1 - m);
      for (let r = 0; r < valid; r++) {
        const mm = m + r;
        const oy = mm / outW, ox = mm - oy * outW;
        const iy0 = oy * strideH - padTop, ix0 = ox * strideW - padLeft;
        const colsInside = ix0 >= 0 && ix0 + KW <= inW;
        let d = dst + (<usize>r << 2);
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
