/**
 * Multinomial logistic regression with L2 on embeddings, in plain TypeScript: the softmax head
 * of transfer learning. The problem is convex and small (hundreds of examples x ~1000 features
 * x a few classes), so full-batch accelerated gradient descent (Nesterov / FISTA with
 * gradient-based restart) converges in a hundred or so passes, with no randomness at all: the
 * same examples give the same head on every run and engine.
 *
 * Features are standardized ((x - mean) / std per dimension) for conditioning, and the result is
 * folded back into the weights (w / std, b - w . mean / std), so the head is a plain
 * FULLY_CONNECTED on raw embeddings. Core-safe: no Node built-ins.
 */

export interface RegressionOptions {
  /** L2 penalty on the weights of standardized features (loss = mean cross-entropy + l2/2 |W|^2) */
  l2: number;
  /** full-batch passes */
  epochs: number;
  /** step as a fraction of 1/L, L the gradient's Lipschitz bound (1 = the largest safe step) */
  learningRate: number;
  onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
}

export interface Regression {
  /** [classes, dim], row-major, on raw embeddings */
  weights: Float32Array;
  bias: Float32Array;
  /** mean cross-entropy + penalty at the final weights */
  loss: number;
  /** fraction of the training examples the final head gets right */
  accuracy: number;
}

/** features whose spread is below this (relative to their size) carry nothing: their weight stays 0 */
const FLAT_FEATURE = 1e-6;
const POWER_ITERATIONS = 30;

/**
 * Fit `classes` classes to `x` (n rows of `dim` floats) with labels `y` (0..classes-1).
 * Awaits onEpoch after each pass (the caller yields to its event loop or aborts there).
 */
export async function fitSoftmaxRegression(x: Float32Array, y: Int32Array, dim: number, classes: number, o: RegressionOptions): Promise<Regression> {
  const n = y.length;
  const { mean, invStd } = standardization(x, n, dim);
  const z = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) z[i * dim + d] = (x[i * dim + d] - mean[d]) * invStd[d];

  // Böhning's bound: the cross-entropy's Hessian is at most 1/2 (features' second moment); the
  // bias is a feature of 1 (the features are centred, so its eigenvalue is 1 apart from theirs)
  const lipschitz = 0.5 * Math.max(largestEigenvalue(z, n, dim), 1) + o.l2;
  const step = o.learningRate / lipschitz;

  const size = classes * (dim + 1); // the weights, then the biases
  let w = new Float64Array(size);
  let previous = new Float64Array(size);
  const v = new Float64Array(size);
  const grad = new Float64Array(size);
  const probs = new Float64Array(classes);
  let t = 1;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const loss = lossAndGradient(v, z, y, n, dim, classes, o.l2, grad, probs);
    const next = previous; // reuse the older buffer
    for (let j = 0; j < size; j++) next[j] = v[j] - step * grad[j];
    // restart the momentum when it points uphill (O'Donoghue & Candes), else Nesterov's sequence
    let uphill = 0;
    for (let j = 0; j < size; j++) uphill += grad[j] * (next[j] - w[j]);
    const tNext = uphill > 0 ? 1 : (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const momentum = uphill > 0 ? 0 : (t - 1) / tNext;
    for (let j = 0; j < size; j++) v[j] = next[j] + momentum * (next[j] - w[j]);
    previous = w;
    w = next;
    t = tNext;
    await o.onEpoch?.(epoch, loss);
  }
  const loss = lossAndGradient(w, z, y, n, dim, classes, o.l2, grad, probs);
  let right = 0;
  for (let i = 0; i < n; i++) {
    probabilities(w, z, i, dim, classes, probs);
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[c] > probs[best]) best = c;
    if (best === y[i]) right++;
  }
  // fold the standardization into the weights
  const weights = new Float32Array(classes * dim);
  const bias = new Float32Array(classes);
  for (let c = 0; c < classes; c++) {
    let b = w[classes * dim + c];
    for (let d = 0; d < dim; d++) {
      const raw = w[c * dim + d] * invStd[d];
      weights[c * dim + d] = raw;
      b -= raw * mean[d];
    }
    bias[c] = b;
  }
  return { weights, bias, loss, accuracy: n ? right / n : 0 };
}

function standardization(x: Float32Array, n: number, dim: number): { mean: Float64Array; invStd: Float64Array } {
  const mean = new Float64Array(dim);
  const invStd = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += x[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= n;
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) {
      const e = x[i * dim + d] - mean[d];
      invStd[d] += e * e;
    }
  }
  for (let d = 0; d < dim; d++) {
    const std = Math.sqrt(invStd[d] / n);
    invStd[d] = std > FLAT_FEATURE * Math.max(1, Math.abs(mean[d])) ? 1 / std : 0;
  }
  return { mean, invStd };
}

/** of z^T z / n, by power iteration from a fixed start (deterministic) */
function largestEigenvalue(z: Float64Array, n: number, dim: number): number {
  let u = new Float64Array(dim).fill(1 / Math.sqrt(dim));
  let lambda = 0;
  const zu = new Float64Array(n);
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    for (let i = 0; i < n; i++) zu[i] = dot(z, i * dim, u, 0, dim);
    const next = new Float64Array(dim);
    for (let i = 0; i < n; i++) axpy(zu[i], z, i * dim, next, 0, dim);
    const norm = Math.sqrt(dot(next, 0, next, 0, dim));
    lambda = norm / n;
    if (norm === 0) break;
    for (let d = 0; d < dim; d++) next[d] /= norm;
    u = next;
  }
  // the iteration approaches from below: a margin keeps the step safe
  return lambda * 1.05;
}

/** softmax probabilities of example i into `out` */
function probabilities(w: Float64Array, z: Float64Array, i: number, dim: number, classes: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) {
    const s = w[classes * dim + c] + dot(w, c * dim, z, i * dim, dim);
    out[c] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += out[c] = Math.exp(out[c] - max);
  for (let c = 0; c < classes; c++) out[c] /= sum;
}

/** mean cross-entropy + l2/2 |W|^2 at `w`, and its gradient into `grad` */
function lossAndGradient(w: Float64Array, z: Float64Array, y: Int32Array, n: number, dim: number, classes: number, l2: number, grad: Float64Array, probs: Float64Array): number {
  grad.fill(0);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    probabilities(w, z, i, dim, classes, probs);
    loss -= Math.log(Math.max(probs[y[i]], 1e-300));
    for (let c = 0; c < classes; c++) {
      const r = (probs[c] - (c === y[i] ? 1 : 0)) / n;
      grad[classes * dim + c] += r;
      axpy(r, z, i * dim, grad, c * dim, dim);
    }
  }
  let penalty = 0;
  for (let j = 0; j < classes * dim; j++) {
    penalty += w[j] * w[j];
    grad[j] += l2 * w[j];
  }
  return loss / n + 0.5 * l2 * penalty;
}

/** a[ai..ai+n) . b[bi..bi+n), in four partial sums (independent adds pipeline) */
function dot(a: Float64Array, ai: number, b: Float64Array, bi: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    s0 += a[ai + d] * b[bi + d];
    s1 += a[ai + d + 1] * b[bi + d + 1];
    s2 += a[ai + d + 2] * b[bi + d + 2];
    s3 += a[ai + d + 3] * b[bi + d + 3];
  }
  for (; d < n; d++) s0 += a[ai + d] * b[bi + d];
  return s0 + s1 + (s2 + s3);
}

/** out[oi..oi+n) += r * a[ai..ai+n) */
function axpy(r: number, a: Float64Array, ai: number, out: Float64Array, oi: number, n: number): void {
  for (let d = 0; d < n; d++) out[oi + d] += r * a[ai + d];
}
