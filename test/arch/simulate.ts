/**
 * A deliberately naive interpreter of IR graphs for checking the random-weight builder: every
 * op runs in double precision on dequantized values, and quantized outputs are rounded and
 * clamped to their integer grid (fake quantization). Slow, so tests use small models.
 * It records each op's output so tests can look at activation health layer by layer.
 */
import { convGeometry, sizeOf, type Graph, type Quant, type TensorInfo } from '../../src/model/ir.js';

export interface Trace {
  /** output values (real, after fake quantization) of every op */
  outputs: Float64Array[];
  /** integer codes of every op output (quantized graphs only) */
  codes: Int32Array[];
}

const qRange = (t: TensorInfo): [number, number] => (t.dtype === 'uint8' ? [0, 255] : [-128, 127]);

function quantize(x: Float64Array, t: TensorInfo): { real: Float64Array; codes: Int32Array } {
  if (t.dtype === 'float32' || !t.quant) return { real: x, codes: new Int32Array(0) };
  const [lo, hi] = qRange(t);
  const { scale, zeroPoint } = t.quant;
  const codes = new Int32Array(x.length);
  const real = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) {
    const q = Math.min(hi, Math.max(lo, Math.round(x[j] / scale[0]) + zeroPoint[0]));
    codes[j] = q;
    real[j] = scale[0] * (q - zeroPoint[0]);
  }
  return { real, codes };
}

/** real value of weight element j, whose channel along quant.axis is `channel` */
function dequant(data: ArrayLike<number>, j: number, quant: Quant | undefined, channel: number): number {
  if (!quant) return data[j];
  const c = quant.scale.length === 1 ? 0 : channel;
  return quant.scale[c] * (data[j] - quant.zeroPoint[c]);
}

function biasReal(bias: Float32Array | Int32Array, o: number, inQuant: Quant | undefined, wQuant: Quant | undefined): number {
  if (!(bias instanceof Int32Array)) return bias[o];
  return bias[o] * inQuant!.scale[0] * wQuant!.scale[wQuant!.scale.length === 1 ? 0 : o];
}

const act = (a: string, v: number) => (a === 'relu6' ? Math.min(6, Math.max(0, v)) : a === 'relu' ? Math.max(0, v) : v);

/** Runs `g` on `input` given as real values (quantized first if the graph input is). */
export function simulate(g: Graph, input: Float64Array): Trace {
  let cur = quantize(input, g.input).real;
  const trace: Trace = { outputs: [], codes: [] };
  for (const op of g.ops) {
    const inShape = op.input.shape;
    let out: Float64Array;
    if (op.op === 'conv2d' || op.op === 'depthwise_conv2d') {
      const [, H, W, C] = inShape;
      const [, OH, OW, OC] = op.output.shape;
      const [, KH, KW] = op.filter.shape;
      const gy = convGeometry(H, KH, op.strides[0], op.padding);
      const gx = convGeometry(W, KW, op.strides[1], op.padding);
      const f = op.filter.data;
      const fq = op.filter.quant;
      const dw = op.op === 'depthwise_conv2d';
      out = new Float64Array(OH * OW * OC);
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++)
          for (let o = 0; o < OC; o++) {
            let s = biasReal(op.bias, o, op.input.quant, fq);
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * op.strides[0] - gy.padBefore + ky;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * op.strides[1] - gx.padBefore + kx;
                if (ix < 0 || ix >= W) continue;
                const px = (iy * W + ix) * C;
                if (dw) s += dequant(f, (ky * KW + kx) * OC + o, fq, o) * cur[px + o];
                else for (let i = 0; i < C; i++) s += dequant(f, ((o * KH + ky) * KW + kx) * C + i, fq, o) * cur[px + i];
              }
            }
            out[(oy * OW + ox) * OC + o] = act(op.activation, s);
          }
    } else if (op.op === 'average_pool2d') {
      const [, H, W, C] = inShape;
      const [, OH, OW] = op.output.shape;
      if (OH !== 1 || OW !== 1 || op.filterSize[0] !== H || op.filterSize[1] !== W) throw new Error('simulate: only global pooling');
      out = new Float64Array(C);
      for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) out[c] += cur[p * C + c] / (H * W);
    } else if (op.op === 'fully_connected') {
      const [O, I] = op.filter.shape;
      out = new Float64Array(O);
      for (let o = 0; o < O; o++) {
        let s = biasReal(op.bias, o, op.input.quant, op.filter.quant);
        for (let i = 0; i < I; i++) s += dequant(op.filter.data, o * I + i, op.filter.quant, o) * cur[i];
        out[o] = act(op.activation, s);
      }
    } else if (op.op === 'softmax') {
      let m = -Infinity;
      for (const v of cur) m = Math.max(m, v);
      out = cur.map((v) => Math.exp(op.beta * (v - m)));
      const total = out.reduce((a, b) => a + b, 0);
      for (let j = 0; j < out.length; j++) out[j] /= total;
    } else if (op.op === 'reshape') {
      out = cur;
    } else {
      throw new Error(`simulate: op ${op.op} not handled`);
    }
    if (out.length !== sizeOf(op.output.shape)) throw new Error(`simulate: ${op.output.name} has ${out.length} values for shape ${op.output.shape}`);
    const q = quantize(out, op.output);
    trace.outputs.push(q.real);
    trace.codes.push(q.codes);
    cur = q.real;
  }
  return trace;
}
