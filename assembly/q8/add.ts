// Quantized elementwise ADD and MUL (TFLite integer_ops/add.h AddElementwise, mul.h
// MulElementwise) and the 256-entry lookup that serves LOGISTIC, on int8 storage (uint8 tensors
// arrive shifted by -128 with their zero points shifted the same way, which leaves x - zp, and so
// every result, unchanged).
//
// Broadcasting is the host's business (src/ops/add): a kernel sees `a` as rows x cols and `b`
// as one row of `cols` values reused by every row (rows = 1 for equal shapes), or, for the
// *_const kernels, b's whole contribution folded into one number by the host.
//
// Parameters come as a block of i32 (the host packs it, src/ops/add/index.ts), at these indexes:
const P_A_OFFSET = 0; //  -zero point of a
const P_A_MULT = 1; //    ADD: a's Q31 multiplier (<= 2^30)
const P_A_RIGHT = 2; //   ADD: a's right shift (0..31)
const P_B_OFFSET = 3; //  -zero point of b
const P_B_MULT = 4;
const P_B_RIGHT = 5;
const P_OUT_MULT = 6; //  output multiplier (Q31)
const P_OUT_LEFT = 7; //  MUL: output left shift (0..31); ADD: 0
const P_OUT_RIGHT = 8; // output right shift (0..31)
const P_OUT_ZP = 9; //    output zero point (stored)
const P_ACT_MIN = 10; //  clamp range (stored)
const P_ACT_MAX = 11;

// ADD's inputs are scaled up by 2^20 before their multipliers (TFLite's left_shift for 8 bits)
const ADD_LEFT_SHIFT = 20;

@inline
function param(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// gemmlowp SaturatingRoundingDoublingHighMul: floor((x*m + 2^30) / 2^31); only
// INT32_MIN * INT32_MIN saturates (a multiplier is never INT32_MIN here, kept for fidelity)
@inline
function highMul(x: i32, m: i32): i32 {
  if (x == i32.MIN_VALUE && m == i32.MIN_VALUE) return i32.MAX_VALUE;
  return <i32>((<i64>x * <i64>m + (<i64>1 << 30)) >> 31);
}

// gemmlowp RoundingDivideByPOT: x / 2^r rounded half away from zero, r in [0, 31]
@inline
function roundingShift(x: i32, r: i32): i32 {
  const mask = <i32>((<u32>1 << <u32>r) - 1);
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> r) + ((x & mask) > threshold ? 1 : 0);
}

@inline
function clampOut(v: i32, p: usize): i32 {
  v += param(p, P_OUT_ZP);
  const lo = param(p, P_ACT_MIN), hi = param(p, P_ACT_MAX);
  return v < lo ? lo : v > hi ? hi : v;
}

// a's term of the ADD sum (x is the stored int8 value)
@inline
function addTerm(x: i32, offset: i32, mult: i32, right: i32): i32 {
  return roundingShift(highMul((x + offset) << ADD_LEFT_SHIFT, mult), right);
}

@inline
function addOutput(sum: i32, p: usize): i32 {
  return clampOut(roundingShift(highMul(sum, param(p, P_OUT_MULT)), param(p, P_OUT_RIGHT)), p);
}

// MultiplyByQuantizedMultiplier(prod, outMult, shift); the left shift wraps in int32 as in C
@inline
function mulOutput(prod: i32, p: usize): i32 {
  const x = prod * (1 << param(p, P_OUT_LEFT));
  return clampOut(roundingShift(highMul(x, param(p, P_OUT_MULT)), param(p, P_OUT_RIGHT)), p);
}

// ---- SIMD helpers (i32 lanes, bit-identical to the scalar ones above) ----

// highMul per lane for a multiplier in [0, 2^31): keep bits 31..62 of x*m + 2^30
@inline
function vHighMul(x: v128, m: v128): v128 {
  const nudge = i64x2.splat(<i64>1 << 30);
  const lo = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(x, m), nudge), 31);
  const hi = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(x, m), nudge), 31);
  return i32x4.shuffle(lo, hi, 0, 2, 4, 6);
}

// roundingShift per lane with one shift for all lanes; mask = 2^r - 1, half = mask >> 1
@inline
function vRoundingShift(x: v128, r: i32, mask: v128, half: v128): v128 {
  // threshold = half + (x < 0): subtracting the all-ones comparison mask adds 1
  const threshold = i32x4.sub(half, i32x4.shr_s(x, 31));
  return i32x4.sub(i32x4.shr_s(x, r), i32x4.gt_s(v128.and(x, mask), threshold));
}

// ADD's input term in i32 lanes without 64-bit products: SRDHM(v * 2^20, m) =
// floor((v*m + 2^10) / 2^11) = v*mHi + floor((v*mLo + 2^10) / 2^11) for m = mHi*2^11 + mLo,
// exact, and every product fits int32 (|v| <= 255, mHi < 2^20, mLo < 2^11).
@inline
function vAddTerm(v: v128, mHi: v128, mLo: v128, r: i32, mask: v128, half: v128): v128 {
  const low = i32x4.shr_s(i32x4.add(i32x4.mul(v, mLo), i32x4.splat(1 << 10)), 11);
  return vRoundingShift(i32x4.add(i32x4.mul(v, mHi), low), r, mask, half);
}

// 16 lanes of results (before the zero point) -> 16 int8: + zero point and clamp after
// saturating narrowing. Exact: the clamp range lies inside [-128, 127], and a value saturated at
// the int16 limits stays beyond the int8 range after adding a zero point in [-128, 127].
@inline
function vPack16(r0: v128, r1: v128, r2: v128, r3: v128, zp16: v128, lo8: v128, hi8: v128): v128 {
  const h0 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r0, r1), zp16);
  const h1 = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r2, r3), zp16);
  return i8x16.min_s(i8x16.max_s(i8x16.narrow_i16x8_s(h0, h1), lo8), hi8);
}

// lanes 4q..4q+3 of 16 int8 as i32
@inline
function widen(v: v128, q: i32): v128 {
  if (q == 0) return i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v));
  if (q == 1) return i32x4.extend_high_i16x8_s(i16x8.extend_low_i8x16_s(v));
  if (q == 2) return i32x4.extend_low_i16x8_s(i16x8.extend_high_i8x16_s(v));
  return i32x4.extend_high_i16x8_s(i16x8.extend_high_i8x16_s(v));
}

// ---- ADD ----

// out[r][c] = ADD(a[r][c], b[c]); params: every P_* but P_OUT_LEFT
export function q8_add(a: usize, b: usize, out: usize, rows: i32, cols: i32, params: usize): void {
  const aOff = param(params, P_A_OFFSET), aMult = param(params, P_A_MULT), aRight = param(params, P_A_RIGHT);
  const bOff = param(params, P_B_OFFSET), bMult = param(params, P_B_MULT), bRight = param(params, P_B_RIGHT);
  for (let r = 0; r < rows; r++) {
    const ar = a + <usize>r * <usize>cols;
    const or = out + <usize>r * <usize>cols;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      const vaOff = i32x4.splat(aOff), vbOff = i32x4.splat(bOff);
      const aHi = i32x4.splat(aMult >> 11), aLo = i32x4.splat(aMult & 0x7ff);
      const bHi = i32x4.splat(bMult >> 11), bLo = i32x4.splat(bMult & 0x7ff);
      const aMask = i32x4.splat(<i32>((<u32>1 << <u32>aRight) - 1));
      const aHalf = i32x4.shr_u(aMask, 1);
      const bMask = i32x4.splat(<i32>((<u32>1 << <u32>bRight) - 1));
      const bHalf = i32x4.shr_u(bMask, 1);
      const outRight = param(params, P_OUT_RIGHT);
      const vOutMult = i32x4.splat(param(params, P_OUT_MULT));
      const oMask = i32x4.splat(<i32>((<u32>1 << <u32>outRight) - 1));
      const oHalf = i32x4.shr_u(oMask, 1);
      const zp16 = i16x8.splat(<i16>param(params, P_OUT_ZP));
      const lo8 = i8x16.splat(<i8>param(params, P_ACT_MIN));
      const hi8 = i8x16.splat(<i8>param(params, P_ACT_MAX));
      for (; c + 16 <= cols; c += 16) {
        const va = v128.load(ar + <usize>c);
        const vb = v128.load(b + <usize>c);
        const s0 = i32x4.add(vAddTerm(i32x4.add(widen(va, 0), vaOff), aHi, aLo, aRight, aMask, aHalf), vAddTerm(i32x4.add(widen(vb, 0), vbOff), bHi, bLo, bRight, bMask, bHalf));
        const s1 = i32x4.add(vAddTerm(i32x4.add(widen(va, 1), vaOff), aHi, aLo, aRight, aMask, aHalf), vAddTerm(i32x4.add(widen(vb, 1), vbOff), bHi, bLo, bRight, bMask, bHalf));
        const s2 = i32x4.add(vAddTerm(i32x4.add(widen(va, 2), vaOff), aHi, aLo, aRight, aMask, aHalf), vAddTerm(i32x4.add(widen(vb, 2), vbOff), bHi, bLo, bRight, bMask, bHalf));
        const s3 = i32x4.add(vAddTerm(i32x4.add(widen(va, 3), vaOff), aHi, aLo, aRight, aMask, aHalf), vAddTerm(i32x4.add(widen(vb, 3), vbOff), bHi, bLo, bRight, bMask, bHalf));
        const y = vPack16(
          vRoundingShift(vHighMul(s0, vOutMult), outRight, oMask, oHalf),
          vRoundingShift(vHighMul(s1, vOutMult), outRight, oMask, oHalf),
          vRoundingShift(vHighMul(s2, vOutMult), outRight, oMask, oHalf),
          vRoundingShift(vHighMul(s3, vOutMult), outRight, oMask, oHalf),
          zp16, lo8, hi8,
        );
        v128.store(or + <usize>c, y);
      }
    }
    for (; c < cols; c++) {
      const sum = addTerm(<i32>load<i8>(ar + <usize>c), aOff, aMult, aRight) + addTerm(<i32>load<i8>(b + <usize>c), bOff, bMult, bRight);
      store<i8>(or + <usize>c, <i8>addOutput(sum, params));
    }
  }
}

// out[i] = ADD(a[i], b) for one b whose scaled term `bTerm` the host computed
export function q8_add_const(a: usize, out: usize, n: i32, bTerm: i32, params: usize): void {
  const aOff = param(params, P_A_OFFSET), aMult = param(params, P_A_MULT), aRight = param(params, P_A_RIGHT);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vaOff = i32x4.splat(aOff), vbTerm = i32x4.splat(bTerm);
    const aHi = i32x4.splat(aMult >> 11), aLo = i32x4.splat(aMult & 0x7ff);
    const aMask = i32x4.splat(<i32>((<u32>1 << <u32>aRight) - 1));
    const aHalf = i32x4.shr_u(aMask, 1);
    const outRight = param(params, P_OUT_RIGHT);
    const vOutMult = i32x4.splat(param(params, P_OUT_MULT));
    const oMask = i32x4.splat(<i32>((<u32>1 << <u32>outRight) - 1));
    const oHalf = i32x4.shr_u(oMask, 1);
    const zp16 = i16x8.splat(<i16>param(params, P_OUT_ZP));
    const lo8 = i8x16.splat(<i8>param(params, P_ACT_MIN));
    const hi8 = i8x16.splat(<i8>param(params, P_ACT_MAX));
    for (; i + 16 <= n; i += 16) {
      const va = v128.load(a + <usize>i);
      const s0 = i32x4.add(vAddTerm(i32x4.add(widen(va, 0), vaOff), aHi, aLo, aRight, aMask, aHalf), vbTerm);
      const s1 = i32x4.add(vAddTerm(i32x4.add(widen(va, 1), vaOff), aHi, aLo, aRight, aMask, aHalf), vbTerm);
      const s2 = i32x4.add(vAddTerm(i32x4.add(widen(va, 2), vaOff), aHi, aLo, aRight, aMask, aHalf), vbTerm);
      const s3 = i32x4.add(vAddTerm(i32x4.add(widen(va, 3), vaOff), aHi, aLo, aRight, aMask, aHalf), vbTerm);
      const y = vPack16(
        vRoundingShift(vHighMul(s0, vOutMult), outRight, oMask, oHalf),
        vRoundingShift(vHighMul(s1, vOutMult), outRight, oMask, oHalf),
        vRoundingShift(vHighMul(s2, vOutMult), outRight, oMask, oHalf),
        vRoundingShift(vHighMul(s3, vOutMult), outRight, oMask, oHalf),
        zp16, lo8, hi8,
      );
      v128.store(out + <usize>i, y);
    }
  }
  for (; i < n; i++) {
    const sum = addTerm(<i32>load<i8>(a + <usize>i), aOff, aMult, aRight) + bTerm;
    store<i8>(out + <usize>i, <i8>addOutput(sum, params));
  }
}

// ---- MUL ----

// MultiplyByQuantizedMultiplier on 16 products (4 vectors) then pack
@inline
function vMulOut(p0: v128, p1: v128, p2: v128, p3: v128, params: usize): v128 {
  const leftMul = i32x4.splat(1 << param(params, P_OUT_LEFT));
  const outRight = param(params, P_OUT_RIGHT);
  const vOutMult = i32x4.splat(param(params, P_OUT_MULT));
  const oMask = i32x4.splat(<i32>((<u32>1 << <u32>outRight) - 1));
  const oHalf = i32x4.shr_u(oMask, 1);
  return vPack16(
    vRoundingShift(vHighMul(i32x4.mul(p0, leftMul), vOutMult), outRight, oMask, oHalf),
    vRoundingShift(vHighMul(i32x4.mul(p1, leftMul), vOutMult), outRight, oMask, oHalf),
    vRoundingShift(vHighMul(i32x4.mul(p2, leftMul), vOutMult), outRight, oMask, oHalf),
    vRoundingShift(vHighMul(i32x4.mul(p3, leftMul), vOutMult), outRight, oMask, oHalf),
    i16x8.splat(<i16>param(params, P_OUT_ZP)),
    i8x16.splat(<i8>param(params, P_ACT_MIN)),
    i8x16.splat(<i8>param(params, P_ACT_MAX)),
  );
}

// out[r][c] = MUL(a[r][c], b[c]); params: P_A_OFFSET, P_B_OFFSET, P_OUT_*, P_ACT_*
export function q8_mul(a: usize, b: usize, out: usize, rows: i32, cols: i32, params: usize): void {
  const aOff = param(params, P_A_OFFSET), bOff = param(params, P_B_OFFSET);
  for (let r = 0; r < rows; r++) {
    const ar = a + <usize>r * <usize>cols;
    const or = out + <usize>r * <usize>cols;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      // (x + offset) fits int16 (|.| <= 255) and the product int32: one 16-bit extmul per half
      const vaOff = i16x8.splat(<i16>aOff), vbOff = i16x8.splat(<i16>bOff);
      for (; c + 16 <= cols; c += 16) {
        const va = v128.load(ar + <usize>c);
        const vb = v128.load(b + <usize>c);
        const aLo = i16x8.add(i16x8.extend_low_i8x16_s(va), vaOff), aHi = i16x8.add(i16x8.extend_high_i8x16_s(va), vaOff);
        const bLo = i16x8.add(i16x8.extend_low_i8x16_s(vb), vbOff), bHi = i16x8.add(i16x8.extend_high_i8x16_s(vb), vbOff);
        const y = vMulOut(
          i32x4.extmul_low_i16x8_s(aLo, bLo), i32x4.extmul_high_i16x8_s(aLo, bLo),
          i32x4.extmul_low_i16x8_s(aHi, bHi), i32x4.extmul_high_i16x8_s(aHi, bHi),
          params,
        );
        v128.store(or + <usize>c, y);
      }
    }
    for (; c < cols; c++) {
      const prod = (<i32>load<i8>(ar + <usize>c) + aOff) * (<i32>load<i8>(b + <usize>c) + bOff);
      store<i8>(or + <usize>c, <i8>mulOutput(prod, params));
    }
  }
}

// out[i] = MUL(a[i], b) for one b; `bCentered` = b - b's zero point
export function q8_mul_const(a: usize, out: usize, n: i32, bCentered: i32, params: usize): void {
  const aOff = param(params, P_A_OFFSET);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vaOff = i16x8.splat(<i16>aOff), vb = i16x8.splat(<i16>bCentered);
    for (; i + 16 <= n; i += 16) {
      const va = v128.load(a + <usize>i);
      const aLo = i16x8.add(i16x8.extend_low_i8x16_s(va), vaOff), aHi = i16x8.add(i16x8.extend_high_i8x16_s(va), vaOff);
      const y = vMulOut(
        i32x4.extmul_low_i16x8_s(aLo, vb), i32x4.extmul_high_i16x8_s(aLo, vb),
        i32x4.extmul_low_i16x8_s(aHi, vb), i32x4.extmul_high_i16x8_s(aHi, vb),
        params,
      );
      v128.store(out + <usize>i, y);
    }
  }
  for (; i < n; i++) {
    store<i8>(out + <usize>i, <i8>mulOutput((<i32>load<i8>(a + <usize>i) + aOff) * bCentered, params));
  }
}

// ---- lookup (LOGISTIC) ----

// out[i] = table[in[i] as an unsigned byte]: any int8 -> int8 map built by the host
export function q8_lut(inp: usize, out: usize, n: i32, table: usize): void {
  for (let i = 0; i < n; i++) {
    store<u8>(out + <usize>i, load<u8>(table + <usize>load<u8>(inp + <usize>i)));
  }
}
