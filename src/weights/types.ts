/**
 * Types of loading models by name (src/weights/load.ts). They are structural on purpose: the
 * published .d.ts must compile without the DOM lib, so nothing here names Response, Cache,
 * AbortSignal or ReadableStream; the real ones are assignable to these.
 */
import type { LoadOptions } from '../mobilenet.js';

/** One official model of the registry (weights/models.json). */
export interface ModelEntry {
  readonly name: string;
  readonly precision: 'float32' | 'uint8';
  readonly alpha: number;
  readonly resolution: number;
  /** the official TensorFlow-hosted .tgz archive holding `file` */
  readonly url: string;
  /** the .tflite member of the archive (also the file name under `baseUrl` when self-hosting) */
  readonly file: string;
  /** null: no verified value recorded, only the structure is checked */
  readonly sha256: string | null;
  readonly size: number | null;
  readonly labels: string;
}

/** The part of AbortSignal this package uses. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * AbortSignal where some lib declares it (DOM, @types/node), else AbortSignalLike: what a fetch's
 * `init.signal` must be for globalThis.fetch to be assignable to the `fetch` option (a parameter
 * type is checked contravariantly). Declares nothing global, like src/wasm-types.ts.
 */
export type AbortSignalType = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : AbortSignalLike;

/** The part of a fetch Response this package uses. */
export interface FetchResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText?: string;
  readonly headers: { get(name: string): string | null };
  readonly body: {
    getReader(): {
      read(): Promise<{ done: boolean; value?: Uint8Array }>;
      cancel(reason?: unknown): Promise<void>;
    };
  } | null;
}

/** What the `fetch` option must be (globalThis.fetch fits). */
export type FetchLike = NonNullable<ModelFetchOptions['fetch']>;

/** A cached .tflite and, when it was computed at download, its sha256 (lower-case hex). */
export interface CachedModelFile {
  bytes: Uint8Array;
  sha256?: string;
}

/**
 * Where downloaded models are kept, keyed by the URL they came from. The defaults are the Cache
 * API in browsers and workers and a user cache folder in Node; any object with these three
 * methods can stand in (IndexedDB, a Map in tests). What `get` returns is verified again before
 * use; an entry that fails is deleted and downloaded anew.
 */
export interface ModelCacheStore {
  get(key: string): Promise<CachedModelFile | undefined> | CachedModelFile | undefined;
  put(key: string, file: CachedModelFile): Promise<void> | void;
  delete(key: string): Promise<void> | void;
}

/** How the model's file is found, downloaded, checked and cached (see `load`). */
export interface ModelFetchOptions {
  /** a registry name (`listModels()`), e.g. 'mobilenet_v1_1.0_224_quant' */
  model: string;
  /**
   * self-hosting: the bare .tflite files are at `${baseUrl}/${entry.file}` (e.g.
   * `https://cdn.example.com/models/mobilenet_v1_1.0_224_quant.tflite`) instead of inside the
   * official .tgz archives
   */
  baseUrl?: string;
  /**
   * a mirror of the official .tgz archives: replaces scheme, host and port of the registry URL
   * (a path prefix is kept). In Node the default is $MOBILENET_WASM_FETCH_BASE.
   */
  archiveBase?: string;
  /**
   * the cache: true or undefined = the default (Cache API in browsers and workers, the user cache
   * folder in Node, none where neither exists), false = no cache, or a store of your own
   */
  cache?: boolean | ModelCacheStore;
  /** the fetch to download with (default globalThis.fetch) */
  fetch?: (url: string, init: { signal?: AbortSignalType }) => Promise<FetchResponseLike>;
  /** aborts the download (the load then fails with IO) */
  signal?: AbortSignalLike;
  /** no data for this long ends the download with IO (default 60 000 ms) */
  timeoutMs?: number;
  /** refuse a response larger than this (default 256 MiB: the 1.0 float archives bundle checkpoints) */
  maxDownloadBytes?: number;
  /** called as the download goes: bytes received, and the total when the server says it */
  onProgress?: (received: number, total: number | undefined) => void;
}

export type WeightsLoadOptions = ModelFetchOptions & LoadOptions;

/** What `fetchModelFile` found and how far it could check it. */
export interface FetchedModel {
  entry: ModelEntry;
  /** the URL the bytes came from (the cache key) */
  url: string;
  bytes: Uint8Array;
  /** sha256 of the bytes (lower-case hex), when the engine offers crypto.subtle */
  sha256: string | undefined;
  /**
   * 'sha256': equal to the size and sha256 the registry records. 'structure-only': the registry
   * records no verified value (true of every entry today), so only the structure was checked:
   * the bytes read as a .tflite with the entry's input size, precision, width (alpha) and 1001
   * classes. A cached copy is also compared with the sha256 taken when it was stored.
   */
  verified: 'sha256' | 'structure-only';
  /** 'cache' when a verified cached copy was used */
  from: 'network' | 'cache';
}
