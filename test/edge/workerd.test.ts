/**
 * The Cloudflare Workers example (examples/worker) in workerd, Cloudflare's open-source Workers
 * runtime (npm package `workerd`): bundled with esbuild, every .wasm a module of its own (Workers
 * refuse to compile wasm from bytes), served on 127.0.0.1 twice: with the bundled 0.25/128
 * model, and with 1.0/224 fetched from MODEL_URL through a service binding (a workerd disk
 * service over ../shared/models) and kept in the isolate. Labels and scores are compared with
 * Node's classify of the same pixels, and bad images must get a 4xx JSON error while the worker
 * keeps serving.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Jimp } from 'jimp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, loadModel, minDecodedSizeFor, type MobileNet } from '../../src/node.js';
import { MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';
import { FAKE } from '../image/fixtures.js';
// @ts-expect-error plain JS module of the example, without types
import { bundleWorker, freePort, serveWorkerd, workerdBinary, workerdConfig } from '../../examples/worker/build.mjs';

const ROOT = resolve(__dirname, '..', '..');
const SAMPLES = SHARED_DIR ? join(SHARED_DIR, 'images', 'samples') : '';
const SMALL = MODELS_DIR ? join(MODELS_DIR, 'mobilenet_v1_0.25_128_quant.tflite') : '';
const LARGE_NAME = 'mobilenet_v1_1.0_224_quant.tflite';

const skipReason = !existsSync(join(ROOT, 'dist', 'index.js'))
  ? 'dist/ is not built (npm run build:ts)'
  : !SHARED_DIR || !existsSync(SMALL) || !existsSync(join(MODELS_DIR!, LARGE_NAME)) || !existsSync(join(SAMPLES, 'cat_720p.jpg'))
    ? 'the shared models and photos (../shared) are missing'
    : !(await workerdBinary())
      ? 'the workerd binary is missing (npm package workerd, a devDependency)'
      : undefined;
if (skipReason) console.warn(`test/edge/workerd.test.ts skipped: ${skipReason}`);

interface Answer {
  status: number;
  body: {
    top5?: Array<{ index: number; label: string; score: number }>;
    image?: { format: string; width: number; height: number; decodedWidth: number; decodedHeight: number };
    timings?: { decodeMs: number; inferenceMs: number; modelLoadMs: number };
    model?: { source: string; alpha: number; resolution: number; precision: string; kernels: string };
    error?: string;
    code?: string;
  };
}

describe.skipIf(!!skipReason)('Workers example in workerd', () => {
  let dir: string;
  let server: { stop: () => Promise<void>; log: () => string; child: { exitCode: number | null } };
  let bundledPort: number, urlPort: number;
  let small: MobileNet, large: MobileNet;

  const post = async (port: number, body: Uint8Array): Promise<Answer> => {
    const r = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body });
    expect(r.headers.get('content-type')).toBe('application/json');
    return { status: r.status, body: await r.json() };
  };
  const photo = (name: string) => new Uint8Array(readFileSync(join(SAMPLES, name)));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mnw-workerd-'));
    const modules = await bundleWorker({ outdir: dir, model: SMALL });
    [bundledPort, urlPort] = [await freePort(), await freePort()];
    const config = workerdConfig({
      modules,
      instances: [
        { port: bundledPort },
        {
          port: urlPort,
          bindings: [`(name = "MODEL_URL", text = "http://models/${LARGE_NAME}")`, '(name = "MODEL_FETCHER", service = "models")'],
        },
      ],
      services: [`(name = "models", disk = (path = ${JSON.stringify(resolve(MODELS_DIR!))}, writable = false))`],
    });
    writeFileSync(join(dir, 'config.capnp'), config);
    server = await serveWorkerd(join(dir, 'config.capnp'), [bundledPort, urlPort]);
    small = await loadModel(SMALL);
    large = await loadModel(join(MODELS_DIR!, LARGE_NAME));
  });
  afterAll(async () => {
    await server?.stop();
    small?.dispose();
    large?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Node's top-5 for the same bytes, decoded as the worker decodes them */
  const nodeTop5 = async (net: MobileNet, bytes: Uint8Array) =>
    net.classify(await decodeImage(bytes, { minDecodedSize: minDecodedSizeFor(net.info.resolution) }), { topK: 5 });

  it('grace_hopper.bmp: military uniform from 1.0/224 fetched by URL, scores equal to Node (same BMP decoder)', async () => {
    const bmp = photo('grace_hopper.bmp');
    const a = await post(urlPort, bmp);
    expect(a.status).toBe(200);
    expect(a.body.top5![0]).toMatchObject({ index: 653, label: 'military uniform' });
    expect(a.body.top5![0].score).toBeCloseTo(0.793, 3);
    expect(a.body.top5).toEqual(await nodeTop5(large, bmp));
    expect(a.body.model).toMatchObject({ source: `http://models/${LARGE_NAME}`, alpha: 1, resolution: 224, precision: 'uint8', kernels: 'simd' });
    expect(a.body.image).toMatchObject({ format: 'bmp', width: 512, height: 600, decodedWidth: 512, decodedHeight: 600 });
    // the bundled 0.25/128 model answers as Node's does
    const b = await post(bundledPort, bmp);
    expect(b.body.model).toMatchObject({ source: 'bundled', alpha: 0.25, resolution: 128 });
    expect(b.body.top5).toEqual(await nodeTop5(small, bmp));
  });

  it('cat_720p.jpg: a cat, decoded at reduced scale by the same libjpeg-turbo as Node, equal scores', async () => {
    const jpeg = photo('cat_720p.jpg');
    for (const [port, net, decoded] of [
      [urlPort, large, [640, 360]],
      [bundledPort, small, [320, 180]],
    ] as const) {
      const a = await post(port, jpeg);
      expect(a.status).toBe(200);
      expect(['egyptian cat', 'tabby', 'tiger cat']).toContain(a.body.top5![0].label);
      expect([a.body.image!.decodedWidth, a.body.image!.decodedHeight]).toEqual(decoded);
      expect(a.body.top5).toEqual(await nodeTop5(net, jpeg));
      expect(a.body.timings!.decodeMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('a PNG gives the BMP answer (both lossless)', async () => {
    const png = new Uint8Array(await (await Jimp.fromBuffer(Buffer.from(photo('grace_hopper.bmp')))).getBuffer('image/png'));
    const [fromPng, fromBmp] = [await post(urlPort, png), await post(urlPort, photo('grace_hopper.bmp'))];
    expect(fromPng.body.image!.format).toBe('png');
    expect(fromPng.body.top5).toEqual(fromBmp.body.top5);
  });

  it('keeps the model fetched by the first request for the later ones', async () => {
    const loads = new Set<number>();
    for (let i = 0; i < 3; i++) loads.add((await post(urlPort, photo('coffee.jpg'))).body.timings!.modelLoadMs);
    expect(loads.size).toBe(1);
  });

  it('refuses corrupt images and huge headers with a 4xx JSON error, and keeps serving', async () => {
    const jpeg = photo('cat_720p.jpg');
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['truncated JPEG', jpeg.subarray(0, jpeg.length >> 2), /cannot decode image\/jpeg/],
      ['PNG header 100000x100000', FAKE.png(100000, 100000), /100000 x 100000, more than the limit/],
      ['BMP header 100000x100000', FAKE.bmp(100000, 100000), /100000 x 100000, more than the limit/],
      ['text', new TextEncoder().encode('not an image at all'), /not an image/],
      ['empty body', new Uint8Array(0), /empty image data/],
    ];
    for (const [what, bytes, message] of cases) {
      for (const port of [bundledPort, urlPort]) {
        const a = await post(port, bytes);
        expect(a.status, what).toBe(400);
        expect(a.body, what).toMatchObject({ code: 'INVALID_IMAGE', error: expect.stringMatching(message) });
      }
    }
    const after = await post(urlPort, photo('grace_hopper.bmp'));
    expect(after.body.top5![0].label).toBe('military uniform');
    expect(server.child.exitCode).toBeNull();
  });
});
