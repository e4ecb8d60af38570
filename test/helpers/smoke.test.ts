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
