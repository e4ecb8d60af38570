// Not a page: the site the input and worker suites share. Bundled pages, each with an <img> of
// grace_hopper, served with ../shared on one origin, ../shared again on a second origin (another
// port, no CORS headers: its images taint a canvas), and a fresh Chromium.
import type { Browser } from 'playwright-core';
import { bundlePages, launchBrowser, serveStatic, sharedDir, tempDir, writePage, type StaticServer } from '../harness.js';

export interface PhotoSite {
  browser: Browser;
  server: StaticServer;
  foreign: StaticServer;
  close(): Promise<void>;
}

/** `entries`: output name -> entry; pages are written for `pageNames` (name.html loading ./name.js) */
export async function photoSite(entries: Record<string, string>, pageNames: string[]): Promise<PhotoSite> {
  const tmp = tempDir();
  await bundlePages(entries, tmp.dir);
  for (const name of pageNames) writePage(tmp.dir, `${name}.html`, `./${name}.js`, '<img src="/shared/images/samples/grace_hopper.bmp">');
  const server = await serveStatic({ '/': tmp.dir, '/shared': sharedDir });
  const foreign = await serveStatic({ '/shared': sharedDir });
  const browser = await launchBrowser();
  return {
    browser, server, foreign,
    async close() {
      await browser.close();
      await server.close();
      await foreign.close();
      tmp.remove();
    },
  };
}
