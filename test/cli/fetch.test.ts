/**
 * `mobilenet-wasm fetch` against a local HTTP server (no internet in tests): the archives are
 * .tgz files built here around .tflite files written from random-weight graphs whose alpha,
 * resolution and dtype match (or deliberately do not match) the registry entry.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { create as createTar } from 'tar';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cmdFetch, closeMatches, fetchModel, rebaseUrl, UnreachableError } from '../../src/cli/fetch.js';
import { knownModels, resolveModel, type KnownModel } from '../../src/cli/models.js';
import { main, UsageError } from '../../src/cli/main.js';
import { buildMobileNetV1, type Precision } from '../../src/arch/mobilenet.js';
import { writeTflite } from '../../src/formats/tflite-writer.js';
import { readTflite } from '../../src/formats/tflite.js';
import { MobileNetError } from '../../src/errors.js';

const NAME = 'mobilenet_v1_0.25_128_quant';
const MEMBER = `${NAME}.tflite`;
const ARCHIVE = `${NAME}.tgz`;

const tflite = (alpha: number, resolution: number, precision: Precision) =>
  writeTflite(buildMobileNetV1({ alpha, resolution, precision, classes: 1001 }));

let work: string;
let goodModel: Uint8Array;

/** A gzipped tar of `files` (name -> bytes), in that order, made with the `tar` package. */
async function tgz(files: [string, Uint8Array][]): Promise<Buffer> {
  const src = mkdtempSync(join(work, 'src-'));
  for (const [name, bytes] of files) {
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), bytes);
  }
  const out = join(work, `a-${basename(src)}.tgz`);
  await createTar({ gzip: true, file: out, cwd: src, portable: true }, files.map(([n]) => `./${n}`));
  return readFileSync(out);
}

/** Deterministic incompressible filler (stands in for the checkpoints in the real archives). */
function filler(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

// ---- local server: each test installs a handler; requests are recorded
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
let handler: Handler;
let requests: string[];

function serve(body: Uint8Array, opts: { status?: number; contentLength?: number | null } = {}): Handler {
  return (_req, res) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/x-gzip' };
    const len = opts.contentLength === undefined ? body.length : opts.contentLength;
    if (len !== null) headers['content-length'] = len;
    res.writeHead(opts.status ?? 200, headers);
    res.end(body);
  };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mnw-fetch-'));
  goodModel = tflite(0.25, 128, 'uint8');
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

let dir: string;
let stdout: string;
let stderr: string;
// a fresh server (new port) per test, so no pooled connection carries over from one test to the next
beforeEach(async () => {
  dir = mkdtempSync(join(work, 'models-'));
  requests = [];
  handler = (_req, res) => {
    res.writeHead(500);
    res.end();
  };
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
});
afterEach(async () => {
  vi.restoreAllMocks();
  server.closeAllConnections(); // the stalling handlers never end their responses
  await new Promise((done) => server.close(done));
});

const fetchArgs = (...extra: string[]) => ['--dir', dir, '--base-url', base, ...extra];
/** The rejection of a fetch, checked to be a MobileNetError. */
async function fetchError(argv: string[]): Promise<MobileNetError> {
  const e = await cmdFetch(argv).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(MobileNetError);
  return e as MobileNetError;
}
/** Nothing but the directory listing: no .tflite, no temporary file left behind. */
const filesIn = (d: string) => (existsSync(d) ? readdirSync(d) : []);

describe('fetch: success', () => {
  it('extracts the .tflite, verifies it and prints its sha256', async () => {
    const archive = await tgz([
      ['mobilenet_v1_0.25_128_quant_info.txt', new TextEncoder().encode('input: input\n')],
      [MEMBER, goodModel],
      ['mobilenet_v1_0.25_128_quant.ckpt.data-00000-of-00001', filler(100_000)],
    ]);
    handler = serve(archive);
    await cmdFetch(fetchArgs(NAME));

    expect(requests).toEqual(['/download.tensorflow.org/models/mobilenet_v1_2018_08_02/mobilenet_v1_0.25_128_quant.tgz']);
    expect(filesIn(dir)).toEqual([MEMBER, `${MEMBER}.sha256`]);
    const saved = new Uint8Array(readFileSync(join(dir, MEMBER)));
    expect(Buffer.compare(saved, goodModel)).toBe(0);
    expect(readTflite(saved).input.shape).toEqual([1, 128, 128, 3]);
    const sha = createHash('sha256').update(goodModel).digest('hex');
    expect(stdout).toContain('no recorded checksum');
    expect(stdout).toContain(sha);
    expect(stdout).toContain(`(${goodModel.length} bytes, uint8 0.25/128)`);
    // the digest beside the file, in sha256sum format: load({ model }) checks it on every read
    expect(readFileSync(join(dir, `${MEMBER}.sha256`), 'utf8')).toBe(`${sha}  ${MEMBER}\n`);
  });

  it('skips a model already present unless --force', async () => {
    handler = serve(await tgz([[MEMBER, goodModel]]));
    writeFileSync(join(dir, MEMBER), 'placeholder');
    await cmdFetch(fetchArgs(NAME));
    expect(requests).toHaveLength(0);
    expect(stdout).toContain('already in');
    expect(readFileSync(join(dir, MEMBER), 'utf8')).toBe('placeholder');

    await cmdFetch(fetchArgs(NAME, '--force'));
    expect(requests).toHaveLength(1);
    expect(Buffer.compare(readFileSync(join(dir, MEMBER)), goodModel)).toBe(0);
    expect(filesIn(dir)).toEqual([MEMBER, `${MEMBER}.sha256`]);
  });

  it('stops reading once the .tflite member is complete', async () => {
    const tar = gunzipSync(
      await tgz([
        [MEMBER, goodModel],
        ['mobilenet_v1_0.25_128_quant_frozen.pb', filler(1_000_000)],
      ]),
    );
    // three gzip members (still a valid .tgz): all of the .tflite but its last byte; that byte,
    // the tar padding and the next header (the tar parser works in whole 512-byte blocks);
    // the rest of the archive
    const dataEnd = 512 + goodModel.length;
    const nextHeaderEnd = 512 + Math.ceil(goodModel.length / 512) * 512 + 512;
    const first = gzipSync(tar.subarray(0, dataEnd - 1));
    const second = gzipSync(tar.subarray(dataEnd - 1, nextHeaderEnd));
    const archive = Buffer.concat([first, second, gzipSync(tar.subarray(nextHeaderEnd))]);
    // sends the first member, later the small second one, then stalls: only a fetch that stops
    // as soon as the .tflite is complete succeeds (waiting for more data hits the timeout)
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': archive.length });
      res.write(first, () => setTimeout(() => res.write(second), 50));
    };
    const model = knownModels().models.find((m) => m.name === NAME)!;
    const r = await fetchModel(model, { dir, baseUrl: base, timeoutMs: 5_000, progress: { write: () => true } });
    expect(r.status).toBe('fetched');
    expect(r.downloaded).toBe(first.length + second.length);
    expect(Buffer.compare(readFileSync(r.path), goodModel)).toBe(0);
  });

  it('retries once when the server has dropped the pooled connection', async () => {
    handler = serve(await tgz([[MEMBER, goodModel]]));
    await cmdFetch(fetchArgs(NAME));
    server.closeAllConnections(); // the keep-alive socket undici pooled is now dead
    await cmdFetch(fetchArgs(NAME, '--force'));
    expect(requests).toHaveLength(2);
    expect(Buffer.compare(readFileSync(join(dir, MEMBER)), goodModel)).toBe(0);
  });

  it('checks a recorded sha256 and size', async () => {
    handler = serve(await tgz([[MEMBER, goodModel]]));
    const entry = knownModels().models.find((m) => m.name === NAME)!;
    const sha = createHash('sha256').update(goodModel).digest('hex');
    const quiet = { write: () => true };
    const ok = await fetchModel({ ...entry, sha256: sha, size: goodModel.length }, { dir, baseUrl: base, progress: quiet });
    expect(ok.checksum).toBe('matched');

    const other = mkdtempSync(join(work, 'models-'));
    const wrongSha: KnownModel = { ...entry, sha256: sha.replace(/^./, (c) => (c === '0' ? '1' : '0')), size: null };
    await expect(fetchModel(wrongSha, { dir: other, baseUrl: base, progress: quiet })).rejects.toThrow(/has sha256 .* records/);
    const wrongSize: KnownModel = { ...entry, sha256: null, size: goodModel.length + 1 };
    await expect(fetchModel(wrongSize, { dir: other, baseUrl: base, progress: quiet })).rejects.toThrow(/weights\/models.json records/);
    expect(filesIn(other)).toEqual([]);
  });
});

describe('fetch: server and archive failures leave no file', () => {
  afterEach(() => {
    expect(filesIn(dir)).toEqual([]);
  });

  it('HTTP 404', async () => {
    handler = (_req, res) => {
      res.writeHead(404, 'Not Found');
      res.end('no such object');
    };
    const e = await fetchError(fetchArgs(NAME));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/HTTP 404 Not Found/);
  });

  it('body cut short (connection closed before Content-Length bytes)', async () => {
    const archive = await tgz([[MEMBER, goodModel]]);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': archive.length });
      res.write(archive.subarray(0, archive.length >> 1), () => res.destroy());
    };
    const e = await fetchError(fetchArgs(NAME));
    expect(e.message).toMatch(/broke off after \d+ of \d+ bytes/);
  });

  it('archive truncated (no Content-Length, stream ends early)', async () => {
    const archive = await tgz([[MEMBER, goodModel]]);
    handler = serve(archive.subarray(0, archive.length >> 1), { contentLength: null });
    const e = await fetchError(fetchArgs(NAME));
    expect(e.message).toMatch(/truncated/);
  });

  it('tar truncated inside the member (complete gzip stream)', async () => {
    const tar = gunzipSync(await tgz([[MEMBER, goodModel]]));
    handler = serve(gzipSync(tar.subarray(0, 512 + (goodModel.length >> 1))));
    const e = await fetchError(fetchArgs(NAME));
    expect(e.message).toMatch(/truncated/);
  });

  it('not a .tgz', async () => {
    handler = serve(new TextEncoder().encode('<html>captive portal</html>'));
    const e = await fetchError(fetchArgs(NAME));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toMatch(/not a \.tgz archive/);
  });

  it('gzip of something that is not a tar', async () => {
    handler = serve(gzipSync(filler(5000)));
    const e = await fetchError(fetchArgs(NAME));
    expect(e.message).toMatch(/not a tar archive/);
  });

  it('tgz without the .tflite', async () => {
    handler = serve(await tgz([['mobilenet_v1_0.25_128_quant_info.txt', new Uint8Array(10)], ['other.tflite', goodModel]]));
    const e = await fetchError(fetchArgs(NAME));
    expect(e.message).toMatch(/holds no mobilenet_v1_0\.25_128_quant\.tflite \(it has: mobilenet_v1_0\.25_128_quant_info\.txt, other\.tflite\)/);
  });

  it('member that is not a .tflite', async () => {
    handler = serve(await tgz([[MEMBER, new TextEncoder().encode('not a flatbuffer at all')]]));
    const e = await fetchError(fetchArgs(NAME));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toMatch(/is not a model we can read: not a TensorFlow Lite model/);
  });

  it('.tflite of the wrong resolution', async () => {
    handler = serve(await tgz([[MEMBER, tflite(0.25, 160, 'uint8')]]));
    const e = await fetchError(fetchArgs(NAME));
    expect(e.message).toMatch(/takes input \[1,160,160,3\], expected \[1,128,128,3\]/);
  });

  it('.tflite of the wrong alpha', async () => {
    handler = serve(await tgz([[MEMBER, tflite(0.5, 128, 'uint8')]]));
    const e = await fetchError(fetchArgs(NAME));
    expect(e.message).toMatch(/starts with 16 channels, expected a conv2d with 8 channels/);
  });

  it('.tflite of the wrong precision', async () => {
    handler = serve(await tgz([[MEMBER, tflite(0.25, 128, 'float32')]]));
    const e = await fetchError(fetchArgs(NAME));
    expect(e.message).toMatch(/takes float32 input, expected uint8/);
  });

  it('Content-Length over the limit is refused before reading', async () => {
    const archive = await tgz([[MEMBER, goodModel]]);
    handler = serve(archive);
    const e = await fetchError(fetchArgs(NAME, '--max-size', '0.1'));
    expect(e.message).toMatch(new RegExp(`is ${archive.length} bytes, over the 0.1 MiB limit`));
  });

  it('body over the limit without Content-Length is stopped while streaming', async () => {
    handler = serve(await tgz([['filler.bin', filler(300_000)], [MEMBER, goodModel]]), { contentLength: null });
    const e = await fetchError(fetchArgs(NAME, '--max-size', '0.1'));
    expect(e.message).toMatch(/sent more than the 0.1 MiB limit/);
  });
});

describe('fetch: unreachable host', () => {
  const offline = /^cannot reach 127\.0\.0\.1:\d+ \(.+\): offline\? Put the \.tflite files in .+ by hand or set MOBILENET_WASM_MODELS to a folder holding them$/;

  it('connection refused', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const e = await fetchError(['--dir', dir, '--base-url', `http://127.0.0.1:${port}`, NAME]);
    expect(e).toBeInstanceOf(UnreachableError);
    expect(e.message).toMatch(offline);
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.message).toContain(dir);
  });

  it('the CLI prints one line and exits 1 (2 for a usage error)', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    expect(await main(['fetch', '--dir', dir, '--base-url', `http://127.0.0.1:${port}`, NAME])).toBe(1);
    const errors = stderr.split('\n').filter((l) => l.startsWith('mobilenet-wasm:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^mobilenet-wasm: error: IO: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\): offline\?/);
    expect(await main(['fetch', '--dir', dir, 'no_such_model'])).toBe(2);
  });

  it('server that never answers', async () => {
    handler = () => {}; // accepts the request, sends nothing
    const e = await fetchError(fetchArgs(NAME, '--timeout', '0.3'));
    expect(e.message).toMatch(offline);
    expect(e.message).toContain('no answer in 0.3 s');
  });

  it('server that stalls mid-body', async () => {
    const archive = await tgz([[MEMBER, goodModel]]);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': archive.length });
      res.write(archive.subarray(0, 1000));
    };
    const e = await fetchError(fetchArgs(NAME, '--timeout', '0.3'));
    expect(e.message).toMatch(offline);
    expect(e.message).toMatch(/no data for 0.3 s after 1000 of \d+ bytes/);
    expect(filesIn(dir)).toEqual([]);
  });

  it('stops at the first unreachable model instead of trying the rest', async () => {
    handler = () => {};
    await fetchError(fetchArgs('--timeout', '0.2', NAME, 'mobilenet_v1_0.25_160_quant'));
    expect(requests).toHaveLength(1);
  });
});

describe('fetch: names, --list, --all', () => {
  it('continues past a bad model and reports the failures', async () => {
    const good = await tgz([[MEMBER, goodModel]]);
    handler = (req, res) => (req.url!.endsWith(ARCHIVE) ? serve(good)(req, res) : serve(new Uint8Array(0), { status: 404 })(req, res));
    const e = await fetchError(fetchArgs('mobilenet_v1_0.25_160_quant', NAME));
    expect(e.message).toBe('1 of 2 models could not be fetched: mobilenet_v1_0.25_160_quant');
    expect(stderr).toMatch(/^mobilenet-wasm: error: IO: .*mobilenet_v1_0\.25_160_quant.*HTTP 404/m);
    expect(filesIn(dir)).toEqual([MEMBER, `${MEMBER}.sha256`]);
  });

  it('no name fetches the registry default', async () => {
    handler = serve(new Uint8Array(0), { status: 404 });
    await fetchError(fetchArgs());
    expect(requests.map((u) => basename(u))).toEqual([`${knownModels().default}.tgz`]);
  });

  it('--all asks for every registry model', async () => {
    handler = serve(new Uint8Array(0), { status: 404 });
    const e = await fetchError(fetchArgs('--all'));
    const n = knownModels().models.length;
    expect(n).toBe(32);
    expect(e.message).toMatch(new RegExp(`^${n} of ${n} models could not be fetched`));
    expect(new Set(requests.map((u) => basename(u))).size).toBe(n);
  });

  it('unknown names are usage errors with close matches', async () => {
    const e = await cmdFetch(fetchArgs('mobilenet_v1_1.0_225_quant')).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(/unknown model 'mobilenet_v1_1.0_225_quant'; did you mean mobilenet_v1_1.0_224_quant/);
    expect(closeMatches('0.5_160', knownModels().models.map((m) => m.name))).toEqual(['mobilenet_v1_0.5_160', 'mobilenet_v1_0.5_160_quant']);
    expect(closeMatches('resnet50', knownModels().models.map((m) => m.name))).toEqual([]);
    expect(requests).toHaveLength(0);
  });

  it('a --dir that cannot be created is an IO error naming it and the reason', async () => {
    handler = serve(await tgz([[MEMBER, goodModel]]));
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    expect(await main(['fetch', '--dir', file, '--base-url', base, NAME])).toBe(1);
    const errors = stderr.split('\n').filter((l) => l.startsWith('mobilenet-wasm:'));
    expect(errors).toEqual([`mobilenet-wasm: error: IO: cannot create folder ${file}: a file of that name already exists`]);
  });

  it('bad options are usage errors', async () => {
    await expect(cmdFetch(fetchArgs('--timeout', '-1'))).rejects.toThrow(/^--timeout must be a number with 0 < timeout <= 3600 \(seconds\), got '-1'$/);
    await expect(cmdFetch(fetchArgs('--max-size', '99999'))).rejects.toThrow(/^--max-size must be a number with 0 < max-size <= 4096 \(MiB\), got '99999'$/);
    await expect(cmdFetch(['--dir', dir, '--base-url', 'ftp://x', NAME])).rejects.toBeInstanceOf(UsageError);
    await expect(cmdFetch(fetchArgs('--all', NAME))).rejects.toBeInstanceOf(UsageError);
    await expect(cmdFetch(fetchArgs('--bogus'))).rejects.toBeInstanceOf(UsageError);
  });

  it('--list shows every model with its parameters and presence', async () => {
    writeFileSync(join(dir, MEMBER), goodModel);
    await cmdFetch(['--dir', dir, '--list']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^name\s+precision\s+alpha\s+resolution\s+present$/);
    const rows = lines.slice(1, -1);
    expect(rows).toHaveLength(32);
    expect(rows).toContain(rows.find((r) => r.startsWith(`${NAME} `)));
    expect(rows.find((r) => r.startsWith(`${NAME} `))).toMatch(/uint8\s+0\.25\s+128\s+yes$/);
    expect(rows.find((r) => r.startsWith('mobilenet_v1_1.0_224 '))).toMatch(/float32\s+1\.0\s+224\s+-$/);
    expect(rows.find((r) => r.startsWith('mobilenet_v1_1.0_224_quant'))).toMatch(/\(default\)/);
    expect(requests).toHaveLength(0);
  });

  it('rebaseUrl keeps the path and adds a prefix', () => {
    const u = 'https://storage.googleapis.com/download.tensorflow.org/models/x.tgz';
    expect(rebaseUrl(u, undefined)).toBe(u);
    expect(rebaseUrl(u, 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/download.tensorflow.org/models/x.tgz');
    expect(rebaseUrl(u, 'http://mirror.local/cache/')).toBe('http://mirror.local/cache/download.tensorflow.org/models/x.tgz');
  });
});

describe('fetch: the user cache folder', () => {
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    saved = { MOBILENET_WASM_MODELS: process.env.MOBILENET_WASM_MODELS, MOBILENET_WASM_CACHE: process.env.MOBILENET_WASM_CACHE };
    delete process.env.MOBILENET_WASM_MODELS;
    process.env.MOBILENET_WASM_CACHE = join(dir, 'user-cache');
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('without --dir, fetch writes to $MOBILENET_WASM_CACHE (not the package) and classify --model NAME finds it there', async () => {
    handler = serve(await tgz([[MEMBER, goodModel]]));
    await cmdFetch(['--base-url', base, NAME]);
    const cache = join(dir, 'user-cache');
    expect(filesIn(cache)).toEqual([MEMBER, `${MEMBER}.sha256`]);
    expect(resolveModel(NAME)).toBe(join(cache, MEMBER));
    expect(filesIn(join(__dirname, '../../weights/models'))).not.toContain(MEMBER);
    await cmdFetch(['--list']);
    expect(stdout).toContain(`(present = in ${cache})`);
  });

  it('classify refuses a cached file that no longer matches its .sha256', async () => {
    handler = serve(await tgz([[MEMBER, goodModel]]));
    await cmdFetch(['--base-url', base, NAME]);
    const file = join(dir, 'user-cache', MEMBER);
    const damaged = new Uint8Array(goodModel);
    damaged[damaged.length - 100] ^= 1;
    writeFileSync(file, damaged);
    expect(() => resolveModel(NAME)).toThrow(/does not match its sha256 .* run `mobilenet-wasm fetch mobilenet_v1_0.25_128_quant --force`/);
    expect(await main(['classify', '--model', NAME, join(dir, 'no-image.bmp')])).toBe(1);
    expect(stderr).toMatch(/error: INVALID_MODEL: .*does not match its sha256/);
  });
});
