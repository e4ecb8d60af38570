// The demo page (examples/web, served by scripts/demo.mjs as `npm run demo` serves it) in
// headless Chromium: a photo set through the file input, the kernels picker, the model picker,
// the webcam (a fake camera playing grace_hopper; and a denied permission), a file that is not
// an image, and a phone-sized viewport where nothing may overflow horizontally.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo } from '../../scripts/demo.mjs';
import { decodeImageFile, loadModel } from '../../src/node.js';
import type { RawImage } from '../../src/index.js';
import { browserSkipReason, fakeCameraArgs, hasShared, launchBrowser, repoRoot, sharedDir, tempDir } from './harness.js';

const skip = browserSkipReason() ?? (hasShared ? undefined : '../shared missing: browser tests need its models and photos');
if (skip) console.warn(`[browser] ${skip}`);

const GRACE_HOPPER = join(sharedDir, 'images/samples/grace_hopper.bmp');
const PHONE = { width: 390, height: 844 };

/**
 * One video frame as a YUV4MPEG2 file (I420, BT.601 studio range), which Chromium's fake
 * camera plays in a loop.
 */
function y4mOf({ data, width, height }: RawImage, channels: number): Buffer {
  const y = Buffer.alloc(width * height);
  const u = Buffer.alloc((width / 2) * (height / 2));
  const v = Buffer.alloc(u.length);
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const p = (i * width + j) * channels;
      const [r, g, b] = [data[p], data[p + 1], data[p + 2]];
      y[i * width + j] = Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b);
      if (i % 2 === 0 && j % 2 === 0) {
        const q = (i / 2) * (width / 2) + j / 2;
        u[q] = Math.round(128 - 0.148 * r - 0.291 * g + 0.439 * b);
        v[q] = Math.round(128 + 0.439 * r - 0.368 * g - 0.071 * b);
      }
    }
  }
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420\nFRAME\n`), y, u, v]);
}

interface Shown {
  state: string;
  status: string;
  top: { label: string; score: string }[];
  first: string;
  steady: string;
  kernels: string;
  thread: string;
}

function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const text = (id: string) => document.getElementById(id)!.textContent ?? '';
    return {
      state: document.body.dataset.state ?? '',
      status: text('status'),
      top: Array.from(document.querySelectorAll('#top5 li'), (li) => ({
        label: li.querySelector('.label')!.textContent ?? '',
        score: li.querySelector('.score')!.textContent ?? '',
      })),
      first: text('latency-first'),
      steady: text('latency-steady'),
      kernels: text('kernels-ran'),
      thread: text('thread'),
    };
  });
}

/** Waits until the page reaches one of `states` (or 'error'), and returns what it shows. */
async function until(page: Page, states: string[]): Promise<Shown> {
  await page.waitForFunction((s) => [...s, 'error'].includes(document.body.dataset.state ?? ''), states, { timeout: 60_000 });
  return shown(page);
}

describe.skipIf(!!skip)('demo page (examples/web)', () => {
  let browser: Browser;
  let demo: { url: string; close(): Promise<void> };
  const tmp = tempDir();
  beforeAll(async () => {
    const photo = await decodeImageFile(GRACE_HOPPER);
    const y4m = join(tmp.dir, 'grace_hopper.y4m');
    writeFileSync(y4m, y4mOf(photo, photo.channels));
    demo = await startDemo();
    browser = await launchBrowser(fakeCameraArgs(y4m));
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    tmp.remove();
  });

  async function openDemo(query = '', grantCamera = false): Promise<Page> {
    const context = await browser.newContext({ viewport: PHONE });
    if (grantCamera) await context.grantPermissions(['camera'], { origin: demo.url });
    const page = await context.newPage();
    await page.goto(demo.url + query);
    const ready = await until(page, ['ready']);
    expect(ready.state, ready.status).toBe('ready');
    return page;
  }

  let autoTop: Shown['top'];

  it("on a phone-sized viewport, grace_hopper from the file input is 'military uniform', with latency and kernels shown and nothing wider than the screen", async () => {
    const page = await openDemo();
    const local = await page.$$eval('#model optgroup:first-child option', (os) => os.map((o) => (o as HTMLOptionElement).label));
    expect(local).toEqual(['0.25/128 float32', '0.25/128 uint8', '0.5/160 uint8', '0.75/192 uint8', '1.0/224 uint8']);
    const remote = await page.$$eval('#model optgroup:last-child option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(remote).toContain('mobilenet_v1_1.0_224');
    expect(remote).not.toContain('mobilenet_v1_1.0_224_quant');
    expect(await page.inputValue('#model')).toBe('mobilenet_v1_1.0_224_quant');

    await page.setInputFiles('#file', GRACE_HOPPER);
    const out = await until(page, ['done']);
    expect(out.state, out.status).toBe('done');
    expect(out.top).toHaveLength(5);
    expect(out.top[0]).toEqual({ label: 'military uniform', score: '79.3%' });
    expect(out.kernels).toBe('relaxed');
    expect(out.thread).toBe('Web Worker');
    expect(out.first).toMatch(/^\d+(\.\d)? ms$/);
    expect(out.steady).toMatch(/^\d+(\.\d)? ms \(median of 5\)$/);
    autoTop = out.top;

    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
    // a full-page screenshot is as wide as the laid-out page: its PNG header holds the width
    const png = await page.screenshot({ fullPage: true });
    expect(png.readUInt32BE(16)).toBe(PHONE.width);
    await page.context().close();
  });

  it('?kernels=scalar runs the scalar build and shows the same top-5 as auto (integer outputs do not depend on the build)', async () => {
    const page = await openDemo('?kernels=scalar');
    expect(await page.inputValue('#kernels')).toBe('scalar');
    await page.setInputFiles('#file', GRACE_HOPPER);
    const out = await until(page, ['done']);
    expect(out.state, out.status).toBe('done');
    expect(out.kernels).toBe('scalar');
    expect(out.top).toEqual(autoTop);
    await page.context().close();
  });

  it('picking another model reloads it and classifies the same photo again, as Node does with that model', async () => {
    const page = await openDemo();
    await page.setInputFiles('#file', GRACE_HOPPER);
    expect((await until(page, ['done'])).top[0].label).toBe('military uniform');
    await page.selectOption('#model', 'mobilenet_v1_0.25_128');
    await page.waitForFunction(() => document.body.dataset.state !== 'done');
    const out = await until(page, ['done']);
    expect(out.state, out.status).toBe('done');
    expect(new URL(page.url()).searchParams.get('model')).toBe('mobilenet_v1_0.25_128');

    const net = await loadModel(join(sharedDir, 'models/mobilenet_v1_0.25_128.tflite'));
    const expected = net.classify(await decodeImageFile(GRACE_HOPPER), { topK: 5 });
    net.dispose();
    expect(out.top.map((t) => t.label)).toEqual(expected.map((t) => t.label));
    await page.context().close();
  });

  it('a registry model that cannot be downloaded (offline, nothing cached) is reported naming the model and the URL', async () => {
    const page = await openDemo();
    await page.context().route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort('internetdisconnected'));
    await page.selectOption('#model', 'mobilenet_v1_0.5_128_quant');
    await page.waitForFunction(() => document.body.dataset.state !== 'ready');
    const out = await until(page, ['ready']);
    expect(out.state).toBe('error');
    expect(out.status).toMatch(/^IO: cannot download model 'mobilenet_v1_0\.5_128_quant' from https:\/\/\S+mobilenet_v1_0\.5_128_quant\.tgz/);
    await page.context().close();
  });

  it('the webcam: a denied permission is explained; a granted camera is classified frame after frame', async () => {
    const denied = await openDemo();
    await denied.click('#webcam');
    const refused = await until(denied, ['live']);
    expect(refused.state).toBe('error');
    expect(refused.status).toMatch(/permission was denied/);
    await denied.context().close();

    const page = await openDemo('', true);
    await page.click('#webcam');
    expect((await until(page, ['live'])).state).toBe('live');
    await page.waitForFunction(() => document.querySelectorAll('#top5 li').length === 5 && /median/.test(document.getElementById('latency-steady')!.textContent!));
    const out = await shown(page);
    expect(out.top[0].label).toBe('military uniform');
    expect(await page.getAttribute('#webcam', 'aria-pressed')).toBe('true');
    await page.click('#webcam');
    expect((await until(page, ['ready'])).status).toBe('Webcam stopped.');
    await page.context().close();
  });

  it('a file that is not an image is reported, and nothing is classified', async () => {
    const page = await openDemo();
    await page.setInputFiles('#file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a png') });
    const out = await until(page, ['done']);
    expect(out.state).toBe('error');
    expect(out.status).toMatch(/not an image the browser can decode/);
    expect(out.top).toEqual([]);
    await page.context().close();
  });
});

// esbuild bundles the page without checking types: this keeps the demo's code in step with the
// package's published types (resolved through its exports, as a user's editor would).
it('the demo page type-checks against the published types (tsc -p examples/web)', () => {
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'examples/web')], { cwd: repoRoot, stdio: 'pipe' });
  } catch (e) {
    throw new Error(`tsc -p examples/web:\n${(e as { stdout?: Buffer }).stdout ?? ''}${(e as { stderr?: Buffer }).stderr ?? ''}`);
  }
});
