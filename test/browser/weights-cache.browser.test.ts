// load({ model }) in headless Chromium: a registry model by name from a self-hosted baseUrl, kept
// in the Cache API; served from there when the server answers 503; a damaged Cache API entry
// (changed from the page) is discarded and downloaded again, never used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sirv from 'sirv';
import { browserSkipReason, bundlePages, hasShared, launchBrowser, pageResult, repoRoot, sharedDir, tempDir, writePage } from './harness.js';

const skip = browserSkipReason() ?? (hasShared ? undefined : '../shared missing: browser tests need its models and photos');
if (skip) console.warn(`[browser] ${skip}`);

const MODEL = 'mobilenet_v1_1.0_224_quant';

interface Entry { length: number; sum: number; sha256: string | null }
interface Result { top: { index: number; label: string; score: number }[]; before?: Entry; after?: Entry; key: string }

describe.skipIf(!!skip)('load({ model }) with the Cache API', () => {
  let browser: Browser;
  let context: BrowserContext;
  let server: Server;
  let url: string;
  /** what the model route answers: the file, or 503 */
  let modelRoute: 'ok' | '503' = 'ok';
  const modelRequests: string[] = [];
  const tmp = tempDir();
  const file = readFileSync(join(sharedDir, 'models', `${MODEL}.tflite`));
  const fileSum = file.reduce((s, b) => (s + b) % 65521, 0);

  beforeAll(async () => {
    await bundlePages({ 'weights-cache': join(repoRoot, 'test/browser/pages/weights-cache.ts') }, tmp.dir);
    writePage(tmp.dir, 'weights-cache.html', './weights-cache.js', '<img src="/shared/images/samples/grace_hopper.bmp">');
    const pages = sirv(tmp.dir, { dev: true, etag: false });
    const shared = sirv(sharedDir, { dev: true, etag: false });
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path.startsWith('/models/')) {
        modelRequests.push(path);
        if (modelRoute === '503' || path !== `/models/${MODEL}.tflite`) {
          res.writeHead(modelRoute === '503' ? 503 : 404, 'Service Unavailable');
          return res.end();
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length });
        return res.end(file);
      }
      if (path.startsWith('/shared/')) {
        req.url = req.url!.slice('/shared'.length);
        return shared(req, res, () => res.writeHead(404).end());
      }
      pages(req, res, () => res.writeHead(404).end());
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/weights-cache.html?model=${MODEL}`;
    browser = await launchBrowser();
    // one context for every visit: the Cache API lives in its profile
    context = await browser.newContext();
  });
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((ok) => server?.close(ok));
    tmp.remove();
  });

  const visit = async (query = '') => pageResult<Result>(await context.newPage(), url + query);
  const expectGrace = (r: Result) => {
    expect(r.top[0]).toMatchObject({ index: 653, label: 'military uniform' });
    expect(r.top[0].score).toBeCloseTo(0.793, 3);
  };

  it('downloads by name through baseUrl and stores the file in the Cache API with its sha256', async () => {
    const r = await visit();
    expectGrace(r);
    expect(modelRequests).toEqual([`/models/${MODEL}.tflite`]);
    expect(r.before).toBeUndefined();
    expect(r.after).toEqual({ length: file.length, sum: fileSum, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('with the model route answering 503, the next load comes from the Cache API', async () => {
    modelRoute = '503';
    const r = await visit();
    expectGrace(r);
    expect(modelRequests).toHaveLength(1);
    modelRoute = 'ok';
  });

  it('a damaged Cache API entry is discarded and downloaded again, never used', async () => {
    const r = await visit('&corrupt=1');
    // the page damaged the entry (same length, one byte off) before loading
    expect(r.before!.length).toBe(file.length);
    expect(r.before!.sum).not.toBe(fileSum);
    expectGrace(r);
    expect(modelRequests).toHaveLength(2);
    expect(r.after).toMatchObject({ length: file.length, sum: fileSum });
  });

  it('damaged and the server down: a typed IO error naming the model and URL, not the damaged bytes', async () => {
    modelRoute = '503';
    const page = await context.newPage();
    const e = await pageResult<Result>(page, url + '&corrupt=1').then(() => undefined, (err: Error) => err);
    expect(e?.message).toMatch(/"code":"IO"/);
    expect(e?.message).toMatch(new RegExp(`cannot download model '${MODEL}' from http://127\\.0\\.0\\.1:\\d+/models/${MODEL}\\.tflite: HTTP 503`));
    modelRoute = 'ok';
  });
});
