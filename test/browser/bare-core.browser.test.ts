// A bare page using only mobilenet-wasm/core in headless Chromium: `auto` with only the SIMD
// build supplied, grace_hopper from an <img> to "military uniform" with no labels passed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { browserSkipReason, bundlePages, hasShared, launchBrowser, pageResult, repoRoot, serveStatic, sharedDir, tempDir, writePage, type StaticServer } from './harness.js';
import { join } from 'node:path';

const skip = browserSkipReason() ?? (hasShared ? undefined : '../shared missing: browser tests need its models and photos');
if (skip) console.warn(`[browser] ${skip}`);

describe.skipIf(!!skip)('bare page with mobilenet-wasm/core', () => {
  let browser: Browser;
  let server: StaticServer;
  const tmp = tempDir();
  beforeAll(async () => {
    await bundlePages({ 'bare-core': join(repoRoot, 'test/browser/pages/bare-core.ts') }, tmp.dir);
    writePage(tmp.dir, 'bare-core.html', './bare-core.js', '<img src="/shared/images/samples/grace_hopper.bmp">');
    server = await serveStatic({ '/': tmp.dir, '/shared': sharedDir });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    tmp.remove();
  });

  it('auto with only the SIMD build supplied classifies grace_hopper from an <img> as military uniform', async () => {
    const page = await browser.newPage();
    const out = await pageResult<{ kernels: string; top: { index: number; label: string; score: number }[] }>(page, `${server.url}/bare-core.html`);
    expect(out.kernels).toBe('simd');
    expect(out.top[0].label).toBe('military uniform');
    expect(out.top[0].index).toBe(653);
    expect(out.top[0].score).toBeCloseTo(0.793, 3);
  });
});
