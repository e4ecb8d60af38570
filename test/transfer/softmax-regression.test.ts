/**
 * The softmax head's optimizer (src/transfer/softmax-regression.ts): the weight-space and the
 * example-space (Gram matrix) parametrizations take the same steps, so they give the same head;
 * the folded head reproduces the standardized model's logits on raw embeddings.
 */
import { describe, it, expect } from 'vitest';
import { fitSoftmaxRegression } from '../../src/transfer/softmax-regression.js';
import { mulberry32 } from '../../src/arch/random.js';

function data(n: number, dim: number, classes: number, seed: number) {
  const rand = mulberry32(seed);
  const centres = Array.from({ length: classes }, () => Float32Array.from({ length: dim }, () => rand() * 3));
  const y = Int32Array.from({ length: n }, (_, i) => i % classes);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) x[i * dim + d] = Math.max(0, centres[y[i]][d] + (rand() - 0.5) * 4);
  // a constant feature (a dead ReLU channel): its weight must stay 0
  for (let i = 0; i < n; i++) x[i * dim] = 0.25;
  return { x, y };
}

describe('softmax regression', () => {
  it('the two parametrizations give the same head', async () => {
    const dim = 40;
    const classes = 3;
    const { x, y } = data(24, dim, classes, 5);
    const options = { l2: 0.01, epochs: 60, learningRate: 1 };
    const a = await fitSoftmaxRegression(x, y, dim, classes, { ...options, parametrization: 'weights' });
    const b = await fitSoftmaxRegression(x, y, dim, classes, { ...options, parametrization: 'examples' });
    expect(b.loss).toBeCloseTo(a.loss, 6);
    for (let j = 0; j < a.weights.length; j++) expect(b.weights[j]).toBeCloseTo(a.weights[j], 4);
    for (let c = 0; c < classes; c++) expect(b.bias[c]).toBeCloseTo(a.bias[c], 4);
    for (let c = 0; c < classes; c++) expect(a.weights[c * dim]).toBe(0);
    expect(a.accuracy).toBeGreaterThan(0.9);
  });

  it('more passes lower the loss; a learning rate of 2 still converges', async () => {
    const dim = 16;
    const { x, y } = data(60, dim, 4, 6);
    const short = await fitSoftmaxRegression(x, y, dim, 4, { l2: 0.01, epochs: 5, learningRate: 1 });
    const long = await fitSoftmaxRegression(x, y, dim, 4, { l2: 0.01, epochs: 200, learningRate: 1 });
    const fast = await fitSoftmaxRegression(x, y, dim, 4, { l2: 0.01, epochs: 200, learningRate: 2 });
    expect(long.loss).toBeLessThan(short.loss);
    expect(Number.isFinite(fast.loss)).toBe(true);
    expect(fast.loss).toBeLessThan(short.loss);
  });
});
