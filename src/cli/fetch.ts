/**
 * `mobilenet-wasm fetch [NAME...]`: download the official TensorFlow-hosted MobileNet v1 .tgz
 * archives listed in weights/models.json and keep only their .tflite file, in the user cache
 * folder where load({ model }) and `classify --model NAME` find it.
 *
 * Downloading, unpacking and checking are the portable ones of load({ model }) (src/weights/):
 * the archive is gunzipped as it streams in and never written to disk, the .tflite is checked
 * against the registry, and only then written (with its .sha256 beside it) to a temporary file
 * renamed over the target, so an interrupted or bad download never leaves a .tflite behind.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { MobileNetError } from '../errors.js';
import { checkModelBytes } from '../weights/check.js';
import { downloadTgzMember, UnreachableError, DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_TIMEOUT_MS } from '../weights/download.js';
import { closeMatches, rebaseUrl } from '../weights/load.js';
import { userCacheDir, writeModelFile } from '../weights/node-cache.js';
import { knownModels, type KnownModel } from './models.js';
import { UsageError, errorLine, numberOption, parse } from './common.js';

export { closeMatches, rebaseUrl, UnreachableError, DEFAULT_MAX_DOWNLOAD_BYTES as DEFAULT_MAX_ARCHIVE_BYTES, DEFAULT_TIMEOUT_MS };

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
  /** bytes downloaded */
  downloaded?: number;
}

/** Fetch one model into opts.dir unless it is already there. Throws MobileNetError. */
export async function fetchModel(model: KnownModel, opts: FetchOptions): Promise<FetchResult> {
  const fileName = `${model.name}.tflite`;
  const path = join(opts.dir, fileName);
  if (!opts.force && existsSync(path)) return { name: model.name, path, status: 'present' };
  const url = rebaseUrl(model.url, opts.baseUrl);
  const progress = byteProgress(basename(model.file, '.tflite'), opts.progress ?? process.stderr);
  let got;
  try {
    got = await downloadTgzMember(url, model.file, {
      timeoutMs: opts.timeoutMs,
      maxDownloadBytes: opts.maxArchiveBytes,
      onProgress: (n, total) => progress.update(n, total),
    });
  } catch (e) {
    progress.abandon();
    if (e instanceof UnreachableError) {
      throw new UnreachableError(e.url, e.reason, `offline? Put the .tflite files in ${opts.dir} by hand or set MOBILENET_WASM_MODELS to a folder holding them`);
    }
    throw e;
  }
  progress.done(got.downloaded);
  const { sha256, checksum } = await checkModelBytes(model, got.bytes, url);
  await writeModelFile(path, { bytes: got.bytes, sha256 });
  return { name: model.name, path, status: 'fetched', bytes: got.bytes.length, sha256, checksum, downloaded: got.downloaded };
}

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

const formatAlpha = (a: number) => (Number.isInteger(a) ? a.toFixed(1) : String(a));

/**
 * `fetch [NAME...] [--all] [--list] [--force] [--dir DIR] [--base-url URL] [--timeout SEC] [--max-size MIB]`
 * Target folder: --dir, else $MOBILENET_WASM_MODELS (where classify looks first), else the user cache folder.
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
  const dir = resolve(values.dir ?? process.env.MOBILENET_WASM_MODELS ?? userCacheDir());

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
    models = [...registry.models];
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
