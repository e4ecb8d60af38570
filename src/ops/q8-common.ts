/**
 * What every quantized op shares (uint8 per-tensor, int8 per-channel): validation of tensors,
 * filters and biases, TFLite's multiplier rules, and the uint8 -> int8 storage shift (-128 on
 * activations and zero points, see src/ops/types.ts). Error policy (all ops): a model that
 * contradicts itself (shapes, counts, out-of-range parameters) is INVALID_MODEL; a valid model
 * using something we do not run (a dtype mix, per-channel activations) is UNSUPPORTED_MODEL.
 */
import { invalidModel, unsupportedModel } from '../errors.js';
import { convGeometry, sizeOf, type AveragePool2DOp, type Conv2DOp, type DepthwiseConv2DOp, type Op, type TensorInfo, type Weights } from '../model/ir.js';
import { checkQuantScale, MIN_NORMAL_F32 } from '../model/validate.js';
import { activationRange, dtypeRange, perChannelRealMultiplier, perTensorRealMultiplier, quantizeMultiplier, type ActivationName, type QuantizedMultiplier } from '../quant/fixedpoint.js';
import { MAX_SHORT_RIGHT_SHIFT, RequantMode, requantMode, storedFilter, type StoredFilter } from '../quant/pack.js';

export type QDType = 'uint8' | 'int8';

/** zero point as stored in the int8 arena */
export const storedZp = (dtype: QDType, zp: number) => (dtype === 'uint8' ? zp - 128 : zp);

export interface TensorQuant {
  dtype: QDType;
  scale: number;
  zeroPoint: number;
}

export function isQ(dtype: string): dtype is QDType {
  return dtype === 'uint8' || dtype === 'int8';
}

/** finite, positive, normal float32 (src/model/validate.ts): INVALID_MODEL otherwise */
export function checkScale(s: number, what: string): void {
  checkQuantScale(s, what);
}

export function tensorQuant(t: TensorInfo, what: string): TensorQuant {
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
export function storedActivationRange(op: { activation: ActivationName }, out: TensorQuant) {
  const { qmin, qmax } = dtypeRange(out.dtype);
  const act = op.activation;
  if (!['none', 'relu', 'relu6', 'relu_n1_to_1'].includes(act)) throw unsupportedModel(`activation '${act}' is not supported`);
  const r = activationRange(act, out.scale, out.zeroPoint, qmin, qmax);
  if (r.min > r.max) throw unsupportedModel(`activation '${act}' gives an empty output range [${r.min}, ${r.max}]`);
  return { min: storedZp(out.dtype, r.min), max: storedZp(out.dtype, r.max) };
}

export function checkShape(t: TensorInfo, rank: number, what: string): void {
  if (t.shape.length !== rank || t.shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw invalidModel(`${what} tensor '${t.name}' has shape [${t.shape}], expected ${rank} positive dimensions`);
  }
}

/** QuantizeMultiplier with the failure modes of absurd scales reported as model errors */
export function checkedMultiplier(real: number, what: string): QuantizedMultiplier {
  if (!Number.isFinite(real) || real < 0) throw invalidModel(`${what}: requantization multiplier ${real} is not finite`);
  const q = quantizeMultiplier(real);
  if (q.shift > 31) throw unsupportedModel(`${what}: requantization multiplier ${real} is too large (>= 2^31)`);
  return q;
}

export interface FilterInfo {
  /** the bytes as the packers store them, and their zero point (src/quant/pack.ts) */
  stored: StoredFilter;
  multipliers: QuantizedMultiplier[];
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
export function checkScaleProduct(inputScale: number, filterScale: number, what: string): void {
  const p = Math.fround(Math.fround(inputScale) * Math.fround(filterScale));
  if (!(p >= MIN_NORMAL_F32) || !Number.isFinite(p)) {
    throw invalidModel(`${what}: input scale ${inputScale} x filter scale ${filterScale} = ${p} in float32 is not a normal float32 number`);
  }
}

export function filterInfo(filter: Weights, input: TensorQuant, output: TensorQuant, channels: number, channelAxis: number, perTensorRule: boolean): FilterInfo {
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
    return { stored: storedFilter(data, wzp), multipliers: new Array(channels).fill(m) };
  }
  if (q.scale.length !== 1 && q.scale.length !== channels) throw invalidModel(`filter has ${q.scale.length} scales for ${channels} output channels`);
  if (q.scale.length > 1 && q.axis !== channelAxis) throw unsupportedModel(`filter is quantized along axis ${q.axis}, expected ${channelAxis}`);
  if (q.scale.length > 1 && perTensorRule) throw unsupportedModel('int8 fully connected layer with per-channel weight scales');
  if (q.zeroPoint.some((z) => z !== 0)) {
    if (perTensorRule && q.zeroPoint.length === 1 && Number.isInteger(q.zeroPoint[0]) && q.zeroPoint[0] >= -128 && q.zeroPoint[0] <= 127) {
      const wzp = q.zeroPoint[0];
      checkScaleProduct(input.scale, q.scale[0], 'filter');
      const m = checkedMultiplier(perTensorRealMultiplier(input.scale, q.scale[0], output.scale), 'filter');
      return { stored: storedFilter(data, wzp), multipliers: new Array(channels).fill(m) };
    }
    throw unsupportedModel('int8 filter with a non-zero zero point (TFLite requires symmetric int8 weights)');
  }
  const multipliers: QuantizedMultiplier[] = [];
  for (let c = 0; c < channels; c++) {
    const fs = q.scale.length === 1 ? q.scale[0] : q.scale[c];
    if (perTensorRule) checkScaleProduct(input.scale, fs, `filter channel ${c}`);
    multipliers.push(checkedMultiplier(perTensorRule ? perTensorRealMultiplier(input.scale, fs, output.scale) : perChannelRealMultiplier(input.scale, fs, output.scale), `filter channel ${c}`));
  }
  return { stored: storedFilter(data, 0), multipliers };
}

export function checkBias(bias: Float32Array | Int32Array, n: number): Int32Array {
  if (!(bias instanceof Int32Array)) throw invalidModel('quantized layer bias must be int32');
  if (bias.length !== n) throw invalidModel(`bias has ${bias.length} values, expected ${n}`);
  return bias;
}

export function checkSameDtype(op: Op, inQ: TensorQuant, outQ: TensorQuant): void {
  if (inQ.dtype !== outQ.dtype) throw unsupportedModel(`${op.op} with ${inQ.dtype} input and ${outQ.dtype} output`);
}

/**
 * The input and output quantization of a one-in, one-out quantized op that keeps its dtype
 * (conv, depthwise, pool, fully connected, softmax), with their shapes checked to `rank` when given.
 */
export function quantizedInOut(op: Op & { input: TensorInfo; output: TensorInfo }, rank?: number): { inQ: TensorQuant; outQ: TensorQuant } {
  if (rank !== undefined) {
    checkShape(op.input, rank, 'input');
    checkShape(op.output, rank, 'output');
  }
  const inQ = tensorQuant(op.input, 'input');
  const outQ = tensorQuant(op.output, 'output');
  checkSameDtype(op, inQ, outQ);
  return { inQ, outQ };
}

export function geometry(op: Conv2DOp | DepthwiseConv2DOp | AveragePool2DOp, kh: number, kw: number) {
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

/** bias - x_zp * sum_k (w - w_zp) with int32 wrap-around: the input zero point folded into the bias (`rowSums` from packGemmRows) */
export function foldInputZeroPointRows(bias: Int32Array, rowSums: Int32Array, xzp: number): Int32Array {
  const out = new Int32Array(rowSums.length);
  for (let c = 0; c < out.length; c++) out[c] = (bias[c] - Math.imul(xzp, rowSums[c])) | 0;
  return out;
}

/** which specialised entry point serves a requantization mode (src/quant/pack.ts RequantMode) */
const specialised = (mode: number) =>
  mode >= 1 && mode <= MAX_SHORT_RIGHT_SHIFT ? 'shared-shift' : mode === RequantMode.PER_CHANNEL_SHORT_RIGHT_SHIFTS ? 'short-shifts' : 'general';

/** the q8_gemm16 entry point specialised for a requantization mode */
export function gemm16For(mode: number): 'q8_gemm16' | 'q8_gemm16_rs' | 'q8_gemm16_rl' {
  const s = specialised(mode);
  return s === 'shared-shift' ? 'q8_gemm16_rs' : s === 'short-shifts' ? 'q8_gemm16_rl' : 'q8_gemm16';
}

/** bytes of depthwise output (int16 tiles) a fused step produces before the GEMM consumes them */
export const FUSED_BAND_BYTES = 64 * 1024;

/**
 * The epilogue parameters every weighted quantized op (conv, depthwise, fully connected) derives
 * the same way: the fused activation's clamp and the zero points in storage space, and the
 * requantization path its multipliers allow (src/quant/pack.ts RequantMode).
 */
export function requantEpilogue(op: { activation: ActivationName }, inQ: TensorQuant, outQ: TensorQuant, multipliers: QuantizedMultiplier[]) {
  return {
    act: storedActivationRange(op, outQ),
    xzp: storedZp(inQ.dtype, inQ.zeroPoint),
    yzp: storedZp(outQ.dtype, outQ.zeroPoint),
    mode: requantMode(multipliers),
  };
}
