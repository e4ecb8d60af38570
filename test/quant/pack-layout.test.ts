/**
 * The load-time packers (src/quant/pack.ts) write whole words for speed; their output must stay
 * byte-identical to the plain per-byte layout formulas below (the packers as they were before the
 * word stores), on random shapes with odd K and N, both dtypes, zero and non-zero weight zero
 * points and raw data at an unaligned byte offset. Same for the zero-point bias folds.
 */
import { describe, it, expect } from 'vitest';
import { packConvWeights, packDepthwiseRows, packGemm16Rows, packGemmRows, roundUp, storedFilter, type StoredFilter } from '../../src/quant/pack.js';
import { foldInputZeroPointRows } from '../../src/ops/q8-common.js';

// ---- reference: one byte at a time, straight from the layout descriptions ----

const stored = (f: StoredFilter, i: number) => f.bytes[i] ^ f.flip;
const filled = (f: StoredFilter, bytes: number) => new Uint8Array(bytes).fill(f.zp & 0xff);

function refGemmRows(f: StoredFilter, n: number, k: number): Uint8Array {
  const kp = roundUp(k, 8);
  const out = filled(f, Math.ceil(n / 4) * kp * 4);
  for (let c = 0; c < n; c++) for (let kk = 0; kk < k; kk++) out[(c >> 2) * kp * 4 + (c & 3) * 8 + (kk >> 3) * 32 + (kk & 7)] = stored(f, c * k + kk);
  return out;
}

function refGemm16Rows(f: StoredFilter, n: number, k: number): Uint8Array {
  const kPairs = Math.ceil(k / 2);
  const out = filled(f, Math.ceil(n / 8) * kPairs * 16);
  for (let c = 0; c < n; c++) for (let kk = 0; kk < k; kk++) out[(c >> 3) * kPairs * 16 + (c & 7) * 2 + (kk >> 1) * 16 + (kk & 1)] = stored(f, c * k + kk);
  return out;
}

function refDepthwiseRows(f: StoredFilter, taps: number, c: number): Uint8Array {
  const cp = roundUp(c, 8);
  const out = filled(f, Math.ceil(taps / 2) * cp * 2);
  for (let t = 0; t < taps; t++) for (let ch = 0; ch < c; ch++) out[(t >> 1) * cp * 2 + (t & 1) + ch * 2] = stored(f, t * c + ch);
  return out;
}

function refConvWeights(f: StoredFilter, outC: number, kh: number, kw: number, inC: number): Uint8Array {
  const ocp = roundUp(outC, 8);
  const rowLen = kw * inC;
  const pairs = Math.ceil(rowLen / 2);
  const out = filled(f, kh * pairs * ocp * 2);
  for (let oc = 0; oc < outC; oc++)
    for (let ky = 0; ky < kh; ky++)
      for (let k = 0; k < rowLen; k++) out[ky * pairs * ocp * 2 + oc * 2 + (k >> 1) * ocp * 2 + (k & 1)] = stored(f, (oc * kh + ky) * rowLen + k);
  return out;
}

/** the raw weight values (not the stored form) minus the raw zero point */
const rawValue = (raw: Uint8Array | Int8Array, i: number, wzp: number) => raw[i] - wzp;

// ---- random filters ----

let seed = 12345;
const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8);
const randInt = (lo: number, hi: number) => lo + (next() % (hi - lo + 1));

interface Case {
  raw: Uint8Array | Int8Array;
  wzp: number;
  f: StoredFilter;
  label: string;
}

/**
 * `count` raw weights of a dtype and zero point at a random byte offset of their buffer: a
 * .tflite's weights need not be 4-byte aligned (the word paths view aligned data, copy the rest)
 */
function randomFilter(count: number, dtype: 'uint8' | 'int8', wzp: number): Case {
  const offset = next() & 3;
  const buffer = new ArrayBuffer(count + offset);
  const raw = dtype === 'uint8' ? new Uint8Array(buffer, offset, count) : new Int8Array(buffer, offset, count);
  for (let i = 0; i < count; i++) raw[i] = dtype === 'uint8' ? next() & 255 : (next() & 255) - 128;
  // the extremes, where a flip or sign mistake shows
  if (count > 1) raw[0] = dtype === 'uint8' ? 255 : 127;
  if (count > 2) raw[count - 1] = dtype === 'uint8' ? 0 : -128;
  return { raw, wzp, f: storedFilter(raw, wzp), label: `${dtype} zp ${wzp} at byte offset ${offset}` };
}

const FILTER_KINDS: Array<['uint8' | 'int8', () => number]> = [
  ['uint8', () => randInt(0, 255)],
  ['uint8', () => 128], // stored zero point 0: the packers skip the padding fill
  ['int8', () => 0],
  ['int8', () => randInt(-128, 127)], // int8 fully connected layers may carry a per-tensor zero point
];

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33];
const pick = () => SIZES[randInt(0, SIZES.length - 1)];

/** the first index where two byte arrays differ (or their lengths do), -1 when identical: toEqual on megabytes takes a minute */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('load-time packers are byte-identical to the per-byte layouts', () => {
  for (const [dtype, zp] of FILTER_KINDS) {
    it(`${dtype} filters: gemm, gemm16, depthwise and conv layouts and the bias folds`, () => {
      let checked = 0;
      for (let round = 0; round < 80; round++) {
        const n = round < SIZES.length ? SIZES[round] : pick();
        const k = round < SIZES.length ? SIZES[SIZES.length - 1 - round] : pick();
        const { raw, wzp, f, label } = randomFilter(n * k, dtype, zp());
        const what = `${label}, n ${n}, k ${k}`;
        const rowSums = new Int32Array(n);
        expect(packGemmRows(f, n, k, rowSums), `gemm ${what}`).toEqual(refGemmRows(f, n, k));
        expect(packGemm16Rows(f, n, k), `gemm16 ${what}`).toEqual(refGemm16Rows(f, n, k));
        // depthwise [taps][C] and conv [O][KH][KW][I] over the same bytes
        const channelSums = new Int32Array(k);
        expect(packDepthwiseRows(f, n, k, channelSums), `depthwise ${what}`).toEqual(refDepthwiseRows(f, n, k));
        const kh = [1, 2, 3].find((d) => k % d === 0 && d > 1) ?? 1;
        expect(packConvWeights(f, n, kh, 1, k / kh), `conv ${what}`).toEqual(refConvWeights(f, n, kh, 1, k / kh));
        // sums of the raw values minus the raw zero point
        const rows = Array.from({ length: n }, (_, c) => Array.from({ length: k }, (_, kk) => rawValue(raw, c * k + kk, wzp)).reduce((a, b) => a + b, 0));
        expect(Array.from(rowSums), `row sums ${what}`).toEqual(rows);
        const cols = Array.from({ length: k }, (_, ch) => Array.from({ length: n }, (_, t) => rawValue(raw, t * k + ch, wzp)).reduce((a, b) => a + b, 0));
        expect(Array.from(channelSums), `channel sums ${what}`).toEqual(cols);
        // bias - x_zp * sum with int32 wrap-around (a large bias and zero point force the wrap)
        const bias = Int32Array.from({ length: n }, () => (next() << 8) | 0);
        const xzp = randInt(-128, 127);
        expect(Array.from(foldInputZeroPointRows(bias, rowSums, xzp)), `fold ${what}`).toEqual(rows.map((s, c) => (bias[c] - xzp * s) | 0));
        checked++;
      }
      expect(checked).toBe(80);
    });
  }

  it('the 1.0/224 shapes: a 1024 x 1024 pointwise, a 1001 x 1024 classifier and a 3 x 3 x 1024 depthwise', () => {
    for (const [dtype, zp] of FILTER_KINDS) {
      const big = randomFilter(1024 * 1024, dtype, zp());
      expect(firstDifference(packGemm16Rows(big.f, 1024, 1024), refGemm16Rows(big.f, 1024, 1024)), `gemm16 ${big.label}`).toBe(-1);
      expect(firstDifference(packGemmRows(big.f, 1001, 1024), refGemmRows(big.f, 1001, 1024)), `gemm ${big.label}`).toBe(-1);
      // rows of 1024 k: the sums flush their 16-bit lanes several times a row
      const sums = new Int32Array(1001);
      packGemmRows(big.f, 1001, 1024, sums);
      const row = (c: number) => Array.from({ length: 1024 }, (_, kk) => rawValue(big.raw, c * 1024 + kk, big.wzp)).reduce((a, b) => a + b, 0);
      expect([0, 500, 1000].map((c) => sums[c]), `row sums ${big.label}`).toEqual([0, 500, 1000].map(row));
      expect(firstDifference(packDepthwiseRows(big.f, 9, 1024), refDepthwiseRows(big.f, 9, 1024)), `depthwise ${big.label}`).toBe(-1);
    }
    // every byte at its largest: the lanes at their fullest before a flush
    for (const raw of [new Uint8Array(4 * 1028).fill(255), new Int8Array(4 * 1028).fill(127)]) {
      const sums = new Int32Array(4);
      packGemmRows(storedFilter(raw, 0), 4, 1028, sums);
      expect(Array.from(sums)).toEqual(Array(4).fill(raw[0] * 1028));
    }
  });
});
