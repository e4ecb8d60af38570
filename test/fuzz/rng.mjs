/**
 * Seeded PRNG for the fuzzer: every case draws from its own generator, keyed by
 * (run seed, case kind, case index), so a case can be regenerated alone (the parent does
 * that to save a repro after a child hung or crashed) and the same seed gives the same cases.
 */

/** 32-bit FNV-1a of a string */
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  /** @param {string|number} key */
  constructor(key) {
    const k = String(key);
    // sfc32 state from four differently salted hashes
    this.a = fnv1a('a' + k);
    this.b = fnv1a('b' + k);
    this.c = fnv1a('c' + k);
    this.d = fnv1a('d' + k) | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }
  /** uniform 32-bit unsigned */
  u32() {
    let { a, b, c, d } = this;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    this.a = a; this.b = b; this.c = c; this.d = d;
    return t >>> 0;
  }
  /** [0, 1) */
  float() {
    return this.u32() / 4294967296;
  }
  /** integer in [0, n) */
  int(n) {
    if (n <= 0) return 0;
    return Math.floor(this.float() * n);
  }
  /** integer in [lo, hi] */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }
  chance(p) {
    return this.float() < p;
  }
  pick(arr) {
    return arr[this.int(arr.length)];
  }
  /** pick from [[weight, value], ...] */
  weighted(pairs) {
    let total = 0;
    for (const [w] of pairs) total += w;
    let r = this.float() * total;
    for (const [w, v] of pairs) {
      if ((r -= w) < 0) return v;
    }
    return pairs[pairs.length - 1][1];
  }
  /** a generator for a sub-stream, independent of how much this one is used later */
  fork(label) {
    return new Rng(`${this.u32()}:${label}`);
  }
}

export const caseRng = (seed, kind, index) => new Rng(`${seed}/${kind}/${index}`);
