/**
 * Plain-loop reference of the quantized ops in TFLite reference-kernel semantics, in each op's
 * RAW dtype (uint8 stays 0..255, no storage shift), so it checks the shifted int8 kernels
 * independently. Loops follow reference_ops / reference_integer_ops conv.h, depthwise_conv.h,
 * fully_connected.h, pooling.h, softmax.h, quantize.h, dequantize.h.
 */
import { convGeometry, sizeOf, type Op, type TensorInfo, type Weights } from '../../src/model/ir.js';
import {
  activationRange,
  dtypeRange,
  multiplyByQuantizedMultiplier,
  perChannelRealMultiplier,
  perTensorRealMultiplier,
  quantizeMultiplier,
  roundHalfAway,
  type QuantizedMultiplier,
} from '../../src/quant/fixedpoint.js';
import { softmaxParams, softmaxRow } from '../../src/quant/softmax.js';

type Raw = Uint8Array | Int8Array;

const tq = (t: TensorInfo) => ({ scale: t.quant!.scale[0], zp: t.quant!.zeroPoint[0] });
const alloc = (t: TensorInfo): Raw | Float32Array =>
  t.dtype === 'uint8' ? new Uint8Array(sizeOf(t.shape)) : t.dtype === 'int8' ? new Int8Array(sizeOf(t.shape)) : new Float32Array(sizeOf(t.shape));

/** multipliers per output channel with TFLite's rule for the dtype / op */
function multipliers(input: TensorInfo, filter: Weights, output: TensorInfo, channels: number, fullyConnected: boolean): QuantizedMultiplier[] {
  const si = tq(input).scale;
  const so = tq(output).scale;
  const fs = filter.quant!.scale;
  const out: QuantizedMultiplier[] = [];
  for (let c = 0; c < channels; c++) {
    const sf = fs.length === 1 ? fs[0] : fs[c];
    const real = input.dtype === 'uint8' || fullyConnected ? perTensorRealMultiplier(si, sf, so) : perChannelRealMultiplier(si, sf, so);
    out.push(quantizeMultiplier(real));
  }
  return out;
}

function clampRange(op: { activation: 'none' | 'relu' | 'relu6' | 'relu_n1_to_1' }, output: TensorInfo) {
  const { qmin, qmax } = dtypeRange(output.dtype as 'uint8' | 'int8');
  const { scale, zp } = tq(output);
  return activationRange(op.activation, scale, zp, qmin, qmax);
}

/** the filter offset TFLite applies: uint8 and FC use -zero_point, int8 conv/depthwise ignore it */
const filterOffset = (filter: Weights, useZp: boolean) => (useZp ? -filter.quant!.zeroPoint[0] : 0);

export function refQ8(op: Op, input: Uint8Array | Int8Array | Float32Array): Uint8Array | Int8Array | Float32Array {
  const out = alloc(op.output);
  switch (op.op) {
    case 'reshape':
      out.set(input as never);
      return out;
    case 'conv2d':
    case 'depthwise_conv2d': {
      const x = input as Raw;
      const y = out as Raw;
      const depthwise = op.op === 'depthwise_conv2d';
      const [, h, w, ic] = op.input.shape;
      const [, oh, ow, oc] = op.output.shape;
      const kh = op.filter.shape[1];
      const kw = op.filter.shape[2];
      const [sh, sw] = op.strides;
      const padTop = convGeometry(h, kh, sh, op.padding).padBefore;
      const padLeft = convGeometry(w, kw, sw, op.padding).padBefore;
      const inOffset = -tq(op.input).zp;
      const outOffset = tq(op.output).zp;
      const fOffset = filterOffset(op.filter, op.input.dtype === 'uint8');
      const mult = multipliers(op.input, op.filter, op.output, oc, false);
      const { min, max } = clampRange(op, op.output);
      const f = op.filter.data;
      const bias = op.bias as Int32Array;
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (let o = 0; o < oc; o++) {
            let acc = 0;
            for (let fy = 0; fy < kh; fy++)
              for (let fx = 0; fx < kw; fx++) {
                const iy = oy * sh - padTop + fy;
                const ix = ox * sw - padLeft + fx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                if (depthwise) {
                  // depth multiplier oc / ic: output channel o reads input channel floor(o / multiplier)
                  const xv = x[(iy * w + ix) * ic + Math.floor(o / (oc / ic))];
                  const wv = f[(fy * kw + fx) * oc + o];
                  acc = (acc + (wv + fOffset) * (xv + inOffset)) | 0;
                } else {
                  for (let c = 0; c < ic; c++) {
                    const xv = x[(iy * w + ix) * ic + c];
                    const wv = f[((o * kh + fy) * kw + fx) * ic + c];
                    acc = (acc + (wv + fOffset) * (xv + inOffset)) | 0;
                  }
                }
              }
            acc = (acc + bias[o]) | 0;
            acc = multiplyByQuantizedMultiplier(acc, mult[o].multiplier, mult[o].shift) + outOffset;
            y[(oy * ow + ox) * oc + o] = Math.min(max, Math.max(min, acc));
          }
      return y;
    }
    case 'fully_connected': {
      const x = input as Raw;
      const y = out as Raw;
      const [n, k] = op.filter.shape;
      const m = x.length / k;
      const inOffset = -tq(op.input).zp;
      const outOffset = tq(op.output).zp;
      const fOffset = filterOffset(op.filter, true);
      const mult = multipliers(op.input, op.filter, op.output, n, true);
      const { min, max } = clampRange(op, op.output);
      const f = op.filter.data;
      const bias = op.bias as Int32Array;
      for (let b = 0; b < m; b++)
        for (let o = 0; o < n; o++) {
          let acc = 0;
          for (let d = 0; d < k; d++) acc = (acc + (f[o * k + d] + fOffset) * (x[b * k + d] + inOffset)) | 0;
          acc = (acc + bias[o]) | 0;
          acc = multiplyByQuantizedMultiplier(acc, mult[o].multiplier, mult[o].shift) + outOffset;
          y[b * n + o] = Math.min(max, Math.max(min, acc));
        }
      return y;
    }
    case 'average_pool2d': {
      const x = input as Raw;
      const y = out as Raw;
      const [, h, w, c] = op.input.shape;
      const [, oh, ow] = op.output.shape;
      const [kh, kw] = op.filterSize;
      const [sh, sw] = op.strides;
      const padTop = convGeometry(h, kh, sh, op.padding).padBefore;
      const padLeft = convGeometry(w, kw, sw, op.padding).padBefore;
      const { min, max } = clampRange(op, op.output);
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (let ch = 0; ch < c; ch++) {
            const ys = oy * sh - padTop;
            const xs = ox * sw - padLeft;
            const fy0 = Math.max(0, -ys), fy1 = Math.min(kh, h - ys);
            const fx0 = Math.max(0, -xs), fx1 = Math.min(kw, w - xs);
            const count = (fy1 - fy0) * (fx1 - fx0);
            let acc = 0;
            for (let fy = fy0; fy < fy1; fy++) for (let fx = fx0; fx < fx1; fx++) acc += x[((ys + fy) * w + xs + fx) * c + ch];
            const half = Math.trunc(count / 2);
            if (op.input.dtype === 'uint8') acc = Math.trunc((acc + half) / count);
            else acc = acc > 0 ? Math.trunc((acc + half) / count) : Math.trunc((acc - half) / count);
            y[(oy * ow + ox) * c + ch] = Math.min(max, Math.max(min, acc));
          }
      return y;
    }
    case 'softmax': {
      const x = input as Raw;
      const y = out as Raw;
      const depth = op.input.shape[op.input.shape.length - 1];
      const p = softmaxParams(op.beta, tq(op.input).scale);
      const outMin = op.output.dtype === 'uint8' ? 0 : -128;
      for (let r = 0; r < x.length / depth; r++) {
        softmaxRow(x.subarray(r * depth, (r + 1) * depth), p, outMin, y.subarray(r * depth, (r + 1) * depth));
      }
      return y;
    }
    case 'quantize': {
      const y = out as Raw;
      const { scale, zp } = tq(op.output);
      const { qmin, qmax } = dtypeRange(op.output.dtype as 'uint8' | 'int8');
      if (op.input.dtype === 'float32') {
        const s = Math.fround(scale);
        for (let i = 0; i < y.length; i++) y[i] = Math.min(qmax, Math.max(qmin, roundHalfAway(Math.fround(input[i] / s)) + zp));
      } else {
        const inq = tq(op.input);
        const m = quantizeMultiplier(Math.fround(inq.scale) / Math.fround(scale));
        for (let i = 0; i < y.length; i++) {
          const v = multiplyByQuantizedMultiplier(input[i] - inq.zp, m.multiplier, m.shift) + zp;
          y[i] = Math.min(qmax, Math.max(qmin, v));
        }
      }
      return y;
    }
    case 'dequantize': {
      const y = out as Float32Array;
      const { scale, zp } = tq(op.input);
      for (let i = 0; i < y.length; i++) y[i] = Math.fround(scale) * (input[i] - zp);
      return y;
    }
  }
}
