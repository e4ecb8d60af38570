/**
 * Plain-loop references for PAD, MEAN and CONCATENATION on raw values (uint8 0..255, int8, or
 * float), written from TFLite's reference kernels (pad.h, reduce.h QuantizedMeanOrSum,
 * concatenation.h ConcatenationWithScaling), independent of src/ops. Only TFLite's integer
 * primitives come from src/quant/fixedpoint.ts.
 */
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../../src/quant/fixedpoint.js';

type Raw = ArrayLike<number>;

export interface QParams {
  scale: number;
  zeroPoint: number;
}

const strides = (shape: number[]) => {
  const s = new Array(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
};

/** PAD: every output index either maps back into the input or gets `padValue` */
export function refPad(input: Raw, shape: number[], paddings: [number, number][], padValue: number): number[] {
  const outShape = shape.map((s, d) => s + paddings[d][0] + paddings[d][1]);
  const total = outShape.reduce((a, b) => a * b, 1);
  const inStrides = strides(shape);
  const out: number[] = new Array(total);
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < total; o++) {
    let rem = o;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rem % outShape[d];
      rem = Math.floor(rem / outShape[d]);
    }
    let inside = true;
    let src = 0;
    for (let d = 0; d < shape.length; d++) {
      const i = idx[d] - paddings[d][0];
      if (i < 0 || i >= shape[d]) {
        inside = false;
        break;
      }
      src += i * inStrides[d];
    }
    out[o] = inside ? input[src] : padValue;
  }
  return out;
}

/** float MEAN over H, W of [n, h, w, c], in float64 */
export function refMeanFloat(input: Raw, shape: number[]): number[] {
  const [n, h, w, c] = shape;
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) s += input[((b * h + y) * w + x) * c + ch];
      out.push(s / (h * w));
    }
  }
  return out;
}

/**
 * Quantized MEAN over H, W of [n, h, w, c] (reduce.h QuantizedMeanOrSum, compute_sum false):
 * int32 sum of raw values, the multiplier of double(in_scale) / double(out_scale) with 1/N
 * folded in by a shift of floor(log2 N) (clamped to 32 and to 31 + shift).
 */
export function refMeanQuant(input: Raw, shape: number[], dtype: 'uint8' | 'int8', inQ: QParams, outQ: QParams): number[] {
  const [n, h, w, c] = shape;
  const count = h * w;
  const real = Math.fround(inQ.scale) / Math.fround(outQ.scale);
  const q = quantizeMultiplier(real);
  // 63 - CountLeadingZeros(uint64 N) = index of N's highest set bit
  let shiftUp = BigInt(count).toString(2).length - 1;
  shiftUp = Math.min(shiftUp, 32);
  shiftUp = Math.min(shiftUp, 31 + q.shift);
  const multiplier = Number((BigInt(q.multiplier) << BigInt(shiftUp)) / BigInt(count));
  const shift = q.shift - shiftUp;
  const [lo, hi] = dtype === 'uint8' ? [0, 255] : [-128, 127];
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) sum = (sum + input[((b * h + y) * w + x) * c + ch]) | 0;
      // int64 difference cast back to int32
      const shifted = Number(BigInt.asIntN(32, BigInt(sum) - BigInt(inQ.zeroPoint) * BigInt(count)));
      const v = multiplyByQuantizedMultiplier(shifted, multiplier, shift) + outQ.zeroPoint;
      out.push(Math.min(hi, Math.max(lo, v)));
    }
  }
  return out;
}

/**
 * CONCATENATION along `axis`. With quant params (uint8), ConcatenationWithScaling: inputs with
 * the output's zero point and float32 scale are copied, others requantized in float32.
 */
export function refConcatenation(inputs: Raw[], shapes: number[][], axis: number, outShape: number[], quant?: { inputs: QParams[]; output: QParams }): number[] {
  const outer = outShape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = outShape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const f = Math.fround;
  const out: number[] = [];
  for (let k = 0; k < outer; k++) {
    for (let i = 0; i < inputs.length; i++) {
      const copySize = shapes[i][axis] * inner;
      const q = quant?.inputs[i];
      const o = quant?.output;
      const copy = !q || !o || (q.zeroPoint === o.zeroPoint && f(q.scale) === f(o.scale));
      for (let j = 0; j < copySize; j++) {
        const x = inputs[i][k * copySize + j];
        if (copy) {
          out.push(x);
        } else {
          const inverseOutputScale = f(1 / f(o!.scale));
          const scale = f(f(q!.scale) * inverseOutputScale);
          const bias = f(-q!.zeroPoint * scale);
          const y = f(f(x * scale) + bias);
          // std::round: half away from zero
          const rounded = y < 0 ? -Math.round(-y) : Math.round(y);
          const value = rounded + o!.zeroPoint;
          out.push(Math.max(0, Math.min(255, value)));
        }
      }
    }
  }
  return out;
}
