import { describe, it, expect } from 'vitest';
import {
  calculateInputRadius,
  expOnNegativeValues,
  getReciprocal,
  oneOverOnePlusXForXIn01,
  preprocessSoftmaxScaling,
  softmaxParams,
  softmaxRow,
} from '../../src/quant/softmax.js';

describe('fixed-point softmax pieces (src/quant/softmax.ts)', () => {
  it('exp_on_negative_values approximates exp on Q5.26 inputs', () => {
    expect(expOnNegativeValues(0, 5)).toBe(2147483647);
    for (let x = -31.9; x < 0; x += 0.173) {
      const raw = Math.round(x * 2 ** 26);
      const got = expOnNegativeValues(raw, 5) / 2 ** 31;
      expect(Math.abs(got - Math.exp(raw / 2 ** 26))).toBeLessThan(2e-8 + 1e-6 * Math.exp(x));
    }
  });

  it('one_over_one_plus_x and GetReciprocal approximate 1/(1+x) and 1/x', () => {
    for (let x = 0; x < 1; x += 0.0371) {
      const got = oneOverOnePlusXForXIn01(Math.round(x * 2 ** 31) | 0) / 2 ** 31;
      expect(Math.abs(got - 1 / (1 + x))).toBeLessThan(1e-8);
    }
    // sum of exps in Q12.19 -> reciprocal as Q0.31 * 2^-numBitsOverUnit
    for (const s of [1, 1.5, 3.25, 100.7, 1000]) {
      const { reciprocal, numBitsOverUnit } = getReciprocal(Math.round(s * 2 ** 19), 12);
      expect(Math.abs((reciprocal / 2 ** 31) * 2 ** -numBitsOverUnit - 1 / s) / (1 / s)).toBeLessThan(1e-7);
    }
  });

  it('PreprocessSoftmaxScaling and CalculateInputRadius', () => {
    // 0.25/128 uint8 model's logits scale
    const { multiplier, leftShift } = preprocessSoftmaxScaling(1, 0.13083283603191376, 5);
    expect(multiplier * 2 ** (leftShift - 31)).toBeCloseTo(Math.fround(0.13083283603191376) * 2 ** 26, 0);
    expect(leftShift).toBe(24);
    expect(calculateInputRadius(5, 24)).toBe(Math.floor((31 * 2 ** 26) / 2 ** 24));
    const p = softmaxParams(1, 0.13083283603191376);
    expect(p.diffMin).toBe(-124);
    // a huge multiplier is capped at 2^31 - 1
    expect(preprocessSoftmaxScaling(1e6, 1e6, 5).leftShift).toBe(31);
  });

  it('softmaxRow approximates the float softmax and sums to ~1', () => {
    const p = softmaxParams(1, 0.1);
    const x = Uint8Array.from({ length: 50 }, (_, i) => (i * 37) % 256);
    const out = new Uint8Array(50);
    softmaxRow(x, p, 0, out);
    const max = Math.max(...x);
    const e = Array.from(x, (v) => Math.exp((v - max) * 0.1));
    const sum = e.reduce((a, b) => a + b, 0);
    for (let i = 0; i < 50; i++) expect(Math.abs(out[i] / 256 - e[i] / sum)).toBeLessThanOrEqual(1 / 256 + 1e-9);
    const i8 = new Int8Array(50);
    softmaxRow(Int8Array.from(x, (v) => v - 128), p, -128, i8);
    expect(Array.from(i8, (v) => v + 128)).toEqual(Array.from(out));
  });
});
