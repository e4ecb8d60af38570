/**
 * Image -> model input tensor: central crop, bilinear resize and the model's input mapping,
 * in one pass over the pixels. Portable (no Node built-ins, no allocation per pixel).
 *
 * Conventions (chosen to match how the MobileNet v1 models were trained and evaluated):
 *
 * - Crop: TF-slim inception_preprocessing.preprocess_for_eval calls
 *   tf.image.central_crop(image, 0.875), which keeps each side separately (not a square):
 *   start = int((dim - dim * fraction) / 2) computed in double, size = dim - 2 * start.
 *   (AOSP's Java "Inception" preprocessor crops a square of int(0.875 * min side) instead, and
 *   TFLite's evaluation tool uses round(); both differ from TF-slim by a pixel or a strip.)
 * - Resize: tf.image.resize_bilinear(align_corners=False) of TF1, i.e. the legacy mapping
 *   without half-pixel centres: src = dst * (in / out), where TF computes the scale and the
 *   source coordinate in float32; lower = floor(src), upper = min(lower + 1, in - 1),
 *   lerp = src - lower; value = top + (bottom - top) * ylerp with top/bottom interpolated
 *   along x first. We reproduce TF's float32 coordinates exactly (Math.fround, precomputed
 *   once per geometry) and blend in float64.
 * - Values: float models get x / 127.5 - 1 (slim's (x/255 - 0.5) * 2), or opts.inputRange.
 *   Integer models whose input quantization spans the same range with 256 steps
 *   (uint8 scale 1/128 zero point 128: real (q - 128) / 128; int8 scale 1/255 zero point
 *   -128 as in vww_96_int8: real (q + 128) / 255) get the raw pixel, uint8 q = round(x),
 *   int8 q = round(x) - 128. That is TFLite's evaluation tool default
 *   (tools/evaluation/stages/image_preprocessing_stage.h: no normalisation for uint8,
 *   x - 128 for int8; the tool truncates the resized float, we round it). Any other
 *   integer input is quantized from the real value: q = clamp(round(real / scale) + zp),
 *   with TFLite's round-half-away-from-zero.
 * - Normalization (opts.normalization, TFLite metadata's NormalizationOptions): value =
 *   (pixel - mean[c]) / std[c] per channel c (one value = every channel), computed as
 *   pixel * (1 / std) + (-mean / std) in float64. An alternative to inputRange (pass one).
 * - Channels: [1, H, W, 3] or [1, H, W, 1] inputs. A gray (or gray + alpha) source feeds a
 *   3-channel input its one channel three times and a 1-channel input as is. An RGB(A) source
 *   into a 1-channel input becomes luma after the resize: y = 0.299 R + 0.587 G + 0.114 B
 *   (BT.601, summed in that order in float64 from the interpolated channel values), then
 *   mapped like any pixel value, so raw integer inputs get the byte floor(y + 0.5) + qmin
 *   (person_detect_int8: q = byte - 128). This is the luma tf.image.rgb_to_grayscale gives
 *   (it uses 0.2989, 0.587, 0.114), which TF-slim applied when the grayscale person detector
 *   was trained (--input_grayscale). TFLite Micro's Arduino person_detection camera code uses
 *   BT.709 weights (0.2126, 0.7152, 0.0722) and truncates instead: the same on grey pixels,
 *   far apart on saturated colours (pure green: 182 there, 150 here).
 */
import { invalidInput, invalidOption, unsupportedModel } from '../errors.js';
import type { DType, TensorInfo } from '../model/ir.js';
import { checkRawImage, type CheckedImage, type RawImage } from './types.js';
import { guard } from '../runtime/guard.js';
import { describeValue, plainView, typedArrayName } from '../runtime/typed.js';

/** inputRange ends are limited to this magnitude, so every mapped value is a finite float32 */
const MAX_RANGE_MAGNITUDE = 1e38;

/** BT.601 luma weights for RGB sources fed to one-channel (grayscale) inputs */
export const LUMA_WEIGHTS: readonly [number, number, number] = [0.299, 0.587, 0.114];

/** Channel counts of the image inputs we fill: grayscale or RGB. */
const GRAY_CHANNELS = 1;
const RGB_CHANNELS = 3;

/**
 * The pixel-grid test below compares the input's lowest value with the range's low end to
 * within half a quantization step. Some models sit exactly half a step off (person_detect_int8
 * and tf2_mobilenet_v2 ptq: scale 2/255 as float32, zero point -1 / 127), where float rounding
 * decides; this slack keeps them on the pixel grid whichever way it goes.
 */
const HALF_STEP_SLACK = 1 + 1e-6;

export interface PreprocessOptions {
  /** 'central' (default) keeps the central cropFraction of each side; 'none' resizes the whole image */
  crop?: 'central' | 'none';
  /** fraction of each side kept by the central crop, in (0, 1]; default 0.875 */
  cropFraction?: number;
  /**
   * real values that pixel 0 and pixel 255 stand for. Default [-1, 1] for float models
   * (MobileNet v1); for integer models it is read from the input quantization
   * ([-1, 1], [0, 1] or [0, 255], whichever it covers). Float models trained on [0, 1]
   * (vww_96_float) need [0, 1] here: a float input tensor does not say.
   */
  inputRange?: readonly [number, number];
  /**
   * integer models: 'raw' feeds the (resized) pixel bytes as the quantized values,
   * 'quantize' quantizes the real value; 'auto' (default) uses raw when the input
   * quantization maps 256 steps onto inputRange, as the 2018 uint8 MobileNets and vww_96_int8 do.
   */
  integerInput?: 'auto' | 'raw' | 'quantize';
  /**
   * input value = (pixel - mean[c]) / std[c] for channel c, TFLite metadata's
   * NormalizationOptions meaning (mean 127.5, std 127.5 is [-1, 1]). mean and std each hold
   * 1 value (every channel) or one per input channel; finite, std non-zero. Use it or
   * inputRange, not both. Integer inputs quantize the normalized value (when the
   * normalization is the same on every channel, exactly as the equivalent inputRange).
   */
  normalization?: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

export const DEFAULT_CROP_FRACTION = 0.875;

export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** tf.image.central_crop's box: start = int((d - d * f) / 2) in double, size = d - 2 * start. */
export function centralCropBox(width: number, height: number, fraction: number = DEFAULT_CROP_FRACTION): CropBox {
  if (!(typeof width === 'number' && Number.isSafeInteger(width) && width > 0 && typeof height === 'number' && Number.isSafeInteger(height) && height > 0)) {
    throw invalidInput(`centralCropBox needs positive integer width and height, got ${describeValue(width)} x ${describeValue(height)}`);
  }
  if (!(typeof fraction === 'number' && fraction > 0 && fraction <= 1)) {
    throw invalidOption(`cropFraction must be a number in (0, 1], got ${describeValue(fraction)}`);
  }
  const x = Math.trunc((width - width * fraction) / 2);
  const y = Math.trunc((height - height * fraction) / 2);
  return { x, y, width: width - 2 * x, height: height - 2 * y };
}

/** How pixel values in [0, 255] become the model's input values. */
export interface InputMapping {
  dtype: DType;
  mode: 'float' | 'raw' | 'quantize';
  /** input channels: 3 (RGB) or 1 (grayscale) */
  channels: number;
  /**
   * real values of pixel 0 and pixel 255 (with a per-channel normalization: the lowest and
   * highest of them over the channels, so every real input value lies inside)
   */
  range: [number, number];
  /**
   * float: value = pixel * mul + add.
   * integer: q = clamp(roundHalfAwayFromZero(pixel * mul + add) + zeroPoint, qmin, qmax).
   * mul and add are channel 0's; channelMul / channelAdd hold every channel's (all equal
   * unless a normalization differs per channel).
   */
  mul: number;
  add: number;
  channelMul: number[];
  channelAdd: number[];
  zeroPoint: number;
  qmin: number;
  qmax: number;
}

const KNOWN_RANGES: ReadonlyArray<[number, number]> = [
  [-1, 1],
  [0, 1],
  [0, 255],
];

function checkInputTensor(input: TensorInfo): { height: number; width: number; channels: number } {
  if (!input || typeof input !== 'object' || !Array.isArray(input.shape)) {
    throw invalidInput('preprocess needs the model input TensorInfo ({ shape, dtype, quant })');
  }
  const s = input.shape.slice();
  if (s.some((d) => typeof d !== 'number')) throw invalidInput(`input shape must be numbers, got [${s.map(describeValue).join(', ')}]`);
  if (s.length !== 4 || s[0] !== 1 || (s[3] !== RGB_CHANNELS && s[3] !== GRAY_CHANNELS) || !(s[1] > 0) || !(s[2] > 0) || !Number.isInteger(s[1]) || !Number.isInteger(s[2]) || s[1] * s[2] > 2 ** 26) {
    throw unsupportedModel(`input ${describeValue(input.name)} has shape [${s.join(', ')}]; image preprocessing needs [1, height, width, 3] or [1, height, width, 1]`);
  }
  if (input.dtype !== 'float32' && input.dtype !== 'uint8' && input.dtype !== 'int8') {
    throw unsupportedModel(`input ${describeValue(input.name)} has dtype ${describeValue(input.dtype)}; expected float32, uint8 or int8`);
  }
  return { height: s[1], width: s[2], channels: s[3] };
}

function checkOptions(opts: PreprocessOptions): void {
  if (opts === null || typeof opts !== 'object') throw invalidOption('preprocess options must be an object');
  if (opts.crop !== undefined && opts.crop !== 'central' && opts.crop !== 'none') {
    throw invalidOption(`crop must be 'central' or 'none', got ${describeValue(opts.crop)}`);
  }
  const f = opts.cropFraction;
  if (f !== undefined && !(typeof f === 'number' && f > 0 && f <= 1)) {
    throw invalidOption(`cropFraction must be a number in (0, 1], got ${describeValue(f)}`);
  }
  const r = opts.inputRange;
  if (r !== undefined) {
    if (
      !Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'number' || typeof r[1] !== 'number' ||
      !(Math.abs(r[0]) <= MAX_RANGE_MAGNITUDE) || !(Math.abs(r[1]) <= MAX_RANGE_MAGNITUDE) || !(r[0] < r[1])
    ) {
      throw invalidOption(`inputRange must be [low, high] with finite low < high, each at most 1e38 in magnitude, got ${Array.isArray(r) ? `[${r.map(describeValue).join(', ')}]` : describeValue(r)}`);
    }
  }
  const m = opts.integerInput;
  if (m !== undefined && m !== 'auto' && m !== 'raw' && m !== 'quantize') {
    throw invalidOption(`integerInput must be 'auto', 'raw' or 'quantize', got ${describeValue(m)}`);
  }
  const n = opts.normalization;
  if (n !== undefined) {
    if (n === null || typeof n !== 'object' || !Array.isArray(n.mean) || !Array.isArray(n.std)) {
      throw invalidOption(`normalization must be { mean: number[], std: number[] }, got ${describeValue(n)}`);
    }
    if (r !== undefined) throw invalidOption('pass inputRange or normalization, not both: they say the same thing two ways');
    for (const [key, values] of [['mean', n.mean], ['std', n.std]] as const) {
      if (values.length < 1 || values.length > RGB_CHANNELS) {
        throw invalidOption(`normalization.${key} must hold 1 value (every channel) or one per input channel, got ${values.length}`);
      }
      values.forEach((v, c) => {
        if (typeof v !== 'number' || !(Math.abs(v) <= MAX_RANGE_MAGNITUDE) || (key === 'std' && v === 0)) {
          throw invalidOption(`normalization.${key}[${c}] must be a finite number${key === 'std' ? ', not 0' : ''} (at most 1e38 in magnitude), got ${describeValue(v)}`);
        }
      });
    }
  }
}

/**
 * Per-channel [value of pixel 0, value of pixel 255] for `channels` channels: from the
 * normalization, else the inputRange (or `fallback`) on every channel.
 */
function channelRanges(opts: PreprocessOptions, channels: number, fallback: readonly [number, number]): Array<[number, number]> {
  const n = opts.normalization;
  const out: Array<[number, number]> = [];
  for (let c = 0; c < channels; c++) {
    if (!n) {
      const [lo, hi] = opts.inputRange ?? fallback;
      out.push([lo, hi]);
      continue;
    }
    const mean = n.mean.length === 1 ? n.mean[0] : n.mean[c];
    const std = n.std.length === 1 ? n.std[0] : n.std[c];
    const ends: [number, number] = [(0 - mean) / std, (255 - mean) / std];
    if (!(Math.abs(ends[0]) <= MAX_RANGE_MAGNITUDE && Math.abs(ends[1]) <= MAX_RANGE_MAGNITUDE)) {
      throw invalidOption(`normalization mean ${mean} std ${std} maps pixels to [${ends[0]}, ${ends[1]}], beyond 1e38 in magnitude`);
    }
    out.push(ends);
  }
  return out;
}

/** normalization lengths against the input's channel count (known once the tensor is) */
function checkNormalizationFits(opts: PreprocessOptions, input: TensorInfo, channels: number): void {
  const n = opts.normalization;
  if (!n) return;
  for (const [key, values] of [['mean', n.mean], ['std', n.std]] as const) {
    if (values.length !== 1 && values.length !== channels) {
      throw invalidOption(`normalization.${key} has ${values.length} values but input ${describeValue(input.name)} has ${channels} channel${channels === 1 ? '' : 's'}; give 1 value or ${channels}`);
    }
  }
}

/** one [lo, hi] shared by every channel, or undefined when the channels differ */
function uniformRange(ranges: Array<[number, number]>): [number, number] | undefined {
  const [lo, hi] = ranges[0];
  return ranges.every(([a, b]) => a === lo && b === hi) ? [lo, hi] : undefined;
}

/** the interval every channel's values lie in */
function envelope(ranges: Array<[number, number]>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const [a, b] of ranges) {
    lo = Math.min(lo, a, b);
    hi = Math.max(hi, a, b);
  }
  return [lo, hi];
}

/** Works out how pixels map to the values of `input` (see the file comment for the rules). */
export function inputMapping(input: TensorInfo, opts: PreprocessOptions = {}): InputMapping {
  return guard('INVALID_INPUT', 'inputMapping', () => mappingFor(input, snapshotOptions(opts)));
}

/** the options read once into a plain object (getters run once; a Proxy cannot change them mid-call) */
function snapshotOptions(opts: PreprocessOptions | undefined): PreprocessOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw invalidOption(`preprocess options must be an object, got ${describeValue(opts)}`);
  const r = opts.inputRange;
  const snap: PreprocessOptions = { crop: opts.crop, cropFraction: opts.cropFraction, inputRange: Array.isArray(r) ? (r.slice() as unknown as [number, number]) : r, integerInput: opts.integerInput };
  const n = opts.normalization;
  if (n !== undefined) {
    // copied once, like inputRange: arrays that change (or lie) between reads cannot reach the loops
    const copy = (v: unknown) => (Array.isArray(v) ? Array.from(v as unknown[]) : v);
    snap.normalization = n !== null && typeof n === 'object' ? ({ mean: copy(n.mean), std: copy(n.std) } as PreprocessOptions['normalization']) : n;
  }
  checkOptions(snap);
  return snap;
}

function mappingFor(input: TensorInfo, opts: PreprocessOptions): InputMapping {
  const { channels } = checkInputTensor(input);
  checkOptions(opts);
  checkNormalizationFits(opts, input, channels);
  if (input.dtype === 'float32') {
    const n = opts.normalization;
    if (n) {
      const ranges = channelRanges(opts, channels, [-1, 1]);
      const channelMul: number[] = [], channelAdd: number[] = [];
      for (let c = 0; c < channels; c++) {
        const mean = n.mean.length === 1 ? n.mean[0] : n.mean[c];
        const std = n.std.length === 1 ? n.std[0] : n.std[c];
        channelMul.push(1 / std);
        channelAdd.push(-mean / std);
      }
      const range = uniformRange(ranges) ?? envelope(ranges);
      return { dtype: 'float32', mode: 'float', channels, range, mul: channelMul[0], add: channelAdd[0], channelMul, channelAdd, zeroPoint: 0, qmin: 0, qmax: 0 };
    }
    const [lo, hi] = opts.inputRange ?? [-1, 1];
    const mul = (hi - lo) / 255;
    return { dtype: 'float32', mode: 'float', channels, range: [lo, hi], mul, add: lo, channelMul: new Array<number>(channels).fill(mul), channelAdd: new Array<number>(channels).fill(lo), zeroPoint: 0, qmin: 0, qmax: 0 };
  }
  const q = input.quant;
  if (!q || !Array.isArray(q.scale) || q.scale.length === 0) {
    throw unsupportedModel(`input ${input.name} is ${input.dtype} but has no quantization parameters`);
  }
  if (q.scale.length !== 1) throw unsupportedModel(`input ${input.name} is quantized per channel; images need one scale`);
  const scale = q.scale[0];
  const zp = q.zeroPoint?.[0] ?? 0;
  const [qmin, qmax] = input.dtype === 'uint8' ? [0, 255] : [-128, 127];
  // a normal float32 scale (>= 2^-126), as the model loader requires
  if (typeof scale !== 'number' || !(Math.fround(scale) >= 2 ** -126) || !Number.isFinite(Math.fround(scale)) || typeof zp !== 'number' || !Number.isInteger(zp) || zp < qmin || zp > qmax) {
    throw unsupportedModel(`input ${input.name} has invalid quantization (scale ${scale}, zero point ${zp})`);
  }
  // The real interval the quantized input can express.
  const qlo = scale * (qmin - zp);
  const qhi = scale * (qmax - zp);
  const ranges = opts.normalization ? channelRanges(opts, channels, [0, 0]) : undefined;
  // a normalization that is the same on every channel is an inputRange (reversed: a negative std)
  const uniform = ranges && uniformRange(ranges);
  let range = (opts.inputRange as [number, number] | undefined) ?? (uniform && uniform[0] < uniform[1] ? uniform : undefined);
  if (ranges && !range) {
    // per-channel (or reversed) normalization: quantize each channel's real value
    if (opts.integerInput === 'raw') {
      return { dtype: input.dtype, mode: 'raw', channels, range: envelope(ranges), mul: 1, add: 0, channelMul: new Array<number>(channels).fill(1), channelAdd: new Array<number>(channels).fill(0), zeroPoint: qmin, qmin, qmax };
    }
    const channelMul = ranges.map(([lo, hi]) => (hi - lo) / 255 / scale);
    const channelAdd = ranges.map(([lo]) => lo / scale);
    if (![...channelMul, ...channelAdd].every(Number.isFinite)) {
      throw invalidOption(`normalization is too wide for input ${input.name} (scale ${scale}): the quantized values overflow`);
    }
    return { dtype: input.dtype, mode: 'quantize', channels, range: envelope(ranges), mul: channelMul[0], add: channelAdd[0], channelMul, channelAdd, zeroPoint: zp, qmin, qmax };
  }
  if (!range) {
    range = KNOWN_RANGES.find(([lo, hi]) => {
      const tol = 0.05 * (hi - lo);
      return Math.abs(qlo - lo) <= tol && Math.abs(qhi - hi) <= tol;
    });
    if (!range) {
      // the model's input covers none of the pixel ranges images are fed in: the model's oddity,
      // not a bad option (the caller passed none), so UNSUPPORTED_MODEL with the way out
      throw unsupportedModel(
        `cannot tell which pixel range input ${input.name} expects (${input.dtype}, scale ${scale}, zero point ${zp}, ` +
          `covering [${qlo.toPrecision(4)}, ${qhi.toPrecision(4)}], none of [0, 255], [-1, 1], [0, 1]); ` +
          `run() takes tensors as they are, or pass the range as the inputRange option of classify/embed`,
      );
    }
  }
  const [lo, hi] = range;
  const width = hi - lo;
  // 256 quantization steps laid over [lo, hi], starting at lo: the byte is the pixel.
  const pixelGrid =
    Math.abs(qlo - lo) <= (scale / 2) * HALF_STEP_SLACK &&
    (Math.abs(scale * 255 - width) <= 0.01 * width || Math.abs(scale * 256 - width) <= 0.01 * width);
  const mode = opts.integerInput ?? 'auto';
  if (mode === 'raw' || (mode === 'auto' && pixelGrid)) {
    return { dtype: input.dtype, mode: 'raw', channels, range: [lo, hi], mul: 1, add: 0, channelMul: new Array<number>(channels).fill(1), channelAdd: new Array<number>(channels).fill(0), zeroPoint: qmin, qmin, qmax };
  }
  const mul = width / 255 / scale;
  const add = lo / scale;
  if (!Number.isFinite(mul) || !Number.isFinite(add)) {
    throw invalidOption(`inputRange [${lo}, ${hi}] is too wide for input ${input.name} (scale ${scale}): the quantized values overflow`);
  }
  return { dtype: input.dtype, mode: 'quantize', channels, range: [lo, hi], mul, add, channelMul: new Array<number>(channels).fill(mul), channelAdd: new Array<number>(channels).fill(add), zeroPoint: zp, qmin, qmax };
}

// ---- precomputed sampling tables -------------------------------------------------------

/** Per output row or column: element offsets of the two source samples and the weight of the second. */
interface AxisTable {
  lower: Int32Array;
  upper: Int32Array;
  lerp: Float64Array;
}

const tableCache = new Map<string, AxisTable>();
const TABLE_CACHE_SIZE = 16;

/**
 * TF1 legacy bilinear sampling along one axis of a crop [offset, offset + inSize) resized to
 * outSize. `stride` turns a source index into an element offset. float32 as in TF's kernel.
 */
function axisTable(offset: number, inSize: number, outSize: number, stride: number): AxisTable {
  const key = `${offset},${inSize},${outSize},${stride}`;
  const hit = tableCache.get(key);
  if (hit) return hit;
  const lower = new Int32Array(outSize);
  const upper = new Int32Array(outSize);
  const lerp = new Float64Array(outSize);
  const scale = Math.fround(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    const src = Math.fround(i * scale);
    const lo = Math.min(Math.floor(src), inSize - 1);
    lower[i] = (offset + lo) * stride;
    upper[i] = (offset + Math.min(lo + 1, inSize - 1)) * stride;
    lerp[i] = Math.fround(src - lo);
  }
  const t = { lower, upper, lerp };
  if (tableCache.size >= TABLE_CACHE_SIZE) tableCache.delete(tableCache.keys().next().value as string);
  tableCache.set(key, t);
  return t;
}

// ---- the inner loops (float, quantized bytes, raw bytes), each monomorphic ------------------

/** Channel offsets for R, G, B: a gray source reads its one channel three times. */
function channelOffsets(channels: number): [number, number] {
  return channels >= 3 ? [1, 2] : [0, 0];
}

function resizeToFloat(
  src: Uint8Array,
  channels: number,
  xs: AxisTable,
  ys: AxisTable,
  out: Float32Array,
  mul: readonly number[],
  add: readonly number[],
): void {
  const [g, b] = channelOffsets(channels);
  const mul0 = mul[0], mul1 = mul[1], mul2 = mul[2], add0 = add[0], add1 = add[1], add2 = add[2];
  const xLower = xs.lower, xUpper = xs.upper, xLerp = xs.lerp;
  const outW = xLower.length, outH = ys.lower.length;
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const r0 = ys.lower[y], r1 = ys.upper[y], yl = ys.lerp[y];
    for (let x = 0; x < outW; x++) {
      const p00 = r0 + xLower[x], p01 = r0 + xUpper[x], p10 = r1 + xLower[x], p11 = r1 + xUpper[x];
      const xl = xLerp[x];
      let tl = src[p00], tr = src[p01], bl = src[p10], br = src[p11];
      let top = tl + (tr - tl) * xl;
      let v = top + (bl + (br - bl) * xl - top) * yl;
      out[o] = v * mul0 + add0;
      tl = src[p00 + g]; tr = src[p01 + g]; bl = src[p10 + g]; br = src[p11 + g];
      top = tl + (tr - tl) * xl;
      v = top + (bl + (br - bl) * xl - top) * yl;
      out[o + 1] = v * mul1 + add1;
      tl = src[p00 + b]; tr = src[p01 + b]; bl = src[p10 + b]; br = src[p11 + b];
      top = tl + (tr - tl) * xl;
      v = top + (bl + (br - bl) * xl - top) * yl;
      out[o + 2] = v * mul2 + add2;
      o += 3;
    }
  }
}

/**
 * Byte output: q = clamp(round(v * mul + add) + zp) stored as (q + storeShift) & 255, so the
 * same loop writes uint8 values, int8 values (two's complement bytes) or uint8 values in the
 * arena's shifted int8 storage (storeShift -128).
 */
/**
 * TFLite's round half away from zero for |t| < 2^20 without a sign-dependent branch:
 * floor(t + 0.5) via an offset that keeps the argument positive, then negative ties moved down.
 */
function roundAway(t: number): number {
  const q = ((t + 1048576.5) | 0) - 1048576;
  return q - t === 0.5 && t < 0 ? q - 1 : q;
}

function resizeToBytes(
  src: Uint8Array,
  channels: number,
  xs: AxisTable,
  ys: AxisTable,
  out: Uint8Array,
  m: InputMapping,
  storeShift: number,
): void {
  const [g, b] = channelOffsets(channels);
  const [mul0, mul1, mul2] = m.channelMul;
  const [add0, add1, add2] = m.channelAdd;
  // Clamp before rounding: rounding keeps a value inside integer bounds (and roundAway's range).
  const tmin = m.qmin - m.zeroPoint, tmax = m.qmax - m.zeroPoint;
  const shift = m.zeroPoint + storeShift;
  const xLower = xs.lower, xUpper = xs.upper, xLerp = xs.lerp;
  const outW = xLower.length, outH = ys.lower.length;
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const r0 = ys.lower[y], r1 = ys.upper[y], yl = ys.lerp[y];
    for (let x = 0; x < outW; x++) {
      const p00 = r0 + xLower[x], p01 = r0 + xUpper[x], p10 = r1 + xLower[x], p11 = r1 + xUpper[x];
      const xl = xLerp[x];
      let tl = src[p00], tr = src[p01], bl = src[p10], br = src[p11];
      let top = tl + (tr - tl) * xl;
      let t = (top + (bl + (br - bl) * xl - top) * yl) * mul0 + add0;
      out[o] = (roundAway(Math.max(tmin, Math.min(tmax, t))) + shift) & 255;
      tl = src[p00 + g]; tr = src[p01 + g]; bl = src[p10 + g]; br = src[p11 + g];
      top = tl + (tr - tl) * xl;
      t = (top + (bl + (br - bl) * xl - top) * yl) * mul1 + add1;
      out[o + 1] = (roundAway(Math.max(tmin, Math.min(tmax, t))) + shift) & 255;
      tl = src[p00 + b]; tr = src[p01 + b]; bl = src[p10 + b]; br = src[p11 + b];
      top = tl + (tr - tl) * xl;
      t = (top + (bl + (br - bl) * xl - top) * yl) * mul2 + add2;
      out[o + 2] = (roundAway(Math.max(tmin, Math.min(tmax, t))) + shift) & 255;
      o += 3;
    }
  }
}

/**
 * Raw-pixel byte output (the usual integer case): the interpolated pixel v is in [0, 255], so
 * q = floor(v + 0.5) + qmin needs no clamp and no sign handling.
 */
function resizeToRawBytes(src: Uint8Array, channels: number, xs: AxisTable, ys: AxisTable, out: Uint8Array, shift: number): void {
  const [g, b] = channelOffsets(channels);
  const bias = 0.5;
  const xLower = xs.lower, xUpper = xs.upper, xLerp = xs.lerp;
  const outW = xLower.length, outH = ys.lower.length;
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const r0 = ys.lower[y], r1 = ys.upper[y], yl = ys.lerp[y];
    for (let x = 0; x < outW; x++) {
      const p00 = r0 + xLower[x], p01 = r0 + xUpper[x], p10 = r1 + xLower[x], p11 = r1 + xUpper[x];
      const xl = xLerp[x];
      let tl = src[p00], tr = src[p01], bl = src[p10], br = src[p11];
      let top = tl + (tr - tl) * xl;
      out[o] = (((top + (bl + (br - bl) * xl - top) * yl + bias) | 0) + shift) & 255;
      tl = src[p00 + g]; tr = src[p01 + g]; bl = src[p10 + g]; br = src[p11 + g];
      top = tl + (tr - tl) * xl;
      out[o + 1] = (((top + (bl + (br - bl) * xl - top) * yl + bias) | 0) + shift) & 255;
      tl = src[p00 + b]; tr = src[p01 + b]; bl = src[p10 + b]; br = src[p11 + b];
      top = tl + (tr - tl) * xl;
      out[o + 2] = (((top + (bl + (br - bl) * xl - top) * yl + bias) | 0) + shift) & 255;
      o += 3;
    }
  }
}

// ---- one-channel (grayscale) inputs -------------------------------------------------------

/**
 * The interpolated luma of each output pixel: 0.299 R + 0.587 G + 0.114 B of the three
 * interpolated channels (R, G, B summed in that order), or the gray channel itself for a gray
 * (or gray + alpha) source (weights 1, 0, 0 on one channel: exact).
 */
function resizeToLuma(src: Uint8Array, channels: number, xs: AxisTable, ys: AxisTable): Float64Array {
  const gray = channels < 3;
  const [g, b] = channelOffsets(channels);
  const [wr, wg, wb] = gray ? [1, 0, 0] : LUMA_WEIGHTS;
  const xLower = xs.lower, xUpper = xs.upper, xLerp = xs.lerp;
  const outW = xLower.length, outH = ys.lower.length;
  const out = new Float64Array(outW * outH);
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const r0 = ys.lower[y], r1 = ys.upper[y], yl = ys.lerp[y];
    for (let x = 0; x < outW; x++) {
      const p00 = r0 + xLower[x], p01 = r0 + xUpper[x], p10 = r1 + xLower[x], p11 = r1 + xUpper[x];
      const xl = xLerp[x];
      let tl = src[p00], tr = src[p01], bl = src[p10], br = src[p11];
      let top = tl + (tr - tl) * xl;
      const red = top + (bl + (br - bl) * xl - top) * yl;
      tl = src[p00 + g]; tr = src[p01 + g]; bl = src[p10 + g]; br = src[p11 + g];
      top = tl + (tr - tl) * xl;
      const green = top + (bl + (br - bl) * xl - top) * yl;
      tl = src[p00 + b]; tr = src[p01 + b]; bl = src[p10 + b]; br = src[p11 + b];
      top = tl + (tr - tl) * xl;
      const blue = top + (bl + (br - bl) * xl - top) * yl;
      out[o++] = wr * red + wg * green + wb * blue;
    }
  }
  return out;
}

/** one-channel input: the luma plane mapped as any pixel value is (see InputMapping) */
function lumaToInput(luma: Float64Array, m: InputMapping, out: Float32Array | Uint8Array, storeShift: number): void {
  const n = luma.length;
  const mul = m.channelMul[0], add = m.channelAdd[0];
  if (m.mode === 'float') {
    for (let i = 0; i < n; i++) out[i] = luma[i] * mul + add;
  } else if (m.mode === 'raw') {
    // the luma is in [0, 255]: floor(y + 0.5) is the nearest byte, no clamp needed
    const shift = m.qmin + storeShift;
    for (let i = 0; i < n; i++) out[i] = (((luma[i] + 0.5) | 0) + shift) & 255;
  } else {
    const tmin = m.qmin - m.zeroPoint, tmax = m.qmax - m.zeroPoint;
    const shift = m.zeroPoint + storeShift;
    for (let i = 0; i < n; i++) out[i] = (roundAway(Math.max(tmin, Math.min(tmax, luma[i] * mul + add))) + shift) & 255;
  }
}

// ---- public entry points ------------------------------------------------------------------

export type InputTensor = Float32Array | Uint8Array | Int8Array;

/**
 * Preprocesses `image` into `out`, a typed array of at least H*W*C elements (C = 3 or 1) (for example a
 * view of wasm memory, so no copy is needed). float32 inputs need a Float32Array; int8 inputs
 * an Int8Array; uint8 inputs a Uint8Array (values as the model sees them) or an Int8Array, which
 * receives the arena's storage form of uint8 tensors (value - 128, see src/ops/types.ts).
 */
export function preprocessInto(image: RawImage, input: TensorInfo, out: InputTensor, opts: PreprocessOptions = {}): void {
  guard('INVALID_INPUT', 'preprocessInto', () => preprocessChecked(image, input, out, snapshotOptions(opts)));
}

function preprocessChecked(image: RawImage, input: TensorInfo, out: InputTensor, opts: PreprocessOptions): void {
  // the image first: a bad image is reported as such even on a model whose input range is odd
  const img = checkRawImage(image);
  const mapping = mappingFor(input, opts);
  const [, outH, outW] = input.shape;
  const n = outH * outW * mapping.channels;
  const want: Array<'Float32Array' | 'Int8Array' | 'Uint8Array'> =
    mapping.dtype === 'float32' ? ['Float32Array'] : mapping.dtype === 'int8' ? ['Int8Array'] : ['Uint8Array', 'Int8Array'];
  // a plain view through the intrinsic getters: a Proxy or a subclass with a lying length is refused
  const view = plainView(out, ...want);
  if (!view) {
    const tag = typedArrayName(out);
    throw invalidInput(`a ${mapping.dtype} input needs a ${want.join(' or ')} to write into, got ${tag ? `a ${tag}` : describeValue(out)}`);
  }
  if (view.length < n) throw invalidInput(`output array has ${view.length} elements; input ${input.name} needs ${n}`);
  const tag = typedArrayName(view)!;
  const box = cropBoxFor(img, opts);
  const xs = axisTable(box.x, box.width, outW, img.channels);
  const ys = axisTable(box.y, box.height, outH, img.width * img.channels);
  if (mapping.channels === GRAY_CHANNELS) {
    const luma = resizeToLuma(img.data, img.channels, xs, ys);
    const storeShift = mapping.dtype === 'uint8' && tag === 'Int8Array' ? -128 : 0;
    const target = mapping.dtype === 'float32' ? (view as Float32Array) : new Uint8Array(view.buffer, view.byteOffset, n);
    lumaToInput(luma, mapping, target, storeShift);
  } else if (mapping.dtype === 'float32') {
    resizeToFloat(img.data, img.channels, xs, ys, view as Float32Array, mapping.channelMul, mapping.channelAdd);
  } else {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, n);
    const storeShift = mapping.dtype === 'uint8' && tag === 'Int8Array' ? -128 : 0;
    if (mapping.mode === 'raw') resizeToRawBytes(img.data, img.channels, xs, ys, bytes, mapping.qmin + storeShift);
    else resizeToBytes(img.data, img.channels, xs, ys, bytes, mapping, storeShift);
  }
}

/** Preprocesses `image` for the model input `input` ([1, H, W, 3] or [1, H, W, 1]); returns a new tensor of its dtype. */
export function preprocess(image: RawImage, input: TensorInfo, opts: PreprocessOptions = {}): InputTensor {
  return guard('INVALID_INPUT', 'preprocess', () => {
    const { height, width, channels } = checkInputTensor(input);
    const n = height * width * channels;
    const out = input.dtype === 'float32' ? new Float32Array(n) : input.dtype === 'int8' ? new Int8Array(n) : new Uint8Array(n);
    preprocessChecked(image, input, out, snapshotOptions(opts));
    return out;
  });
}

function cropBoxFor(img: CheckedImage, opts: PreprocessOptions): CropBox {
  if (opts.crop === 'none') return { x: 0, y: 0, width: img.width, height: img.height };
  return centralCropBox(img.width, img.height, opts.cropFraction ?? DEFAULT_CROP_FRACTION);
}
