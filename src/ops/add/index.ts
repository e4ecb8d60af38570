/**
 * ADD and MUL (float32, uint8, int8) with TFLite's broadcasting, made ready for the kernels of
 * assembly/q8/add.ts and assembly/f32/elementwise.ts.
 *
 * Arithmetic (exact to TFLite's reference kernels):
 *  - quantized ADD (add.cc Prepare, integer_ops/add.h AddElementwise): both inputs shifted left
 *    by 20, scaled by s_i / (2 max(s1, s2)), summed, scaled by 2 max(s1, s2) / (2^20 s_out);
 *  - quantized MUL (mul.cc, MulElementwise): (x1 - zp1)(x2 - zp2) scaled by s1 s2 / s_out
 *    (computed in float32, as TFLite does);
 *  - then + output zero point and the fused activation clamp.
 *
 * Shapes are right-aligned up to rank 4 and a size-1 dimension stretches. Both ops are
 * symmetric in their operands (the per-operand parameters travel with them), so the kernels
 * always see the larger operand as `a`: equal shapes and a trailing-dimensions broadcast
 * (b of shape [..1, W, C] against [1, H, W, C], e.g. per-channel) run as rows x cols in wasm, a
 * one-element operand through the *_const kernels, anything else through an exact JS loop.
 */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { sizeOf, type BinaryOp, type TensorInfo } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import {
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from '../../quant/fixedpoint.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { elementQuant, isQuantized, storedActivationRange, storedConstant, type ElementQuant } from './quant.js';

const MAX_RANK = 4;
/** a broadcast row shorter than this is repeated so the kernels' SIMD loops get work */
const MIN_SIMD_ROW = 64;
/** ... within this many elements (a row whose count of repeats has no small divisor stays short) */
const MAX_EXPANDED_ROW = 4096;
/** TFLite's left shift of 8-bit ADD inputs (add.cc: left_shift = 20) */
const ADD_LEFT_SHIFT = 20;

/** Layout of the i32 parameter block of the q8 kernels (assembly/q8/add.ts P_*). */
const P_A_OFFSET = 0;
const P_A_MULT = 1;
const P_A_RIGHT = 2;
const P_B_OFFSET = 3;
const P_B_MULT = 4;
const P_B_RIGHT = 5;
const P_OUT_MULT = 6;
const P_OUT_LEFT = 7;
const P_OUT_RIGHT = 8;
const P_OUT_ZP = 9;
const P_ACT_MIN = 10;
const P_ACT_MAX = 11;
const PARAM_COUNT = 12;

/** Float activation clamps (TFLite CalculateActivationRange). */
const FLOAT_ACTIVATION: Record<string, [number, number]> = {
  none: [-Infinity, Infinity],
  relu: [0, Infinity],
  relu6: [0, 6],
  relu_n1_to_1: [-1, 1],
};

function checkedShape(t: TensorInfo, what: string): number[] {
  const s = t.shape;
  if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d <= 0)) throw invalidModel(`${what} tensor '${t.name}' has shape [${s}], expected positive integer dimensions`);
  if (s.length > MAX_RANK) throw unsupportedModel(`${what} tensor '${t.name}' has rank ${s.length}; at most ${MAX_RANK} dimensions are supported`);
  return [...new Array(MAX_RANK - s.length).fill(1), ...s];
}

/** TFLite's broadcast of two right-aligned shapes; INVALID_MODEL naming them when they do not broadcast */
export function broadcastShape(a: number[], b: number[], what: string): number[] {
  return a.map((da, i) => {
    const db = b[i];
    if (da === db || db === 1) return da;
    if (da === 1) return db;
    throw invalidModel(`${what}: input shapes [${a}] and [${b}] do not broadcast (dimension ${i}: ${da} vs ${db})`);
  });
}

/**
 * How `x` (padded to rank 4) lines up with the output: the number of output elements it spans
 * when its leading dimensions are all 1 and its trailing ones equal the output's (0 otherwise).
 * 1 = one element, the whole output size = same shape, in between = a row reused per row.
 */
function trailingSpan(x: number[], out: number[]): number {
  let k = MAX_RANK;
  while (k > 0 && x[k - 1] === out[k - 1]) k--;
  for (let i = 0; i < k; i++) if (x[i] !== 1) return 0;
  return sizeOf(out.slice(k));
}

/** element strides of x broadcast to `out` (0 along stretched dimensions) */
function broadcastStrides(x: number[], out: number[]): number[] {
  const strides = new Array(MAX_RANK).fill(0);
  let s = 1;
  for (let i = MAX_RANK - 1; i >= 0; i--) {
    strides[i] = x[i] === 1 && out[i] !== 1 ? 0 : s;
    s *= x[i];
  }
  return strides;
}

/** per-element function on stored values, for the general broadcast and constant folding */
type ElementFn = (a: number, b: number) => number;

function broadcastLoop(fn: ElementFn, a: ArrayLike<number>, b: ArrayLike<number>, out: { [i: number]: number }, sa: number[], sb: number[], so: number[]): void {
  const ta = broadcastStrides(sa, so);
  const tb = broadcastStrides(sb, so);
  let o = 0;
  for (let i0 = 0; i0 < so[0]; i0++)
    for (let i1 = 0; i1 < so[1]; i1++)
      for (let i2 = 0; i2 < so[2]; i2++)
        for (let i3 = 0; i3 < so[3]; i3++) {
          const ia = i0 * ta[0] + i1 * ta[1] + i2 * ta[2] + i3 * ta[3];
          const ib = i0 * tb[0] + i1 * tb[1] + i2 * tb[2] + i3 * tb[3];
          out[o++] = fn(a[ia], b[ib]);
        }
}

interface Operand {
  tensor: TensorInfo;
  shape: number[];
  /** stored values when constant */
  constant?: Int8Array | Float32Array;
  /** index into PreparedOp.constants, or into RunPointers inputs */
  constantIndex: number;
  inputIndex: number;
}

/** the quantized parameters of one operand of ADD */
interface AddInputParams {
  offset: number;
  mult: number;
  right: number;
}

function quantizedAddParams(qa: ElementQuant, qb: ElementQuant, qo: ElementQuant, what: string) {
  // add.cc: 2 * max(float, float) is a float; the multipliers are doubles
  const twiceMax = Math.fround(2 * Math.max(qa.scale, qb.scale));
  if (!Number.isFinite(twiceMax)) throw invalidModel(`${what}: input scales ${qa.scale} and ${qb.scale} overflow float32 when doubled`);
  const outDenominator = Math.fround(2 ** ADD_LEFT_SHIFT * qo.scale);
  const realOut = twiceMax / outDenominator;
  const smallerThanOne = (real: number, name: string) => {
    // TFLite QuantizeMultiplierSmallerThanOneExp aborts outside (0, 1) or on a positive exponent
    if (!(real > 0 && real < 1)) {
      throw unsupportedModel(`${what}: ${name} multiplier ${real} is outside (0, 1) (TFLite requires output scale > 2 * max input scale / 2^${ADD_LEFT_SHIFT})`);
    }
    const q = quantizeMultiplier(real);
    if (q.shift > 0) throw unsupportedModel(`${what}: ${name} multiplier ${real} rounds to 1.0, which TFLite rejects`);
    return { mult: q.multiplier, right: -q.shift };
  };
  const a: AddInputParams = { offset: -qa.storedZp, ...smallerThanOne(qa.scale / twiceMax, 'input 1') };
  const b: AddInputParams = { offset: -qb.storedZp, ...smallerThanOne(qb.scale / twiceMax, 'input 2') };
  const out = smallerThanOne(realOut, 'output');
  return { a, b, out };
}

/** one operand's term of the quantized ADD sum */
function addTerm(x: number, p: AddInputParams): number {
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul((x + p.offset) * 2 ** ADD_LEFT_SHIFT, p.mult), p.right);
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

export function prepareBinary(op: BinaryOp): PreparedOp {
  const what = `${op.op.toUpperCase()} '${op.output?.name}'`;
  if (op.op !== 'add' && op.op !== 'mul') throw unsupportedModel(`binary op '${(op as BinaryOp).op}' is not supported`);
  if (!Array.isArray(op.inputs) || op.inputs.length !== 2) throw invalidModel(`${what} needs 2 inputs, has ${op.inputs?.length}`);
  const [ta, tb] = op.inputs;
  const dtype = op.output.dtype;
  for (const [t, name] of [[ta, 'input 1'], [tb, 'input 2']] as const) {
    if (t.dtype !== dtype) throw unsupportedModel(`${what}: ${name} '${t.name}' is ${t.dtype} but the output '${op.output.name}' is ${dtype}; TFLite requires one dtype`);
  }
  if (dtype !== 'float32' && !isQuantized(dtype)) throw unsupportedModel(`${what}: dtype ${dtype} is not supported`);
  const sa = checkedShape(ta, `${what} input 1`);
  const sb = checkedShape(tb, `${what} input 2`);
  const so = checkedShape(op.output, `${what} output`);
  const expected = broadcastShape(sa, sb, what);
  if (expected.some((d, i) => d !== so[i])) throw invalidModel(`${what}: output shape [${op.output.shape}] is not the broadcast [${expected}] of [${ta.shape}] and [${tb.shape}]`);
  const n = sizeOf(so);

  // constants are packed after the q8 parameter block; activation inputs keep their order
  const constants: Uint8Array[] = [];
  let inputCount = 0;
  const paramsIndex = isQuantized(dtype) ? constants.push(new Uint8Array(0)) - 1 : -1;
  const operand = (t: TensorInfo, shape: number[], name: string): Operand => {
    if (t.constant) {
      const c = storedConstant(t, `${what} ${name}`);
      return { tensor: t, shape, constant: c, constantIndex: -1, inputIndex: -1 };
    }
    return { tensor: t, shape, constantIndex: -1, inputIndex: inputCount++ };
  };
  let A = operand(ta, sa, 'input 1');
  let B = operand(tb, sb, 'input 2');

  // per-element arithmetic on stored values, and the kernel parameters
  let fn: ElementFn;
  let params: Int32Array | undefined;
  let addParams: ReturnType<typeof quantizedAddParams> | undefined;
  let actMin = 0;
  let actMax = 0;
  if (dtype === 'float32') {
    const act = FLOAT_ACTIVATION[op.activation];
    if (!act) throw unsupportedModel(`${what}: activation '${op.activation}' is not supported`);
    [actMin, actMax] = act;
    const lo = actMin, hi = actMax;
    fn = op.op === 'add' ? (x, y) => Math.min(Math.max(Math.fround(x + y), lo), hi) : (x, y) => Math.min(Math.max(Math.fround(x * y), lo), hi);
  } else {
    const qa = elementQuant(ta, `${what} input 1`);
    const qb = elementQuant(tb, `${what} input 2`);
    const qo = elementQuant(op.output, `${what} output`);
    const range = storedActivationRange(op.activation, qo, what);
    params = new Int32Array(PARAM_COUNT);
    params[P_OUT_ZP] = qo.storedZp;
    params[P_ACT_MIN] = range.min;
    params[P_ACT_MAX] = range.max;
    if (op.op === 'add') {
      const ap = quantizedAddParams(qa, qb, qo, what);
      addParams = ap;
      params[P_OUT_MULT] = ap.out.mult;
      params[P_OUT_RIGHT] = ap.out.right;
      fn = (x, y) => {
        const sum = addTerm(x, ap.a) + addTerm(y, ap.b);
        const r = roundingDivideByPOT(saturatingRoundingDoublingHighMul(sum, ap.out.mult), ap.out.right);
        return clamp(r + qo.storedZp, range.min, range.max);
      };
    } else {
      // mul.cc: float * float / float, in float32
      const real = Math.fround(Math.fround(qa.scale * qb.scale) / qo.scale);
      if (!Number.isFinite(real)) throw invalidModel(`${what}: multiplier ${qa.scale} * ${qb.scale} / ${qo.scale} is not finite in float32`);
      const m = quantizeMultiplier(real);
      if (m.shift > 31) throw unsupportedModel(`${what}: multiplier ${real} is too large (>= 2^31)`);
      params[P_A_OFFSET] = -qa.storedZp;
      params[P_B_OFFSET] = -qb.storedZp;
      params[P_OUT_MULT] = m.multiplier;
      params[P_OUT_LEFT] = Math.max(m.shift, 0);
      params[P_OUT_RIGHT] = Math.max(-m.shift, 0);
      const offA = -qa.storedZp, offB = -qb.storedZp;
      fn = (x, y) => clamp(multiplyByQuantizedMultiplier((x + offA) * (y + offB), m.multiplier, m.shift) + qo.storedZp, range.min, range.max);
    }
  }
  const q8 = params !== undefined;
  const elementBytes = q8 ? 1 : 4;

  // both constant: TFLite folds the op; so do we, and run copies the result
  if (A.constant && B.constant) {
    const folded = q8 ? new Int8Array(n) : new Float32Array(n);
    broadcastLoop(fn, A.constant, B.constant, folded, sa, sb, so);
    return {
      kernel: `${op.op}_folded`,
      constants: [new Uint8Array(folded.buffer)],
      scratchBytes: 0,
      macs: 0,
      run(k, p) {
        const src = p.constants[0];
        new Uint8Array(k.memory.buffer).copyWithin(p.output, src, src + n * elementBytes);
      },
    };
  }

  // the larger operand is `a` (the per-operand parameters swap with it)
  const spanA = trailingSpan(A.shape, so);
  const spanB = trailingSpan(B.shape, so);
  let swapped = false;
  if (spanA !== n && spanB === n) {
    [A, B] = [B, A];
    swapped = true;
  }
  if (params && swapped) {
    if (op.op === 'mul') [params[P_A_OFFSET], params[P_B_OFFSET]] = [params[P_B_OFFSET], params[P_A_OFFSET]];
    if (addParams) addParams = { ...addParams, a: addParams.b, b: addParams.a };
  }
  if (params && addParams) {
    params[P_A_OFFSET] = addParams.a.offset;
    params[P_A_MULT] = addParams.a.mult;
    params[P_A_RIGHT] = addParams.a.right;
    params[P_B_OFFSET] = addParams.b.offset;
    params[P_B_MULT] = addParams.b.mult;
    params[P_B_RIGHT] = addParams.b.right;
  }
  if (params) constants[paramsIndex] = new Uint8Array(params.buffer);
  const bSpan = swapped ? spanA : spanB;
  const aIsFull = (swapped ? spanB : spanA) === n;
  if (B.constant) B.constantIndex = constants.push(new Uint8Array(B.constant.buffer, B.constant.byteOffset, B.constant.byteLength)) - 1;
  if (A.constant) A.constantIndex = constants.push(new Uint8Array(A.constant.buffer, A.constant.byteOffset, A.constant.byteLength)) - 1;
  const ptr = (x: Operand, p: RunPointers) => (x.constantIndex >= 0 ? p.constants[x.constantIndex] : p.inputs[x.inputIndex]);
  const name = `${q8 ? 'q8' : 'f32'}_${op.op}`;
  const sizeA = sizeOf(A.shape);
  const sizeB = sizeOf(B.shape);
  const paramsPtr = (p: RunPointers) => p.constants[paramsIndex];

  if (aIsFull && bSpan === 1) {
    // one-element b: fold its contribution into a scalar argument
    const bValue = (k: KernelExports, p: RunPointers): number =>
      B.constant ? B.constant[0] : q8 ? new Int8Array(k.memory.buffer, ptr(B, p), 1)[0] : new Float32Array(k.memory.buffer, ptr(B, p), 1)[0];
    const ap = addParams;
    return {
      kernel: `${name}_const`,
      constants,
      scratchBytes: 0,
      macs: n,
      run(k, p) {
        const b = bValue(k, p);
        const a = ptr(A, p);
        if (!q8) {
          (op.op === 'add' ? k.f32_add_const : k.f32_mul_const)(a, p.output, n, b, actMin, actMax);
        } else if (ap) {
          k.q8_add_const(a, p.output, n, addTerm(b, ap.b), paramsPtr(p));
        } else {
          k.q8_mul_const(a, p.output, n, b + params![P_B_OFFSET], paramsPtr(p));
        }
      },
    };
  }

  if (aIsFull && bSpan > 0) {
    // b is a row of the last `cols` elements, reused for every row of a (equal shapes: one row)
    let cols = bSpan;
    let rows = n / cols;
    // a short constant row (e.g. a per-channel [3] against an RGB image) would leave the SIMD
    // loop idle: repeat it k times (k dividing rows) so one kernel row holds >= MIN_SIMD_ROW
    if (B.constant && cols < MIN_SIMD_ROW && rows > 1) {
      let k = Math.ceil(MIN_SIMD_ROW / cols);
      while (k < rows && rows % k !== 0) k++;
      if (k > rows) k = rows;
      if (cols * k <= MAX_EXPANDED_ROW) {
        const row = B.constant;
        const expanded = row instanceof Float32Array ? new Float32Array(cols * k) : new Int8Array(cols * k);
        for (let j = 0; j < k; j++) expanded.set(row, j * cols);
        constants[B.constantIndex] = new Uint8Array(expanded.buffer);
        cols *= k;
        rows /= k;
      }
    }
    return {
      kernel: name,
      constants,
      scratchBytes: 0,
      macs: n,
      run(k, p) {
        const a = ptr(A, p);
        const b = ptr(B, p);
        if (!q8) (op.op === 'add' ? k.f32_add : k.f32_mul)(a, b, p.output, rows, cols, actMin, actMax);
        else (op.op === 'add' ? k.q8_add : k.q8_mul)(a, b, p.output, rows, cols, paramsPtr(p));
      },
    };
  }

  // general broadcast (e.g. [1,H,1,C] with [1,1,W,1]): exact JS loop over the output
  const [fa, fb] = swapped ? [B, A] : [A, B];
  return {
    kernel: `${name}_broadcast`,
    constants,
    scratchBytes: 0,
    macs: n,
    run(k, p) {
      const buf = k.memory.buffer;
      const view = (x: Operand, size: number) => (q8 ? new Int8Array(buf, ptr(x, p), size) : new Float32Array(buf, ptr(x, p), size));
      const out = q8 ? new Int8Array(buf, p.output, n) : new Float32Array(buf, p.output, n);
      broadcastLoop(fn, view(fa, fa === A ? sizeA : sizeB), view(fb, fb === A ? sizeA : sizeB), out, fa.shape, fb.shape, so);
    },
  };
}
