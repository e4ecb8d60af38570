/**
 * `mobilenet-wasm fetch [NAME...]`: download the official TensorFlow-hosted MobileNet v1 .tgz
 * archives listed in weights/models.json and keep only their .tflite file.
 *
 * The archive is never written to disk: the response body streams through node:zlib's gunzip
 * into the `tar` package's parser, which hands us the one .tflite member (the 2018 archives also
 * hold checkpoints and frozen graphs we do not need, so the download stops as soon as that member
 * is complete). The member is collected in memory (at most MAX_TFLITE_BYTES; the largest real one
 * is ~17 MB) because it has to be parsed by readTflite anyway; only after every check passes is it
 * written to a temporary file beside the target and renamed over it, so an interrupted or bad
 * download never leaves a .tflite behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { MobileNetError } from '../errors.js';
import { readTflite } from '../formats/tflite.js';
import { scaledDepth, STEM_CHANNELS } from '../arch/mobilenet.js';
import { sizeOf } from '../model/ir.js';
import { FETCHED_DIR, knownModels, type KnownModel } from './models.js';
import { UsageError, errorLine, io, ioReason, numberOption, parse } from './common.js';

/** Archives larger than this are refused. The 1.0 float archives bundle checkpoints and a frozen
 * graph beside the 17 MB .tflite (several times its size), so the cap is well above 64 MiB;
 * it exists to stop a runaway or hostile response, not to size real files. */
export const DEFAULT_MAX_ARCHIVE_BYTES = 256 * 2 ** 20;
/** The .tflite member itself (the largest MobileNet v1 file is ~17 MB). */
export const MAX_TFLITE_BYTES = 64 * 2 ** 20;
/** No data for this long means the host is unreachable or the transfer is stuck. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface FetchOptions {
  /** folder receiving NAME.tflite */
  dir: string;
  /** replaces scheme, host and port of the registry URLs (a path prefix is kept) */
  baseUrl?: string;
  timeoutMs?: number;
  maxArchiveBytes?: number;
  /** download even if NAME.tflite is already in `dir` */
  force?: boolean;
  /** where progress goes (default: process.stderr) */
  progress?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
}

export interface FetchResult {
  name: string;
  path: string;
  /** 'present': skipped, the file was already there */
  status: 'fetched' | 'present';
  bytes?: number;
  sha256?: string;
  /** 'matched' = equal to the sha256 recorded in weights/models.json */
  checksum?: 'matched' | 'unrecorded';
  /** bytes actually downloaded (less than the archive when the .tflite comes early) */
  downloaded?: number;
}

/** The host did not answer (DNS, refused, timeout): fetching further models would fail too. */
export class UnreachableError extends MobileNetError {
  constructor(
    readonly host: string,
    reason: string,
    dir: string,
  ) {
    super(
      'IO',
      `cannot reach ${host} (${reason}): offline? Put the .tflite files in ${dir} by hand ` +
        `or set MOBILENET_WASM_MODELS to a folder holding them`,
    );
  }
}

/** The registry URL with its origin replaced by `base` (whose path, if any, prefixes the original path). */
export function rebaseUrl(url: string, base: string | undefined): string {
  if (!base) return url;
  const b = new URL(base);
  const u = new URL(url);
  return `${b.origin}${b.pathname.replace(/\/+$/, '')}${u.pathname}${u.search}`;
}

/** Fetch one model into opts.dir unless it is already there. Throws MobileNetError. */
export async function fetchModel(model: KnownModel, opts: FetchOptions): Promise<FetchResult> {
  const fileName = `${model.name}.tflite`;
  const path = join(opts.dir, fileName);
  if (!opts.force && existsSync(path)) return { name: model.name, path, status: 'present' };
  const url = rebaseUrl(model.url, opts.baseUrl);
  const { bytes, downloaded } = await downloadMember(url, model.file, opts);
  const { sha256, checksum } = checkModelBytes(model, bytes, url);
  await saveAtomically(opts.dir, fileName, bytes);
  return { name: model.name, path, status: 'fetched', bytes: bytes.length, sha256, checksum, downloaded };
}

/**
 * Check the extracted .tflite against the registry: recorded size and sha256 when known, then
 * that our reader accepts it and that it is the model the name promises (input resolution and
 * dtype, stem width alpha*32, 1001 ImageNet classes).
 */
export function checkModelBytes(
  model: KnownModel,
  bytes: Uint8Array,
  source = model.url,
): { sha256: string; checksum: 'matched' | 'unrecorded' } {
  const what = `${model.file} from ${source}`;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (model.size !== null && bytes.length !== model.size) {
    throw new MobileNetError('INVALID_MODEL', `${what} is ${bytes.length} bytes, weights/models.json records ${model.size}`);
  }
  if (model.sha256 !== null && sha256 !== model.sha256.toLowerCase()) {
    throw new MobileNetError('INVALID_MODEL', `${what} has sha256 ${sha256}, weights/models.json records ${model.sha256}`);
  }
  let graph;
  try {
    graph = readTflite(bytes);
  } catch (e) {
    const msg = e instanceof MobileNetError ? e.message : String(e);
    throw new MobileNetError('INVALID_MODEL', `${what} is not a model we can read: ${msg}`);
  }
  const r = model.resolution;
  const shape = graph.input.shape;
  if (shape.length !== 4 || shape[1] !== r || shape[2] !== r || shape[3] !== 3) {
    throw new MobileNetError('INVALID_MODEL', `${what} takes input [${shape.join(',')}], expected [1,${r},${r},3] for ${model.name}`);
  }
  if (graph.input.dtype !== model.precision) {
    throw new MobileNetError('INVALID_MODEL', `${what} takes ${graph.input.dtype} input, expected ${model.precision} for ${model.name}`);
  }
  const stem = graph.ops[0];
  const stemChannels = scaledDepth(STEM_CHANNELS, model.alpha);
  if (stem?.op !== 'conv2d' || stem.output.shape[3] !== stemChannels) {
    const got = stem?.op === 'conv2d' ? `${stem.output.shape[3]} channels` : `a ${stem?.op ?? 'missing'} op`;
    throw new MobileNetError('INVALID_MODEL', `${what} starts with ${got}, expected a conv2d with ${stemChannels} channels (alpha ${model.alpha})`);
  }
  const classes = sizeOf(graph.output.shape);
  if (model.labels === 'imagenet_1001' && classes !== 1001) {
    throw new MobileNetError('INVALID_MODEL', `${what} has ${classes} outputs, expected the 1001 ImageNet classes`);
  }
  return { sha256, checksum: model.sha256 !== null ? 'matched' : 'unrecorded' };
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * Stream the .tgz at `url` and return the bytes of its member named `member` (any folder).
 * Enforces the status, the size cap (Content-Length and while streaming) and the idle timeout.
 */
async function downloadMember(url: string, member: string, opts: FetchOptions): Promise<{ bytes: Uint8Array; downloaded: number }> {
  const host = new URL(url).host;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxArchive = opts.maxArchiveBytes ?? DEFAULT_MAX_ARCHIVE_BYTES;
  const seconds = `${timeoutMs / 1000} s`;

  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
  };

  arm();
  let res: Response | undefined;
  for (let attempt = 0; !res; attempt++) {
    try {
      res = await fetch(url, { signal: controller.signal });
    } catch (e) {
      const reason = networkReason(e);
      // a pooled keep-alive connection the server closed meanwhile fails at once: retry once
      if (!timedOut && attempt === 0 && (reason === 'UND_ERR_SOCKET' || reason === 'ECONNRESET')) continue;
      clearTimeout(timer);
      throw new UnreachableError(host, timedOut ? `no answer in ${seconds}` : reason, opts.dir);
    }
  }
  const progress = byteProgress(basename(member, '.tflite'), opts.progress ?? process.stderr);
  try {
    if (!res.ok) {
      throw new MobileNetError('IO', `${url}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
    }
    const lengthHeader = res.headers.get('content-length');
    const declared = lengthHeader === null ? NaN : Number(lengthHeader);
    const total = Number.isFinite(declared) ? declared : undefined;
    if (total !== undefined && total > maxArchive) {
      throw new MobileNetError('IO', `${url} is ${total} bytes, over the ${mib(maxArchive)} limit: refusing to download it`);
    }
    if (!res.body) throw new MobileNetError('IO', `${url}: empty response`);

    const reader = res.body.getReader();
    // member complete or archive bad: end the pending read at once instead of waiting for more data
    const extract = memberExtractor(member, url, 4 * maxArchive, () => void reader.cancel().catch(() => {}));
    let received = 0;
    try {
      for (;;) {
        extract.throwIfFailed();
        if (extract.complete()) break;
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          const where = `after ${received}${total !== undefined ? ` of ${total}` : ''} bytes`;
          if (timedOut) throw new UnreachableError(host, `no data for ${seconds} ${where}`, opts.dir);
          throw new MobileNetError('IO', `download of ${url} broke off ${where} (${networkReason(e)})`);
        }
        arm();
        if (chunk.done) break;
        received += chunk.value.byteLength;
        if (received > maxArchive) {
          throw new MobileNetError('IO', `${url} sent more than the ${mib(maxArchive)} limit: download stopped`);
        }
        progress.update(received, total);
        await extract.write(chunk.value);
      }
      extract.throwIfFailed();
      if (!extract.complete()) await extract.end();
    } finally {
      clearTimeout(timer);
      // stops the transfer when the member came before the end of the archive, or on error
      reader.cancel().catch(() => {});
      extract.destroy();
    }
    progress.done(received);
    return { bytes: extract.bytes(), downloaded: received };
  } catch (e) {
    progress.abandon();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** gunzip -> tar parser -> the bytes of one member; every failure becomes a MobileNetError. */
function memberExtractor(member: string, url: string, maxUnpacked: number, stop: () => void) {
  const gunzip = createGunzip();
  let failure: MobileNetError | undefined;
  const fail = (msg: string) => {
    failure ??= new MobileNetError('INVALID_MODEL', `${url}: ${msg}`);
    stop();
  };
  const seen: string[] = [];
  let data: Uint8Array | undefined;
  let filled = 0;
  let complete = false;
  let unpacked = 0;

  const parser = new Parser({
    strict: true,
    zstd: false, // the input is already gunzipped: no second decompression sniffing
    brotli: false,
    onReadEntry: (entry: ReadEntry) => {
      const path = entry.path.replace(/^(\.\/)+/, '');
      if (seen.length < 12) seen.push(path);
      if (data || basename(path) !== member || !FILE_TYPES.has(entry.type)) {
        entry.resume();
        return;
      }
      const size = entry.size ?? 0;
      if (size > MAX_TFLITE_BYTES) {
        fail(`${path} is ${size} bytes, over the ${mib(MAX_TFLITE_BYTES)} limit for a MobileNet v1 .tflite`);
        entry.resume();
        return;
      }
      const buf = new Uint8Array(size);
      data = buf;
      entry.on('data', (c: Buffer) => {
        if (filled + c.length > size) return fail(`${path} is longer than its tar header says`);
        buf.set(c, filled);
        filled += c.length;
      });
      // the parser ends a member cut short by the end of input too: count the bytes
      entry.on('end', () => {
        complete = filled === size;
        if (complete) stop();
      });
    },
  });
  parser.on('error', (e: Error & { tarCode?: string }) => {
    if (/Truncated input/.test(e.message)) fail('the archive is truncated');
    else if (e.tarCode === 'TAR_BAD_ARCHIVE' || e.tarCode === 'TAR_ENTRY_INVALID') fail('the gzip data is not a tar archive');
    else fail(`bad tar archive: ${e.message}`);
  });
  const parsed = new Promise<void>((done) => {
    parser.on('end', done);
    gunzip.on('error', () => done());
  });
  gunzip.on('error', (e: Error & { code?: string }) => {
    if (e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message)) fail('the archive is truncated (gzip stream ends early)');
    else fail(`not a .tgz archive (gunzip: ${e.message})`);
  });
  gunzip.on('data', (c: Buffer) => {
    if (failure || complete) return;
    unpacked += c.length;
    if (unpacked > maxUnpacked) return fail(`unpacks to more than ${mib(maxUnpacked)}: refusing it`);
    parser.write(c);
  });
  gunzip.on('end', () => parser.end());

  return {
    complete: () => complete && !failure,
    throwIfFailed() {
      if (failure) throw failure;
    },
    async write(chunk: Uint8Array) {
      // a gunzip error rejects `once`; it is already recorded in `failure`, reported by the caller
      if (!gunzip.write(chunk)) await Promise.race([once(gunzip, 'drain'), parsed]).catch(() => {});
    },
    /** input finished: flush gunzip and the parser, then decide */
    async end() {
      gunzip.end();
      await parsed;
      if (failure) throw failure;
      if (!complete) {
        if (data) fail(`the archive is truncated inside ${member}`);
        else fail(`the archive holds no ${member} (it has: ${seen.length ? seen.join(', ') : 'no files'})`);
        throw failure!;
      }
    },
    bytes: () => data!,
    destroy: () => gunzip.destroy(),
  };
}

function networkReason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
  const cause = err?.cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? err?.message ?? String(e);
}

async function saveAtomically(dir: string, fileName: string, bytes: Uint8Array): Promise<void> {
  const final = join(dir, fileName);
  // not *.tflite, so a leftover (power loss between write and rename) is never taken for a model
  const tmp = join(dir, `.${fileName}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  await io('create', dir, () => mkdir(dir, { recursive: true }), 'folder');
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new MobileNetError('IO', `cannot write ${final}: ${ioReason(e, 'write')}`);
  }
}

const mib = (n: number) => `${+(n / 2 ** 20).toFixed(1)} MiB`;
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Bytes downloaded, redrawn in place on a terminal (at most 10 times a second); silent otherwise. */
function byteProgress(label: string, out: { write(s: string): unknown; isTTY?: boolean }) {
  const tty = !!out.isTTY;
  let last = 0;
  let drawn = false;
  let total: number | undefined;
  const draw = (n: number) => {
    const of = total ? ` / ${mb(total)} ${Math.floor((100 * n) / total)}%` : '';
    out.write(`\r${label}  ${mb(n)}${of}\x1b[K`); // \x1b[K: clear what a longer line left
    drawn = true;
  };
  return {
    update(n: number, size?: number) {
      total = size;
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw(n);
    },
    done(n: number) {
      if (tty) {
        draw(n);
        out.write('\n');
      }
    },
    abandon() {
      if (drawn) out.write('\n');
    },
  };
}

/** Registry names closest to `name`: containing it, or within a small edit distance. */
export function closeMatches(name: string, names: string[], limit = 4): string[] {
  const q = name.toLowerCase().replace(/\.tflite$/, '');
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

const formatAlpha = (a: number) => (Number.isInteger(a) ? a.toFixed(1) : String(a));

/**
 * `fetch [NAME...] [--all] [--list] [--force] [--dir DIR] [--base-url URL] [--timeout SEC] [--max-size MIB]`
 * Target folder: --dir, else $MOBILENET_WASM_MODELS (where classify looks first), else weights/models/.
 * Host override: --base-url, else $MOBILENET_WASM_FETCH_BASE.
 */
export async function cmdFetch(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    all: { type: 'boolean' },
    list: { type: 'boolean' },
    force: { type: 'boolean' },
    dir: { type: 'string' },
    'base-url': { type: 'string' },
    timeout: { type: 'string' },
    'max-size': { type: 'string' },
  });
  const registry = knownModels();
  const dir = resolve(values.dir ?? process.env.MOBILENET_WASM_MODELS ?? FETCHED_DIR);

  const baseUrl = values['base-url'] ?? process.env.MOBILENET_WASM_FETCH_BASE ?? undefined;
  if (baseUrl) {
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(baseUrl).protocol);
    } catch {
      /* reported below */
    }
    const from = values['base-url'] !== undefined ? '--base-url' : '$MOBILENET_WASM_FETCH_BASE';
    if (!ok) throw new UsageError(`${from} must be an http(s) URL, got '${baseUrl}'`);
  }
  const timeoutSec = numberOption(values, 'timeout', { min: 0, minExclusive: true, max: 3600, unit: 'seconds' });
  const maxMib = numberOption(values, 'max-size', { min: 0, minExclusive: true, max: 4096, unit: 'MiB' });

  if (values.list) {
    if (positionals.length || values.all) throw new UsageError('fetch --list takes no model names');
    const rows = registry.models.map((m) => [
      m.name + (m.name === registry.default ? ' (default)' : ''),
      m.precision,
      formatAlpha(m.alpha),
      String(m.resolution),
      existsSync(join(dir, `${m.name}.tflite`)) ? 'yes' : '-',
    ]);
    const head = ['name', 'precision', 'alpha', 'resolution', 'present'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n';
    process.stdout.write(line(head) + rows.map(line).join('') + `(present = in ${dir})\n`);
    return;
  }

  let models: KnownModel[];
  if (values.all) {
    if (positionals.length) throw new UsageError('give model names or --all, not both');
    models = registry.models;
  } else {
    const byName = new Map(registry.models.map((m) => [m.name, m]));
    const names = positionals.length ? positionals : [registry.default];
    models = [];
    for (const raw of names) {
      const name = basename(raw).replace(/\.(tflite|tgz)$/, '');
      const m = byName.get(name);
      if (!m) {
        const close = closeMatches(name, [...byName.keys()]);
        throw new UsageError(
          `unknown model '${raw}'` +
            (close.length ? `; did you mean ${close.join(', ')}?` : '') +
            ` (\`mobilenet-wasm fetch --list\` shows all ${byName.size})`,
        );
      }
      if (!models.includes(m)) models.push(m);
    }
  }

  const opts: FetchOptions = {
    dir,
    baseUrl,
    force: !!values.force,
    timeoutMs: timeoutSec === undefined ? undefined : timeoutSec * 1000,
    maxArchiveBytes: maxMib === undefined ? undefined : Math.floor(maxMib * 2 ** 20),
  };
  const tty = !!process.stderr.isTTY;
  const failures: string[] = [];
  for (const model of models) {
    if (!tty) process.stderr.write(`${model.name}: fetching ${rebaseUrl(model.url, baseUrl)}\n`);
    let r: FetchResult;
    try {
      r = await fetchModel(model, opts);
    } catch (e) {
      // one unreachable host, or a single model: nothing else to try
      if (models.length === 1 || e instanceof UnreachableError || !(e instanceof MobileNetError)) throw e;
      failures.push(model.name);
      process.stderr.write(errorLine(e, model.name));
      continue;
    }
    if (r.status === 'present') {
      process.stdout.write(`${model.name}: already in ${dir} (--force fetches it again)\n`);
      continue;
    }
    process.stdout.write(`${model.name}: saved ${r.path} (${r.bytes} bytes, ${model.precision} ${formatAlpha(model.alpha)}/${model.resolution})\n`);
    process.stdout.write(
      r.checksum === 'matched'
        ? `  sha256 ${r.sha256} matches weights/models.json\n`
        : `  no recorded checksum; sha256 ${r.sha256} (size ${r.bytes}) can be recorded in weights/models.json\n`,
    );
  }
  if (failures.length) {
    throw new MobileNetError('IO', `${failures.length} of ${models.length} models could not be fetched: ${failures.join(', ')}`);
  }
}
