// Requantization shared by the q8 kernels: TFLite's MultiplyByQuantizedMultiplier
// (SaturatingRoundingDoublingHighMul then RoundingDivideByPOT), + output zero point, clamp.
//
// Per-channel parameters come packed by the host (src/quant/pack.ts packRequantFor) in groups
// of 4 channels, each field 4 x i32, holding only what the layer's `mode` reads (at 1x the
// file's weights a block per channel of every field would be a tenth of a small model):
//   mode >= 0     [mult]                                                16 bytes per group
//   mode -1, -3   [mult][rightFactor]                                   32 bytes per group
//   mode -2       [mult][leftMul][rightFactor][rightMask][rightShift][rightNudge]  96 bytes
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

// bytes of one group of 4 channels in the block of a layer with this mode (see above)
@inline
export function rqGroupBytes(mode: i32): usize {
  return mode >= 0 ? 16 : mode == -2 ? 96 : 32;
}

// SaturatingRoundingDoublingHighMul with a positive multiplier never saturates and equals
// floor((a*b + 2^30) / 2^31); RoundingDivideByPOT rounds half away from zero.
@inline
export function requantScalar(acc: i32, rq: usize, ch: i32, mode: i32, outZp: i32, actMin: i32, actMax: i32): i32 {
  const base = rq + <usize>(ch >> 2) * rqGroupBytes(mode) + (<usize>(ch & 3) << 2);
  const mult = load<i32>(base);
  // (branches, not selects: a short block lacks the general fields)
  let leftMul = 1;
  let right = mode;
  if (mode == -2) {
    leftMul = load<i32>(base, 16);
    right = load<i32>(base, 64);
  } else if (mode < 0) {
    // modes -1 and -3 keep only rightFactor = 2^(31 - right)
    right = 31 - <i32>ctz<u32>(load<u32>(base, 16));
  }
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
  // branches, not selects: a select would load the fields a short block does not have; one
  // inlined requant4With (it is large, and kernels inline requant4 at many sites)
  let leftMul = acc, rightFactor = acc, rightMask = acc;
  if (mode == -2) {
    leftMul = v128.load(rqg, 16);
    rightFactor = v128.load(rqg, 32);
    rightMask = v128.load(rqg, 48);
  } else if (mode < 0) {
    rightFactor = v128.load(rqg, 16);
  }
  return requant4With(acc, v128.load(rqg), leftMul, rightFactor, rightMask, mode);
}

// requant4 as a real call, for the kernels' general-mode paths (many call sites; inlining the
// general path at each of them measured ~2x the size of the q8 build)
export function requant4Call(acc: v128, rqg: usize, mode: i32): v128 {
  return requant4(acc, rqg, mode);
}

// requant4 with the common modes inline (a right shift in [1, 22] shared by every channel: uint8
// layers; per-channel right shifts in [1, 22]: int8 layers) and the others out of line.
// `nudge` is requantNudge(mode), hoisted by the caller; `aux` the group's [scale][bound] for
// mode -3 (requant4Scaled), computed by the caller once per call.
@inline
export function requant4Common(acc: v128, rqg: usize, mode: i32, nudge: v128, aux: usize): v128 {
  if (mode >= 1 && mode <= 22) return requant4Fast(acc, rqg, 0, mode, nudge, mode);
  if (mode == -3) return requant4Scaled(acc, rqg, v128.load(aux, 16), v128.load(aux));
  return requant4Call(acc, rqg, mode);
}

// requant4Fast's rounding nudge for a shared right shift in [1, 22] (any vector otherwise)
@inline
export function requantNudge(mode: i32): v128 {
  return i32x4.splat(mode >= 1 && mode <= 22 ? 1 << (mode - 1) : 0);
}

// The parameter vectors requant4With reads for one group, for loading once outside a row loop
// (unused ones are any vector; the fields a short block lacks are not loaded).
@inline
export function rqLeftMul(rqg: usize, mode: i32): v128 {
  if (mode == -2) return v128.load(rqg, 16);
  return i32x4.splat(1);
}
@inline
export function rqRightFactor(rqg: usize, mode: i32): v128 {
  if (mode == -2) return v128.load(rqg, 32);
  if (mode < 0) return v128.load(rqg, 16);
  return i32x4.splat(0);
}
@inline
export function rqRightMask(rqg: usize, mode: i32): v128 {
  if (mode == -2) return v128.load(rqg, 48);
  return i32x4.splat(0);
}

// The same with the group's parameter vectors already loaded (hoisted out of row loops; see
// rqLeftMul etc.). With mode >= 0 only `mult` is read.
@inline
export function requant4With(acc: v128, mult: v128, leftMul: v128, rightFactor: v128, rightMask: v128, mode: i32): v128 {
  if (mode == -3 || mode == -1) return shortShiftsDivide(doublingHighMul(acc, mult), rightFactor, mode == -1);
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
  const mask = mode >= 0 ? i32x4.splat((1 << mode) - 1) : rightMask;
  const rem = v128.and(h, mask);
  // threshold = mask/2 + (h < 0): subtracting the all-ones comparison mask adds 1
  const threshold = i32x4.sub(i32x4.shr_u(mask, 1), i32x4.shr_s(h, 31));
  return i32x4.sub(floorDiv, i32x4.gt_s(rem, threshold));
}

// Vector constants of the fast paths, loaded from static data: V8 re-materialises a v128.const
// at every use inside a loop (3-4 instructions each), a load is one.
// [2^30 as i64 x2][2^30 as i32 x4][2^31 as u32 x4][2^21 as i32 x4]
const RQ_CONSTS: usize = memory.data<u32>([0x40000000, 0, 0x40000000, 0, 0x40000000, 0x40000000, 0x40000000, 0x40000000, 0x80000000, 0x80000000, 0x80000000, 0x80000000, 0x200000, 0x200000, 0x200000, 0x200000], 16);

// SaturatingRoundingDoublingHighMul(x, mult) for a multiplier in [0, 2^31).
@inline
function doublingHighMul(x: v128, mult: v128): v128 {
  const nudge = v128.load(RQ_CONSTS);
  const pl = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_s(x, mult), nudge), 31);
  const ph = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_s(x, mult), nudge), 31);
  return i32x4.shuffle(pl, ph, 0, 2, 4, 6);
}

// RoundingDivideByPOT(h, right) per lane, given rightFactor = 2^(31 - right): y = h - (h < 0)
// cannot wrap (h > -2^31); floor((y + 2^(r-1)) / 2^r) is ((y + 2^31) * 2^(31-r) + 2^30) >> 31,
// minus 2^(31-r), for every right in [1, 31]: the rounding nudge is the constant 2^30 of the
// 64-bit product, so the block needs only rightFactor (and no clamp). With `rightZero` a lane of
// right = 0 (rightFactor 2^31) keeps h (it must not take the - (h < 0)); the product then is
// exactly h + 2^31 + 1/2 in units of 2^31, floored back to h + 2^31.
@inline
function shortShiftsDivide(h: v128, rightFactor: v128, rightZero: bool): v128 {
  const c31 = v128.load(RQ_CONSTS, 32);
  // (rightZero is a constant at the fast paths' call sites, where this folds away)
  const neg = v128.and(i32x4.shr_s(h, 31), rightZero ? v128.not(i32x4.eq(rightFactor, c31)) : i32x4.splat(-1));
  const yb = v128.xor(i32x4.add(h, neg), c31);
  const nudge64 = v128.load(RQ_CONSTS);
  const ql = i64x2.shr_u(i64x2.add(i64x2.extmul_low_i32x4_u(yb, rightFactor), nudge64), 31);
  const qh = i64x2.shr_u(i64x2.add(i64x2.extmul_high_i32x4_u(yb, rightFactor), nudge64), 31);
  return i32x4.sub(i32x4.shuffle(ql, qh, 0, 2, 4, 6), rightFactor);
}

// requant4 for the common cases, specialised at compile time by `kind` (a constant at every
// call site, so the other branches fold away):
//   kind 0: every channel shifts right by `shift` in [1, 22] (mode in [1, 22]); `nudge` is
//           i32x4.splat(1 << (shift - 1)), hoisted by the caller
//   else:   requant4(acc, rqg, mode)
// (mode -3, per-channel right shifts in [1, 22], is requant4Scaled)
// Kind 0: RoundingDivideByPOT(h, r) = (h + 2^(r-1) - (h < 0)) >> r (floor): rounding half away
// from zero as a single add. The sum can overflow only for h > 2^31 - 2^(r-1); clamping h to 2^30
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
  return requant4Call(acc, rqg, mode);
}

// Mode -3 (per-channel right shifts r in [1, 22]) without shortShiftsDivide's second 64-bit
// multiply, for callers that reuse a group's parameters over many rows (the GEMM computes them
// per column panel, the depthwise per call):
// the rounding of kind 0 at a shared shift of 22 on h * 2^(22 - r), the same real quotient and
// so the same rounding, with h first clamped to +-2^(r + 8): beyond that the true result and the
// clamped one (+-256, -257) are both outside int8 after any zero point, and within it
// |h * 2^(22 - r)| <= 2^30. `scale` = 2^(22 - r) and `bound` = 2^(r + 8) from shortShiftScale.
@inline
export function requant4Scaled(acc: v128, rqg: usize, bound: v128, scale: v128): v128 {
  const h = i32x4.max_s(i32x4.min_s(doublingHighMul(acc, v128.load(rqg)), bound), i32x4.neg(bound));
  const y = i32x4.mul(h, scale);
  return i32x4.shr_s(i32x4.add(i32x4.add(y, i32x4.shr_s(y, 31)), v128.load(RQ_CONSTS, 48)), 22);
}

// 2^(22 - r) from a mode -3 group's rightFactor 2^(31 - r) (0 for padding channels)
@inline
export function shortShiftScale(rqg: usize): v128 {
  return i32x4.shr_u(v128.load(rqg, 16), 9);
}

// 2^(r + 8) = 2^30 / scale, exactly, through the float exponents: bits(2^a) + bits(2^b) =
// 284 << 23 when a + b = 30 (a padding channel's scale 0 gives the largest int, harmless there)
@inline
export function shortShiftBound(scale: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(i32x4.sub(i32x4.splat(<i32>(<u32>284 << 23)), f32x4.convert_i32x4_s(scale)));
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
