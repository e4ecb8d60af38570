/**
 * MEAN over H and W of a 4-D NHWC tensor (the global average pool of Keras MobileNet v2
 * exports), keepDims giving [n, 1, 1, c] or [n, c]. Other axes are UNSUPPORTED_MODEL.
 *
 * Which TFLite function we match (reduce.cc EvalMean with kReference, TF 2.14+):
 *   - float32: reference_ops::Mean -- a float32 running sum in input order, then one float32
 *     division by the element count;
 *   - uint8 and int8: EvalQuantizedMean -> reference_ops::QuantizedMeanOrSum (integer only),
 *     whatever the quantization params, keepDims or axes. Older TFLite (before the
 *     integer-only reference, TF PR 52014) branched here on keepDims / equal params into
 *     reference_integer_ops::Mean or a float path; TF 2.14's kReference no longer does. (The
 *     default kGenericOptimized kernel still takes optimized_integer_ops::Mean for keepDims
 *     4-D H,W means, which may differ in the last bit.)
 * QuantizedMeanOrSum: S = sum(q) - zp_in * N (int32), multiplier M, shift s from
 * QuantizeMultiplier(double(in_scale) / double(out_scale)); then 1/N folded in:
 *   t = min(floor(log2 N), 32, 31 + s);  M' = (int64(M) << t) / N;  s' = s - t;
 *   out = clamp(MultiplyByQuantizedMultiplier(S, M', s') + zp_out).
 * Kernels: assembly/q8/mean.ts (q8_mean_hw) and assembly/f32/mean.ts (f32_mean_hw), one image each.
 */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { sizeOf, type MeanOp } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import type { QuantizedMultiplier } from '../../quant/fixedpoint.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { checkedMultiplier, storedZp, tensorQuant } from '../q8-common.js';

const HEIGHT_AXIS = 1;
const WIDTH_AXIS = 2;
const INPUT_RANK = 4;

/**
 * QuantizedMeanOrSum's folding of 1/N into the requantization multiplier. The shift
 * t = floor(log2 N) keeps M' in [2^29, 2^31); clamping t to 31 + s keeps the final right
 * shift within 31 (MultiplyByQuantizedMultiplier's range) at the price of precision.
 */
export function meanMultiplier(m: QuantizedMultiplier, count: number): QuantizedMultiplier {
  let t = Math.floor(Math.log2(count));
  // Math.log2 may round up just below a power of two
  while (2 ** t > count) t--;
  while (2 ** (t + 1) <= count) t++;
  t = Math.min(t, 32, 31 + m.shift);
  // M' = (int64(M) << t) / N, C's truncating division (M >= 0). t < 0 would need a shift
  // below -31, which QuantizeMultiplier never returns for a non-zero M.
  if (t < 0) throw unsupportedModel(`mean: requantization shift ${m.shift} leaves no room for the 1/${count} factor`);
  // binary long division of M * 2^t by N (no BigInt: some engines we serve lack it); the
  // quotient stays below 2^31 because 2^t <= N, the remainder below N
  let quotient = Math.floor(m.multiplier / count);
  let remainder = m.multiplier % count;
  for (let bit = 0; bit < t; bit++) {
    quotient *= 2;
    remainder *= 2;
    if (remainder >= count) {
      quotient += 1;
      remainder -= count;
    }
  }
  return { multiplier: quotient, shift: m.shift - t };
}

/** axes normalised (negative counted from the end) and deduplicated, as TFLite's ResolveAxis */
function resolveAxes(axes: number[], rank: number, what: string): number[] {
  if (!Array.isArray(axes) || axes.length === 0) throw unsupportedModel(`${what}: mean without axes`);
  const out: number[] = [];
  for (const a of axes) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) throw invalidModel(`${what}: mean axis ${a} is out of range for rank ${rank}`);
    const r = a < 0 ? a + rank : a;
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

export function prepareMean(op: MeanOp): PreparedOp {
  const { input, output } = op;
  const what = `mean of '${input.name}'`;
  if (input.shape.length !== INPUT_RANK || input.shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw unsupportedModel(`${what}: input shape [${input.shape}] is not a 4-D NHWC tensor`);
  }
  const axes = resolveAxes(op.axes, INPUT_RANK, what);
  if (axes.length !== 2 || !axes.includes(HEIGHT_AXIS) || !axes.includes(WIDTH_AXIS)) {
    throw unsupportedModel(`${what}: axes [${op.axes}] are not supported (only the spatial axes [1, 2] of NHWC)`);
  }
  if (typeof op.keepDims !== 'boolean') throw invalidModel(`${what}: keepDims must be a boolean`);
  const [n, h, w, c] = input.shape;
  const expected = op.keepDims ? [n, 1, 1, c] : [n, c];
  if (output.shape.length !== expected.length || output.shape.some((s, i) => s !== expected[i])) {
    throw invalidModel(`${what}: output '${output.name}' has shape [${output.shape}], expected [${expected}] (keepDims ${op.keepDims})`);
  }
  if (input.dtype !== output.dtype) throw unsupportedModel(`${what}: ${input.dtype} input and ${output.dtype} output`);
  const count = h * w;
  const macs = sizeOf(input.shape);

  if (input.dtype === 'float32') {
    return {
      kernel: 'f32_mean_hw',
      constants: [],
      scratchBytes: 0,
      macs,
      run(k: KernelExports, p: RunPointers) {
        for (let b = 0; b < n; b++) k.f32_mean_hw(p.input + b * count * c * 4, count, c, p.output + b * c * 4);
      },
    };
  }

  const inQ = tensorQuant(input, `${what}: input`);
  const outQ = tensorQuant(output, `${what}: output`);
  const base = checkedMultiplier(Math.fround(inQ.scale) / Math.fround(outQ.scale), what);
  const { multiplier, shift } = meanMultiplier(base, count);
  const xzp = storedZp(inQ.dtype, inQ.zeroPoint);
  const yzp = storedZp(outQ.dtype, outQ.zeroPoint);
  // zp_in * N in int32 arithmetic (C casts the int64 difference back to int32)
  const zpTimesCount = Math.imul(xzp, count);
  return {
    kernel: 'q8_mean_hw',
    constants: [],
    scratchBytes: 0,
    macs,
    run(k: KernelExports, p: RunPointers) {
      for (let b = 0; b < n; b++) k.q8_mean_hw(p.input + b * count * c, count, c, zpTimesCount, multiplier, shift, yzp, p.output + b * c);
    },
  };
}
