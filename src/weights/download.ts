/**
 * Downloads for any runtime (fetch, DecompressionStream, nanotar; no Node built-ins), bounded
 * against a hostile or broken server: the status must be 2xx, the Content-Length and the bytes
 * actually streamed are held to a limit, no data for `timeoutMs` ends the transfer, and a .tgz
 * is gunzipped as it streams in with its unpacked size bounded too (a gzip bomb stops early).
 * Every failure is a MobileNetError: IO for the network, INVALID_MODEL for what was sent.
 */
import { MobileNetError } from '../errors.js';
import type { AbortSignalLike, FetchLike } from './types.js';

/** Responses larger than this are refused. The 1.0 float archives bundle checkpoints and a
 * frozen graph beside the 17 MB .tflite, so the cap is well above 64 MiB; it exists to stop a
 * runaway or hostile response, not to size real files. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 256 * 2 ** 20;
/** The .tflite itself (the largest MobileNet v1 file is ~17 MB). */
export const MAX_TFLITE_BYTES = 64 * 2 ** 20;
/** What a .tgz may unpack to (and at most 4x the download limit): the real archives are well under 2x their packed size. */
export const MAX_UNPACKED_BYTES = 512 * 2 ** 20;
/** No data for this long means the host is unreachable or the transfer is stuck. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface DownloadOptions {
  fetch?: FetchLike;
  signal?: AbortSignalLike;
  timeoutMs?: number;
  maxDownloadBytes?: number;
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface Downloaded {
  bytes: Uint8Array;
  /** bytes received from the server */
  downloaded: number;
}

/** The host did not answer (DNS, refused, timeout, no network): trying further URLs there is pointless. */
export class UnreachableError extends MobileNetError {
  constructor(
    readonly url: string,
    readonly reason: string,
    hint = '',
  ) {
    super('IO', `cannot reach ${hostOf(url)} (${reason})${hint ? `: ${hint}` : ''}`);
  }
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};
export const mib = (n: number): string => `${+(n / 2 ** 20).toFixed(1)} MiB`;

/** The bytes at `url` (a bare .tflite), at most `maxBytes`. */
export async function downloadFile(url: string, opts: DownloadOptions, maxBytes = MAX_TFLITE_BYTES): Promise<Downloaded> {
  const body = responseChunks(url, { ...opts, maxDownloadBytes: Math.min(maxBytes, opts.maxDownloadBytes ?? maxBytes) });
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of body.chunks) {
    parts.push(chunk);
    n += chunk.length;
  }
  return { bytes: concat(parts, n), downloaded: body.received() };
}

/** The member named `member` (in any folder) of the .tgz at `url`. */
export async function downloadTgzMember(url: string, member: string, opts: DownloadOptions): Promise<Downloaded> {
  const body = responseChunks(url, opts);
  const maxUnpacked = Math.min(MAX_UNPACKED_BYTES, 4 * (opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES));
  const tar = await gunzipBounded(body, url, maxUnpacked, (head, n) => memberEnd(head, n, member));
  return { bytes: tarMember(await tarReader(url), tar, member, url), downloaded: body.received() };
}

interface Body {
  chunks: AsyncGenerator<Uint8Array, void, undefined>;
  received(): number;
  /** ends the transfer at once, even while a read is pending (the chunks then just end) */
  stop(): void;
}

/**
 * The response body as chunks, with the status, size limit, idle timeout and abort enforced.
 * Stopping the iteration early (return/throw) cancels the transfer.
 */
function responseChunks(url: string, opts: DownloadOptions): Body {
  let received = 0;
  let stopped = false;
  const controller = new AbortController();
  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    const doFetch = opts.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (typeof doFetch !== 'function') throw new MobileNetError('INVALID_OPTION', 'this engine has no fetch: pass options.fetch');
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxBytes = opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
    const seconds = `${timeoutMs / 1000} s`;
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
    };
    const userSignal = opts.signal;
    const onAbort = () => controller.abort();
    const aborted = () => new MobileNetError('IO', `download of ${url} aborted${userSignal?.reason !== undefined ? ` (${reasonOf(userSignal.reason)})` : ''}`);
    if (userSignal?.aborted) throw aborted();
    userSignal?.addEventListener('abort', onAbort);
    arm();
    let reader: ReturnType<NonNullable<Awaited<ReturnType<FetchLike>>['body']>['getReader']> | undefined;
    try {
      let res: Awaited<ReturnType<FetchLike>> | undefined;
      for (let attempt = 0; !res; attempt++) {
        try {
          res = await doFetch.call(globalThis, url, { signal: controller.signal });
        } catch (e) {
          if (stopped) return;
          if (userSignal?.aborted) throw aborted();
          const reason = networkReason(e);
          // a pooled keep-alive connection the server closed meanwhile fails at once: retry once
          if (!timedOut && attempt === 0 && (reason === 'UND_ERR_SOCKET' || reason === 'ECONNRESET')) continue;
          throw new UnreachableError(url, timedOut ? `no answer in ${seconds}` : reason);
        }
      }
      if (!res.ok) throw new MobileNetError('IO', `${url}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
      const lengthHeader = res.headers.get('content-length');
      const declared = lengthHeader === null ? NaN : Number(lengthHeader);
      const total = Number.isFinite(declared) && declared >= 0 ? declared : undefined;
      if (total !== undefined && total > maxBytes) {
        throw new MobileNetError('IO', `${url} is ${total} bytes, over the ${mib(maxBytes)} limit: refusing to download it`);
      }
      if (!res.body) throw new MobileNetError('IO', `${url}: empty response`);
      reader = res.body.getReader();
      for (;;) {
        let chunk: { done: boolean; value?: Uint8Array };
        try {
          chunk = await reader.read();
        } catch (e) {
          if (stopped) return;
          if (userSignal?.aborted) throw aborted();
          const where = `after ${received}${total !== undefined ? ` of ${total}` : ''} bytes`;
          if (timedOut) throw new UnreachableError(url, `no data for ${seconds} ${where}`);
          throw new MobileNetError('IO', `download of ${url} broke off ${where} (${networkReason(e)})`);
        }
        arm();
        if (chunk.done) break;
        const value = chunk.value;
        if (!(value instanceof Uint8Array)) throw new MobileNetError('IO', `${url}: the response body gave something other than bytes`);
        received += value.length;
        if (received > maxBytes) throw new MobileNetError('IO', `${url} sent more than the ${mib(maxBytes)} limit: download stopped`);
        opts.onProgress?.(received, total);
        yield value;
      }
      // no check of received === Content-Length: with Content-Encoding it counts the compressed bytes
      // (and a page cannot always see that header); fetch itself fails a body cut short
    } finally {
      clearTimeout(timer);
      userSignal?.removeEventListener('abort', onAbort);
      // stops the transfer when the consumer stopped early or failed
      reader?.cancel().catch(() => {});
    }
  }
  return {
    chunks: chunks(),
    received: () => received,
    stop() {
      stopped = true;
      controller.abort();
    },
  };
}

/**
 * gunzip as the chunks arrive, refusing more than `maxUnpacked` bytes of output. `enough` looks
 * at the output so far and returns where it may be cut (the transfer then stops), or -1.
 */
async function gunzipBounded(
  body: Body,
  url: string,
  maxUnpacked: number,
  enough: (head: Uint8Array, n: number) => number,
): Promise<Uint8Array> {
  const Decompression = (globalThis as { DecompressionStream?: typeof DecompressionStream }).DecompressionStream;
  const chunks = body.chunks;
  if (!Decompression) {
    await chunks.return(undefined);
    throw new MobileNetError('IO', `this engine has no DecompressionStream to unpack ${url}: self-host the bare .tflite files (options.baseUrl)`);
  }
  let first = true;
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) return controller.close();
      if (first && next.value.length > 0) {
        first = false;
        if (next.value[0] !== 0x1f || (next.value.length > 1 && next.value[1] !== 0x8b)) {
          throw new MobileNetError('INVALID_MODEL', `${url}: not a .tgz archive (no gzip header)`);
        }
      }
      controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  const reader = source.pipeThrough(new Decompression('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>).getReader();
  // one growing buffer: the tar headers are read in place as they arrive
  let out = new Uint8Array(1 << 20);
  let n = 0;
  let cut = -1;
  try {
    while (cut < 0) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.length > maxUnpacked) throw new MobileNetError('INVALID_MODEL', `${url}: unpacks to more than ${mib(maxUnpacked)}: refusing it`);
      if (n + value.length > out.length) {
        const grown = new Uint8Array(Math.min(maxUnpacked, Math.max(out.length * 2, n + value.length)));
        grown.set(out.subarray(0, n));
        out = grown;
      }
      out.set(value, n);
      n += value.length;
      cut = enough(out, n);
    }
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    throw new MobileNetError('INVALID_MODEL', `${url}: the archive is truncated or damaged (gunzip: ${reasonOf(e)})`);
  } finally {
    body.stop();
    reader.cancel().catch(() => {});
    await chunks.return(undefined);
  }
  if (first) throw new MobileNetError('INVALID_MODEL', `${url}: empty response, not a .tgz archive`);
  // exactly the bytes received (or up to the cut): nanotar reads `.buffer` whole, and zeros past the end would hide a truncation
  return out.slice(0, cut >= 0 ? cut : n);
}

/**
 * Where the tar data in `head` (n bytes so far) may be cut because the member named `member` is
 * complete in it, else -1. Only a shortcut to stop the transfer early: it follows the plain
 * 512-byte header chain (name, octal size) and nanotar parses the result properly.
 */
function memberEnd(head: Uint8Array, n: number, member: string): number {
  let pos = 0;
  while (pos + 512 <= n) {
    const field = (at: number, len: number) => {
      let s = '';
      for (let i = pos + at; i < pos + at + len && head[i] !== 0; i++) s += String.fromCharCode(head[i]);
      return s;
    };
    const name = field(0, 100);
    const size = parseInt(field(124, 12).trim(), 8);
    if (name === '' || !(size >= 0)) return -1;
    const end = pos + 512 + Math.ceil(size / 512) * 512;
    if (name.split('/').pop() === member && ['0', '7'].includes(field(156, 1) || '0')) return end <= n ? end : -1;
    pos = end;
  }
  return -1;
}

const FILE_TYPES = new Set(['file', 'contiguousFile']);

type ParseTar = typeof import('nanotar').parseTar;

/**
 * nanotar, imported only when an archive is unpacked: the rest of the core has no bare imports,
 * so it loads from a plain folder (Deno without package.json) and only archive downloads need
 * the dependency resolved.
 */
async function tarReader(url: string): Promise<ParseTar> {
  try {
    return (await import('nanotar')).parseTar;
  } catch (e) {
    throw new MobileNetError('UNSUPPORTED_MODEL', `${url} is a .tgz archive, and unpacking it needs the package 'nanotar', which this runtime could not import (${reasonOf(e)}): install the package's dependencies, or self-host the bare .tflite and pass baseUrl`);
  }
}

/** The bytes of the tar member whose base name is `member` (nanotar reads the headers). */
function tarMember(parseTar: ParseTar, tar: Uint8Array, member: string, url: string): Uint8Array {
  const seen: string[] = [];
  let found: Uint8Array | undefined;
  try {
    const items = parseTar(tar, {
      filter: (meta) => {
        const name = meta.name.replace(/^(\.\/)+/, '');
        // garbage read as a header: a size that is not a count, or a name with control characters
        if (!Number.isSafeInteger(meta.size) || meta.size < 0 || /[\x00-\x1f\x7f]/.test(name)) {
          throw new MobileNetError('INVALID_MODEL', `${url}: the gzip data is not a tar archive`);
        }
        if (seen.length < 12) seen.push(name);
        if (found || name.split('/').pop() !== member || !FILE_TYPES.has(meta.type ?? '')) return false;
        if (meta.size > MAX_TFLITE_BYTES) {
          throw new MobileNetError('INVALID_MODEL', `${url}: ${name} is ${meta.size} bytes, over the ${mib(MAX_TFLITE_BYTES)} limit for a MobileNet v1 .tflite`);
        }
        return true;
      },
    });
    // a copy, so the model does not keep the whole unpacked archive alive
    found = items[0]?.data?.slice() ?? (items[0] ? new Uint8Array(0) : undefined);
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    // nanotar indexes past the end of a cut-short archive
    throw new MobileNetError('INVALID_MODEL', `${url}: the archive is truncated or damaged (${reasonOf(e)})`);
  }
  if (!found) throw new MobileNetError('INVALID_MODEL', `${url}: the archive holds no ${member} (it has: ${seen.length ? seen.join(', ') : 'no files'})`);
  return found;
}

/** `parts` joined into one buffer that starts at offset 0 (nanotar reads `.buffer` whole). */
function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1 && parts[0].byteOffset === 0 && parts[0].buffer.byteLength === n) return parts[0];
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The most specific reason a fetch failed: undici puts the system error code in `cause`. */
function networkReason(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
  const cause = err?.cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? err?.message ?? String(e);
}
