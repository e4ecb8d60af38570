/**
 * Models by name: `load({ model: 'mobilenet_v1_1.0_224_quant' })` finds the entry in the registry
 * (weights/models.json, compiled into registry.ts), takes a verified copy from the cache or
 * downloads it (the official .tgz, an `archiveBase` mirror of it, or the bare .tflite under a
 * self-hosted `baseUrl`), checks it (registry size and sha256 when recorded, structure always),
 * stores it, and loads it. Portable: no Node built-ins; the Node entry passes its file cache.
 */
import { MobileNetError } from '../errors.js';
import { MobileNet, LOAD_OPTIONS, NODE_LOAD_OPTIONS, type LoadOptions } from '../mobilenet.js';
import type { Graph } from '../model/ir.js';
import { asMobileNetError } from '../runtime/guard.js';
import { describeValue } from '../runtime/typed.js';
import { cacheApiStore } from './cache-api.js';
import { checkModelBytes } from './check.js';
import { downloadFile, downloadTgzMember, UnreachableError, DEFAULT_MAX_DOWNLOAD_BYTES, type DownloadOptions } from './download.js';
import { DEFAULT_MODEL, MODELS } from './registry.js';
import type { FetchedModel, ModelCacheStore, ModelEntry, ModelFetchOptions, WeightsLoadOptions } from './types.js';

/** Every model `load` knows by name (copies: changing them changes nothing). */
export function listModels(): ModelEntry[] {
  return MODELS.map((m) => ({ ...m }));
}

export { DEFAULT_MODEL };

/** Registry names closest to `name`: containing it, or within a small edit distance. */
export function closeMatches(name: string, names: readonly string[], limit = 4): string[] {
  const q = name.toLowerCase().replace(/\.(tflite|tgz)$/, '');
  const scored = names.map((n) => ({ n, d: n.includes(q) ? 0 : editDistance(q, n) }));
  const maxD = Math.max(2, Math.floor(q.length / 4));
  return scored
    .filter((s) => s.d <= maxD)
    .sort((a, b) => a.d - b.d || a.n.length - b.n.length || a.n.localeCompare(b.n))
    .slice(0, limit)
    .map((s) => s.n);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The registry entry of `name` (INVALID_OPTION with the close matches when there is none). */
export function findModel(name: string): ModelEntry {
  const entry = MODELS.find((m) => m.name === name);
  if (entry) return entry;
  const close = closeMatches(name, MODELS.map((m) => m.name));
  throw new MobileNetError(
    'INVALID_OPTION',
    `unknown model '${name}'` + (close.length ? `; did you mean ${close.join(', ')}?` : '') + ` (listModels() gives all ${MODELS.length})`,
  );
}

/** The registry URL with its origin replaced by `base` (whose path, if any, prefixes the original path). */
export function rebaseUrl(url: string, base: string | undefined): string {
  if (!base) return url;
  const b = new URL(base);
  const u = new URL(url);
  return `${b.origin}${b.pathname.replace(/\/+$/, '')}${u.pathname}${u.search}`;
}

/** Where the file of `entry` is downloaded from, and whether it comes as the official .tgz. */
export function modelUrl(entry: ModelEntry, opts: { baseUrl?: string; archiveBase?: string }): { url: string; archive: boolean } {
  if (opts.baseUrl) return { url: `${opts.baseUrl.replace(/\/+$/, '')}/${entry.file}`, archive: false };
  return { url: rebaseUrl(entry.url, opts.archiveBase), archive: true };
}

/** What the entry (Node, core) supplies: the default cache. */
export interface LoadEnvironment {
  defaultCache(): ModelCacheStore | undefined;
}

const CORE_ENVIRONMENT: LoadEnvironment = { defaultCache: cacheApiStore };

const FETCH_KEYS = ['model', 'baseUrl', 'archiveBase', 'cache', 'fetch', 'signal', 'timeoutMs', 'maxDownloadBytes', 'onProgress'] as const;

/** An http(s) URL, absolute; a relative one is resolved against the page (location) where there is one. */
function httpUrl(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  if (typeof value === 'string') {
    try {
      url = new URL(value, (globalThis as { location?: { href?: string } }).location?.href);
    } catch {
      /* reported below */
    }
  }
  if (!url || !/^https?:$/.test(url.protocol)) {
    throw new MobileNetError('INVALID_OPTION', `${name} must be an http(s) URL (relative only in a page), got ${describeValue(value)}`);
  }
  return url.href;
}

function positive(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new MobileNetError('INVALID_OPTION', `${name} must be a positive number, got ${describeValue(value)}`);
  }
  return value;
}

const isStore = (v: unknown): v is ModelCacheStore =>
  v !== null && typeof v === 'object' && ['get', 'put', 'delete'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function');

interface CheckedFetchOptions {
  entry: ModelEntry;
  url: string;
  archive: boolean;
  cache: ModelCacheStore | undefined;
  download: DownloadOptions;
}

function checkFetchOptions(o: ModelFetchOptions, env: LoadEnvironment): CheckedFetchOptions {
  // before any download: a misspelt option must not cost one
  const known = new Set<string>([...FETCH_KEYS, ...LOAD_OPTIONS, ...NODE_LOAD_OPTIONS]);
  for (const key of Object.keys(o)) {
    if (!known.has(key)) throw new MobileNetError('INVALID_OPTION', `unknown option '${key}' (known: ${[...known].join(', ')})`);
  }
  if (typeof o.model !== 'string' || o.model === '') {
    throw new MobileNetError('INVALID_OPTION', `model must be a registry name such as '${DEFAULT_MODEL}', got ${describeValue(o.model)}`);
  }
  const entry = findModel(o.model);
  const baseUrl = httpUrl(o.baseUrl, 'baseUrl');
  const archiveBase = httpUrl(o.archiveBase, 'archiveBase');
  let cache: ModelCacheStore | undefined;
  if (o.cache === undefined || o.cache === true) cache = env.defaultCache();
  else if (o.cache === false) cache = undefined;
  else if (isStore(o.cache)) cache = o.cache;
  else {
    throw new MobileNetError('INVALID_OPTION', `cache must be true, false or an object with get, put and delete methods, got ${describeValue(o.cache)}`);
  }
  if (o.fetch !== undefined && typeof o.fetch !== 'function') throw new MobileNetError('INVALID_OPTION', `fetch must be a function, got ${describeValue(o.fetch)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new MobileNetError('INVALID_OPTION', `onProgress must be a function, got ${describeValue(o.onProgress)}`);
  }
  const signal = o.signal;
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.addEventListener !== 'function')) {
    throw new MobileNetError('INVALID_OPTION', `signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  const { url, archive } = modelUrl(entry, { baseUrl, archiveBase });
  return {
    entry,
    url,
    archive,
    cache,
    download: {
      fetch: o.fetch,
      signal,
      timeoutMs: positive(o.timeoutMs, 'timeoutMs'),
      maxDownloadBytes: positive(o.maxDownloadBytes, 'maxDownloadBytes') ?? DEFAULT_MAX_DOWNLOAD_BYTES,
      onProgress: o.onProgress,
    },
  };
}

type Fetched = FetchedModel & { graph: Graph };

/** A cached copy that passes every check, else undefined (a failing one is deleted). Cache errors count as a miss. */
async function fromCache(c: CheckedFetchOptions): Promise<Fetched | undefined> {
  const { cache, entry, url } = c;
  if (!cache) return undefined;
  let hit;
  try {
    hit = await cache.get(url);
  } catch {
    return undefined;
  }
  if (!hit) return undefined;
  try {
    if (!(hit.bytes instanceof Uint8Array)) throw new MobileNetError('INVALID_MODEL', 'cache entry is not bytes');
    const checked = await checkModelBytes(entry, hit.bytes, `the cache (${url})`, hit.sha256);
    return { entry: { ...entry }, url, bytes: hit.bytes, sha256: checked.sha256, verified: verifiedBy(checked.checksum), from: 'cache', graph: checked.graph };
  } catch {
    // damaged or not the promised model: never used, and gone so the next load does not meet it
    await Promise.resolve()
      .then(() => cache.delete(url))
      .catch(() => {});
    return undefined;
  }
}

const verifiedBy = (checksum: 'matched' | 'unrecorded') => (checksum === 'matched' ? 'sha256' : 'structure-only');

async function fetchChecked(options: ModelFetchOptions, env: LoadEnvironment): Promise<Fetched> {
  if (options === null || typeof options !== 'object') {
    throw new MobileNetError('INVALID_OPTION', `options must be an object with a model name, got ${describeValue(options)}`);
  }
  const c = checkFetchOptions(options, env);
  const cached = await fromCache(c);
  if (cached) return cached;
  const { entry, url } = c;
  let bytes: Uint8Array;
  try {
    ({ bytes } = c.archive ? await downloadTgzMember(url, entry.file, c.download) : await downloadFile(url, c.download));
  } catch (e) {
    // network and server failures name the model and the URL; a bad file already names both
    if (!(e instanceof MobileNetError) || e.code !== 'IO') throw e;
    const inner = e.message.startsWith(`${url}: `) ? e.message.slice(url.length + 2) : e.message;
    const offline =
      e instanceof UnreachableError
        ? `; offline? ${c.cache ? 'No copy of it is cached' : 'The cache is off'} (self-host the .tflite and pass baseUrl, or load bytes with MobileNet.load)`
        : '';
    throw new MobileNetError('IO', `cannot download model '${entry.name}' from ${url}: ${inner}${offline}`, { cause: e });
  }
  const checked = await checkModelBytes(entry, bytes, url);
  if (c.cache) {
    // a full or unavailable cache costs the next load a download, not this one its model
    await Promise.resolve()
      .then(() => c.cache!.put(url, { bytes, sha256: checked.sha256 }))
      .catch(() => {});
  }
  return { entry: { ...entry }, url, bytes, sha256: checked.sha256, verified: verifiedBy(checked.checksum), from: 'network', graph: checked.graph };
}

/** fetchModelFile with the default cache of `env` (the Node entry passes its file cache). */
export function fetchModelFileWith(options: ModelFetchOptions, env: LoadEnvironment): Promise<FetchedModel> {
  return fetchChecked(options, env).then(
    ({ graph: _graph, ...info }) => info,
    (e: unknown) => Promise.reject(asMobileNetError(e, 'IO', 'fetchModelFile')),
  );
}

/** `options` without the keys of ModelFetchOptions: what MobileNet.load takes (it rejects unknown keys). */
export function loadOptionsOf(options: object): LoadOptions {
  const rest: Record<string, unknown> = { ...options };
  for (const k of FETCH_KEYS) delete rest[k];
  return rest as LoadOptions;
}

/** load with the default cache of `env`. */
export async function loadWith(options: WeightsLoadOptions, env: LoadEnvironment): Promise<MobileNet> {
  let graph: Graph;
  try {
    ({ graph } = await fetchChecked(options, env));
  } catch (e) {
    throw asMobileNetError(e, 'IO', 'load');
  }
  return MobileNet.load(graph, loadOptionsOf(options));
}

/** The verified .tflite bytes of a registry model, from the cache or downloaded (see `load`). */
export function fetchModelFile(options: ModelFetchOptions): Promise<FetchedModel> {
  return fetchModelFileWith(options, CORE_ENVIRONMENT);
}

/**
 * Load a registry model by name: `load({ model: 'mobilenet_v1_1.0_224_quant', wasm: { simd } })`.
 * The file comes from the cache (the Cache API here) when a verified copy is there, else from the
 * official archive (or `archiveBase`, or `baseUrl`); see ModelFetchOptions and FetchedModel.verified.
 */
export function load(options: WeightsLoadOptions): Promise<MobileNet> {
  return loadWith(options, CORE_ENVIRONMENT);
}
