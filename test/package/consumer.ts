/**
 * The package as a user gets it, for the suites that test it from outside: `npm pack` of this
 * repository (dist/ compiled from src/ into a staging folder, so the repo's dist/ is neither
 * used nor touched, and the repo's package.json so its `files` and `exports` are the ones under
 * test), then `npm install` of the tarball into a fresh consumer project, offline from npm's cache.
 * Used by test/package/types.test.ts and test/browser/bundlers.browser.test.ts.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
export const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export interface Run {
  code: number;
  out: string;
}

export function run(cmd: string, args: string[], cwd: string, timeout = 120_000, env?: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, timeout, env, maxBuffer: 64 * 2 ** 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

/**
 * Packs the package into `work`; returns the tarball's path, or why it cannot be packed here
 * (a failed compile of src/ or missing kernel builds are errors, not reasons to skip).
 */
export async function packPackage(work: string): Promise<{ tarball: string } | { skip: string }> {
  const stage = join(work, 'stage');
  mkdirSync(join(stage, 'build'), { recursive: true });
  mkdirSync(join(stage, 'weights'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(stage, 'package.json'));
  cpSync(join(ROOT, 'bin'), join(stage, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'weights', 'labels'), join(stage, 'weights', 'labels'), { recursive: true });
  cpSync(join(ROOT, 'weights', 'models.json'), join(stage, 'weights', 'models.json'));
  const wasm = existsSync(join(ROOT, 'build')) ? readdirSync(join(ROOT, 'build')).filter((f) => f.endsWith('.wasm')) : [];
  if (!wasm.includes('mobilenet-simd.wasm') || !wasm.includes('mobilenet-q8-simd.wasm')) throw new Error('build/mobilenet-*.wasm are missing: run `npm run build:wasm` first');
  for (const f of wasm) cpSync(join(ROOT, 'build', f), join(stage, 'build', f));
  const built = await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(stage, 'dist')], ROOT);
  if (built.code !== 0) throw new Error(`tsc -p tsconfig.json failed:\n${built.out}`);

  const packed = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage);
  let tarball: string | undefined;
  try {
    tarball = join(work, JSON.parse(packed.out.slice(packed.out.indexOf('['))).at(0).filename);
  } catch {
    /* reported below */
  }
  if (packed.code !== 0 || !tarball || !existsSync(tarball)) return { skip: `npm pack does not work here (${packed.out.split('\n').slice(-3).join(' ')})` };
  return { tarball };
}

/**
 * A consumer project in `dir` (created, ESM) with the tarball installed, plus `extra` packages
 * (npm specs, e.g. a pinned TypeScript), offline-first. Returns npm's result.
 */
export function installPacked(dir: string, tarball: string, extra: string[] = []): Promise<Run> {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  return run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--no-package-lock', tarball, ...extra], dir);
}

/** the @types/node this repository uses (already in the npm cache), as an npm spec */
export function typesNodeSpec(): string {
  return `@types/node@${JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version}`;
}
