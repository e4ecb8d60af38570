/**
 * options.wasm given as a URL (string or URL object), a fetch Response or a promise of one, as
 * a bundler hands a page its .wasm asset: fetched, compiled, and typed errors for a 404, a
 * network failure and a body that is not wasm (a dev server's HTML fallback). Served by a real
 * HTTP server on 127.0.0.1, read through Node's own fetch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MobileNet } from '../../src/mobilenet.js';
import { failure, serveLocal, type LocalServer } from './helpers.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { WASM_DIR } from '../../src/node.js';

const simdBytes = readFileSync(join(WASM_DIR, 'mobilenet-simd.wasm'));
const model = buildMobileNetV1({ alpha: 0.25, resolution: 96, precision: 'uint8', classes: 10, seed: 3 });
const input = Uint8Array.from({ length: 96 * 96 * 3 }, (_, i) => (i * 31) % 256);

let server: LocalServer;
let base = '';
const hits: string[] = [];

beforeAll(async () => {
  server = await serveLocal((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/wasm/simd.wasm') return res.writeHead(200, { 'content-type': 'application/wasm' }).end(simdBytes);
    if (req.url === '/octet/simd.wasm') return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(simdBytes);
    if (req.url === '/spa/simd.wasm') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  base = server.url;
});
afterAll(() => server.close());

describe('options.wasm as a URL or a Response', () => {
  it('every form gives the same outputs as the bytes', async () => {
    const want = (await MobileNet.load(model, { wasm: { simd: simdBytes } })).run(input);
    const forms = {
      'URL string (application/wasm, compileStreaming)': `${base}/wasm/simd.wasm`,
      'URL string (octet-stream, compiled from bytes)': `${base}/octet/simd.wasm`,
      'URL object': new URL('/wasm/simd.wasm', base),
      Response: await fetch(`${base}/wasm/simd.wasm`),
      'Promise<Response>': fetch(`${base}/octet/simd.wasm`),
    };
    for (const [name, simd] of Object.entries(forms)) {
      const net = await MobileNet.load(model, { wasm: { simd }, kernels: 'auto' });
      expect(net.info.kernels, name).toBe('simd');
      expect(net.run(input), name).toEqual(want);
    }
  });

  it('fetches only the build that auto chose', async () => {
    hits.length = 0;
    const net = await MobileNet.load(model, { wasm: { simd: `${base}/wasm/simd.wasm`, scalar: `${base}/scalar-never-fetched.wasm` } });
    expect(net.info.kernels).toBe('simd');
    expect(hits).toEqual(['/wasm/simd.wasm']);
  });

  it('a 404 is IO naming the URL and the status', async () => {
    const e = await failure(MobileNet.load(model, { wasm: { simd: `${base}/missing/simd.wasm` } }));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/'simd' kernel build from http:\/\/127\.0\.0\.1:\d+\/missing\/simd\.wasm gave HTTP 404/);
  });

  it('a network failure is IO naming the URL', async () => {
    const e = await failure(MobileNet.load(model, { wasm: { simd: 'http://127.0.0.1:1/simd.wasm' } }));
    expect(e.code).toBe('IO');
    expect(e.message).toMatch(/could not fetch the 'simd' kernel build from http:\/\/127\.0\.0\.1:1\/simd\.wasm/);
  });

  it("an HTML page served in the .wasm's place is INVALID_OPTION saying what came back", async () => {
    const e = await failure(MobileNet.load(model, { wasm: { simd: `${base}/spa/simd.wasm` } }));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(/spa\/simd\.wasm is not a WebAssembly module \(Content-Type text\/html, 33 bytes starting "<!doctype html>/);
  });

  it('omitted outside a page, the error says what to pass (no default from a file: module): the uint8 model\'s own build', async () => {
    const e = await failure(MobileNet.load(model));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(/no kernel \.wasm given: pass options\.wasm, e\.g\. \{ (\w+): <a WebAssembly\.Module, the bytes or the URL of mobilenet-q8-\1\.wasm> \}/);
  });
});
