/**
 * Quantized ops (uint8 per-tensor, int8 per-channel) made ready for the q8 kernels: validation,
 * TFLite's multiplier rules, weight packing, and the uint8 -> int8 storage shift (-128 on
 * activations and zero points, see src/ops/types.ts).
 */
import { invalidModel, unsupportedModel } from '../../errors.js';
import {
  convGeometry,
  sizeOf,
  type AveragePool2DOp,
  type Conv2DOp,
  type DepthwiseConv2DOp,
  type DequantizeOp,
  type FullyConnectedOp,
  type Op,
  type QuantizeOp,
  type SoftmaxOp,
  type TensorInfo,
  type Weights,
} from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import { checkQuantScale, MIN_NORMAL_F32 } from '../../model/validate.js';
import type { PreparedOp, RunPointers } from '../types.js';
import {
  activationRange,
  dtypeRange,
  multiplyByQuantizedMultiplier,
  perChannelRealMultiplier,
  perTensorRealMultiplier,
  quantizeMultiplier,
  roundHalfAway,
  type ActivationName,
  type QuantizedMultiplier,
} from '../../quant/fixedpoint.js';
import { softmaxParams } from '../../quant/softmax.js';
import {
  packConvWeights,
  packDepthwiseWeights,
  packGemm16Weights,
  packGemm16Rows,
  packGemmRows,
  packInt32,
  packRequant,
  roundUp,
  requantMode,
} from '../../quant/pack.js';

type QDType = 'uint8' | 'int8';

/** zero point as stored in the int8 arena */
const storedZp = (dtype: QDType, zp: number) => (dtype === 'uint8' ? zp - 128 : zp);

interface TensorQuant {
  dtype: QDType;
  scale: number;
  zeroPoint: number;
}

function isQ(dtype: string): dtype is QDType {
  return dtype === 'uint8' || dtype === 'int8';
}

/** finite, positive, normal float32 (src/model/validate.ts): INVALID_MODEL otherwise */
function checkScale(s: number, what: string): void {
  checkQuantScale(s, what);
}

function tensorQuant(t: TensorInfo, what: string): TensorQuant {
  if (!isQ(t.dtype)) throw unsupportedModel(`${what} tensor '${t.name}' is ${t.dtype}, expected uint8 or int8`);
  const q = t.quant;
  if (!q || q.scale.length === 0 || q.zeroPoint.length === 0) throw invalidModel(`${what} tensor '${t.name}' (${t.dtype}) has no quantization parameters`);
  if (q.scale.length !== 1 || q.zeroPoint.length !== 1) throw unsupportedModel(`${what} tensor '${t.name}' has per-channel quantization; only per-tensor is supported for activations`);
  checkScale(q.scale[0], `${what} tensor '${t.name}'`);
  const { qmin, qmax } = dtypeRange(t.dtype);
  const zp = q.zeroPoint[0];
  if (!Number.isInteger(zp) || zp < qmin || zp > qmax) throw invalidModel(`${what} tensor '${t.name}' zero point ${zp} is outside the ${t.dtype} range`);
  return { dtype: t.dtype, scale: q.scale[0], zeroPoint: zp };
}

/** activation clamp range in storage (int8) space */
function storedActivationRange(op: { activation: ActivationName }, out: TensorQuant) {
  const { qmin, qmax } = dtypeRange(out.dtype);
  const act = op.activation;
  if (!['none', 'relu', 'relu6', 'relu_n1_to_1'].includes(act)) throw unsupportedModel(`activation '${act}' is not supported`);
  const r = activationRange(act, out.scale, out.zeroPoint, qmin, qmax);
  if (r.min > r.max) throw unsupportedModel(`activation '${act}' gives an empty output range [${r.min}, ${r.max}]`);
  return { min: storedZp(out.dtype, r.min), max: storedZp(out.dtype, r.max) };
}

function checkShape(t: TensorInfo, rank: number, what: string): void {
  if (t.shape.length !== rank || t.shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw invalidModel(`${what} tensor '${t.name}' has shape [${t.shape}], expected ${rank} positive dimensions`);
  }
}

/** QuantizeMultiplier with the failure modes of absurd scales reported as model errors */
function checkedMultiplier(real: number, what: string): QuantizedMultiplier {
  if (!Number.isFinite(real) || real < 0) throw invalidModel(`${what}: requantization multiplier ${real} is not finite`);
  const q = quantizeMultiplier(real);
  if (q.shift > 31) throw unsupportedModel(`${what}: requantization multiplier ${real} is too large (>= 2^31)`);
  return q;
}

interface FilterInfo {
  /** w - w_zp for element i of the raw data */
  centered: (i: number) => number;
  /** the raw data and its zero point, for packers that centre while they copy */
  raw: Float32Array | Uint8Array | Int8Array;
  wzp: number;
  multipliers: QuantizedMultiplier[];
}

/**
 * w - w_zp for every weight, computed once into one Int16Array so the packers' per-weight
 * accessor is monomorphic (raw data is Uint8Array or Int8Array): 4.2M weights pack in tens of
 * milliseconds instead of hundreds, which is most of a model's load time.
 */
function centeredWeights(data: Float32Array | Uint8Array | Int8Array, wzp: number): { centered: (i: number) => number; raw: typeof data; wzp: number } {
  let values: Int16Array | undefined;
  const centered = (i: number) => {
    if (!values) {
      values = new Int16Array(data.length);
      values.set(data); // native widening copy
      if (wzp !== 0) for (let j = 0; j < values.length; j++) values[j] -= wzp;
    }
    return values[i];
  };
  return { centered, raw: data, wzp };
}

/**
 * Filter validation and multipliers. uint8: per-tensor scale and zero point, float32 scale
 * product. int8: symmetric (TFLite ignores a filter zero point), per-channel along `channelAxis`
 * or per-tensor, double product -- except FULLY_CONNECTED, which uses the float product.
 */
/**
 * The per-tensor rule multiplies input_scale * filter_scale in float32 (as TFLite does): with
 * normal scales the product can still underflow to a subnormal or zero, which would turn the
 * layer's multiplier into 0 (a constant output). INVALID_MODEL naming the scales.
 */
function checkScaleProduct(inputScale: number, filterScale: number, what: string): void {
  const p = Math.fround(Math.fround(inputScale) * Math.fround(filterScale));
  if (!(p >= MIN_NORMAL_F32) || !Number.isFinite(p)) {
    throw invalidModel(`${what}: input scale ${inputScale} x filter scale ${filterScale} = ${p} in float32 is not a normal float32 number`);
  }
}

function filterInfo(filter: Weights, input: TensorQuant, output: TensorQuant, channels: number, channelAxis: number, perTensorRule: boolean): FilterInfo {
  if (filter.dtype !== input.dtype) throw unsupportedModel(`filter is ${filter.dtype} but the input is ${input.dtype}`);
  if (filter.data.length !== sizeOf(filter.shape)) throw invalidModel(`filter data has ${filter.data.length} values, shape [${filter.shape}] needs ${sizeOf(filter.shape)}`);
  const q = filter.quant;
  if (!q || q.scale.length === 0) throw invalidModel('filter has no quantization parameters');
  q.scale.forEach((s) => checkScale(s, 'filter'));
  const data = filter.data;
  if (filter.dtype === 'uint8') {
    if (q.scale.length !== 1 || q.zeroPoint.length !== 1) throw unsupportedModel('uint8 filter with per-channel quantization');
    const wzp = q.zeroPoint[0];
    if (!Number.isInteger(wzp) || wzp < 0 || wzp > 255) throw invalidModel(`filter zero point ${wzp} is outside the uint8 range`);
    checkScaleProduct(input.scale, q.scale[0], 'filter');
    const m = checkedMultiplier(perTensorRealMultiplier(input.scale, q.scale[0], output.scale), 'filter');
    return { ...centeredWeights(data, wzp), multipliers: new Array(channels).fill(m) };
  }
  if (q.scale.length !== 1 && q.scale.length !== channels) throw invalidModel(`filter has ${q.scale.length} scales for ${channels} output channels`);
  if (q.scale.length > 1 && q.axis !== channelAxis) throw unsupportedModel(`filter is quantized along axis ${q.axis}, expected ${channelAxis}`);
  if (q.scale.length > 1 && perTensorRule) throw unsupportedModel('int8 fully connected layer with per-channel weight scales');
  if (q.zeroPoint.some((z) => z !== 0)) {
    if (perTensorRule && q.zeroPoint.length === 1 && Number.isInteger(q.zeroPoint[0]) && Math.abs(q.zeroPoint[0]) <= 128) {
      const wzp = q.zeroPoint[0];
      checkScaleProduct(input.scale, q.scale[0], 'filter');
      const m = checkedMultiplier(perTensorRealMultiplier(input.scale, q.scale[0], output.scale), 'filter');
      return { ...centeredWeights(data, wzp), multipliers: new Array(channels).fill(m) };
    }
    throw unsupportedModel('int8 filter with a non-zero zero point (TFLite requires symmetric int8 weights)');
  }
  const multipliers: QuantizedMultiplier[] = [];
  for (let c = 0; c < channels; c++) {
    const fs = q.scale.length === 1 ? q.scale[0] : q.scale[c];
    if (perTensorRule) checkScaleProduct(input.scale, fs, `filter channel ${c}`);
    multipliers.push(checkedMultiplier(perTensorRule ? perTensorRealMultiplier(input.scale, fs, output.scale) : perChannelRealMultiplier(input.scale, fs, output.scale), `filter channel ${c}`));
  }
  return { ...centeredWeights(data, 0), multipliers };
}

function checkBias(bias: Float32Array | Int32Array, n: number): Int32Array {
  if (!(bias instanceof Int32Array)) throw invalidModel('quantized layer bias must be int32');
  if (bias.length !== n) throw invalidModel(`bias has ${bias.length} values, expected ${n}`);
  return bias;
}

function checkSameDtype(op: Op, inQ: TensorQuant, outQ: TensorQuant): void {
  if (inQ.dtype !== outQ.dtype) throw unsupportedModel(`${op.op} with ${inQ.dtype} input and ${outQ.dtype} output`);
}

export function prepareQ8(op: Op): PreparedOp {
  switch (op.op) {
    case 'conv2d':
      return prepareConv(op);
    case 'depthwise_conv2d':
      return prepareDepthwise(op);
    case 'fully_connected':
      return prepareFullyConnected(op);
    case 'average_pool2d':
      return prepareAveragePool(op);
    case 'softmax':
      return prepareSoftmax(op);
    case 'quantize':
      return prepareQuantize(op);
    case 'dequantize':
      return prepareDequantize(op);
    default:
      throw unsupportedModel(`quantized op '${(op as Op).op}' is not supported`);
  }
}

function geometry(op: Conv2DOp | DepthwiseConv2DOp | AveragePool2DOp, kh: number, kw: number) {
  const [, h, w] = op.input.shape;
  const [sh, sw] = op.strides;
  if (![sh, sw].every((s) => Number.isInteger(s) && s > 0)) throw invalidModel(`strides [${op.strides}] must be positive integers`);
  if (op.padding !== 'same' && op.padding !== 'valid') throw unsupportedModel(`padding '${op.padding}'`);
  const gy = convGeometry(h, kh, sh, op.padding);
  const gx = convGeometry(w, kw, sw, op.padding);
  if (gy.out <= 0 || gx.out <= 0) throw invalidModel(`a ${kh}x${kw} window does not fit a ${h}x${w} input with ${op.padding} padding`);
  const [n, oh, ow] = op.output.shape;
  if (n !== 1 || op.input.shape[0] !== 1) throw unsupportedModel('batch size must be 1');
  if (oh !== gy.out || ow !== gx.out) throw invalidModel(`output is ${oh}x${ow}, expected ${gy.out}x${gx.out} for ${op.padding} padding`);
  return { h, w, sh, sw, oh, ow, padTop: gy.padBefore, padLeft: gx.padBefore };
}

function convParts(op: Conv2DOp) {
  checkShape(op.input, 4, 'input');
  checkShape(op.output, 4, 'output');
  const inQ = tensorQuant(op.input, 'input');
  const outQ = tensorQuant(op.output, 'output');
  checkSameDtype(op, inQ, outQ);
  if (op.filter.shape.length !== 4) throw invalidModel(`filter shape [${op.filter.shape}] must be [O, KH, KW, I]`);
  const [oc, kh, kw, ic] = op.filter.shape;
  const c = op.input.shape[3];
  if (ic !== c) throw invalidModel(`filter has ${ic} input channels, the input has ${c}`);
  if (op.output.shape[3] !== oc) throw invalidModel(`output has ${op.output.shape[3]} channels, the filter ${oc}`);
  const g = geometry(op, kh, kw);
  const f = filterInfo(op.filter, inQ, outQ, oc, 0, false);
  const bias = checkBias(op.bias, oc);
  const act = storedActivationRange(op, outQ);
  const xzp = storedZp(inQ.dtype, inQ.zeroPoint);
  const yzp = storedZp(outQ.dtype, outQ.zeroPoint);
  const mode = requantMode(f.multipliers);
  const macs = g.oh * g.ow * oc * kh * kw * ic;
  const pointwise = kh === 1 && kw === 1 && g.sh === 1 && g.sw === 1 && g.padTop === 0 && g.padLeft === 0;
  return { oc, kh, kw, ic, g, f, bias, act, xzp, yzp, mode, macs, pointwise };
}

function prepareConv(op: Conv2DOp): PreparedOp {
  const { oc, kh, kw, ic, g, f, bias, act, xzp, yzp, mode, macs, pointwise } = convParts(op);
  if (pointwise) {
    // pointwise: a GEMM over the H*W rows, zero point folded into the bias
    const n = oc;
    const k = ic;
    const m = g.h * g.w;
    const weights = packGemmRows(f.raw, f.wzp, n, k);
    const folded = foldInputZeroPointRows(bias, f.raw, f.wzp, n, k, xzp);
    const np = roundUp(n, 4);
    const constants = [weights, packInt32(folded, np), packRequant(f.multipliers, np)];
    return {
      kernel: 'q8_gemm',
      constants,
      scratchBytes: 0,
      macs,
      run(kx: KernelExports, p: RunPointers) {
        kx.q8_gemm(p.input, m, k, p.constants[0], n, p.constants[1], p.constants[2], mode, yzp, act.min, act.max, p.output);
      },
    };
  }
  if (kw * ic <= 16) return prepareConvIm2col(op, convParts(op));
  const ocp = roundUp(oc, 8);
  const weights = packConvWeights((o, y, x, i) => f.centered(((o * kh + y) * kw + x) * ic + i), oc, kh, kw, ic);
  const constants = [weights, packInt32(bias, ocp), packRequant(f.multipliers, ocp)];
  return {
    kernel: 'q8_conv',
    constants,
    scratchBytes: 0,
    macs,
    run(kx: KernelExports, p: RunPointers) {
      kx.q8_conv(p.input, g.h, g.w, ic, p.constants[0], p.constants[1], p.constants[2], mode, oc, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow, xzp, yzp, act.min, act.max, p.output);
    },
  };
}

/**
 * A full conv whose filter rows are short (kw * ic <= 16: the stem) as im2col into int16 tiles
 * (assembly/q8/im2col.ts), a band of output rows at a time, and the GEMM of the fused steps.
 */
function prepareConvIm2col(op: Conv2DOp, parts: ReturnType<typeof convParts>, bandBytes = FUSED_BAND_BYTES): PreparedOp {
  void op;
  const { oc, kh, kw, ic, g, f, bias, act, xzp, yzp, mode, macs } = parts;
  const rowLen = kw * ic;
  const rowPad = roundUp(rowLen, 2);
  const k = kh * rowPad;
  const weights = packGemm16Weights((o, kk) => {
    const ky = Math.floor(kk / rowPad);
    const j = kk % rowPad;
    return j < rowLen ? f.centered(((o * kh + ky) * kw + Math.floor(j / ic)) * ic + (j % ic)) : 0;
  }, oc, k);
  const np = roundUp(oc, 8);
  const tileBytes = (k / 2) * 16;
  const bandRows = Math.max(1, Math.min(g.oh, Math.floor(bandBytes / ((g.ow * tileBytes) / 4))));
  const bandTiles = Math.ceil((bandRows * g.ow) / 4);
  const gemm = 'q8_gemm16' + modeSuffix(mode);
  return {
    kernel: 'q8_im2col+gemm16',
    constants: [weights, packInt32(bias, np), packRequant(f.multipliers, np)],
    scratchBytes: bandTiles * tileBytes,
    macs,
    run(kx: KernelExports, p: RunPointers) {
      const [w, b, rq] = p.constants;
      for (let oy0 = 0; oy0 < g.oh; oy0 += bandRows) {
        const oy1 = Math.min(g.oh, oy0 + bandRows);
        kx.q8_im2col16(p.input, g.h, g.w, ic, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.ow, oy0, oy1, xzp, p.scratch);
        kx[gemm](p.scratch, (oy1 - oy0) * g.ow, k, w, oc, b, rq, mode, yzp, act.min, act.max, p.output + oy0 * g.ow * oc);
      }
    },
  };
}

/** The im2col form of a full conv with kw * ic <= 16, with a chosen band size (for tests); null otherwise. */
export function prepareConvBanded(op: Conv2DOp, bandBytes: number): PreparedOp | null {
  const parts = convParts(op);
  return !parts.pointwise && parts.kw * parts.ic <= 16 ? prepareConvIm2col(op, parts, bandBytes) : null;
}

/** bias - x_zp * sum_k(w') with int32 wrap-around, as the accumulator would see it */
/** bias - x_zp * sum_k (w - w_zp): the input zero point folded into the bias (row-major [n][k] raw weights) */
function foldInputZeroPointRows(bias: Int32Array, w: Float32Array | Uint8Array | Int8Array, wzp: number, n: number, k: number, xzp: number): Int32Array {
  const out = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    let s = 0;
    for (let kk = 0, row = c * k; kk < k; kk++) s += w[row + kk] - wzp;
    out[c] = bias[c] - xzp * s;
  }
  return out;
}


function depthwiseParts(op: DepthwiseConv2DOp) {
  checkShape(op.input, 4, 'input');
  checkShape(op.output, 4, 'output');
  const inQ = tensorQuant(op.input, 'input');
  const outQ = tensorQuant(op.output, 'output');
  checkSameDtype(op, inQ, outQ);
  if (op.filter.shape.length !== 4 || op.filter.shape[0] !== 1) throw invalidModel(`depthwise filter shape [${op.filter.shape}] must be [1, KH, KW, C]`);
  const [, kh, kw, fc] = op.filter.shape;
  const c = op.input.shape[3];
  if (fc !== c) throw unsupportedModel(`depthwise filter has ${fc} channels for ${c} input channels: only depth multiplier 1 is supported`);
  if (op.output.shape[3] !== c) throw invalidModel(`output has ${op.output.shape[3]} channels, expected ${c}`);
  const g = geometry(op, kh, kw);
  const f = filterInfo(op.filter, inQ, outQ, c, 3, false);
  const bias = checkBias(op.bias, c);
  const act = storedActivationRange(op, outQ);
  const xzp = storedZp(inQ.dtype, inQ.zeroPoint);
  const yzp = storedZp(outQ.dtype, outQ.zeroPoint);
  const mode = requantMode(f.multipliers);
  const taps = kh * kw;
  const cp = roundUp(c, 8);
  const weights = packDepthwiseWeights((t, ch) => f.centered(t * c + ch), taps, c);
  const biases = new Int32Array(2 * cp);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let t = 0; t < taps; t++) s += f.centered(t * c + ch);
    biases[ch] = bias[ch];
    biases[cp + ch] = (bias[ch] - Math.imul(xzp, s)) | 0;
  }
  const constants = [weights, new Uint8Array(biases.buffer), packRequant(f.multipliers, cp)];
  return { c, kh, kw, g, act, xzp, yzp, mode, constants, macs: g.oh * g.ow * c * taps };
}

function prepareDepthwise(op: DepthwiseConv2DOp): PreparedOp {
  const { c, kh, kw, g, act, xzp, yzp, mode, constants, macs } = depthwiseParts(op);
  return {
    kernel: 'q8_dwconv',
    constants,
    scratchBytes: 0,
    macs,
    run(kx: KernelExports, p: RunPointers) {
      kx.q8_dwconv(p.input, g.h, g.w, c, p.constants[0], p.constants[1], p.constants[2], mode, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow, xzp, yzp, act.min, act.max, p.output);
    },
  };
}

/** suffix of the q8 kernel entry point specialised for a requantization mode (src/quant/pack.ts requantMode) */
const modeSuffix = (mode: number) => (mode >= 1 && mode <= 22 ? '_rs' : mode === -3 ? '_rl' : '');

/** bytes of depthwise output (int16 tiles) a fused step produces before the GEMM consumes them */
const FUSED_BAND_BYTES = 64 * 1024;

/**
 * A quantized depthwise conv followed by a pointwise conv on its output, as one step: the
 * depthwise writes a band of output rows into scratch as int16 (y - x_zp of the pointwise) in
 * the tile layout of assembly/q8/gemm16.ts, and the GEMM consumes the band while it is in
 * cache. Bit-exact with the two ops run separately. null when the pair is not of that form.
 */
export function prepareFusedQ8(first: Op, second: Op, bandBytes = FUSED_BAND_BYTES): PreparedOp | null {
  if (first.op !== 'depthwise_conv2d' || second.op !== 'conv2d') return null;
  if (!isQ(first.input.dtype) || !isQ(second.input.dtype)) return null;
  const [d0, d1, d2, d3] = first.output.shape;
  const s = second.input.shape;
  if (s.length !== 4 || s[0] !== d0 || s[1] !== d1 || s[2] !== d2 || s[3] !== d3) return null;
  const dw = depthwiseParts(first);
  const pw = convParts(second);
  if (!pw.pointwise) return null;
  const { c, kh, kw, g } = dw;
  const n = pw.oc;
  const k = pw.ic;
  const np = roundUp(n, 8);
  const constants = [...dw.constants, packGemm16Rows(pw.f.raw, pw.f.wzp, n, k), packInt32(pw.bias, np), packRequant(pw.f.multipliers, np)];
  const tileBytes = Math.ceil(k / 2) * 16;
  const bandRows = Math.max(1, Math.min(g.oh, Math.floor(bandBytes / ((g.ow * tileBytes) / 4))));
  const bandTiles = Math.ceil((bandRows * g.ow) / 4);
  const yzp = pw.yzp, act = pw.act, mode = pw.mode;
  // the entry points specialised for each requantization mode (assembly/q8/gemm16.ts)
  const gemm = 'q8_gemm16' + modeSuffix(mode);
  const dwconv = 'q8_dwconv16' + modeSuffix(dw.mode);
  return {
    kernel: 'q8_dw+gemm16',
    constants,
    scratchBytes: bandTiles * tileBytes,
    macs: dw.macs + pw.macs,
    run(kx: KernelExports, p: RunPointers) {
      const [dwW, dwB, dwRq, pwW, pwB, pwRq] = p.constants;
      for (let oy0 = 0; oy0 < g.oh; oy0 += bandRows) {
        const oy1 = Math.min(g.oh, oy0 + bandRows);
        kx[dwconv](p.input, g.h, g.w, c, dwW, dwB, dwRq, dw.mode, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow, dw.xzp, dw.yzp, dw.act.min, dw.act.max, p.scratch, oy0, oy1, pw.xzp);
        kx[gemm](p.scratch, (oy1 - oy0) * g.ow, k, pwW, n, pwB, pwRq, mode, yzp, act.min, act.max, p.output + oy0 * g.ow * n);
      }
    },
  };
}

function prepareFullyConnected(op: FullyConnectedOp): PreparedOp {
  const inQ = tensorQuant(op.input, 'input');
  const outQ = tensorQuant(op.output, 'output');
  checkSameDtype(op, inQ, outQ);
  if (op.filter.shape.length !== 2) throw invalidModel(`fully connected weights shape [${op.filter.shape}] must be [O, I]`);
  const [n, k] = op.filter.shape;
  const total = sizeOf(op.input.shape);
  if (!(n > 0 && k > 0) || total % k !== 0) throw invalidModel(`input of ${total} values does not split into rows of ${k}`);
  const m = total / k;
  if (sizeOf(op.output.shape) !== m * n) throw invalidModel(`output has ${sizeOf(op.output.shape)} values, expected ${m} x ${n}`);
  const f = filterInfo(op.filter, inQ, outQ, n, 0, true);
  const bias = checkBias(op.bias, n);
  const act = storedActivationRange(op, outQ);
  const xzp = storedZp(inQ.dtype, inQ.zeroPoint);
  const yzp = storedZp(outQ.dtype, outQ.zeroPoint);
  const mode = requantMode(f.multipliers);
  const np = roundUp(n, 4);
  const constants = [packGemmRows(f.raw, f.wzp, n, k), packInt32(foldInputZeroPointRows(bias, f.raw, f.wzp, n, k, xzp), np), packRequant(f.multipliers, np)];
  return {
    kernel: 'q8_gemm',
    constants,
    scratchBytes: 0,
    macs: m * n * k,
    run(kx: KernelExports, p: RunPointers) {
      kx.q8_gemm(p.input, m, k, p.constants[0], n, p.constants[1], p.constants[2], mode, yzp, act.min, act.max, p.output);
    },
  };
}

function prepareAveragePool(op: AveragePool2DOp): PreparedOp {
  checkShape(op.input, 4, 'input');
  checkShape(op.output, 4, 'output');
  const inQ = tensorQuant(op.input, 'input');
  const outQ = tensorQuant(op.output, 'output');
  checkSameDtype(op, inQ, outQ);
  if (Math.fround(inQ.scale) !== Math.fround(outQ.scale) || inQ.zeroPoint !== outQ.zeroPoint) {
    throw unsupportedModel('average pool with different input and output quantization (TFLite requires them equal)');
  }
  const [kh, kw] = op.filterSize;
  if (![kh, kw].every((x) => Number.isInteger(x) && x > 0)) throw invalidModel(`pool size [${op.filterSize}] must be positive integers`);
  const c = op.input.shape[3];
  if (op.output.shape[3] !== c) throw invalidModel(`output has ${op.output.shape[3]} channels, expected ${c}`);
  const g = geometry(op, kh, kw);
  const act = storedActivationRange(op, outQ);
  const mode = inQ.dtype === 'uint8' ? 0 : 1;
  return {
    kernel: 'q8_avgpool',
    constants: [],
    scratchBytes: 0,
    macs: g.oh * g.ow * c * kh * kw,
    run(kx: KernelExports, p: RunPointers) {
      kx.q8_avgpool(p.input, g.h, g.w, c, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow, act.min, act.max, mode, p.output);
    },
  };
}

function prepareSoftmax(op: SoftmaxOp): PreparedOp {
  const inQ = tensorQuant(op.input, 'input');
  const outQ = tensorQuant(op.output, 'output');
  checkSameDtype(op, inQ, outQ);
  if (Math.fround(outQ.scale) !== Math.fround(1 / 256) || outQ.zeroPoint !== (outQ.dtype === 'uint8' ? 0 : -128)) {
    throw unsupportedModel(`softmax output must have scale 1/256 and zero point ${outQ.dtype === 'uint8' ? 0 : -128} (got ${outQ.scale}, ${outQ.zeroPoint})`);
  }
  if (!(Number.isFinite(op.beta) && op.beta > 0)) throw invalidModel(`softmax beta ${op.beta} must be finite and > 0`);
  const shape = op.input.shape;
  if (shape.length === 0) throw invalidModel('softmax input has no dimensions');
  const depth = shape[shape.length - 1];
  const total = sizeOf(shape);
  if (sizeOf(op.output.shape) !== total) throw invalidModel('softmax output size differs from its input');
  let params;
  try {
    params = softmaxParams(op.beta, inQ.scale);
  } catch (e) {
    throw unsupportedModel(`softmax: ${(e as Error).message}`);
  }
  const rows = total / depth;
  return {
    kernel: 'q8_softmax',
    constants: [],
    scratchBytes: 0,
    macs: total,
    run(kx: KernelExports, p: RunPointers) {
      for (let r = 0; r < rows; r++) {
        kx.q8_softmax(p.input + r * depth, depth, params.inputMultiplier, params.inputLeftShift, params.diffMin, p.output + r * depth);
      }
    },
  };
}

function prepareQuantize(op: QuantizeOp): PreparedOp {
  const outQ = tensorQuant(op.output, 'output');
  const n = sizeOf(op.input.shape);
  if (sizeOf(op.output.shape) !== n) throw invalidModel('quantize output size differs from its input');
  const { qmin, qmax } = dtypeRange(outQ.dtype);
  const outShift = outQ.dtype === 'uint8' ? 128 : 0;
  if (op.input.dtype === 'float32') {
    const scale = Math.fround(outQ.scale);
    return {
      kernel: 'quantize',
      constants: [],
      scratchBytes: 0,
      macs: n,
      run(kx: KernelExports, p: RunPointers) {
        const src = new Float32Array(kx.memory.buffer, p.input, n);
        const dst = new Int8Array(kx.memory.buffer, p.output, n);
        for (let i = 0; i < n; i++) {
          const v = roundHalfAway(Math.fround(src[i] / scale)) + outQ.zeroPoint;
          // NaN clamps to qmin; TFLite's int conversion of NaN is undefined
          dst[i] = (v >= qmin ? (v <= qmax ? v : qmax) : qmin) - outShift;
        }
      },
    };
  }
  const inQ = tensorQuant(op.input, 'input');
  const inShift = inQ.dtype === 'uint8' ? 128 : 0;
  const mq = checkedMultiplier(Math.fround(inQ.scale) / Math.fround(outQ.scale), 'requantize');
  return {
    kernel: 'requantize',
    constants: [],
    scratchBytes: 0,
    macs: n,
    run(kx: KernelExports, p: RunPointers) {
      const src = new Int8Array(kx.memory.buffer, p.input, n);
      const dst = new Int8Array(kx.memory.buffer, p.output, n);
      for (let i = 0; i < n; i++) {
        const x = src[i] + inShift - inQ.zeroPoint;
        const v = multiplyByQuantizedMultiplier(x, mq.multiplier, mq.shift) + outQ.zeroPoint;
        dst[i] = Math.min(qmax, Math.max(qmin, v)) - outShift;
      }
    },
  };
}

function prepareDequantize(op: DequantizeOp): PreparedOp {
  const inQ = tensorQuant(op.input, 'input');
  if (op.output.dtype !== 'float32') throw unsupportedModel(`dequantize to ${op.output.dtype}`);
  const n = sizeOf(op.input.shape);
  if (sizeOf(op.output.shape) !== n) throw invalidModel('dequantize output size differs from its input');
  const inShift = inQ.dtype === 'uint8' ? 128 : 0;
  const scale = Math.fround(inQ.scale);
  return {
    kernel: 'dequantize',
    constants: [],
    scratchBytes: 0,
    macs: n,
    run(kx: KernelExports, p: RunPointers) {
      const src = new Int8Array(kx.memory.buffer, p.input, n);
      const dst = new Float32Array(kx.memory.buffer, p.output, n);
      for (let i = 0; i < n; i++) dst[i] = scale * (src[i] + inShift - inQ.zeroPoint);
    },
  };
}
