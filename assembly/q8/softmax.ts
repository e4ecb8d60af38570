// TFLite's reference fixed-point softmax (uint8 / int8 in and out) over one row of n values,
// with gemmlowp's exp_on_negative_values (Q5.26 input) and one_over_one_plus_x_for_x_in_0_1.
// Both output types store (result - 128) in our int8 arena: uint8 output zero point 0 shifted by
// -128, int8 output zero point -128, so one kernel serves both. Scalar: it runs once on ~1001
// values, with the exponentials memoised per call (EXP_TABLE). Parameters come from
// src/quant/softmax.ts softmaxParams().

// gemmlowp SaturatingRoundingDoublingHighMul
@inline
function srdhm(a: i32, b: i32): i32 {
  if (a == b && a == i32.MIN_VALUE) return i32.MAX_VALUE;
  return <i32>((<i64>a * <i64>b + (<i64>1 << 30)) >> 31);
}

// gemmlowp RoundingDivideByPOT
@inline
function rdbp(x: i32, e: i32): i32 {
  const mask = <i32>((<u32>1 << <u32>e) - 1);
  const rem = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > threshold ? 1 : 0);
}

// SaturatingRoundingMultiplyByPOT with a positive exponent
@inline
function satShl(x: i32, e: i32): i32 {
  const threshold = (1 << (31 - e)) - 1;
  if (x > threshold) return i32.MAX_VALUE;
  if (x < -threshold) return i32.MIN_VALUE;
  return x << e;
}

function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: i32): i32 {
  const constantTerm: i32 = 1895147668;
  const constant1Over3: i32 = 715827883;
  const x = a + (1 << 28);
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const x4Over4 = rdbp(x4, 2);
  const poly = rdbp(srdhm(x4Over4 + x3, constant1Over3) + x2, 1);
  return constantTerm + srdhm(constantTerm, x + poly);
}

// exp(a) for a <= 0 in Q5.26, result in Q0.31
function expOnNegativeValuesQ5(a: i32): i32 {
  const fractionalBits = 26;
  const oneQuarter: i32 = 1 << (fractionalBits - 2);
  const aModQuarterMinusOneQuarter = (a & (oneQuarter - 1)) - oneQuarter;
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(satShl(aModQuarterMinusOneQuarter, 5));
  const remainder = aModQuarterMinusOneQuarter - a;
  if (remainder & (1 << (fractionalBits - 2))) result = srdhm(result, 1672461947);
  if (remainder & (1 << (fractionalBits - 1))) result = srdhm(result, 1302514674);
  if (remainder & (1 << fractionalBits)) result = srdhm(result, 790015084);
  if (remainder & (1 << (fractionalBits + 1))) result = srdhm(result, 290630308);
  if (remainder & (1 << (fractionalBits + 2))) result = srdhm(result, 39332535);
  if (remainder & (1 << (fractionalBits + 3))) result = srdhm(result, 720401);
  if (remainder & (1 << (fractionalBits + 4))) result = srdhm(result, 242);
  if (a == 0) result = i32.MAX_VALUE;
  return result;
}

function oneOverOnePlusXForXIn01(a: i32): i32 {
  const sum = <i64>a + <i64>i32.MAX_VALUE;
  const halfDenominator = <i32>((sum + (sum >= 0 ? 1 : -1)) / 2);
  let x = 1515870810 + srdhm(halfDenominator, -1010580540);
  for (let i = 0; i < 3; i++) {
    const oneMinus = (1 << 29) - srdhm(halfDenominator, x);
    x = x + satShl(srdhm(x, oneMinus), 2);
  }
  return satShl(x, 1);
}

@inline
function scaledDiff(diff: i32, mult: i32, leftShift: i32): i32 {
  return srdhm(diff * (<i32>1 << leftShift), mult);
}

// exp of every possible input difference (int8 inputs: diff = x - max in [-255, 0]), filled
// per call: at most 256 evaluations instead of two per element (1001 classes), same values.
const EXP_TABLE: usize = memory.data(256 * 4, 16);

export function q8_softmax(inp: usize, n: i32, inputMultiplier: i32, inputLeftShift: i32, diffMin: i32, out: usize): void {
  let maxv: i32 = -128;
  for (let i = 0; i < n; i++) maxv = max(maxv, <i32>load<i8>(inp + <usize>i));
  // entry -diff; differences below diffMin contribute nothing (entry 0 there, never read)
  const span = maxv + 128;
  for (let d = 0; d <= span; d++) {
    store<i32>(EXP_TABLE + (<usize>d << 2), -d >= diffMin ? expOnNegativeValuesQ5(scaledDiff(-d, inputMultiplier, inputLeftShift)) : 0);
  }
  let sumOfExps: i32 = 0;
  for (let i = 0; i < n; i++) {
    const diff = <i32>load<i8>(inp + <usize>i) - maxv;
    if (diff >= diffMin) {
      sumOfExps += rdbp(load<i32>(EXP_TABLE + (<usize>(-diff) << 2)), 12);
    }
  }
  // GetReciprocal with 12 integer bits
  const headroomPlusOne = <i32>clz<u32>(<u32>sumOfExps);
  const numBitsOverUnit = 12 - headroomPlusOne;
  const shiftedSumMinusOne = <i32>((<u32>sumOfExps << <u32>headroomPlusOne) - (<u32>1 << 31));
  const reciprocal = oneOverOnePlusXForXIn01(shiftedSumMinusOne);
  const exponent = numBitsOverUnit + 31 - 8;
  for (let i = 0; i < n; i++) {
    const diff = <i32>load<i8>(inp + <usize>i) - maxv;
    let r: i32 = -128;
    if (diff >= diffMin) {
      const e = load<i32>(EXP_TABLE + (<usize>(-diff) << 2));
      r = rdbp(srdhm(reciprocal, e), exponent) - 128;
      if (r > 127) r = 127;
      if (r < -128) r = -128;
    }
    store<i8>(out + <usize>i, <i8>r);
  }
}
