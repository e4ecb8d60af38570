/**
 * MobileNet v1 (TF-slim) with seeded random weights, in plain JS so each peer runner can
 * build the same network in its own runtime without a model file. Batch norm is folded
 * (conv + bias), as in the converted TFLite models.
 *
 * Layouts are TFLite's: conv filters OHWI, depthwise 1HWC, activations NHWC. Runners convert.
 */
import { rng } from './timing.mjs';

/** [filters, stride] of the 13 depthwise-separable blocks. */
const BLOCKS = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];
export const NUM_CLASSES = 1001;

/** TF-slim's channel rule: max(8, floor(d * alpha)). */
export const channels = (d, alpha) => Math.max(8, Math.floor(d * alpha));

/**
 * Layer list with random weights (He-uniform, so ReLU6 activations stay O(1) and the
 * float output is a real, non-degenerate softmax).
 *   conv:  {kind:'conv', k, stride, inC, outC, filter: Float32Array OHWI, bias, relu6}
 *   dw:    {kind:'dw', k:3, stride, C, filter: Float32Array 1HWC, bias, relu6:true}
 *   pool:  {kind:'avgpool', size}    (VALID, covers the whole map: a global average)
 * The classifier is a 1x1 conv to 1001 classes without activation, then softmax.
 */
export function buildMobileNetV1({ alpha = 1, resolution = 224, seed = 1 } = {}) {
  const rand = rng(seed);
  const uniform = (n, bound) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * bound;
    return a;
  };
  const bias = (n) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rand() * 0.1 - 0.02;
    return a;
  };
  const layers = [];
  let size = resolution;
  let c = 3;
  const conv = (k, stride, outC, relu6) => {
    const fanIn = k * k * c;
    layers.push({ kind: 'conv', k, stride, inC: c, outC, inSize: size, filter: uniform(outC * k * k * c, Math.sqrt(6 / fanIn)), bias: bias(outC), relu6 });
    size = Math.ceil(size / stride);
    c = outC;
  };
  conv(3, 2, channels(32, alpha), true);
  for (const [filters, stride] of BLOCKS) {
    layers.push({ kind: 'dw', k: 3, stride, C: c, inSize: size, filter: uniform(9 * c, Math.sqrt(6 / 9)), bias: bias(c), relu6: true });
    size = Math.ceil(size / stride);
    conv(1, 1, channels(filters, alpha), true);
  }
  layers.push({ kind: 'avgpool', size, C: c });
  size = 1;
  // Classifier: smaller weights so the softmax is peaked but not one-hot.
  layers.push({ kind: 'conv', k: 1, stride: 1, inC: c, outC: NUM_CLASSES, inSize: 1, filter: uniform(NUM_CLASSES * c, Math.sqrt(1 / c)), bias: bias(NUM_CLASSES), relu6: false });
  return { alpha, resolution, seed, numClasses: NUM_CLASSES, layers };
}

/** Seeded input image in [-1, 1], NHWC [1, r, r, 3]. */
export function randomInput(resolution, seed = 7) {
  const rand = rng(seed);
  const x = new Float32Array(resolution * resolution * 3);
  for (let i = 0; i < x.length; i++) x[i] = rand() * 2 - 1;
  return x;
}

/** TFLite SAME padding for one spatial dim: [before, after] (the extra pixel goes after). */
export function samePadding(inSize, k, stride) {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + k - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Multiply-accumulates of one inference, for GFLOP/s figures. */
export function macs(net) {
  let total = 0;
  for (const l of net.layers) {
    if (l.kind === 'conv') total += Math.ceil(l.inSize / l.stride) ** 2 * l.k * l.k * l.inC * l.outC;
    else if (l.kind === 'dw') total += Math.ceil(l.inSize / l.stride) ** 2 * 9 * l.C;
  }
  return total;
}
