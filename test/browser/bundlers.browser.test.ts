// The README's bundler snippets, as a user would run them: the package is packed and installed
// into a fresh project, each tested snippet is read from README.md by its marker
// (<!-- snippet: NAME -->) and written into that project unchanged, built with the command the
// README shows, served, and opened in headless Chromium, which must name grace_hopper
// "military uniform". So the README's snippets are the tested ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { browserSkipReason, hasShared, launchBrowser, pageResult, repoRoot, serveStatic, sharedDir, tempDir, type StaticServer } from './harness.js';
import { installPacked, packPackage, run } from '../package/consumer.js';

/** The code block that follows `<!-- snippet: name -->` in README.md. */
export function readmeSnippet(name: string): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- snippet: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no snippet marked <!-- snippet: ${name} -->`);
  return m[1];
}

// The page around a snippet: an <img> of grace_hopper, and a classic script that reports a
// failure of the module (an uncaught error or a rejected top-level await) to the harness.
const PAGE = (script: string) => `<!doctype html><meta charset="utf-8"><title>bundler snippet</title>
<script>
  const fail = (e) => { window.__error = { code: e && e.code, message: String((e && e.message) || e) }; };
  addEventListener('error', (ev) => fail(ev.error || ev.message));
  addEventListener('unhandledrejection', (ev) => fail(ev.reason));
</script>
<img src="/images/grace_hopper.bmp">
<script type="module" src="${script}"></script>
`;

// appended after the snippet, which leaves `net` and `top` in module scope
const REPORT = '\nwindow.__result = { kernels: net.info.kernels, top };\n';

const skip = browserSkipReason() ?? (hasShared ? undefined : '../shared missing: browser tests need its models and photos');
if (skip) console.warn(`[browser] ${skip}`);

interface Built {
  dist: string;
  files: string[];
}

describe.skipIf(!!skip)('README bundler snippets, built from the packed package', () => {
  let browser: Browser;
  const tmp = tempDir('mnw-bundlers-');
  const consumer = join(tmp.dir, 'consumer');
  let installSkip: string | undefined;
  const servers: StaticServer[] = [];

  beforeAll(async () => {
    const packed = await packPackage(tmp.dir);
    if ('skip' in packed) {
      installSkip = packed.skip;
      return;
    }
    const inst = await installPacked(consumer, packed.tarball);
    if (inst.code !== 0) installSkip = `cannot install the packed tarball offline (${inst.out.split('\n').slice(-3).join(' ')})`;
    browser = await launchBrowser();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
    tmp.remove();
  });

  /** a project folder inside the consumer (so it resolves the installed package) holding the snippet */
  function project(name: string, snippet: string, htmlScript: string): string {
    const dir = join(consumer, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'app.js'), readmeSnippet(snippet) + REPORT);
    writeFileSync(join(dir, 'index.html'), PAGE(htmlScript));
    return dir;
  }

  /** runs the README's build command in `dir`; `npx tool` runs this repository's copy of the tool */
  async function buildWith(dir: string, snippet: string): Promise<Built> {
    const command = readmeSnippet(snippet).trim();
    expect(command).toMatch(/^npx (esbuild|vite) /);
    const [tool, ...args] = command.replace(/^npx /, '').split(/\s+/);
    const r = await run(join(repoRoot, 'node_modules', '.bin', tool), args, dir, 180_000);
    expect(r.code, r.out).toBe(0);
    const dist = join(dir, 'dist');
    return { dist, files: readdirSync(dist, { recursive: true }).map(String) };
  }

  async function classifyIn(dist: string) {
    const server = await serveStatic({ '/': dist, '/models': join(sharedDir, 'models'), '/images': join(sharedDir, 'images', 'samples') });
    servers.push(server);
    const page = await browser.newPage();
    const wasmFetched: string[] = [];
    page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmFetched.push(new URL(r.url()).pathname); });
    const out = await pageResult<{ kernels: string; top: { index: number; label: string; score: number }[] }>(page, `${server.url}/index.html`);
    await page.close();
    return { ...out, wasmFetched };
  }

  it('esbuild: the snippet with --loader:.wasm=file names grace_hopper military uniform', async (ctx) => {
    if (installSkip) ctx.skip(installSkip);
    const dir = project('esbuild-app', 'esbuild-app', './app.js');
    const built = await buildWith(dir, 'esbuild-build');
    cpSync(join(dir, 'index.html'), join(built.dist, 'index.html'));
    // the build the snippet imports (the uint8 model's own, or the combined one): esbuild copies it with a hash
    const imported = /mobilenet-wasm\/wasm\/(mobilenet-[\w-]+)\.wasm/.exec(readmeSnippet('esbuild-app'))![1];
    expect(built.files.filter((f) => f.endsWith('.wasm'))).toEqual([expect.stringMatching(new RegExp(`^${imported}-\\w+\\.wasm$`))]);
    const out = await classifyIn(built.dist);
    expect(out.kernels).toBe('simd');
    expect(out.top[0]).toMatchObject({ index: 653, label: 'military uniform' });
    expect(out.top[0].score).toBeCloseTo(0.793, 3);
    expect(out.wasmFetched).toEqual([expect.stringMatching(new RegExp(`^/${imported}-\\w+\\.wasm$`))]);
  });

  it('Vite: the snippet without any wasm option fetches the emitted build auto picked, and names military uniform', async (ctx) => {
    if (installSkip) ctx.skip(installSkip);
    const dir = project('vite-app', 'vite-app', './app.js');
    const built = await buildWith(dir, 'vite-build');
    // every build emitted as a hashed asset (Vite keeps one copy of builds with equal bytes, e.g. the
    // q8 simd and relaxed builds while no q8 kernel uses relaxed SIMD); only one is fetched, below
    const packaged = join(consumer, 'node_modules', 'mobilenet-wasm', 'build');
    const builds = readdirSync(packaged).filter((f) => f.endsWith('.wasm'));
    expect(builds).toHaveLength(9);
    const distinct = new Set(builds.map((f) => readFileSync(join(packaged, f)).toString('base64')));
    const emitted = built.files.filter((f) => f.endsWith('.wasm'));
    expect(emitted.map((f) => /^assets\/(mobilenet-[\w-]+?)-[\w-]{8}\.wasm$/.exec(f)?.[1] + '.wasm').every((f) => builds.includes(f)), emitted.join(' ')).toBe(true);
    expect(emitted).toHaveLength(distinct.size);
    const out = await classifyIn(built.dist);
    // Chromium validates relaxed SIMD, so auto picks it, and the uint8 model needs the integer kernels only:
    // one .wasm fetched, none of the others, and it is mobilenet-q8-relaxed.wasm
    expect(out.kernels).toBe('relaxed');
    expect(out.wasmFetched).toHaveLength(1);
    expect(readFileSync(join(built.dist, out.wasmFetched[0])).equals(readFileSync(join(packaged, 'mobilenet-q8-relaxed.wasm')))).toBe(true);
    expect(out.top[0]).toMatchObject({ index: 653, label: 'military uniform' });
    expect(out.top[0].score).toBeCloseTo(0.793, 3);
  });

  it("esbuild leaves the default URL alone, as the README says: without wasm the page gets IO naming the missing file", async (ctx) => {
    if (installSkip) ctx.skip(installSkip);
    const dir = project('esbuild-default-url', 'vite-app', './app.js');
    const built = await buildWith(dir, 'esbuild-build');
    cpSync(join(dir, 'index.html'), join(built.dist, 'index.html'));
    expect(built.files.filter((f) => f.endsWith('.wasm'))).toEqual([]);
    await expect(classifyIn(built.dist)).rejects.toThrow(/"code":"IO".*'relaxed' kernel build from http:\/\/127\.0\.0\.1:\d+\/build\/mobilenet-q8-relaxed\.wasm gave HTTP 404/);
  });

  it('esbuild without the loader fails the way the README says', async (ctx) => {
    if (installSkip) ctx.skip(installSkip);
    const dir = project('esbuild-no-loader', 'esbuild-app', './app.js');
    const r = await run(join(repoRoot, 'node_modules', '.bin', 'esbuild'), ['app.js', '--bundle', '--format=esm', '--outdir=dist'], dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/No loader is configured for "\.wasm" files/);
  });
});
