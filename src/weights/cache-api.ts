/**
 * The default model cache of browsers and workers: the Cache API (`caches`), one cache named
 * CACHE_NAME, keyed by the URL the model came from. The sha256 taken at download travels in a
 * header, so a damaged entry is recognised on read (src/weights/load.ts then deletes it).
 */
import type { CachedModelFile, ModelCacheStore } from './types.js';
import { MAX_TFLITE_BYTES } from './download.js';
import type { PackCacheStore } from '../runtime/pack-cache.js';

export const CACHE_NAME = 'mobilenet-wasm-models-v1';
export const SHA256_HEADER = 'x-mobilenet-wasm-sha256';

/** The Cache API store, or undefined where `caches` does not exist (Node, insecure origins). */
export function cacheApiStore(): ModelCacheStore | undefined {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage || typeof storage.open !== 'function') return undefined;
  let opened: Promise<Cache> | undefined;
  const cache = () => (opened ??= storage.open(CACHE_NAME));
  return {
    async get(key: string): Promise<CachedModelFile | undefined> {
      const res = await (await cache()).match(key);
      if (!res) return undefined;
      // a poisoned entry must not make us read an unbounded body: empty bytes fail the check and it is deleted
      const length = Number(res.headers.get('content-length') ?? NaN);
      if (!(length <= MAX_TFLITE_BYTES)) return { bytes: new Uint8Array(0) };
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { bytes, sha256: res.headers.get(SHA256_HEADER) ?? undefined };
    },
    async put(key: string, file: CachedModelFile): Promise<void> {
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(file.bytes.length) };
      if (file.sha256) headers[SHA256_HEADER] = file.sha256;
      await (await cache()).put(key, new Response(file.bytes as Uint8Array<ArrayBuffer>, { headers }));
    },
    async delete(key: string): Promise<void> {
      await (await cache()).delete(key);
    },
  };
}

export const PACK_CACHE_NAME = 'mobilenet-wasm-packed-v1';

/**
 * A packed-model store (LoadOptions.packCache, src/runtime/pack-cache.ts) in the Cache API, or
 * undefined where `caches` does not exist. Keys become URLs under a fixed local prefix.
 */
export function cacheApiPackStore(): PackCacheStore | undefined {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage || typeof storage.open !== 'function') return undefined;
  let opened: Promise<Cache> | undefined;
  const cache = () => (opened ??= storage.open(PACK_CACHE_NAME));
  const url = (key: string) => `https://mobilenet-wasm.invalid/packed/${encodeURIComponent(key)}`;
  return {
    async get(key: string): Promise<Uint8Array | undefined> {
      const res = await (await cache()).match(url(key));
      if (!res) return undefined;
      const length = Number(res.headers.get('content-length') ?? NaN);
      if (!(length <= MAX_TFLITE_BYTES * 4)) return undefined;
      return new Uint8Array(await res.arrayBuffer());
    },
    async put(key: string, bytes: Uint8Array): Promise<void> {
      const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) };
      await (await cache()).put(url(key), new Response(bytes as Uint8Array<ArrayBuffer>, { headers }));
    },
  };
}
