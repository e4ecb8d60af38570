// mobilenet-wasm/tfjs-compat in headless Chromium: an <img> of grace_hopper classified through
// the tfjs-models-shaped entry gives the same top-5 (classes and probabilities) as the
// main-thread MobileNet.classify, without tfjs-models' absent 'background' class; infer gives
// 1000 logits whose best is that class, and the embedding MobileNet.embed gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { join } from 'node:path';
import { browserSkipReason, bundlePages, hasShared, launchBrowser, pageResult, repoRoot, serveStatic, sharedDir, tempDir, writePage, type StaticServer } from './harness.js';

const skip = browserSkipReason() ?? (hasShared ? undefined : '../shared missing: browser tests need its models and photos');
if (skip) console.warn(`[browser] ${skip}`);

interface Scored { index: number; label: string; score: number }
interface ClassResult { className: string; probability: number }
interface Out {
  alpha: string;
  kernels: string;
  main: Scored[];
  compat3: ClassResult[];
  compat5: ClassResult[];
  compatCanvas: ClassResult[];
  logits: number[];
  embedding: number[];
  mainEmbedding: number[];
}

describe.skipIf(!!skip)('tfjs-compat entry in a page', () => {
  let browser: Browser;
  let server: StaticServer;
  const tmp = tempDir();
  beforeAll(async () => {
    await bundlePages({ 'compat-tfjs': join(repoRoot, 'test/browser/pages/compat-tfjs.ts'), 'compat-byname': join(repoRoot, 'test/browser/pages/compat-byname.ts') }, tmp.dir);
    writePage(tmp.dir, 'compat-tfjs.html', './compat-tfjs.js', '<img src="/shared/images/samples/grace_hopper.bmp">');
    writePage(tmp.dir, 'compat-byname.html', './compat-byname.js', '<img src="/shared/images/samples/grace_hopper.bmp">');
    // the package's own kernel builds where the bundle's default URL (../../build/ from /) points
    server = await serveStatic({ '/': tmp.dir, '/shared': sharedDir, '/build': join(repoRoot, 'build') });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    tmp.remove();
  });

  for (const [model, alpha] of [['mobilenet_v1_1.0_224_quant', '1.00'], ['mobilenet_v1_0.25_128', '0.25']] as const) {
    it(`${model}: the same top-5 as the main-thread classify, logits and embedding`, async () => {
      const page = await browser.newPage();
      const out = await pageResult<Out>(page, `${server.url}/compat-tfjs.html?model=/shared/models/${model}.tflite`);
      await page.close();
      expect(out.alpha).toBe(alpha);
      expect(out.kernels).toBe('simd');
      const main5 = out.main.filter((c) => c.index !== 0).slice(0, 5).map((c) => ({ className: c.label, probability: c.score }));
      expect(out.compat5).toEqual(main5);
      expect(out.compat3).toEqual(main5.slice(0, 3));
      expect(out.compatCanvas).toEqual(main5);
      if (model.endsWith('_quant')) expect(out.compat5[0]).toEqual({ className: 'military uniform', probability: 203 / 256 });
      expect(out.logits).toHaveLength(1000);
      expect(out.logits.indexOf(Math.max(...out.logits))).toBe(out.main.filter((c) => c.index !== 0)[0].index - 1);
      expect(out.embedding).toEqual(out.mainEmbedding);
    });
  }

  it('load({ version: 1, alpha }) by name with no wasm option: the registry file, the default kernel build, then the cache', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    const out = await pageResult<{ top: ClassResult[]; again: ClassResult[]; kernels: string; cached: number }>(page, `${server.url}/compat-byname.html`);
    await page.close();
    expect(out.kernels).toBe('relaxed');
    expect(out.again).toEqual(out.top);
    expect(out.top).toHaveLength(5);
    expect(out.cached).toBeGreaterThan(0);
    // the model was downloaded once (the second load read the Cache API); only the relaxed build of
    // the model's precision (a uint8 file: q8) was fetched
    expect(requests.filter((p) => p.endsWith('.tflite'))).toEqual(['/shared/models/mobilenet_v1_0.25_128_quant.tflite']);
    const wasm = requests.filter((p) => p.endsWith('.wasm'));
    expect(wasm.length).toBeGreaterThan(0);
    expect(new Set(wasm)).toEqual(new Set(['/build/mobilenet-q8-relaxed.wasm']));
  });
});
