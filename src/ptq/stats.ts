/**
 * Activation statistics of one tensor over a calibration set, and the clipping range each
 * calibration method picks from them.
 *
 * Besides the exact min and max, a histogram of the values is kept: percentile and MSE
 * clipping need the distribution, and the calibration set's values cannot all be stored (the
 * first pointwise layer of a 1.0/224 MobileNet writes 800 K values per image). The histogram
 * covers [lo, hi] (always holding 0, since an int8 range must represent 0 exactly) in BINS
 * equal bins; when a batch falls outside it, the range grows and the old counts move to the
 * new bins that hold their centres (ONNX Runtime's HistogramCalibrater does the same).
 */
import { invalidOption } from '../errors.js';

/** how a tensor's clipping range is chosen from its calibration statistics */
export type CalibrationMethod = 'minmax' | 'percentile' | 'mse';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'mse'];

/** percentile clipping keeps this share of the values on each side (TensorRT's and ONNX's usual 99.99 %) */
export const DEFAULT_PERCENTILE = 99.99;

const BINS = 2048;
/** candidate clipping ranges the MSE search tries: the min/max range scaled by 1, 1 - 1/STEPS, ... down to MSE_MIN_FRACTION */
const MSE_STEPS = 200;
const MSE_MIN_FRACTION = 0.2;
/** int8 levels of an activation */
const LEVELS = 255;

export interface Range {
  min: number;
  max: number;
}

export class TensorStats {
  min = Infinity;
  max = -Infinity;
  /** values seen */
  count = 0;
  /** per-channel sums (channel = the last dimension), for the channel means bias correction uses */
  private channelSums: Float64Array | null = null;
  private channelCount = 0;
  private lo = 0;
  private hi = 0;
  private readonly bins = new Float64Array(BINS);

  /** Adds a batch of values (one image's activations); `channels`: the size of their last dimension, to keep channel means. */
  add(values: ArrayLike<number>, channels?: number): void {
    if (channels !== undefined && values.length % channels === 0) {
      if (!this.channelSums) this.channelSums = new Float64Array(channels);
      if (this.channelSums.length === channels) {
        for (let i = 0; i < values.length; i++) this.channelSums[i % channels] += values[i];
        this.channelCount += values.length / channels;
      }
    }
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (values.length === 0) return;
    this.min = Math.min(this.min, mn);
    this.max = Math.max(this.max, mx);
    this.count += values.length;
    if (mn < this.lo || mx > this.hi) this.grow(Math.min(mn, this.lo), Math.max(mx, this.hi));
    const width = (this.hi - this.lo) / BINS;
    if (width === 0) {
      // every value so far is 0: they all sit in the bin holding 0
      this.bins[0] += values.length;
      return;
    }
    const inv = 1 / width;
    for (let i = 0; i < values.length; i++) {
      const b = Math.floor((values[i] - this.lo) * inv);
      this.bins[b >= BINS ? BINS - 1 : b]++;
    }
  }

  /** The mean of each channel over everything added with `channels`, or undefined when none was. */
  channelMeans(): Float64Array | undefined {
    if (!this.channelSums || this.channelCount === 0) return undefined;
    return this.channelSums.map((v) => v / this.channelCount);
  }

  /** Widens the histogram to [lo, hi], moving each old bin's count to the new bin holding its centre. */
  private grow(lo: number, hi: number): void {
    const oldLo = this.lo;
    const oldWidth = (this.hi - this.lo) / BINS;
    const old = this.bins.slice();
    this.bins.fill(0);
    this.lo = lo;
    this.hi = hi;
    const inv = BINS / (hi - lo);
    for (let b = 0; b < BINS; b++) {
      if (old[b] === 0) continue;
      // an all-zero histogram (width 0) keeps its count in bin 0: its centre is 0
      const centre = oldWidth === 0 ? 0 : oldLo + (b + 0.5) * oldWidth;
      const nb = Math.min(BINS - 1, Math.max(0, Math.floor((centre - lo) * inv)));
      this.bins[nb] += old[b];
    }
  }

  /** The clipping range of `method` (always holding 0; the exact min/max for 'minmax'). */
  range(method: CalibrationMethod, percentile = DEFAULT_PERCENTILE): Range {
    if (this.count === 0) throw invalidOption('no calibration values were collected for this tensor');
    const full = { min: Math.min(this.min, 0), max: Math.max(this.max, 0) };
    if (method === 'minmax' || this.hi === this.lo) return full;
    if (method === 'percentile') {
      if (!(typeof percentile === 'number' && percentile > 50 && percentile <= 100)) throw invalidOption(`percentile must be a number in (50, 100], got ${String(percentile)}`);
      const tail = ((100 - percentile) / 100) * this.count;
      return { min: Math.min(0, this.quantile(tail, false)), max: Math.max(0, this.quantile(tail, true)) };
    }
    if (method === 'mse') return this.mseRange(full);
    throw invalidOption(`unknown calibration method ${String(method)} (one of ${CALIBRATION_METHODS.join(', ')})`);
  }

  /** The value below which (`fromTop` false) or above which (true) `tail` values lie, at bin resolution. */
  private quantile(tail: number, fromTop: boolean): number {
    const width = (this.hi - this.lo) / BINS;
    let seen = 0;
    for (let k = 0; k < BINS; k++) {
      const b = fromTop ? BINS - 1 - k : k;
      seen += this.bins[b];
      if (seen > tail) return fromTop ? this.lo + (b + 1) * width : this.lo + b * width;
    }
    return fromTop ? this.hi : this.lo;
  }

  /**
   * The range, among the min/max range scaled by factors from 1 down to MSE_MIN_FRACTION, whose
   * int8 quantization (asymmetric, as activations are) has the least squared error over the
   * histogram: clipping error for the values outside it, rounding error inside.
   */
  private mseRange(full: Range): Range {
    const width = (this.hi - this.lo) / BINS;
    let best = full;
    let bestError = Infinity;
    for (let s = 0; s <= MSE_STEPS; s++) {
      const f = 1 - ((1 - MSE_MIN_FRACTION) * s) / MSE_STEPS;
      const r = { min: full.min * f, max: full.max * f };
      const { scale, zeroPoint } = asymmetricParams(r);
      let error = 0;
      for (let b = 0; b < BINS; b++) {
        const n = this.bins[b];
        if (n === 0) continue;
        const v = this.lo + (b + 0.5) * width;
        const q = Math.min(127, Math.max(-128, Math.round(v / scale) + zeroPoint));
        const d = v - (q - zeroPoint) * scale;
        error += n * d * d;
      }
      if (error < bestError) {
        bestError = error;
        best = r;
      }
    }
    return best;
  }
}

/** round half away from zero, as std::round in TFLite's quantizer */
const roundAway = (x: number) => (x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5));

/**
 * TFLite's int8 activation parameters for a real range (tensorflow/lite/tools/optimize
 * GetAsymmetricQuantizationParams): the range widened to hold 0, scale (max - min) / 255 as a
 * float32, zero point -128 - min / scale rounded and kept in [-128, 127]. A range of only 0
 * (a dead tensor) gets scale 1: any scale represents it, and a zero scale is invalid.
 */
export function asymmetricParams(range: Range): { scale: number; zeroPoint: number } {
  const min = Math.min(range.min, 0);
  const max = Math.max(range.max, 0);
  if (!(max > min)) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((max - min) / LEVELS);
  const fromMin = -128 - min / scale;
  const zeroPoint = fromMin < -128 ? -128 : fromMin > 127 ? 127 : roundAway(fromMin);
  return { scale, zeroPoint };
}
