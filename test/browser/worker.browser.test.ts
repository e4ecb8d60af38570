// The worker API (mobilenet-wasm/worker) in headless Chromium: the same top-5 as the main-thread
// call with two models in two workers and several calls outstanding; dispose rejects what is
// pending; errors keep their code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, hasShared, pageResult, repoRoot, serveStatic, sharedDir, tempDir } from './harness.js';
import { photoSite, type PhotoSite } from './pages/inputs-site.js';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const skip = browserSkipReason() ?? (hasShared ? undefined : '../shared missing: browser tests need its models and photos');
if (skip) console.warn(`[browser] ${skip}`);

type Err = { name: string; code: string; message: string };
type Top = { index: number; label: string; score: number }[];

describe.skipIf(!!skip)('MobileNetWorker in a Web Worker', () => {
  let site: PhotoSite;
  const tmp = tempDir();
  beforeAll(async () => {
    // esbuild does not follow new Worker(new URL(...)): the worker script is an entry of its own
    site = await photoSite({ 'worker-models': join(repoRoot, 'test/browser/pages/worker-models.ts'), 'mobilenet-worker': 'mobilenet-wasm/worker/script' }, ['worker-models']);
  });
  afterAll(async () => {
    await site?.close();
    tmp.remove();
  });

  it('two models with calls outstanding give the main thread top-5 exactly, from every input kind; dispose rejects pending calls with DISPOSED', async () => {
    const page = await site.browser.newPage();
    const out = await pageResult<{
      expected: Top[]; expectedEmbedding: number[]; embedding: number[]; kernels: string[];
      got: { a1: Top; b1: Top; a2: Top; b2: Top; batch: Top[] };
      afterDispose: Err; badOption: Err; missingScript: Err; badWorker: Err; tainted: Err; taintedBitmap: Err; badBlob: Err; inputs: Top[]; fromFrame: Top; fromVideo: Top[number] | string; moved: { bitmapWidth: number; pixelBytes: number };
    }>(page, `${site.url}/worker-models.html?foreign=${encodeURIComponent(site.foreign.url)}`);
    expect(out.expected[0][0]).toMatchObject({ index: 653, label: 'military uniform' });
    expect(out.got.a1).toEqual(out.expected[0]);
    expect(out.got.a2).toEqual(out.expected[0]);
    expect(out.got.batch).toEqual([out.expected[0], out.expected[0]]);
    expect(out.got.b1).toEqual(out.expected[1]);
    expect(out.got.b2).toEqual(out.expected[1]);
    expect(out.embedding).toEqual(out.expectedEmbedding);
    expect(out.kernels).toEqual(['simd', 'simd']);
    expect(out.afterDispose).toMatchObject({ name: 'MobileNetError', code: 'DISPOSED' });
    expect(out.badOption).toMatchObject({ name: 'MobileNetError', code: 'INVALID_OPTION' });
    expect(out.badOption.message).toMatch(/topK/);
    // <canvas>, OffscreenCanvas, ImageBitmap, ImageData, Blob and a still-loading <img>, read in the worker
    expect(out.inputs).toEqual(out.inputs.map(() => out.expected[0]));
    expect(out.fromFrame).toEqual(out.expected[0]);
    expect(out.fromVideo).toMatchObject({ index: 653, label: 'military uniform' });
    // transfer: true moved the bitmap and the pixel buffer
    expect(out.moved).toEqual({ bitmapWidth: 0, pixelBytes: 0 });
    // a cross-origin <img> is read on the calling thread; a tainted canvas travels as a bitmap Chromium refuses to post
    expect(out.tainted).toMatchObject({ name: 'MobileNetError', code: 'INVALID_IMAGE', message: expect.stringMatching(/another origin.*CORS/) });
    expect(out.taintedBitmap).toMatchObject({ name: 'MobileNetError', code: 'INVALID_IMAGE', message: expect.stringMatching(/another origin.*CORS/) });
    expect(out.missingScript).toMatchObject({ name: 'MobileNetError', code: 'IO', message: expect.stringMatching(/no-such-worker\.js\) failed.*esbuild.*mobilenet-wasm\/worker\/script/) });
    expect(out.badWorker).toMatchObject({ name: 'MobileNetError', code: 'INVALID_OPTION', message: expect.stringMatching(/options\.worker must be/) });
    expect(out.badBlob).toMatchObject({ name: 'MobileNetError', code: 'INVALID_IMAGE', message: expect.stringMatching(/Blob .* could not be decoded/) });
  });

  it('Vite bundles the packaged worker script from its default new URL: MobileNetWorker.load(bytes) with no options', async () => {
    const { build } = await import('vite');
    const project = join(tmp.dir, 'vite-app');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'index.html'), '<!doctype html><meta charset="utf-8"><img src="/shared/images/samples/grace_hopper.bmp"><script type="module" src="./main.js"></script>\n');
    writeFileSync(
      join(project, 'main.js'),
      `import { MobileNetWorker } from 'mobilenet-wasm/worker';
const bytes = new Uint8Array(await (await fetch('/shared/models/mobilenet_v1_1.0_224_quant.tflite')).arrayBuffer());
const net = await MobileNetWorker.load(bytes);
const top = await net.classify(document.querySelector('img'));
window.__result = { kernels: net.info.kernels, top };
`,
    );
    const outDir = join(project, 'dist');
    // the package as Vite sees a dependency's browser entry (this repository's build of it)
    await build({ root: project, logLevel: 'error', resolve: { alias: { 'mobilenet-wasm/worker': join(repoRoot, 'dist/worker/index.js') } }, build: { outDir, target: 'es2022' } });
    const assets = readdirSync(join(outDir, 'assets'));
    expect(assets.some((f) => /^worker-script-.*\.js$/.test(f))).toBe(true);
    const built = await serveStatic({ '/': outDir, '/shared': sharedDir });
    try {
      const page = await site.browser.newPage();
      const out = await pageResult<{ kernels: string; top: Top }>(page, `${built.url}/index.html`);
      expect(out.kernels).toBe('relaxed');
      expect(out.top[0]).toMatchObject({ index: 653, label: 'military uniform' });
    } finally {
      await built.close();
    }
  });
});
