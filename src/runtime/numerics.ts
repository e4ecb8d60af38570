/**
 * Load-time numeric checks of a (structurally valid) graph, shared by every model source:
 * float weights and biases must be finite, and no float layer may be able to overflow
 * float32 while it accumulates. A model that fails gets INVALID_MODEL naming the op and the
 * tensor, instead of loading and answering NaN.
 *
 * The overflow rule. A weighted float layer (conv, depthwise conv, fully connected) computes
 * for each output channel c
 *
 *     y_c = b_c + sum_k w_ck * x_k          (k over the channel's fan-in)
 *
 * If every input satisfies |x_k| <= A, every partial sum of that expression, in any order, is
 * bounded by  P_c = |b_c| + A * sum_k |w_ck|  (the L1 norm of the channel's weights). We
 * refuse the model when some P_c exceeds 2^127 (1.7e38, half of float32's largest value
 * 3.4e38): the factor 2 absorbs rounding, since float32 summation of K terms in any order,
 * fused or not, inflates a bound by at most (1 + 2^-24)^K < 1.07 for K <= 2^20.
 *
 * A, the bound on a layer's input, is carried along the chain:
 *   - the model input: 255 (the widest mapping preprocessing produces: raw pixel values;
 *     the usual [-1, 1] and [0, 1] mappings are inside it);
 *   - after a fused ReLU6: min(P, 6); RELU_N1_TO_1: 1; softmax: 1;
 *   - after DEQUANTIZE: scale * max |q - zero point| (exact);
 *   - average pool and reshape keep their input's bound (a mean does not grow);
 *   - after a layer with no clamp (NONE, RELU): min(P, 65504). 65504 is float16's largest
 *     value: trained networks keep their activations inside float16's range (that is what
 *     lets TFLite's GPU delegate and NNAPI run them in fp16), whereas the worst-case product
 *     of L1 norms through a chain of unclamped layers is no bound any network reaches (the
 *     real vww_96_float, ReLU throughout, compounds to 2.6e32 that way).
 *
 * So wherever A is proven (model input, clamped activations, dequantized values) no
 * accumulation can overflow; after unclamped layers it holds for every network whose
 * activations stay in float16 range. What slips through (an input far outside [-255, 255], a
 * pathological unclamped network) is caught by the run-time check of the output tensor
 * (src/mobilenet.ts), which throws instead of returning NaN.
 *
 * For trained models the margin is enormous: MobileNet v1 0.25/128 peaks at P = 505 (inputs
 * bounded by 6), vww_96_float at P = 1.1e5 (A = 65504), while the rule needs P > 1.7e38.
 * The fuzzed vww_96_float_huge_weight.tflite (one depthwise weight 2.34e38 after a ReLU
 * layer) has P = 1.5e43 and is refused.
 */
import { invalidModel } from '../errors.js';
import type { Graph, Op, TensorInfo, Weights } from '../model/ir.js';

/** largest partial sum a float layer may be able to reach: 2^127 */
export const FLOAT_ACCUMULATION_LIMIT = 2 ** 127;
/** assumed bound of the float model input: raw pixel values */
export const FLOAT_INPUT_BOUND = 255;
/** assumed bound of unclamped activations: float16's largest value */
export const UNCLAMPED_ACTIVATION_BOUND = 65504;

const fmt = (x: number) => (Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : String(+x.toPrecision(6)));

function weightsLabel(w: Weights): string {
  return w.name ? `filter '${w.name}'` : 'the filter';
}

/** index of the first NaN / infinite value, or -1 */
function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

/**
 * Per output channel: |b_c| + A * L1(w_c). Weights layout: conv OHWI and fully connected
 * [O, I] hold each channel contiguously; depthwise 1HWC interleaves channels.
 */
function worstPreActivation(op: Op & { filter: Weights; bias: Float32Array | Int32Array }, A: number, at: string, whyA: string): number {
  const w = op.filter.data as Float32Array;
  const bias = op.bias as Float32Array;
  const bad = firstNonFinite(w);
  if (bad >= 0) throw invalidModel(`${at}: ${weightsLabel(op.filter)} has the non-finite value ${w[bad]} at index ${bad}`);
  const badBias = firstNonFinite(bias);
  if (badBias >= 0) throw invalidModel(`${at}: the bias has the non-finite value ${bias[badBias]} at index ${badBias}`);
  const depthwise = op.op === 'depthwise_conv2d';
  const channels = depthwise ? op.filter.shape[op.filter.shape.length - 1] : op.filter.shape[0];
  const fanIn = w.length / channels;
  let worst = 0;
  let worstChannel = 0;
  let worstL1 = 0;
  for (let c = 0; c < channels; c++) {
    let l1 = 0;
    if (depthwise) for (let t = 0, j = c; t < fanIn; t++, j += channels) l1 += Math.abs(w[j]);
    else for (let j = c * fanIn, end = j + fanIn; j < end; j++) l1 += Math.abs(w[j]);
    const p = (c < bias.length ? Math.abs(bias[c]) : 0) + A * l1;
    if (p > worst) {
      worst = p;
      worstChannel = c;
      worstL1 = l1;
    }
  }
  for (let c = channels; c < bias.length; c++) worst = Math.max(worst, Math.abs(bias[c]));
  if (worst > FLOAT_ACCUMULATION_LIMIT) {
    let big = 0;
    for (let j = 1; j < w.length; j++) if (Math.abs(w[j]) > Math.abs(w[big])) big = j;
    throw invalidModel(
      `${at}: ${weightsLabel(op.filter)} can overflow float32: output channel ${worstChannel} has sum |w| = ${fmt(worstL1)} over ${fanIn} inputs, ` +
        `and with inputs up to ${fmt(A)} (${whyA}) plus bias a sum can reach ${fmt(worst)}, over the limit 2^127 = 1.7e38 ` +
        `(largest weight ${fmt(w[big])} at index ${big}); no trained network has weights like these`,
    );
  }
  return worst;
}

function clampBound(act: string, p: number): [number, string] {
  switch (act) {
    case 'relu6':
      return [Math.min(p, 6), 'the output of a ReLU6 layer'];
    case 'relu_n1_to_1':
      return [Math.min(p, 1), 'the output of a RELU_N1_TO_1 layer'];
    default:
      return p <= UNCLAMPED_ACTIVATION_BOUND
        ? [p, 'the bound of the previous layer']
        : [UNCLAMPED_ACTIVATION_BOUND, 'unclamped activations are taken to stay in float16 range'];
  }
}

function dequantizedBound(t: TensorInfo): number {
  const q = t.quant;
  if (!q) return Infinity;
  const [lo, hi] = t.dtype === 'uint8' ? [0, 255] : [-128, 127];
  let b = 0;
  for (let c = 0; c < q.scale.length; c++) b = Math.max(b, Math.fround(q.scale[c]) * Math.max(Math.abs(lo - q.zeroPoint[c]), Math.abs(hi - q.zeroPoint[c])));
  return b;
}

/** See the file comment. Throws INVALID_MODEL naming the op and tensor. */
export function checkFloatNumerics(graph: Graph): void {
  let A = FLOAT_INPUT_BOUND;
  let whyA = 'the model input: raw pixel values at most';
  graph.ops.forEach((op, i) => {
    const at = `op ${i} (${op.op})`;
    switch (op.op) {
      case 'conv2d':
      case 'depthwise_conv2d':
      case 'fully_connected': {
        if (op.filter.dtype !== 'float32' || !(op.bias instanceof Float32Array)) return;
        const p = worstPreActivation(op, A, at, whyA);
        [A, whyA] = clampBound(op.activation, p);
        return;
      }
      case 'average_pool2d':
        if (op.input.dtype !== 'float32') return;
        if (A * op.filterSize[0] * op.filterSize[1] > FLOAT_ACCUMULATION_LIMIT) {
          throw invalidModel(`${at}: summing ${op.filterSize[0]}x${op.filterSize[1]} inputs of up to ${fmt(A)} (${whyA}) can overflow float32`);
        }
        [A, whyA] = op.activation === 'relu6' || op.activation === 'relu_n1_to_1' ? clampBound(op.activation, A) : [A, whyA];
        return;
      case 'softmax':
        if (op.input.dtype === 'float32') [A, whyA] = [1, 'the output of a softmax'];
        return;
      case 'dequantize': {
        const b = dequantizedBound(op.input);
        if (!(b <= FLOAT_ACCUMULATION_LIMIT)) {
          throw invalidModel(`${at}: dequantizing tensor '${op.input.name}' (scale ${op.input.quant?.scale[0]}) gives values up to ${fmt(b)}, beyond float32's safe range`);
        }
        [A, whyA] = [b, 'the range of the dequantized tensor'];
        return;
      }
      default:
        return;
    }
  });
}
