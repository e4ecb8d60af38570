// Element inputs in headless Chromium: grace_hopper as <img>, <canvas>, OffscreenCanvas,
// ImageBitmap, ImageData, VideoFrame and a Blob give identical probabilities (so the same top-5
// and byte-identical uint8 scores); a <video> fed by canvas.captureStream classifies its frame;
// unloaded, broken, zero-size, closed and cross-origin (tainted) inputs are INVALID_IMAGE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, hasShared, pageResult, repoRoot } from './harness.js';
import { photoSite, type PhotoSite } from './pages/inputs-site.js';
import { join } from 'node:path';

const skip = browserSkipReason() ?? (hasShared ? undefined : '../shared missing: browser tests need its models and photos');
if (skip) console.warn(`[browser] ${skip}`);

type Err = { name: string; code: string; message: string };

describe.skipIf(!!skip)('element inputs on the main thread', () => {
  let site: PhotoSite;
  beforeAll(async () => {
    site = await photoSite({ 'inputs-all': join(repoRoot, 'test/browser/pages/inputs-all.ts') }, ['inputs-all']);
  });
  afterAll(async () => {
    await site?.close();
  });

  it('every input kind gives the same result, and every bad input a typed error', async () => {
    const page = await site.browser.newPage();
    const out = await pageResult<Record<string, any>>(page, `${site.url}/inputs-all.html?foreign=${encodeURIComponent(site.foreign.url)}`);
    expect(out.top5[0]).toMatchObject({ index: 653, label: 'military uniform' });
    expect(out.top5[0].score).toBeCloseTo(0.793, 3);
    const ref: number[] = out.same.img;
    expect(ref.length).toBe(1001);
    for (const kind of ['canvas', 'offscreen', 'bitmap', 'imageData', 'blob', 'videoFrame']) {
      expect(out.same[kind], kind).toEqual(ref);
    }
    expect(out.same.batch).toEqual([0, 1, 2].map(() => out.top5.map((c: { index: number; score: number }) => [c.index, c.score])));
    expect(out.afterTaint).toEqual(ref);

    expect(out.noFrame).toMatchObject({ code: 'INVALID_IMAGE', message: expect.stringMatching(/<video> has no current frame yet \(readyState 0/) });
    expect(out.videoTop).toMatchObject({ size: out.size, top: { index: 653, label: 'military uniform' } });
    expect(out.webgl).toEqual([255, 0, 0, 255]);

    const invalid = (e: Err, pattern: RegExp) => expect(e).toMatchObject({ name: 'MobileNetError', code: 'INVALID_IMAGE', message: expect.stringMatching(pattern) });
    invalid(out.unloaded, /has not finished loading/);
    invalid(out.brokenErr, /no-such-image\.png\) has no image/);
    invalid(out.brokenAsync, /no-such-image\.png\) has no image/);
    invalid(out.failingAsync, /also-missing\.png\) could not be loaded or decoded/);
    expect(out.waited).toEqual(ref);
    invalid(out.zero, /the canvas is 0 x \d+ pixels/);
    invalid(out.closedErr, /ImageBitmap is closed/);
    invalid(out.blobSync, /readImage\(blob\)/);
    invalid(out.taintedImg, /<img> holds pixels from another origin.*CORS/);
    invalid(out.taintedCanvas, /canvas holds pixels from another origin.*CORS/);
  });
});
