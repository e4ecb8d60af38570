// The demo's teach panel (examples/web/teach.ts) in headless Chromium, as a person uses it:
// three classes named and taught from two photos each of ../shared/images/photos through the
// file inputs, a softmax head trained, the held-out third photo of each class predicted through
// the panel; the head downloaded as a .tflite, loaded back in a fresh page (and in Node) with
// the same predictions; the nearest-neighbour head without training; a fake camera's frames
// captured into a class and predicted live; no camera button when there is no camera; mistakes
// explained; a model change dropping the examples.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo } from '../../scripts/demo.mjs';
import { decodeImageFile, loadModel } from '../../src/node.js';
import { loadClassifierHead } from '../../src/transfer/index.js';
import { browserSkipReason, fakeCameraArgs, hasShared, launchBrowser, sharedDir, tempDir } from './harness.js';

const PHOTOS = join(sharedDir, 'images/photos');
const skip =
  browserSkipReason() ??
  (hasShared && existsSync(join(PHOTOS, 'ground_truth_labels.txt')) ? undefined : '../shared/images/photos missing: the teach panel test needs its photos');
if (skip) console.warn(`[browser] ${skip}`);

/**
 * Three ImageNet classes of the photos, far apart in the features of the demo's default model
 * (1.0/224 uint8): held out in turn, each of the nine photos is nearest to its own class's mean
 * by a margin of 0.1 or more in cosine similarity. The first two photos of a class teach it, the
 * third is held out.
 */
const CLASSES = ['zebra', 'school bus', 'volcano'];
const TAUGHT_PER_CLASS = 2;

function photosByClass(): Map<string, string[]> {
  const labels = readFileSync(join(PHOTOS, 'ground_truth_labels.txt'), 'utf8').trim().split('\n');
  return new Map(CLASSES.map((c) => [c, labels.flatMap((l, i) => (l.trim() === c ? [join(PHOTOS, `image-${i}.jpeg`)] : []))]));
}

interface Panel {
  state: string;
  status: string;
  predictions: number;
  top: { label: string; score: string }[];
  counts: Record<string, string>;
}

function panel(page: Page): Promise<Panel> {
  return page.evaluate(() => {
    const card = document.getElementById('teach')!;
    const top = document.getElementById('teach-top')!;
    return {
      state: card.dataset.state ?? '',
      status: document.getElementById('teach-status')!.textContent ?? '',
      predictions: Number(top.dataset.predictions),
      top: Array.from(top.querySelectorAll('li'), (li) => ({
        label: li.querySelector('.label')!.textContent ?? '',
        score: li.querySelector('.score')!.textContent ?? '',
      })),
      counts: Object.fromEntries(Array.from(document.querySelectorAll<HTMLElement>('#teach-classes li'), (li) => [li.dataset.label!, li.querySelector('.count')!.textContent ?? ''])),
    };
  });
}

/** Waits until the panel reaches one of `states` (or 'error'); returns what it shows. */
async function until(page: Page, states: string[]): Promise<Panel> {
  await page.waitForFunction((s) => [...s, 'error'].includes(document.getElementById('teach')!.dataset.state ?? ''), states, { timeout: 120_000 });
  return panel(page);
}

const rowInput = (label: string) => `#teach-classes li[data-label="${label}"] input[type=file]`;

describe.skipIf(!!skip)('the demo page\'s teach panel (examples/web/teach.ts)', () => {
  let browser: Browser;
  let demo: { url: string; close(): Promise<void> };
  const tmp = tempDir();
  const photos = skip ? new Map<string, string[]>() : photosByClass();
  const taught = (c: string) => photos.get(c)!.slice(0, TAUGHT_PER_CLASS);
  const heldOut = (c: string) => photos.get(c)![TAUGHT_PER_CLASS];
  const headFile = join(tmp.dir, 'head.tflite');
  /** the held-out photos' top predictions of the trained head, by class */
  const trainedTop = new Map<string, Panel['top']>();
  let page: Page;

  beforeAll(async () => {
    for (const c of CLASSES) expect(photos.get(c)!.length, `photos of ${c}`).toBeGreaterThan(TAUGHT_PER_CLASS);
    demo = await startDemo();
    // Chromium's fake camera: a synthetic moving pattern
    browser = await launchBrowser(fakeCameraArgs());
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    tmp.remove();
  });

  /** The demo with its model ready and the teach panel opened (its code loaded). */
  async function openPanel(grantCamera = false): Promise<Page> {
    const context = await browser.newContext();
    if (grantCamera) await context.grantPermissions(['camera'], { origin: demo.url });
    const p = await context.newPage();
    await p.goto(demo.url);
    await p.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 120_000 });
    expect(await p.evaluate(() => document.body.dataset.state), await p.textContent('#status') ?? '').toBe('ready');
    expect(await p.getAttribute('#teach', 'data-state')).toBe('closed');
    await p.click('#teach summary');
    const opened = await until(p, ['idle']);
    expect(opened.state, opened.status).toBe('idle');
    return p;
  }

  async function addClass(p: Page, label: string, files: string[]): Promise<Panel> {
    await p.fill('#teach-name', label);
    await p.click('#teach-add-class');
    await p.setInputFiles(rowInput(label), files);
    await p.waitForFunction(
      ([l, n]) => document.querySelector(`#teach-classes li[data-label="${l}"] .count`)?.textContent === `${n} photos` || document.getElementById('teach')!.dataset.state === 'error',
      [label, files.length] as const,
      { timeout: 120_000 },
    );
    return until(p, ['idle', 'trained']);
  }

  /** Predicts a photo through the panel's "Try a photo" input; the panel's top predictions. */
  async function predict(p: Page, file: string): Promise<Panel> {
    const before = (await panel(p)).predictions;
    await p.setInputFiles('#teach-photo', file);
    await p.waitForFunction(
      (n) => Number(document.getElementById('teach-top')!.dataset.predictions) > n || document.getElementById('teach')!.dataset.state === 'error',
      before,
      { timeout: 120_000 },
    );
    const out = await until(p, ['predicted']);
    expect(out.state, out.status).toBe('predicted');
    return out;
  }

  it('a page that never opens the panel does not fetch its code; opening it does', async () => {
    const p = await (await browser.newContext()).newPage();
    const scripts: string[] = [];
    p.on('request', (r) => {
      if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname);
    });
    await p.goto(demo.url);
    await p.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 120_000 });
    // esbuild names a dynamically imported module's chunk after its file
    const teachChunk = (path: string) => /^\/teach-\w+\.js$/.test(path);
    expect(scripts.filter(teachChunk)).toEqual([]);
    await p.click('#teach summary');
    await until(p, ['idle']);
    expect(scripts.filter(teachChunk)).toHaveLength(1);
    await p.context().close();
  });

  it('teaches three classes from two photos each, trains, and names the held-out photo of each class right', async () => {
    page = await openPanel(true);
    expect(await page.isDisabled('#teach-train')).toBe(true);
    for (const c of CLASSES) {
      const out = await addClass(page, c, taught(c));
      expect(out.state, out.status).toBe('idle');
    }
    expect((await panel(page)).counts).toEqual(Object.fromEntries(CLASSES.map((c) => [c, '2 photos'])));
    expect(await page.$$eval('#teach-classes .thumbs img', (imgs) => imgs.length)).toBe(CLASSES.length * TAUGHT_PER_CLASS);

    // the longest main-thread task while training, for the log (no timing assertions)
    await page.evaluate(() => {
      (window as any).__longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) (window as any).__longest = Math.max((window as any).__longest, e.duration);
      }).observe({ type: 'longtask' });
    });
    await page.click('#teach-train');
    const trained = await until(page, ['trained']);
    expect(trained.state, trained.status).toBe('trained');
    expect(trained.status).toMatch(/^Trained on 6 photos of 3 classes in \d+ ms \(100\.0% of them right\)/);
    console.log(`[teach] ${trained.status} Longest main-thread task meanwhile: ${await page.evaluate(() => (window as any).__longest)} ms (0: none over 50 ms).`);

    for (const c of CLASSES) {
      const out = await predict(page, heldOut(c));
      expect(out.top[0].label, `held-out photo of ${c}: ${JSON.stringify(out.top)}`).toBe(c);
      expect(out.top.map((t) => t.label).sort()).toEqual([...CLASSES].sort());
      trainedTop.set(c, out.top);
    }
    // on a phone, the panel with its classes, thumbnails and predictions fits the screen's width
    await page.setViewportSize({ width: 390, height: 844 });
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
    console.log(`[teach] held-out photos: ${CLASSES.map((c) => `${c} -> ${trainedTop.get(c)!.map((t) => `${t.label} ${t.score}`).join(', ')}`).join('; ')}`);
  });

  it('the head downloads as a .tflite that a fresh page loads back with the same predictions, and Node runs it with the same labels', async () => {
    expect(trainedTop.size, 'needs the trained head of the test above').toBe(CLASSES.length);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#teach-download')]);
    expect(download.suggestedFilename()).toBe('mobilenet-head.tflite');
    await download.saveAs(headFile);
    const bytes = readFileSync(headFile);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('TFL3');
    expect(await page.textContent('#teach-status')).toMatch(/^Saved mobilenet-head\.tflite/);

    const fresh = await openPanel();
    await fresh.setInputFiles('#teach-load', headFile);
    const loaded = await until(fresh, ['loaded']);
    expect(loaded.state, loaded.status).toBe('loaded');
    expect(loaded.status).toBe(`Loaded head.tflite: ${CLASSES.join(', ')}. Try a photo or the webcam.`);
    for (const c of CLASSES) expect((await predict(fresh, heldOut(c))).top).toEqual(trainedTop.get(c));
    await fresh.context().close();

    // the same file in Node, on the same model's features of the same photos
    const net = await loadModel(join(sharedDir, 'models/mobilenet_v1_1.0_224_quant.tflite'));
    try {
      const head = loadClassifierHead(net, new Uint8Array(bytes));
      for (const c of CLASSES) expect((await head.predict(await decodeImageFile(heldOut(c))))[0].label).toBe(c);
    } finally {
      net.dispose();
    }
  });

  it('the nearest-neighbour head needs no training and names the held-out photos right too', async () => {
    await page.selectOption('#teach-head', 'knn');
    const ready = await until(page, ['trained']);
    expect(ready.state, ready.status).toBe('trained');
    expect(ready.status).toBe('Nearest-neighbour head, no training. Ready: a prediction looks up the nearest of the 6 photos; try a photo or the webcam.');
    expect(await page.isHidden('#teach-train')).toBe(true);
    for (const c of CLASSES) expect((await predict(page, heldOut(c))).top[0].label).toBe(c);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#teach-download')]);
    expect(download.suggestedFilename()).toBe('mobilenet-head.tflite');
    expect(await page.textContent('#teach-status')).toMatch(/saved as each class's mean/);
  });

  it('the webcam: a frame captured into a class counts as a photo of it, and frames are predicted one after another', async () => {
    await page.waitForSelector('#teach-webcam', { state: 'visible' });
    await page.click('#teach-webcam');
    const live = await until(page, ['live']);
    expect(live.state, live.status).toBe('live');
    expect(await page.getAttribute('#teach-webcam', 'aria-pressed')).toBe('true');
    const before = (await panel(page)).predictions;
    await page.waitForFunction((n) => Number(document.getElementById('teach-top')!.dataset.predictions) >= n + 3, before, { timeout: 120_000 });
    const predicted = await panel(page);
    expect(predicted.top).toHaveLength(CLASSES.length);
    expect(CLASSES).toContain(predicted.top[0].label);

    await page.click(`#teach-classes li[data-label="zebra"] .capture`);
    await page.waitForFunction(() => document.querySelector('#teach-classes li[data-label="zebra"] .count')?.textContent === '3 photos', undefined, { timeout: 60_000 });
    const after = (await panel(page)).predictions;
    await page.waitForFunction((n) => Number(document.getElementById('teach-top')!.dataset.predictions) > n, after, { timeout: 60_000 });

    await page.click('#teach-webcam');
    expect(await page.getAttribute('#teach-webcam', 'aria-pressed')).toBe('false');
    expect((await panel(page)).status).toBe('Webcam stopped.');
    expect(await page.isHidden('#teach-classes .capture')).toBe(true);
  });

  it('explains mistakes (a nameless or repeated class, predicting before training, a file that is no head) and drops the photos when the model changes', async () => {
    const p = await openPanel();
    await p.click('#teach-add-class');
    expect((await panel(p)).status).toBe('Give the class a name first.');
    await addClass(p, 'zebra', taught('zebra'));
    await p.fill('#teach-name', 'zebra');
    await p.click('#teach-add-class');
    expect((await panel(p)).status).toBe('There is already a class named "zebra".');
    expect(await p.isDisabled('#teach-train')).toBe(true);

    await p.setInputFiles('#teach-photo', heldOut('zebra'));
    const early = await until(p, ['predicted']);
    expect(early.state).toBe('error');
    expect(early.status).toMatch(/^Nothing to predict with yet\. Give at least two classes a photo each, then train\.$/);

    await p.setInputFiles('#teach-load', { name: 'notes.tflite', mimeType: 'application/octet-stream', buffer: Buffer.from('not a tflite file at all') });
    await p.waitForFunction(() => /^[A-Z_]+: /.test(document.getElementById('teach-status')!.textContent ?? ''));
    const refused = await panel(p);
    expect(refused.state).toBe('error');
    expect(await p.isDisabled('#teach-download')).toBe(true);

    // another model has other features: the examples go, the class names stay
    await p.selectOption('#model', 'mobilenet_v1_0.25_128_quant');
    await p.waitForFunction(() => document.querySelector('#teach-classes li[data-label="zebra"] .count')?.textContent === '0 photos');
    const changed = await panel(p);
    expect(changed.status).toBe('The model changed, and with it the features the head learns from: add the photos again.');
    expect(await p.$$eval('#teach-classes .thumbs img', (imgs) => imgs.length)).toBe(0);
    await p.context().close();
  });

  it('without a camera the webcam buttons are hidden, and the panel takes photos dropped on a class', async () => {
    const plain = await launchBrowser();
    try {
      const p = await (await plain.newContext()).newPage();
      await p.goto(demo.url);
      await p.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 120_000 });
      await p.click('#teach summary');
      await until(p, ['idle']);
      await p.waitForFunction(() => document.getElementById('webcam')!.hidden);
      expect(await p.isHidden('#teach-webcam')).toBe(true);

      // photos dropped on a class join it, and the page's own photo stays as it was
      await p.fill('#teach-name', 'zebra');
      await p.click('#teach-add-class');
      const dropped = taught('zebra').map((f) => ({ name: f.split('/').pop()!, base64: readFileSync(f).toString('base64') }));
      await p.evaluate((files) => {
        const data = new DataTransfer();
        for (const { name, base64 } of files) data.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name, { type: 'image/jpeg' }));
        document.querySelector('#teach-classes li[data-label="zebra"]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      }, dropped);
      await p.waitForFunction(() => document.querySelector('#teach-classes li[data-label="zebra"] .count')?.textContent === '2 photos', undefined, { timeout: 60_000 });
      expect(await p.isHidden('#photo')).toBe(true);
      expect(await p.evaluate(() => document.body.dataset.state)).toBe('ready');
    } finally {
      await plain.close();
    }
  });
});
