/**
 * The options of load({ model }) take what a user has: globalThis.fetch, an AbortController's
 * signal, a Response-returning fetch of their own, a store object. A parameter type is checked
 * contravariantly, so a fetch option typed only with our structural AbortSignalLike rejected the
 * real fetch (TS2322); compiled here against the built declarations (dist/, `npm run build:ts`)
 * with the DOM lib, and with only @types/node.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const TSC = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const USER_TS = (entry: string) => `
import { load, fetchModelFile, listModels, type ModelFetchOptions, type ModelCacheStore, type FetchedModel } from '${entry}';
const controller = new AbortController();
const store: ModelCacheStore = { get: async () => undefined, put() {}, delete() {} };
const options: ModelFetchOptions = { model: listModels()[0].name, fetch, signal: controller.signal, cache: store };
const own: ModelFetchOptions = { model: 'x', fetch: (url, init) => fetch(url, init), baseUrl: 'https://cdn.example/models' };
export const net = load({ ...options, kernels: 'auto' });
export const file: Promise<FetchedModel> = fetchModelFile(own);
`;

const config = (lib: string[], types: string[]) =>
  JSON.stringify({
    compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib, types, typeRoots: [join(root, 'node_modules/@types')], skipLibCheck: true, noEmit: true },
    files: ['user.ts'],
  });

describe('load options accept the real fetch and AbortSignal', () => {
  for (const [name, lib, types, entry] of [
    ['DOM lib, core entry', ['ES2022', 'DOM'], [], join(root, 'dist/index.js')],
    ['@types/node only, Node entry', ['ES2022'], ['node'], join(root, 'dist/node.js')],
  ] as const) {
    it(name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mnw-types-'));
      try {
        writeFileSync(join(dir, 'user.ts'), USER_TS(entry));
        writeFileSync(join(dir, 'tsconfig.json'), config([...lib], [...types]));
        const out = await promisify(execFile)(process.execPath, [TSC, '-p', dir]).then(
          () => '',
          (e: { stdout?: string }) => e.stdout ?? String(e),
        );
        expect(out).toBe('');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
