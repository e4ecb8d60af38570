/**
 * Shared harness of the browser suites (test/browser/*.browser.test.ts, run by
 * `npm run test:browser`, not by `npm test`): Debian's Chromium driven by playwright-core,
 * a static server on 127.0.0.1 for the repository and ../shared, and esbuild bundles of
 * test pages. The suites skip with a clear message only when Chromium is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';
import { build, type BuildOptions } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = resolve(process.env.MOBILENET_WASM_SHARED ?? join(repoRoot, '../shared'));
export const hasShared = existsSync(join(sharedDir, 'models'));

/** Chromium's path: $CHROMIUM_PATH, else Debian's /usr/bin/chromium; undefined when absent. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** Why the browser suites skip, or undefined when they can run. */
export function browserSkipReason(): string | undefined {
  if (!chromiumPath()) return 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH): browser tests skipped';
  return undefined;
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * A fresh headless Chromium (playwright gives each launch a new temporary profile).
 * `extraArgs` add switches, e.g. a fake camera (fakeCameraArgs).
 */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(browserSkipReason());
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * Switches for a fake camera that plays a .y4m file (or a test pattern when none is given).
 * Permission is still asked for: grant it per context with grantPermissions(['camera']).
 */
export function fakeCameraArgs(y4mFile?: string): string[] {
  return ['--use-fake-device-for-media-stream', ...(y4mFile ? [`--use-file-for-fake-video-capture=${y4mFile}`] : [])];
}

export interface StaticServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves folders on 127.0.0.1 under URL prefixes, e.g. { '/': outDir, '/shared': sharedDir,
 * '/build': repoRoot + '/build' }. The longest matching prefix wins. `isolated` adds the
 * cross-origin isolation headers (COOP/COEP), which SharedArrayBuffer and threads need.
 * `port` picks a fixed port (npm run demo --port).
 */
export async function serveStatic(mounts: Record<string, string>, opts: { isolated?: boolean; port?: number } = {}): Promise<StaticServer> {
  const entries = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix.replace(/\/+$/, ''), sirv(dir, { dev: true, dotfiles: false, etag: false })] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const server: Server = createServer((req, res) => {
    if (opts.isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    const path = (req.url ?? '/').split('?')[0];
    for (const [prefix, handler] of entries) {
      if (prefix === '' || path === prefix || path.startsWith(prefix + '/')) {
        const original = req.url;
        req.url = (original ?? '/').slice(prefix.length) || '/';
        (req as { path?: string }).path = undefined;
        return handler(req, res, () => {
          req.url = original;
          res.statusCode = 404;
          res.end('not found');
        });
      }
    }
    res.statusCode = 404;
    res.end('not found');
  });
  // port 0 (the default) lets the OS pick a free one; a taken fixed port rejects
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(opts.port ?? 0, '127.0.0.1', ok));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('server has no port');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(prefix = 'mnw-browser-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Bundles test-page entry scripts with esbuild for the browser, as a user's bundler would:
 * `mobilenet-wasm` and its subpaths resolve through this repository's package.json exports
 * (self-reference) with the browser conditions, and .wasm imports become files next to the bundle.
 */
export async function bundlePages(entryPoints: Record<string, string>, outdir: string, extra: BuildOptions = {}): Promise<void> {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints,
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    loader: { '.wasm': 'file' },
    nodePaths: [join(repoRoot, 'node_modules')],
    logLevel: 'error',
    ...extra,
  });
}

/** Writes an HTML page that loads one module script. */
export function writePage(dir: string, name: string, script: string, body = ''): void {
  writeFileSync(join(dir, name), `<!doctype html><meta charset="utf-8"><title>${name}</title>${body}<script type="module" src="${script}"></script>\n`);
}

export interface PageSuite {
  /** the server's URL; page `name` is at `${url}/${name}.html` */
  url: string;
  browser: Browser;
  /** closes the browser and the server and removes the bundles */
  close(): Promise<void>;
}

/**
 * The usual fixture of a browser suite: each page's entry bundled (bundlePages) with an HTML
 * page `${name}.html` loading it (writePage, with `body`), served with ../shared at /shared
 * (plus `mounts`; `isolated` as in serveStatic), and one fresh browser for the whole suite.
 */
export async function startPageSuite(
  pages: Record<string, { entry: string; body?: string }>,
  opts: { mounts?: Record<string, string>; launchArgs?: string[]; isolated?: boolean } = {},
): Promise<PageSuite> {
  const tmp = tempDir();
  let server: StaticServer | undefined;
  try {
    await bundlePages(Object.fromEntries(Object.entries(pages).map(([name, page]) => [name, page.entry])), tmp.dir);
    for (const [name, page] of Object.entries(pages)) writePage(tmp.dir, `${name}.html`, `./${name}.js`, page.body);
    server = await serveStatic({ '/': tmp.dir, '/shared': sharedDir, ...opts.mounts }, { isolated: opts.isolated });
    const browser = await launchBrowser(opts.launchArgs);
    const running = server;
    return {
      url: running.url,
      browser,
      close: async () => {
        await browser.close();
        await running.close();
        tmp.remove();
      },
    };
  } catch (e) {
    await server?.close();
    tmp.remove();
    throw e;
  }
}

/**
 * Opens a page and waits until it sets `window.__result` (or `window.__error`); returns the
 * result. Page errors and console errors are collected into the thrown message.
 */
export async function pageResult<T = unknown>(page: Page, url: string, timeoutMs = 60_000): Promise<T> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.goto(url);
  try {
    await page.waitForFunction(() => '__result' in window || '__error' in window, undefined, { timeout: timeoutMs });
  } catch (e) {
    throw new Error(`page ${url} gave no result in ${timeoutMs} ms${problems.length ? `: ${problems.join('; ')}` : ''}`);
  }
  const out = await page.evaluate(() => ({ result: (window as any).__result, error: (window as any).__error }));
  if (out.error !== undefined) throw new Error(`page ${url} failed: ${JSON.stringify(out.error)}${problems.length ? `; ${problems.join('; ')}` : ''}`);
  return out.result as T;
}

/** Sets Chromium's CPU throttling (1 = off) for a page over CDP. */
export async function throttleCpu(page: Page, rate: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
}
