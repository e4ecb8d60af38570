/**
 * The Node model cache: a user cache folder, never inside node_modules (an install is
 * read-only or shared, and is wiped on reinstall). The official file of a registry model is
 * `<dir>/<name>.tflite`, where `mobilenet-wasm fetch` puts it and `classify --model NAME`
 * looks; a file from any other URL (a mirror, a self-hosted baseUrl) is
 * `<dir>/by-url/<hash of the URL>-<file>`. Beside each, `<file>.sha256` (sha256sum format)
 * holds the digest taken at download, checked again on every read. Writes are atomic: a
 * temporary file renamed over the target.
 */
import { createRequire } from 'node:module';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { MobileNetError } from '../errors.js';
import { io, ioReason } from '../cli/common.js';
import { MAX_TFLITE_BYTES } from './download.js';
import { MODELS } from './registry.js';
import type { CachedModelFile, ModelCacheStore } from './types.js';
import type { PackCacheStore } from '../runtime/pack-cache.js';

/**
 * node:crypto, required when a cache file is named or written, not imported with the module:
 * loading it is ~4 ms of every import of the Node entry, which most processes never need.
 */
const crypto = (): typeof import('node:crypto') => createRequire(import.meta.url)('node:crypto');

/**
 * The user cache folder: $MOBILENET_WASM_CACHE, else $XDG_CACHE_HOME/mobilenet-wasm, else the
 * platform's: ~/Library/Caches/mobilenet-wasm (macOS), %LOCALAPPDATA%\mobilenet-wasm (Windows),
 * ~/.cache/mobilenet-wasm (elsewhere).
 */
export function userCacheDir(env: Record<string, string | undefined> = process.env, platform: string = process.platform, home: string = homedir()): string {
  if (env.MOBILENET_WASM_CACHE) return env.MOBILENET_WASM_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'mobilenet-wasm');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'mobilenet-wasm');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'mobilenet-wasm');
  return join(home, '.cache', 'mobilenet-wasm');
}

/** The file a cache key (a URL) is kept in, inside `dir`. */
export function cacheFileFor(dir: string, key: string): string {
  const official = MODELS.find((m) => m.url === key);
  if (official) return join(dir, `${official.name}.tflite`);
  const hash = crypto().createHash('sha256').update(key).digest('hex').slice(0, 16);
  const last = (key.split(/[?#]/)[0].split('/').pop() || 'model').replace(/\.tgz$/, '.tflite').replace(/[^\w.-]/g, '_');
  return join(dir, 'by-url', `${hash}-${last}`);
}

const sidecar = (file: string) => `${file}.sha256`;

/** A ModelCacheStore in the folder `dir` (see the top of this file). */
export function fileCacheStore(dir: string): ModelCacheStore {
  return {
    async get(key: string): Promise<CachedModelFile | undefined> {
      const file = cacheFileFor(dir, key);
      let size: number;
      try {
        const st = await stat(file);
        if (!st.isFile()) return undefined;
        size = st.size;
      } catch {
        return undefined;
      }
      // an oversized file cannot be a MobileNet v1: empty bytes fail the check and it is deleted
      if (size > MAX_TFLITE_BYTES) return { bytes: new Uint8Array(0) };
      const bytes = new Uint8Array(await readFile(file));
      let sha256: string | undefined;
      try {
        sha256 = (await readFile(sidecar(file), 'utf8')).split(/\s/)[0] || undefined;
      } catch {
        // a file put there by hand: only its structure can be checked
      }
      return { bytes, sha256 };
    },
    async put(key: string, file: CachedModelFile): Promise<void> {
      await writeModelFile(cacheFileFor(dir, key), file);
    },
    async delete(key: string): Promise<void> {
      const file = cacheFileFor(dir, key);
      await rm(file, { force: true });
      await rm(sidecar(file), { force: true });
    },
  };
}

/** Writes a model file and its .sha256 beside it, each atomically (IO error naming the path). */
export async function writeModelFile(path: string, file: CachedModelFile): Promise<void> {
  const dir = join(path, '..');
  await io('create', dir, () => mkdir(dir, { recursive: true }), 'folder');
  // the old digest goes first: a reader between the two renames sees the new file unverified, not mismatched
  await rm(sidecar(path), { force: true }).catch(() => {});
  await writeAtomically(path, file.bytes);
  if (file.sha256) await writeAtomically(sidecar(path), new TextEncoder().encode(`${file.sha256}  ${basename(path)}\n`));
}

/** the largest packed-model entry read back: above any MobileNet's packed form, below anything absurd */
const MAX_PACKED_BYTES = 1024 * 2 ** 20;

/**
 * A packed-model store (src/runtime/pack-cache.ts) in the folder `dir`: one file per key,
 * `<key>.mnwpack`, written atomically. The load checks what it reads; this only bounds the read.
 */
export function filePackStore(dir: string): PackCacheStore {
  const fileOf = (key: string) => {
    if (!/^[\w.-]+$/.test(key)) throw new MobileNetError('INVALID_OPTION', `not a packed-model key: ${JSON.stringify(key)}`);
    return join(dir, `${key}.mnwpack`);
  };
  return {
    async get(key: string): Promise<Uint8Array | undefined> {
      const file = fileOf(key);
      try {
        const st = await stat(file);
        if (!st.isFile() || st.size > MAX_PACKED_BYTES) return undefined;
        return new Uint8Array(await readFile(file));
      } catch {
        return undefined;
      }
    },
    async put(key: string, bytes: Uint8Array): Promise<void> {
      await io('create', dir, () => mkdir(dir, { recursive: true }), 'folder');
      await writeAtomically(fileOf(key), bytes);
    },
    sha256: (bytes: Uint8Array) => crypto().createHash('sha256').update(bytes).digest(),
  };
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  // not *.tflite, so a leftover (power loss between write and rename) is never taken for a model
  const tmp = join(path, '..', `.${basename(path)}.${process.pid}-${crypto().randomBytes(4).toString('hex')}.partial`);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new MobileNetError('IO', `cannot write ${path}: ${ioReason(e, 'write')}`);
  }
}
