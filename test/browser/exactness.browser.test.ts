// Chromium's integer outputs are Node's, byte for byte: every shared integer model on seeded
// pseudo-random inputs, on each kernel build Chromium validates (scalar, SIMD, relaxed), against
// Node's SIMD build (integer kernels agree across builds; test/runtime/golden.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { browserSkipReason, hasShared, pageResult, repoRoot, sharedDir, startPageSuite, type PageSuite } from './harness.js';
import { loadModel } from '../../src/node.js';
import { mulberry32 } from '../../src/arch/random.js';

const skip = browserSkipReason() ?? (hasShared ? undefined : '../shared missing: browser tests need its models');
if (skip) console.warn(`[browser] ${skip}`);

describe.skipIf(!!skip)('Chromium vs Node exactness', () => {
  let suite: PageSuite;
  beforeAll(async () => {
    suite = await startPageSuite({ exactness: { entry: join(repoRoot, 'test/browser/pages/exactness.ts') } });
  });
  afterAll(() => suite?.close());

  it('every shared integer model gives Node\'s bytes on every build Chromium runs', async () => {
    const page = await suite.browser.newPage();
    const { flavours, out } = await pageResult<{ flavours: string[]; out: Record<string, string[]> }>(page, `${suite.url}/exactness.html`, 120_000);
    expect(flavours).toContain('simd');
    let compared = 0;
    for (const [key, outputs] of Object.entries(out)) {
      const name = key.split(' ')[0];
      const net = await loadModel(join(sharedDir, 'models', `${name}.tflite`), { kernels: 'simd' });
      const n = net.info.input.shape.reduce((a, b) => a * b, 1);
      [1, 2].forEach((seed, i) => {
        const next = mulberry32(seed);
        const input = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
        const want = net.runAll([net.info.input.dtype === 'int8' ? new Int8Array(input.buffer) : input]);
        const bytes = want.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64')).join('|');
        expect(outputs[i], `${key} seed ${seed}`).toBe(bytes);
        compared++;
      });
      net.dispose();
    }
    expect(compared).toBe(9 * flavours.length * 2);
  });
});
