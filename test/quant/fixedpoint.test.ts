import { describe, it, expect } from 'vitest';
import { rng } from '../helpers/kernels.js';
import {
  INT32_MAX,
  INT32_MIN,
  activationRange,
  frexp,
  multiplyByQuantizedMultiplier,
  perChannelRealMultiplier,
  perTensorRealMultiplier,
  quantizeMultiplier,
  roundHalfAway,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from '../../src/quant/fixedpoint.js';
import { packRequant, requantMode } from '../../src/quant/pack.js';

/** gemmlowp's literal definition, in BigInt: nudge by sign, then C division (truncation) */
function srdhmLiteral(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates like C
}

/** round half away from zero of x / 2^e, exactly */
function rdbpLiteral(x: number, e: number): number {
  const d = 2n ** BigInt(e);
  const X = BigInt(x);
  const q = X / d; // truncated
  const rem = X - q * d; // same sign as X
  const twice = 2n * (rem < 0n ? -rem : rem);
  if (twice >= d && e > 0) return Number(q + (X < 0n ? -1n : 1n));
  return Number(q);
}

const interesting = [0, 1, -1, 2, -2, 1 << 30, -(1 << 30), INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 12345, -12345, 65535, -65536];

describe('fixed-point arithmetic (src/quant/fixedpoint.ts)', () => {
  it('SaturatingRoundingDoublingHighMul with b > 0 equals (a*b + 2^30) >> 31 (arithmetic, 64-bit)', () => {
    const r = rng(1);
    const as = [...interesting];
    const bs = [1, 2, 1 << 30, INT32_MAX, (1 << 30) + 1, 1518500250];
    for (let i = 0; i < 3000; i++) {
      as.push((r() * 2 ** 32) | 0);
      bs.push(1 + Math.floor(r() * INT32_MAX));
    }
    const check = (a: number, b: number) => {
      const shifted = Number((BigInt(a) * BigInt(b) + (1n << 30n)) >> 31n);
      expect(srdhmLiteral(a, b)).toBe(shifted);
      expect(saturatingRoundingDoublingHighMul(a, b)).toBe(shifted);
    };
    for (const a of interesting) for (const b of bs.slice(0, 6)) check(a, b);
    for (let i = 0; i < as.length; i++) check(as[i], bs[i % bs.length]);
  });

  it('SaturatingRoundingDoublingHighMul matches the literal definition for any signs, including saturation', () => {
    const r = rng(2);
    for (const a of interesting) for (const b of interesting) expect(saturatingRoundingDoublingHighMul(a, b)).toBe(srdhmLiteral(a, b));
    for (let i = 0; i < 20000; i++) {
      const a = (r() * 2 ** 32) | 0;
      const b = (r() * 2 ** 32) | 0;
      expect(saturatingRoundingDoublingHighMul(a, b)).toBe(srdhmLiteral(a, b));
    }
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
  });

  it('RoundingDivideByPOT rounds half away from zero for every exponent 0..31', () => {
    const r = rng(3);
    for (let e = 0; e <= 31; e++) {
      for (const x of interesting) expect(roundingDivideByPOT(x, e)).toBe(rdbpLiteral(x, e));
      for (let i = 0; i < 500; i++) {
        const x = (r() * 2 ** 32) | 0;
        expect(roundingDivideByPOT(x, e)).toBe(rdbpLiteral(x, e));
      }
    }
    expect(roundingDivideByPOT(5, 1)).toBe(3);
    expect(roundingDivideByPOT(-5, 1)).toBe(-3);
    expect(roundingDivideByPOT(-6, 2)).toBe(-2); // -1.5 -> -2
  });

  it('frexp splits doubles exactly', () => {
    for (const x of [1, 0.5, 0.75, 3, 1e-10, 123456.789, 2 ** -1030, 0.999999999]) {
      const { q, e } = frexp(x);
      expect(q).toBeGreaterThanOrEqual(0.5);
      expect(q).toBeLessThan(1);
      expect(q * 2 ** e).toBe(x);
    }
  });

  it('QuantizeMultiplier: significand in [2^30, 2^31), fix-up at 2^31, flush below 2^-31', () => {
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
    // q * 2^31 rounds up to 2^31: halved, shift incremented
    expect(quantizeMultiplier(1 - 2 ** -33)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    // half-way rounds away from zero
    expect(quantizeMultiplier(0.5 + 2 ** -32)).toEqual({ multiplier: 2 ** 30 + 1, shift: 0 });
    expect(quantizeMultiplier(2 ** -33)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(2 ** -31).shift).toBe(-30);
    const r = rng(4);
    for (let i = 0; i < 2000; i++) {
      const real = 2 ** (-30 + r() * 40);
      const { multiplier, shift } = quantizeMultiplier(real);
      expect(multiplier).toBeGreaterThanOrEqual(2 ** 30);
      expect(multiplier).toBeLessThan(2 ** 31);
      expect(Math.abs((multiplier * 2 ** (shift - 31)) / real - 1)).toBeLessThan(2 ** -30);
    }
  });

  it('MultiplyByQuantizedMultiplier equals the literal double rounding, left shifts wrapping in int32', () => {
    const r = rng(5);
    for (let i = 0; i < 20000; i++) {
      const x = i < 5000 ? (r() * 2 ** 32) | 0 : Math.round((r() * 2 - 1) * 2 ** (r() * 24));
      const { multiplier, shift } = quantizeMultiplier(2 ** (-20 + r() * 26));
      const left = Math.max(shift, 0);
      const xl = Number(BigInt.asIntN(32, BigInt(x) << BigInt(left)));
      const expected = rdbpLiteral(srdhmLiteral(xl, multiplier), Math.max(-shift, 0));
      expect(multiplyByQuantizedMultiplier(x, multiplier, shift)).toBe(expected);
    }
  });

  it('multiplier rules: float32 scale product for per-tensor layers, double for per-channel', () => {
    const si = 0.0078125;
    const sf = 0.0291752051;
    const so = 0.023528477177023888;
    const f32 = Math.fround;
    expect(perTensorRealMultiplier(si, sf, so)).toBe(f32(f32(si) * f32(sf)) / f32(so));
    expect(perChannelRealMultiplier(si, sf, so)).toBe((f32(si) * f32(sf)) / f32(so));
    // the two differ for typical scales (this is why the rule matters)
    const a = 0.023528477177023888;
    const b = 0.00563234;
    expect(perTensorRealMultiplier(a, b, 0.0235)).not.toBe(perChannelRealMultiplier(a, b, 0.0235));
  });

  it('activation ranges follow CalculateActivationRangeQuantized', () => {
    expect(activationRange('none', 0.1, 3, 0, 255)).toEqual({ min: 0, max: 255 });
    expect(activationRange('relu', 0.1, 3, 0, 255)).toEqual({ min: 3, max: 255 });
    expect(activationRange('relu6', 0.1, 3, 0, 255)).toEqual({ min: 3, max: 63 });
    expect(activationRange('relu6', 6 / 255, -128, -128, 127)).toEqual({ min: -128, max: 127 });
    expect(activationRange('relu_n1_to_1', 0.25, 0, -128, 127)).toEqual({ min: -4, max: 4 });
    expect(activationRange('relu6', 0.001, 10, 0, 255)).toEqual({ min: 10, max: 255 });
  });

  it('roundHalfAway', () => {
    expect([2.5, -2.5, 0.49, -0.5, 1.5].map(roundHalfAway)).toEqual([3, -3, 0, -1, 2]);
  });

  it('uint8 average pool rounding carries over to the shifted storage as floor((S + floor(n/2)) / n)', () => {
    for (let n = 1; n <= 64; n++) {
      for (let sumU = 0; sumU <= 255 * n; sumU += Math.max(1, Math.floor(n / 3))) {
        const raw = Math.trunc((sumU + Math.trunc(n / 2)) / n); // TFLite uint8, non-negative
        const s = sumU - 128 * n; // sum of shifted values
        const shifted = Math.floor((s + Math.floor(n / 2)) / n);
        expect(shifted).toBe(raw - 128);
      }
    }
  });

  it('packed requantization block and requantization mode', () => {
    const q = [quantizeMultiplier(0.3), quantizeMultiplier(3), quantizeMultiplier(2 ** -20)];
    const v = new Int32Array(packRequant(q, 4).buffer);
    expect(v.length).toBe(24);
    expect(v[0]).toBe(q[0].multiplier);
    expect(v[1 + 4]).toBe(4); // 3 = 0.75 * 2^2: left shift 2
    expect(v[2 + 16]).toBe(19); // 2^-20 = 0.5 * 2^-19: right shift 19
    expect(v[2 + 12]).toBe(2 ** v[2 + 16] - 1);
    expect(v[0 + 8]).toBe(2 ** (31 - v[0 + 16]) | 0);
    expect(v[2 + 20]).toBe(2 ** 18); // rounding nudge 2^(right - 1)
    expect(v[3]).toBe(0); // padding channel: zero multiplier
    expect(requantMode(q)).toBe(-2); // channel 1 shifts left
    expect(requantMode([q[0], q[2]])).toBe(-3); // right shifts 1 and 19: rounding-add path
    expect(requantMode([q[0], quantizeMultiplier(0.7)])).toBe(-1); // right shifts 1 and 0
    expect(requantMode([q[0], quantizeMultiplier(2 ** -24)])).toBe(-1); // right shift 23
    expect(requantMode([q[0], q[0]])).toBe(-q[0].shift);
  });
});
