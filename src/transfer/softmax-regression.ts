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
  /** @internal force a parametrization (tests compare the two); default: the cheaper */
  parametrization?: 'weights' | 'examples';
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

  // Few examples of long embeddings (the usual case) train faster on the examples' Gram matrix
  // (see ExampleSpace); the iterates are the same either way, only the arithmetic differs
  const primalCost = o.epochs * 2 * classes * n * dim;
  const dualCost = (n * n * dim) / 2 + o.epochs * 2 * classes * n * n;
  const inExamples = o.parametrization ? o.parametrization === 'examples' : dualCost < primalCost;
  const objective: Objective = inExamples ? new ExampleSpace(z, y, n, dim, classes, o.l2) : new WeightSpace(z, y, n, dim, classes, o.l2);

  // Böhning's bound: the cross-entropy's Hessian is at most 1/2 (features' second moment); the
  // bias is a feature of 1 (the features are centred, so its eigenvalue is 1 apart from theirs)
  const lipschitz = 0.5 * Math.max(objective.largestEigenvalue() / n, 1) + o.l2;
  const step = o.learningRate / lipschitz;

  const size = objective.size;
  let w = new Float64Array(size);
  let previous = new Float64Array(size);
  const v = new Float64Array(size);
  const grad = new Float64Array(size);
  const delta = new Float64Array(size);
  let t = 1;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const loss = objective.lossAndGradient(v, grad);
    const next = previous; // reuse the older buffer
    for (let j = 0; j < size; j++) {
      next[j] = v[j] - step * grad[j];
      delta[j] = next[j] - w[j];
    }
    // restart the momentum when it points uphill (O'Donoghue & Candes), else Nesterov's sequence
    const uphill = objective.inner(grad, delta) > 0;
    const tNext = uphill ? 1 : (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const momentum = uphill ? 0 : (t - 1) / tNext;
    for (let j = 0; j < size; j++) v[j] = next[j] + momentum * delta[j];
    previous = w;
    w = next;
    t = tNext;
    await o.onEpoch?.(epoch, loss);
  }
  const loss = objective.lossAndGradient(w, grad);
  const probs = new Float64Array(classes);
  let right = 0;
  for (let i = 0; i < n; i++) {
    objective.logits(w, i, probs);
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[c] > probs[best]) best = c;
    if (best === y[i]) right++;
  }
  // fold the standardization into the weights
  const standardized = objective.weights(w);
  const weights = new Float32Array(classes * dim);
  const bias = new Float32Array(classes);
  for (let c = 0; c < classes; c++) {
    let b = standardized[classes * dim + c];
    for (let d = 0; d < dim; d++) {
      const raw = standardized[c * dim + d] * invStd[d];
      weights[c * dim + d] = raw;
      b -= raw * mean[d];
    }
    bias[c] = b;
  }
  return { weights, bias, loss, accuracy: n ? right / n : 0 };
}

/**
 * Mean cross-entropy + l2/2 |W|^2 of W (classes x dim, on standardized features z) and a bias,
 * in some parametrization of W: what the accelerated descent above needs of it.
 */
interface Objective {
  /** parameters: a representation of W, then the classes' biases */
  readonly size: number;
  /** z's largest squared singular value (of z^T z, or of z z^T: the same) */
  largestEigenvalue(): number;
  /** the loss at `w`, and into `grad` the W-gradient in this parametrization */
  lossAndGradient(w: Float64Array, grad: Float64Array): number;
  /** the W-space inner product of a gradient and a step */
  inner(grad: Float64Array, delta: Float64Array): number;
  /** the logits of example i at `w` (after lossAndGradient(w) for ExampleSpace) */
  logits(w: Float64Array, i: number, out: Float64Array): void;
  /** W row-major, then the biases */
  weights(w: Float64Array): Float64Array;
}

/** the plain parametrization: w = W, then the biases */
class WeightSpace implements Objective {
  readonly size: number;
  constructor(
    private readonly z: Float64Array,
    private readonly y: Int32Array,
    private readonly n: number,
    private readonly dim: number,
    private readonly classes: number,
    private readonly l2: number,
  ) {
    this.size = classes * (dim + 1);
  }

  largestEigenvalue(): number {
    const { z, n, dim } = this;
    return powerIteration(dim, (u, out) => {
      const zu = new Float64Array(n);
      for (let i = 0; i < n; i++) zu[i] = dot(z, i * dim, u, 0, dim);
      for (let i = 0; i < n; i++) axpy(zu[i], z, i * dim, out, 0, dim);
    });
  }

  logits(w: Float64Array, i: number, out: Float64Array): void {
    const { z, dim, classes } = this;
    for (let c = 0; c < classes; c++) out[c] = w[classes * dim + c] + dot(w, c * dim, z, i * dim, dim);
  }

  lossAndGradient(w: Float64Array, grad: Float64Array): number {
    const { z, y, n, dim, classes, l2 } = this;
    grad.fill(0);
    const probs = new Float64Array(classes);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      this.logits(w, i, probs);
      loss += softmaxLoss(probs, y[i]);
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

  inner(grad: Float64Array, delta: Float64Array): number {
    return dot(grad, 0, delta, 0, this.size);
  }

  weights(w: Float64Array): Float64Array {
    return w;
  }
}

/**
 * W = A z with A classes x n: gradient descent from W = 0 never leaves the span of the examples
 * (every gradient is R^T z / n + l2 W), so A (and the biases) carry the same iterates as W, and
 * with K = z z^T (n x n, once) a pass costs classes x n^2 instead of classes x n x dim.
 */
class ExampleSpace implements Objective {
  readonly size: number;
  private readonly gram: Float64Array;
  /** K A_c per class, for the last w given to lossAndGradient */
  private readonly ka: Float64Array;
  constructor(
    private readonly z: Float64Array,
    private readonly y: Int32Array,
    private readonly n: number,
    private readonly dim: number,
    private readonly classes: number,
    private readonly l2: number,
  ) {
    this.size = classes * (n + 1);
    this.gram = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) this.gram[i * n + j] = this.gram[j * n + i] = dot(z, i * dim, z, j * dim, dim);
    }
    this.ka = new Float64Array(classes * n);
  }

  largestEigenvalue(): number {
    const { gram, n } = this;
    return powerIteration(n, (u, out) => {
      for (let i = 0; i < n; i++) out[i] = dot(gram, i * n, u, 0, n);
    });
  }

  /** K times each class's row of `a` into `out` */
  private gramTimes(a: Float64Array, out: Float64Array): void {
    const { gram, n, classes } = this;
    for (let c = 0; c < classes; c++) for (let i = 0; i < n; i++) out[c * n + i] = dot(gram, i * n, a, c * n, n);
  }

  logits(w: Float64Array, i: number, out: Float64Array): void {
    const { n, classes } = this;
    for (let c = 0; c < classes; c++) out[c] = w[classes * n + c] + this.ka[c * n + i];
  }

  lossAndGradient(w: Float64Array, grad: Float64Array): number {
    const { y, n, classes, l2, ka } = this;
    this.gramTimes(w, ka);
    const probs = new Float64Array(classes);
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      this.logits(w, i, probs);
      loss += softmaxLoss(probs, y[i]);
      for (let c = 0; c < classes; c++) {
        const r = (probs[c] - (c === y[i] ? 1 : 0)) / n;
        grad[c * n + i] = r + l2 * w[c * n + i];
        grad[classes * n + c] += r;
      }
    }
    // |W|^2 = sum over classes of A_c . K A_c
    const penalty = dot(w, 0, ka, 0, classes * n);
    return loss / n + 0.5 * l2 * penalty;
  }

  inner(grad: Float64Array, delta: Float64Array): number {
    const { n, classes } = this;
    const kd = new Float64Array(classes * n);
    this.gramTimes(delta, kd);
    return dot(grad, 0, kd, 0, classes * n) + dot(grad, classes * n, delta, classes * n, classes);
  }

  weights(w: Float64Array): Float64Array {
    const { z, n, dim, classes } = this;
    const out = new Float64Array(classes * (dim + 1));
    for (let c = 0; c < classes; c++) for (let i = 0; i < n; i++) axpy(w[c * n + i], z, i * dim, out, c * dim, dim);
    for (let c = 0; c < classes; c++) out[classes * dim + c] = w[classes * n + c];
    return out;
  }
}

/** turns logits into probabilities in place; returns -log p(label) */
function softmaxLoss(p: Float64Array, label: number): number {
  let max = -Infinity;
  for (let c = 0; c < p.length; c++) max = Math.max(max, p[c]);
  let sum = 0;
  for (let c = 0; c < p.length; c++) sum += p[c] = Math.exp(p[c] - max);
  for (let c = 0; c < p.length; c++) p[c] /= sum;
  return -Math.log(Math.max(p[label], 1e-300));
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

/** the largest eigenvalue of a symmetric positive semi-definite operator, by power iteration from a fixed start (deterministic) */
function powerIteration(size: number, times: (u: Float64Array, out: Float64Array) => void): number {
  let u = new Float64Array(size).fill(1 / Math.sqrt(size));
  let lambda = 0;
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    const next = new Float64Array(size);
    times(u, next);
    const norm = Math.sqrt(dot(next, 0, next, 0, size));
    lambda = norm;
    if (norm === 0) break;
    for (let d = 0; d < size; d++) next[d] /= norm;
    u = next;
  }
  // the iteration approaches from below: a margin keeps the step safe
  return lambda * 1.05;
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
