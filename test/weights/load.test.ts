/**
 * load({ model: NAME }) against a local HTTP server on 127.0.0.1 (no internet in tests): the
 * official .tgz of mobilenet_v1_0.25_128_quant is built here with nanotar around the shared
 * .tflite and served at the registry path (archiveBase points the official URL here); bare
 * .tflite files are served for baseUrl. The Node cache goes to a temporary
 * $MOBILENET_WASM_CACHE.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createTarGzip } from 'nanotar';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { load, loadModel, fetchModelFile, listModels, userCacheDir, decodeImageFile, nodeKernelModule, MobileNetError, type RawImage, type ModelCacheStore, type CachedModelFile } from '../../src/node.js';
import { load as coreLoad } from '../../src/index.js';
import { cacheFileFor } from '../../src/weights/node-cache.js';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from '../helpers/kernels.js';

const NAME = 'mobilenet_v1_0.25_128_quant';
const ARCHIVE_PATH = '/download.tensorflow.org/models/mobilenet_v1_2018_08_02/mobilenet_v1_0.25_128_quant.tgz';
const repoRoot = resolve(__dirname, '../..');

if (!MODELS_DIR) console.warn(`[weights] ${SHARED_MISSING}`);

describe.skipIf(!MODELS_DIR)('load({ model }) in Node', () => {
  let tflite: Uint8Array;
  let tgz: Uint8Array;
  let grace: RawImage;
  let expectedTop: unknown;

  let server: Server;
  let base: string;
  let requests: string[];
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  let cacheDir: string;
  let savedEnv: Record<string, string | undefined>;

  const serveBytes = (body: Uint8Array, status = 200) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-length': body.length });
    res.end(body);
  };
  /** the registry archive and, under /self/, bare .tflite files of the shared folder */
  const official = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === ARCHIVE_PATH) return serveBytes(tgz)(req, res);
    const self = /^\/self\/([\w.]+\.tflite)$/.exec(req.url ?? '');
    if (self && existsSync(join(MODELS_DIR!, self[1]))) return serveBytes(readFileSync(join(MODELS_DIR!, self[1])))(req, res);
    res.writeHead(404);
    res.end();
  };
  const opts = () => ({ model: NAME, archiveBase: base });
  const cachedFile = () => cacheFileFor(cacheDir, `${base}${ARCHIVE_PATH}`);

  beforeAll(async () => {
    tflite = new Uint8Array(readFileSync(join(MODELS_DIR!, `${NAME}.tflite`)));
    // the real archives hold checkpoints and graphs beside the .tflite
    tgz = await createTarGzip([
      { name: `./${NAME}_info.txt`, data: 'input: input\n' },
      { name: `./${NAME}.ckpt.data-00000-of-00001`, data: new Uint8Array(200_000).map((_, i) => (i * 2654435761) >>> 24) },
      { name: `./${NAME}.tflite`, data: tflite },
      { name: `./${NAME}_frozen.pb`, data: new Uint8Array(50_000) },
    ]);
    grace = await decodeImageFile(join(SHARED_DIR!, 'images/samples/grace_hopper.bmp'));
    expectedTop = (await loadModel(join(MODELS_DIR!, `${NAME}.tflite`))).classify(grace);
  });

  beforeEach(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'mnw-cache-'));
    savedEnv = { MOBILENET_WASM_CACHE: process.env.MOBILENET_WASM_CACHE, MOBILENET_WASM_FETCH_BASE: process.env.MOBILENET_WASM_FETCH_BASE };
    process.env.MOBILENET_WASM_CACHE = cacheDir;
    delete process.env.MOBILENET_WASM_FETCH_BASE;
    requests = [];
    handler = official;
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      handler(req, res);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(cacheDir, { recursive: true, force: true });
  });
  const stopServer = async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  };
  const rejection = async (p: Promise<unknown>): Promise<MobileNetError> => {
    const e = await p.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(MobileNetError);
    return e as MobileNetError;
  };

  it('downloads the official archive by name, classifies grace_hopper as the file itself does, and caches it', async () => {
    const net = await load(opts());
    expect(net.classify(grace)).toEqual(expectedTop);
    expect(net.info.resolution).toBe(128);
    expect(requests).toEqual([ARCHIVE_PATH]);
    // the .tflite and the digest taken at download, in the user cache folder
    expect(Buffer.compare(readFileSync(cachedFile()), tflite)).toBe(0);
    const sha = createHash('sha256').update(tflite).digest('hex');
    expect(readFileSync(`${cachedFile()}.sha256`, 'utf8').startsWith(sha)).toBe(true);
    net.dispose();
  });

  it('a second load comes from the cache with the server down', async () => {
    await load(opts());
    await stopServer();
    const info = await fetchModelFile(opts());
    expect(info.from).toBe('cache');
    expect(info.verified).toBe('structure-only'); // the registry records no sha256 (yet)
    const net = await load(opts());
    expect(net.classify(grace)).toEqual(expectedTop);
    expect(requests).toHaveLength(1);
  });

  it('the official URL is the cache key: the registry name and a file named after it in the cache folder', async () => {
    process.env.MOBILENET_WASM_FETCH_BASE = base; // the Node default for archiveBase, as for `mobilenet-wasm fetch`
    const info = await fetchModelFile({ model: NAME });
    expect(info.url).toBe(`${base}${ARCHIVE_PATH}`);
    expect(readdirSync(join(cacheDir, 'by-url')).sort()).toEqual([expect.stringMatching(/^[0-9a-f]{16}-mobilenet_v1_0\.25_128_quant\.tflite$/), expect.stringMatching(/\.sha256$/)]);
    // with no mirror the key is the registry URL, kept as NAME.tflite where `classify --model NAME` looks
    const official = listModels().find((m) => m.name === NAME)!.url;
    expect(cacheFileFor(cacheDir, official)).toBe(join(cacheDir, `${NAME}.tflite`));
  });

  describe('a damaged cache entry is discarded and downloaded again, never used', () => {
    const damage: [string, (b: Uint8Array) => Uint8Array][] = [
      ['truncated', (b) => b.subarray(0, b.length >> 1)],
      ['one weight byte flipped', (b) => {
        const c = new Uint8Array(b);
        c[c.length >> 1] ^= 0x40;
        return c;
      }],
      ['empty', () => new Uint8Array(0)],
    ];
    for (const [what, hurt] of damage) {
      it(what, async () => {
        await load(opts());
        writeFileSync(cachedFile(), hurt(tflite));
        const info = await fetchModelFile(opts());
        expect(info.from).toBe('network');
        expect(requests).toEqual([ARCHIVE_PATH, ARCHIVE_PATH]);
        expect(Buffer.compare(readFileSync(cachedFile()), tflite)).toBe(0);
        expect((await load(opts())).classify(grace)).toEqual(expectedTop);
        expect(requests).toHaveLength(2);
      });
    }

    it('a file of another model put there by hand (no .sha256): the structure check refuses it', async () => {
      await load(opts());
      rmSync(`${cachedFile()}.sha256`);
      writeFileSync(cachedFile(), readFileSync(join(MODELS_DIR!, 'mobilenet_v1_0.5_160_quant.tflite')));
      expect((await fetchModelFile(opts())).from).toBe('network');
      expect(Buffer.compare(readFileSync(cachedFile()), tflite)).toBe(0);
    });

    it('damaged and offline: an IO error, not the damaged file', async () => {
      await load(opts());
      writeFileSync(cachedFile(), tflite.subarray(0, 1000));
      await stopServer();
      const e = await rejection(load(opts()));
      expect(e.code).toBe('IO');
      expect(existsSync(cachedFile())).toBe(false);
    });
  });

  it('offline with an empty cache: one IO error naming the model and the URL', async () => {
    await stopServer();
    const e = await rejection(load(opts()));
    expect(e.code).toBe('IO');
    expect(e.message).toContain(`model '${NAME}'`);
    expect(e.message).toContain(`${base}${ARCHIVE_PATH}`);
    expect(e.message).toMatch(/ECONNREFUSED.*offline\? No copy of it is cached/);
  });

  it('an unknown name is INVALID_OPTION with the close matches, before any request', async () => {
    const e = await rejection(load({ model: 'mobilenet_v1_0.25_129_quant', archiveBase: base }));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(/^unknown model 'mobilenet_v1_0.25_129_quant'; did you mean mobilenet_v1_0.25_128_quant, /);
    expect((await rejection(load({ model: 'resnet50' }))).message).toMatch(/^unknown model 'resnet50' \(listModels\(\) gives all 32\)$/);
    expect(requests).toHaveLength(0);
  });

  describe('a hostile or broken server gives typed errors and caches nothing', () => {
    afterEach(() => {
      expect(existsSync(cachedFile())).toBe(false);
    });
    it('HTTP 500', async () => {
      handler = (_req, res) => {
        res.writeHead(500, 'Internal Server Error');
        res.end('oops');
      };
      const e = await rejection(load(opts()));
      expect(e.code).toBe('IO');
      expect(e.message).toBe(`cannot download model '${NAME}' from ${base}${ARCHIVE_PATH}: HTTP 500 Internal Server Error`);
    });
    it('Content-Length over maxDownloadBytes', async () => {
      const e = await rejection(load({ ...opts(), maxDownloadBytes: 100_000 }));
      expect(e.code).toBe('IO');
      expect(e.message).toMatch(new RegExp(`is ${tgz.length} bytes, over the 0.1 MiB limit: refusing to download it$`));
    });
    it('a body longer than maxDownloadBytes with no Content-Length is stopped while streaming', async () => {
      handler = (_req, res) => {
        res.writeHead(200);
        res.end(tgz);
      };
      const e = await rejection(load({ ...opts(), maxDownloadBytes: 100_000 }));
      expect(e.message).toMatch(/sent more than the 0.1 MiB limit: download stopped$/);
    });
    it('garbage instead of a .tgz', async () => {
      handler = serveBytes(new TextEncoder().encode('<html>captive portal</html>'));
      const e = await rejection(load(opts()));
      expect(e.code).toBe('INVALID_MODEL');
      expect(e.message).toMatch(/not a \.tgz archive/);
    });
    it('a gzip bomb stops at the unpacked limit (4x maxDownloadBytes, at most 512 MiB)', async () => {
      // 16 MiB of zeros packs to ~16 KB
      const bomb = await createTarGzip([{ name: 'zeros.bin', data: new Uint8Array(16 * 2 ** 20) }]);
      expect(bomb.length).toBeLessThan(2 ** 20);
      handler = serveBytes(bomb);
      const e = await rejection(load({ ...opts(), maxDownloadBytes: 2 ** 20 }));
      expect(e.code).toBe('INVALID_MODEL');
      expect(e.message).toMatch(/unpacks to more than 4 MiB: refusing it$/);
    });
    it('no data for timeoutMs', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'content-length': tgz.length });
        res.write(tgz.subarray(0, 1000));
      };
      const e = await rejection(load({ ...opts(), timeoutMs: 300 }));
      expect(e.code).toBe('IO');
      expect(e.message).toMatch(/cannot reach 127\.0\.0\.1:\d+ \(no data for 0.3 s after 1000 of \d+ bytes\)/);
    });
    it('an aborted signal', async () => {
      const controller = new AbortController();
      controller.abort(new Error('user left the page'));
      const e = await rejection(load({ ...opts(), signal: controller.signal }));
      expect(e.code).toBe('IO');
      expect(e.message).toMatch(/aborted \(user left the page\)/);
      expect(requests).toHaveLength(0);
    });
  });

  it('self-hosting: baseUrl serves the bare .tflite; 1.0/224 uint8 names grace_hopper "military uniform"', async () => {
    const progress: number[] = [];
    const net = await load({ model: 'mobilenet_v1_1.0_224_quant', baseUrl: `${base}/self/`, onProgress: (n) => progress.push(n) });
    const [top] = net.classify(grace, { topK: 1 });
    expect(top).toMatchObject({ index: 653, label: 'military uniform' });
    expect(top.score).toBeCloseTo(0.793, 3);
    expect(requests).toEqual(['/self/mobilenet_v1_1.0_224_quant.tflite']);
    expect(progress.at(-1)).toBe(readFileSync(join(MODELS_DIR!, 'mobilenet_v1_1.0_224_quant.tflite')).length);
    // cached under its own URL
    expect(existsSync(cacheFileFor(cacheDir, `${base}/self/mobilenet_v1_1.0_224_quant.tflite`))).toBe(true);
    net.dispose();
  });

  it('self-hosting behind a compressing server (Content-Encoding: gzip, Content-Length of the compressed body)', async () => {
    const packed = gzipSync(tflite);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': packed.length });
      res.end(packed);
    };
    const info = await fetchModelFile({ model: NAME, baseUrl: `${base}/gz` });
    expect(info.from).toBe('network');
    expect(Buffer.compare(info.bytes, tflite)).toBe(0);
  });

  it('cache: false neither reads nor writes the cache', async () => {
    await load({ ...opts(), cache: false });
    expect(readdirSync(cacheDir)).toEqual([]);
    await load({ ...opts(), cache: false });
    expect(requests).toHaveLength(2);
  });

  it('the core entry takes a store of the caller\'s and deletes a damaged entry from it', async () => {
    const entries = new Map<string, CachedModelFile>();
    const calls: string[] = [];
    const store: ModelCacheStore = {
      get: (k) => (calls.push('get'), entries.get(k)),
      put: (k, f) => void (calls.push('put'), entries.set(k, f)),
      delete: (k) => void (calls.push('delete'), entries.delete(k)),
    };
    const key = `${base}${ARCHIVE_PATH}`;
    const net = await coreLoad({ ...opts(), cache: store, wasm: nodeKernelModule });
    expect(net.classify(grace)).toEqual(expectedTop);
    expect(calls).toEqual(['get', 'put']);
    expect(entries.get(key)!.sha256).toBe(createHash('sha256').update(tflite).digest('hex'));
    // same length, one byte off: only the stored sha256 can tell
    const bad = new Uint8Array(tflite);
    bad[bad.length >> 1] ^= 1;
    entries.set(key, { bytes: bad, sha256: entries.get(key)!.sha256 });
    calls.length = 0;
    await coreLoad({ ...opts(), cache: store, wasm: nodeKernelModule });
    expect(calls).toEqual(['get', 'delete', 'put']);
    expect(Buffer.compare(entries.get(key)!.bytes, tflite)).toBe(0);
    expect(readdirSync(cacheDir)).toEqual([]); // the Node folder was not used
  });

  it('bad options are INVALID_OPTION', async () => {
    const bad: [object, RegExp][] = [
      [{}, /model must be a registry name/],
      [{ model: NAME, baseUrl: 'ftp://x' }, /baseUrl must be an http\(s\) URL/],
      [{ model: NAME, baseUrl: '/models' }, /baseUrl must be an http\(s\) URL \(relative only in a page\), got "\/models"/],
      [{ model: NAME, cache: 'yes' }, /cache must be true, false or an object with get, put and delete/],
      [{ model: NAME, timeoutMs: -1 }, /timeoutMs must be a positive number/],
      [{ model: NAME, fetch: 'no' }, /fetch must be a function/],
      [{ model: NAME, bogus: 1 }, /unknown option 'bogus'/],
    ];
    for (const [o, re] of bad) {
      const e = await rejection(load(o as never));
      expect(e.code).toBe('INVALID_OPTION');
      expect(e.message).toMatch(re);
    }
  });
});

describe('userCacheDir', () => {
  it('follows $MOBILENET_WASM_CACHE, then $XDG_CACHE_HOME, then the platform', () => {
    expect(userCacheDir({ MOBILENET_WASM_CACHE: '/c', XDG_CACHE_HOME: '/x' }, 'linux', '/home/u')).toBe('/c');
    expect(userCacheDir({ XDG_CACHE_HOME: '/x' }, 'linux', '/home/u')).toBe(join('/x', 'mobilenet-wasm'));
    expect(userCacheDir({}, 'linux', '/home/u')).toBe(join('/home/u', '.cache', 'mobilenet-wasm'));
    expect(userCacheDir({}, 'darwin', '/Users/u')).toBe(join('/Users/u', 'Library', 'Caches', 'mobilenet-wasm'));
    expect(userCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u')).toBe(join('C:\\Users\\u\\AppData\\Local', 'mobilenet-wasm'));
  });
  it('by default is outside the package and node_modules', () => {
    const dir = userCacheDir({}, process.platform);
    const rel = relative(repoRoot, dir);
    expect(rel.startsWith('..')).toBe(true);
    expect(dir).not.toMatch(/node_modules/);
  });
});
