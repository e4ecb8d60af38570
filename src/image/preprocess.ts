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
 */
import { invalidInput, invalidOption, unsupportedModel } from '../errors.js';
import type { DType, TensorInfo } from '../model/ir.js';
import { checkRawImage, type CheckedImage, type RawImage } from './types.js';
import { guard } from '../runtime/guard.js';
import { describeValue, plainView, typedArrayName } from '../runtime/typed.js';

/** inputRange ends are limited to this magnitude, so every mapped value is a finite float32 */
const MAX_RANGE_MAGNITUDE = 1e38;

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
  /** real values of pixel 0 and pixel 255 */
  range: [number, number];
  /**
   * float: value = pixel * mul + add.
   * integer: q = clamp(roundHalfAwayFromZero(pixel * mul + add) + zeroPoint, qmin, qmax).
   */
  mul: number;
  add: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
}

const KNOWN_RANGES: ReadonlyArray<[number, number]> = [
  [-1, 1],
  [0, 1],
  [0, 255],
];

function checkInputTensor(input: TensorInfo): { height: number; width: number } {
  if (!input || typeof input !== 'object' || !Array.isArray(input.shape)) {
    throw invalidInput('preprocess needs the model input TensorInfo ({ shape, dtype, quant })');
  }
  const s = input.shape.slice();
  if (s.some((d) => typeof d !== 'number')) throw invalidInput(`input shape must be numbers, got [${s.map(describeValue).join(', ')}]`);
  if (s.length !== 4 || s[0] !== 1 || s[3] !== 3 || !(s[1] > 0) || !(s[2] > 0) || !Number.isInteger(s[1]) || !Number.isInteger(s[2]) || s[1] * s[2] > 2 ** 26) {
    throw unsupportedModel(`input ${describeValue(input.name)} has shape [${s.join(', ')}]; image preprocessing needs [1, height, width, 3]`);
  }
  if (input.dtype !== 'float32' && input.dtype !== 'uint8' && input.dtype !== 'int8') {
    throw unsupportedModel(`input ${describeValue(input.name)} has dtype ${describeValue(input.dtype)}; expected float32, uint8 or int8`);
  }
  return { height: s[1], width: s[2] };
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
  checkOptions(snap);
  return snap;
}

function mappingFor(input: TensorInfo, opts: PreprocessOptions): InputMapping {
  checkInputTensor(input);
  checkOptions(opts);
  if (input.dtype === 'float32') {
    const [lo, hi] = opts.inputRange ?? [-1, 1];
    return { dtype: 'float32', mode: 'float', range: [lo, hi], mul: (hi - lo) / 255, add: lo, zeroPoint: 0, qmin: 0, qmax: 0 };
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
  let range = opts.inputRange as [number, number] | undefined;
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
    Math.abs(qlo - lo) <= scale / 2 &&
    (Math.abs(scale * 255 - width) <= 0.01 * width || Math.abs(scale * 256 - width) <= 0.01 * width);
  const mode = opts.integerInput ?? 'auto';
  if (mode === 'raw' || (mode === 'auto' && pixelGrid)) {
    return { dtype: input.dtype, mode: 'raw', range: [lo, hi], mul: 1, add: 0, zeroPoint: qmin, qmin, qmax };
  }
  const mul = width / 255 / scale;
  const add = lo / scale;
  if (!Number.isFinite(mul) || !Number.isFinite(add)) {
    throw invalidOption(`inputRange [${lo}, ${hi}] is too wide for input ${input.name} (scale ${scale}): the quantized values overflow`);
  }
  return { dtype: input.dtype, mode: 'quantize', range: [lo, hi], mul, add, zeroPoint: zp, qmin, qmax };
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
  mul: number,
  add: number,
): void {
  const [g, b] = channelOffsets(channels);
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
      out[o] = v * mul + add;
      tl = src[p00 + g]; tr = src[p01 + g]; bl = src[p10 + g]; br = src[p11 + g];
      top = tl + (tr - tl) * xl;
      v = top + (bl + (br - bl) * xl - top) * yl;
      out[o + 1] = v * mul + add;
      tl = src[p00 + b]; tr = src[p01 + b]; bl = src[p10 + b]; br = src[p11 + b];
      top = tl + (tr - tl) * xl;
      v = top + (bl + (br - bl) * xl - top) * yl;
      out[o + 2] = v * mul + add;
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
  const { mul, add } = m;
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
      let t = (top + (bl + (br - bl) * xl - top) * yl) * mul + add;
      out[o] = (roundAway(Math.max(tmin, Math.min(tmax, t))) + shift) & 255;
      tl = src[p00 + g]; tr = src[p01 + g]; bl = src[p10 + g]; br = src[p11 + g];
      top = tl + (tr - tl) * xl;
      t = (top + (bl + (br - bl) * xl - top) * yl) * mul + add;
      out[o + 1] = (roundAway(Math.max(tmin, Math.min(tmax, t))) + shift) & 255;
      tl = src[p00 + b]; tr = src[p01 + b]; bl = src[p10 + b]; br = src[p11 + b];
      top = tl + (tr - tl) * xl;
      t = (top + (bl + (br - bl) * xl - top) * yl) * mul + add;
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

// ---- public entry points ------------------------------------------------------------------

export type InputTensor = Float32Array | Uint8Array | Int8Array;

/**
 * Preprocesses `image` into `out`, a typed array of at least H*W*3 elements (for example a
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
  const n = outH * outW * 3;
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
  if (mapping.dtype === 'float32') {
    resizeToFloat(img.data, img.channels, xs, ys, view as Float32Array, mapping.mul, mapping.add);
  } else {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, n);
    const storeShift = mapping.dtype === 'uint8' && tag === 'Int8Array' ? -128 : 0;
    if (mapping.mode === 'raw') resizeToRawBytes(img.data, img.channels, xs, ys, bytes, mapping.qmin + storeShift);
    else resizeToBytes(img.data, img.channels, xs, ys, bytes, mapping, storeShift);
  }
}

/** Preprocesses `image` for the model input `input` ([1, H, W, 3]); returns a new tensor of its dtype. */
export function preprocess(image: RawImage, input: TensorInfo, opts: PreprocessOptions = {}): InputTensor {
  return guard('INVALID_INPUT', 'preprocess', () => {
    const { height, width } = checkInputTensor(input);
    const n = height * width * 3;
    const out = input.dtype === 'float32' ? new Float32Array(n) : input.dtype === 'int8' ? new Int8Array(n) : new Uint8Array(n);
    preprocessChecked(image, input, out, snapshotOptions(opts));
    return out;
  });
}

function cropBoxFor(img: CheckedImage, opts: PreprocessOptions): CropBox {
  if (opts.crop === 'none') return { x: 0, y: 0, width: img.width, height: img.height };
  return centralCropBox(img.width, img.height, opts.cropFraction ?? DEFAULT_CROP_FRACTION);
}
