import { describe, expect, it } from 'vitest';
import { statsCommand } from '../../src/cli/stats.js';
import { MobileNetError } from '../../src/errors.js';

describe('statsCommand', () => {
  it('prints a per-layer table with totals in millions', () => {
    const text = statsCommand({ alpha: 1, resolution: 224, json: false });
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('Conv2d_0 '))).toMatch(/conv\s+112x112x32\s+10,838,016\s+896$/);
    expect(lines.find((l) => l.startsWith('Conv2d_13_pointwise'))).toMatch(/7x7x1024\s+51,380,224\s+1,049,600$/);
    expect(lines.at(-1)).toMatch(/^total\s+568\.74 M\s+4\.22 M$/);
    expect(lines.filter((l) => /^Conv2d_\d+_(depth|point)wise/.test(l))).toHaveLength(26);
  });

  it('prints one JSON object with the totals and the layers', () => {
    const out = JSON.parse(statsCommand({ alpha: 0.5, resolution: 160, json: true }));
    expect(Object.keys(out)).toEqual(['alpha', 'resolution', 'macs', 'params', 'layers']);
    expect(out.alpha).toBe(0.5);
    expect(out.resolution).toBe(160);
    expect(out.layers).toHaveLength(30);
    expect(out.macs).toBe(out.layers.reduce((s: number, l: { macs: number }) => s + l.macs, 0));
    expect(out.params).toBe(out.layers.reduce((s: number, l: { params: number }) => s + l.params, 0));
    expect(out.layers[0]).toMatchObject({ name: 'Conv2d_0', outputShape: [1, 80, 80, 16] });
  });

  it.each([
    [0, 224, /alpha/],
    [4.5, 224, /alpha/],
    [NaN, 224, /alpha/],
    [1, 31, /resolution/],
    [1, 1025, /resolution/],
    [1, 200.5, /resolution/],
    [1, NaN, /resolution/],
  ])('rejects alpha %f, resolution %f', (alpha, resolution, message) => {
    let err: unknown;
    try {
      statsCommand({ alpha, resolution, json: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MobileNetError);
    expect((err as MobileNetError).code).toBe('INVALID_OPTION');
    expect((err as Error).message).toMatch(message);
  });

  it('accepts the edges of the ranges', () => {
    expect(statsCommand({ alpha: 4, resolution: 1024, json: false })).toMatch(/total/);
    expect(statsCommand({ alpha: 0.01, resolution: 32, json: false })).toMatch(/Conv2d_0\s+conv\s+16x16x8/);
  });
});
