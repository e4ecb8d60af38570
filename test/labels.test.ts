import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alignLabels, parseLabels, topK } from '../src/labels.js';
import { SHARED_DIR, SHARED_MISSING, rng } from './helpers/kernels.js';

const LABELS_DIR = SHARED_DIR ? join(SHARED_DIR, 'labels') : undefined;
const haveLabels = !!LABELS_DIR && existsSync(join(LABELS_DIR, 'imagenet_1001_short.txt'));

describe('parseLabels', () => {
  it('splits lines, trims, keeps inner empty lines and drops trailing ones', () => {
    expect(parseLabels('background\n tench \r\ngoldfish\n')).toEqual(['background', 'tench', 'goldfish']);
    expect(parseLabels('\uFEFFa\n\nc\n\n\n')).toEqual(['a', '', 'c']);
    expect(parseLabels('a\rb')).toEqual(['a', 'b']);
    expect(parseLabels('')).toEqual([]);
  });

  it.skipIf(!haveLabels)('reads the shared 1001-line label files', () => {
    const short = parseLabels(readFileSync(join(LABELS_DIR!, 'imagenet_1001_short.txt'), 'utf8'));
    const long = parseLabels(readFileSync(join(LABELS_DIR!, 'imagenet_1001_long.txt'), 'utf8'));
    expect(short.length).toBe(1001);
    expect(long.length).toBe(1001);
    expect(short[0]).toBe('background');
    expect(short[1]).toBe('tench');
    expect(long[1]).toBe('tench, Tinca tinca');
    expect(short[1000]).toBe('toilet tissue');
  });
  it.skipIf(haveLabels)('shared label files', () => console.warn(SHARED_MISSING));
});

describe('alignLabels', () => {
  const list1001 = ['background', ...Array.from({ length: 1000 }, (_, i) => `class ${i}`)];

  it('drops the background entry for a 1000-class model (model index i = list index i + 1)', () => {
    const a = alignLabels(list1001, 1000);
    expect(a.length).toBe(1000);
    expect(a[0]).toBe('class 0');
    expect(a[999]).toBe('class 999');
    for (let i = 0; i < 1000; i++) expect(a[i]).toBe(list1001[i + 1]);
  });

  it('adds a background entry for a 1001-class model given a 1000-entry list', () => {
    const a = alignLabels(list1001.slice(1), 1001);
    expect(a).toEqual(list1001);
  });

  it('returns a copy of a list that already fits', () => {
    const two = ['no person', 'person'];
    const a = alignLabels(two, 2);
    expect(a).toEqual(two);
    expect(a).not.toBe(two);
    expect(alignLabels(list1001, 1001)).toEqual(list1001);
  });

  it('refuses other sizes, and a +1 list whose first entry is not background', () => {
    expect(() => alignLabels(list1001, 10)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/1001 entries .* 10 classes/) }));
    expect(() => alignLabels(['a', 'b', 'c'], 2)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/"a", is not "background"/) }));
    expect(() => alignLabels(list1001, 0)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('topK', () => {
  /** Straightforward definition: sort all indices by score desc, then index asc. */
  const naive = (s: ArrayLike<number>, k: number) =>
    Array.from({ length: s.length }, (_, i) => i)
      .sort((a, b) => {
        const x = Number.isNaN(s[a]) ? -Infinity : s[a], y = Number.isNaN(s[b]) ? -Infinity : s[b];
        return x === y ? a - b : y - x;
      })
      .slice(0, k)
      .map((i) => ({ index: i, score: s[i] }));

  it('returns the best k, best first, ties in index order', () => {
    expect(topK([0.1, 0.5, 0.2, 0.5, 0.9, 0.5], 4)).toEqual([
      { index: 4, score: 0.9 },
      { index: 1, score: 0.5 },
      { index: 3, score: 0.5 },
      { index: 5, score: 0.5 },
    ]);
    expect(topK(new Uint8Array([3, 3, 3, 3]), 2)).toEqual([
      { index: 0, score: 3 },
      { index: 1, score: 3 },
    ]);
  });

  it('matches a full sort on 1001 scores with many ties, for small and large k', () => {
    const r = rng(42);
    const quantized = Uint8Array.from({ length: 1001 }, () => Math.floor(r() * 20)); // heavy ties, like uint8 softmax
    const floats = Float32Array.from({ length: 1001 }, () => r());
    for (const s of [quantized, floats]) for (const k of [1, 5, 16, 17, 100, 1001]) expect(topK(s, k)).toEqual(naive(s, k));
  });

  it('ranks NaN last and clamps k to the number of scores', () => {
    expect(topK([NaN, 1, -Infinity, 2], 4).map((e) => e.index)).toEqual([3, 1, 0, 2]);
    expect(topK([1, 2], 5).length).toBe(2);
    expect(topK([1, 2], 0)).toEqual([]);
    expect(topK([], 3)).toEqual([]);
  });

  it('refuses a bad k', () => {
    expect(() => topK([1], -1)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => topK([1], 1.5)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
