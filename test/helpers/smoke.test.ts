import { describe, it, expect } from 'vitest';
import { FLAVOURS, loadKernels } from './kernels.js';

describe('kernel builds', () => {
  for (const f of FLAVOURS) {
    it(`${f} build instantiates and exports memory`, async () => {
      const k = await loadKernels(f);
      expect(k.memory).toBeInstanceOf(WebAssembly.Memory);
      expect(k.flavour).toBe(f);
    });
  }
});

describe('memory map', () => {
  it('the arena starts above the static data of every build', async () => {
    for (const f of FLAVOURS) {
      const k = await loadKernels(f);
      const base = k.exports.heap_base();
      expect(base).toBeGreaterThanOrEqual(0);
      expect(base).toBeLessThan(65536);
    }
  });
});
