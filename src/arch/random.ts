/**
 * Seeded randomness for the random-weight model builder: the same seed gives the same
 * weights bit for bit on every engine (only integer ops, Math.log/sqrt/cos on the way).
 */

/** mulberry32: small, fast, good enough for weight init; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box-Muller, keeping the second value of each pair. */
export function normalSource(uniform: () => number): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = NaN;
      return v;
    }
    // 1 - u keeps the log argument in (0, 1]
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/** Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

export const normalPdf = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

/**
 * Mean and variance of clamp(z, lo, hi) for z ~ N(m, s^2): how a ReLU6 reshapes a
 * normally distributed pre-activation. Used to predict every layer's activation statistics
 * without running the network.
 */
export function clampedNormalMoments(m: number, s: number, lo: number, hi: number): { mean: number; variance: number } {
  if (!(s > 0)) {
    const c = Math.min(hi, Math.max(lo, m));
    return { mean: c, variance: 0 };
  }
  const a = (lo - m) / s;
  const b = (hi - m) / s;
  const pa = normalCdf(a);
  const pb = normalCdf(b);
  const fa = normalPdf(a);
  const fb = normalPdf(b);
  const inside = pb - pa;
  // E[z; lo<z<hi] and E[z^2; lo<z<hi] of the truncated normal, plus the clamped tails
  const m1 = m * inside + s * (fa - fb);
  const m2 = (m * m + s * s) * inside + 2 * m * s * (fa - fb) + s * s * (a * fa - b * fb);
  const mean = m1 + lo * pa + hi * (1 - pb);
  const second = m2 + lo * lo * pa + hi * hi * (1 - pb);
  return { mean, variance: Math.max(second - mean * mean, 0) };
}
