/**
 * Plain-loop reference of the float32 ops, straight from the IR (TFLite layouts and
 * semantics), for checking the kernels and, chained op by op, whole float models.
 * Sums are accumulated in float64 and each op's result is rounded to float32 once, so it is
 * at least as accurate as TFLite's float32 kernels; compare with a ~1e-5 relative tolerance.
 */
import type { Activation, Op } from '../../src/model/ir.js';
import { convGeometry, sizeOf } from '../../src/model/ir.js';

function clampAct(v: number, act: Activation): number {
  switch (act) {
    case 'none': return v;
    case 'relu': return Math.max(v, 0);
    case 'relu6': return Math.min(Math.max(v, 0), 6);
    case 'relu_n1_to_1': return Math.min(Math.max(v, -1), 1);
  }
}

export function refF32(op: Op, input: Float32Array): Float32Array {
  if (input.length !== sizeOf(op.input.shape)) {
    throw new Error(`refF32 ${op.op}: input has ${input.length} values, shape [${op.input.shape}] needs ${sizeOf(op.input.shape)}`);
  }
  const out = new Float32Array(sizeOf(op.output.shape));
  switch (op.op) {
    case 'reshape':
      out.set(input);
      return out;
    case 'softmax': {
      const n = op.input.shape[op.input.shape.length - 1];
      for (let r = 0; r < input.length / n; r++) {
        let m = -Infinity;
        for (let i = 0; i < n; i++) m = Math.max(m, input[r * n + i]);
        let sum = 0;
        for (let i = 0; i < n; i++) sum += Math.exp(op.beta * (input[r * n + i] - m));
        for (let i = 0; i < n; i++) out[r * n + i] = Math.exp(op.beta * (input[r * n + i] - m)) / sum;
      }
      return out;
    }
    case 'fully_connected': {
      const [N, K] = op.filter.shape;
      const w = op.filter.data as Float32Array;
      const M = input.length / K;
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let s = op.bias[n];
          for (let k = 0; k < K; k++) s += input[m * K + k] * w[n * K + k];
          out[m * N + n] = clampAct(s, op.activation);
        }
      }
      return out;
    }
    case 'conv2d':
    case 'depthwise_conv2d':
    case 'average_pool2d': {
      const [, inH, inW, inC] = op.input.shape;
      const [, outH, outW, outC] = op.output.shape;
      const [KH, KW] = op.op === 'average_pool2d' ? op.filterSize : [op.filter.shape[1], op.filter.shape[2]];
      const [sH, sW] = op.strides;
      const padTop = convGeometry(inH, KH, sH, op.padding).padBefore;
      const padLeft = convGeometry(inW, KW, sW, op.padding).padBefore;
      const at = (y: number, x: number, c: number) => input[(y * inW + x) * inC + c];
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          for (let o = 0; o < outC; o++) {
            let s = 0;
            let count = 0;
            for (let ky = 0; ky < KH; ky++) {
              for (let kx = 0; kx < KW; kx++) {
                const y = oy * sH - padTop + ky;
                const x = ox * sW - padLeft + kx;
                if (y < 0 || y >= inH || x < 0 || x >= inW) continue; // padding
                count++;
                if (op.op === 'conv2d') {
                  const w = op.filter.data as Float32Array;
                  for (let i = 0; i < inC; i++) s += at(y, x, i) * w[((o * KH + ky) * KW + kx) * inC + i];
                } else if (op.op === 'depthwise_conv2d') {
                  s += at(y, x, Math.floor(o / (outC / inC))) * (op.filter.data as Float32Array)[(ky * KW + kx) * outC + o]; // depth multiplier outC / inC
                } else {
                  s += at(y, x, o);
                }
              }
            }
            const v = op.op === 'average_pool2d' ? s / count : s + op.bias[o];
            out[(oy * outW + ox) * outC + o] = clampAct(v, op.activation);
          }
        }
      }
      return out;
    }
    default:
      throw new Error(`refF32: no float reference for op '${op.op}'`);
  }
}
