// Requantization shared by the q8 kernels: TFLite's MultiplyByQuantizedMultiplier
// (SaturatingRoundingDoublingHighMul then RoundingDivideByPOT), + output zero point, clamp.
//
// Per-channel parameters come packed by the host (src/quant/pack.ts) in groups of 4 channels,
// RQ_GROUP_BYTES each: [mult x4][leftMul x4][rightFactor x4][rightMask x4][rightShift x4]
// [rightNudge x4] (i32)
//   mult        Q31 significand (> 0, or 0)
//   leftMul     1 << max(shift, 0)           (the left shift as a multiply, so lanes may differ)
//   rightFactor 2^(31 - right) as u32        (per-lane floor shift done with a 64-bit multiply)
//   rightMask   (1 << right) - 1
//   rightShift  max(-shift, 0)
//   rightNudge  2^(right - 1), 0 when right = 0
//
// `mode` (src/quant/pack.ts requantMode) picks the cheapest exact vector path:
//   >= 0  every channel shifts right by `mode`, none left: plain vector shifts
//   -1    right shifts differ per channel, none left
//   -2    general: per-lane left and right shifts
//   -3    as -1, with every right shift in [1, 22] (requant4Fast's per-lane path)

export const RQ_GROUP_BYTES: usize = 96;

// SaturatingRoundingDoublingHighMul with a positive multiplier never saturates and equals
// floor((a*b + 2^30) / 2^31); RoundingDivideByPOT rounds half away from zero.
@inline
export function requantScalar(acc: i32, rq: usize, ch: i32, outZp: i32, actMin: i32, actMax: i32): i32 {
  const base = rq + <usize>(ch >> 2) * RQ_GROUP_BYTES + (<usize>(ch & 3) << 2);
  const mult = load<i32>(base);
  const leftMul = load<i32>(base, 16);
  const right = load<i32>(base, 64);
  const x = acc * leftMul;
  const h = <i32>((<i64>x * <i64>mult + (<i64>1 << 30)) >> 31);
  const mask = <i32>((<u32>1 << <u32>right) - 1);
  const rem = h & mask;
  const threshold = (mask >> 1) + (h < 0 ? 1 : 0);
  let r = (h >> right) + (rem > threshold ? 1 : 0);
  r += outZp;
  if (r < actMin) r = actMin;
  if (r > actMax) r = actMax;
  return r;
}

// MultiplyByQuantizedMultiplier on four channels; `rqg` points at their group. No zero point,
// no clamp (see pack8).
@inline
export function requant4(acc: v128, rqg: usize, mode: i32): v128 {
  return requant4With(acc, v128.load(rqg), v128.load(rqg, 16), v128.load(rqg, 32), v128.load(rqg, 48), mode);
}

// The same with the group's parameter vectors already loaded (hoisted out of row loops).
@inline
export function requant4With(acc: v128, mult: v128, leftMul: v128, rightFactor: v128, rightMask: v128, mode: i32): v128 {
  const x = mode == -2 ? i32x4.mul(acc, leftMul) : acc;
  const nudge = i64x2.splat(<i64>1 << 30);
  // Only bits 31..62 of each 64-bit sum are kept, which a logical shift gives as well as an
  // arithmetic one; x64 has no 64-bit arithmetic vector shift (V8 emulates it in 5 instructions).
  const pl = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(x, mult), nudge), 31);
  const ph = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(x, mult), nudge), 31);
  const h = i32x4.shuffle(pl, ph, 0, 2, 4, 6);
  let floorDiv: v128;
  if (mode >= 0) {
    floorDiv = i32x4.shr_s(h, mode);
  } else {
    // floor(h / 2^right) per lane: bias h to unsigned, multiply by 2^(31-right), keep bits 31..62
    const hb = v128.xor(h, i32x4.splat(0x80000000));
    const ql = i64x2.shr_u(i64x2.extmul_low_i32x4_u(hb, rightFactor), 31);
    const qh = i64x2.shr_u(i64x2.extmul_high_i32x4_u(hb, rightFactor), 31);
    floorDiv = i32x4.sub(i32x4.shuffle(ql, qh, 0, 2, 4, 6), rightFactor);
  }
  const rem = v128.and(h, rightMask);
  // threshold = mask/2 + (h < 0): subtracting the all-ones comparison mask adds 1
  const threshold = i32x4.sub(i32x4.shr_u(rightMask, 1), i32x4.shr_s(h, 31));
  return i32x4.sub(floorDiv, i32x4.gt_s(rem, threshold));
}

// Vector constants of the fast paths, loaded from static data: V8 re-materialises a v128.const
// at every use inside a loop (3-4 instructions each), a load is one.
// [2^30 as i64 x2][2^30 as i32 x4][2^31 as u32 x4]
const RQ_CONSTS: usize = memory.data<u32>([0x40000000, 0, 0x40000000, 0, 0x40000000, 0x40000000, 0x40000000, 0x40000000, 0x80000000, 0x80000000, 0x80000000, 0x80000000], 16);

// SaturatingRoundingDoublingHighMul(x, mult) for a multiplier in [0, 2^31).
@inline
function doublingHighMul(x: v128, mult: v128): v128 {
  const nudge = v128.load(RQ_CONSTS);
  const pl = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(x, mult), nudge), 31);
  const ph = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(x, mult), nudge), 31);
  return i32x4.shuffle(pl, ph, 0, 2, 4, 6);
}

// requant4 for the common cases, specialised at compile time by `kind` (a constant at every
// call site, so the other branches fold away):
//   kind 0: every channel shifts right by `shift` in [1, 22] (mode in [1, 22]); `nudge` is
//           i32x4.splat(1 << (shift - 1)), hoisted by the caller
//   kind 1: per-channel right shifts, all in [1, 22] (mode -3)
//   else:   requant4(acc, rqg, mode)
// RoundingDivideByPOT(h, r) = (h + 2^(r-1) - (h < 0)) >> r (floor): rounding half away from
// zero as a single add. The sum can overflow only for h > 2^31 - 2^(r-1); clamping h to 2^30
// first keeps it in range and is exact because any h >= 2^30 gives a result >= 2^(30-r) >= 256,
// which the final int8 clamp maps to the same value as the true (larger) result. h > -2^31
// (the multiplier is below 2^31), so h - 1 + 2^(r-1) cannot underflow either.
@inline
export function requant4Fast(acc: v128, rqg: usize, kind: i32, shift: i32, nudge: v128, mode: i32): v128 {
  if (kind == 0) {
    const h = doublingHighMul(acc, v128.load(rqg));
    const y = i32x4.add(i32x4.add(i32x4.min_s(h, v128.load(RQ_CONSTS, 16)), i32x4.shr_s(h, 31)), nudge);
    return i32x4.shr_s(y, shift);
  }
  if (kind == 1) {
    const h = doublingHighMul(acc, v128.load(rqg));
    const y = i32x4.add(i32x4.add(i32x4.min_s(h, v128.load(RQ_CONSTS, 16)), i32x4.shr_s(h, 31)), v128.load(rqg, 80));
    // floor(y / 2^right) per lane: bias y to unsigned, multiply by 2^(31-right), keep bits 31..62
    const rightFactor = v128.load(rqg, 32);
    const yb = v128.xor(y, v128.load(RQ_CONSTS, 32));
    const ql = i64x2.shr_u(i64x2.extmul_low_i32x4_u(yb, rightFactor), 31);
    const qh = i64x2.shr_u(i64x2.extmul_high_i32x4_u(yb, rightFactor), 31);
    return i32x4.sub(i32x4.shuffle(ql, qh, 0, 2, 4, 6), rightFactor);
  }
  return requant4(acc, rqg, mode);
}

// Eight requantized lanes -> int8 bytes 0..7: + zero point and clamp after saturating
// narrowing. Exact: the activation range lies inside [-128, 127], and a value saturated at
// the int16 limits stays beyond the int8 range after adding a zero point in [-128, 127].
// zp16: i16x8 splat of the output zero point; lo8/hi8: i8x16 splats of the clamp range.
@inline
export function pack8(r0: v128, r1: v128, zp16: v128, lo8: v128, hi8: v128): v128 {
  const h = i16x8.add_sat_s(i16x8.narrow_i32x4_s(r0, r1), zp16);
  const b = i8x16.narrow_i16x8_s(h, h);
  return i8x16.min_s(i8x16.max_s(b, lo8), hi8);
}

// store the first `valid` (< 8) bytes of b
@inline
export function storePartial(dst: usize, b: v128, valid: i32): void {
  for (let i = 0; i < valid; i++) {
    // the lane index is not constant: shift the vector instead of extract_lane
    store<i8>(dst + <usize>i, <i8>i64x2.extract_lane(i64x2.shr_u(b, <i32>(i << 3)), 0));
  }
}
