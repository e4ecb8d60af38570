/**
 * TFLite sorts the top classes of an anchor and the regular-NMS merge with std::partial_sort,
 * whose order among equal scores is whatever the C++ library does. We reproduce libstdc++'s; this
 * checks both our copy (src) and the reference's against std::partial_sort compiled with g++
 * (skipped where there is no g++), on tie-heavy random scores.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { decreasingPartialArgSort } from '../../../src/ops/detection_postprocess/index.js';
import { libstdcxxPartialArgSort } from '../../reference/detection.js';
import { rng } from '../../helpers/kernels.js';

const HARNESS = `
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <vector>
int main() {
  int cases;
  if (std::scanf("%d", &cases) != 1) return 1;
  for (int c = 0; c < cases; ++c) {
    int n, k;
    std::scanf("%d %d", &n, &k);
    std::vector<float> v(n);
    for (int i = 0; i < n; ++i) std::scanf("%f", &v[i]);
    std::vector<int> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&v](int i, int j) { return v[i] > v[j]; });
    for (int i = 0; i < k; ++i) std::printf("%d ", idx[i]);
    std::printf("\\n");
  }
  return 0;
}
`;

const hasGxx = spawnSync('g++', ['--version']).status === 0;

describe('std::partial_sort tie order', () => {
  it('k = 1 is the first maximum (TFLite uses ArgMaxVector there)', () => {
    expect(decreasingPartialArgSort([1, 3, 3, 2], 0, 4, 1)[0]).toBe(1);
    expect(libstdcxxPartialArgSort([1, 3, 3, 2], 1)).toEqual([1]);
    expect(decreasingPartialArgSort([9, 1, 3, 3, 2], 1, 4, 1)[0]).toBe(1);
  });

  it('without ties both give the plain descending order', () => {
    const r = rng(8);
    for (let t = 0; t < 200; t++) {
      const n = 2 + Math.floor(r() * 60);
      const k = 2 + Math.floor(r() * (n - 1));
      const v = Array.from({ length: n }, () => r());
      const want = v.map((_, i) => i).sort((a, b) => v[b] - v[a]).slice(0, k);
      expect(Array.from(decreasingPartialArgSort(v, 0, n, k).subarray(0, k))).toEqual(want);
      expect(libstdcxxPartialArgSort(v, k)).toEqual(want);
    }
  });

  it.skipIf(!hasGxx)('matches g++ / libstdc++ on tie-heavy scores', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnw-psort-'));
    writeFileSync(join(dir, 'p.cc'), HARNESS);
    const build = spawnSync('g++', ['-O1', '-std=c++17', '-o', join(dir, 'p'), join(dir, 'p.cc')], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const r = rng(2024);
    const cases: { v: number[]; k: number }[] = [];
    for (let t = 0; t < 3000; t++) {
      const n = 2 + Math.floor(r() * (t % 10 === 0 ? 400 : 40));
      const k = 2 + Math.floor(r() * (n - 1));
      const levels = 1 + Math.floor(r() * 5);
      // quarters are exact in float32 and in the text
      cases.push({ v: Array.from({ length: n }, () => Math.floor(r() * levels) / 4), k });
    }
    const input = `${cases.length}\n` + cases.map((c) => `${c.v.length} ${c.k}\n${c.v.join(' ')}`).join('\n') + '\n';
    const run = spawnSync(join(dir, 'p'), { input, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(cases.length);
    let differFromStable = 0;
    cases.forEach((c, i) => {
      const want = lines[i].trim().split(' ').map(Number);
      expect(Array.from(decreasingPartialArgSort(c.v, 0, c.v.length, c.k).subarray(0, c.k)), `src, case ${i}`).toEqual(want);
      expect(libstdcxxPartialArgSort(c.v, c.k), `reference, case ${i}`).toEqual(want);
      const stable = c.v.map((_, j) => j).sort((a, b) => c.v[b] - c.v[a] || a - b).slice(0, c.k);
      if (stable.join() !== want.join()) differFromStable++;
    });
    // the point of the exercise: libstdc++ does not keep ties in index order
    expect(differFromStable).toBeGreaterThan(100);
  });
});
