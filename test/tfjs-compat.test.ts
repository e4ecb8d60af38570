/**
 * mobilenet-wasm/tfjs-compat in Node: the shape of @tensorflow-models/mobilenet over this
 * runtime. classify gives the same classes and probabilities as MobileNet.classify (topk 3 by
 * default, background dropped), infer gives pre-softmax logits (softmax of them is the model's
 * probabilities), the embedding is MobileNet.embed's, a registry model by (alpha, resolution)
 * is the same file, and bad arguments are typed errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, registryName } from '../src/tfjs-compat-node.js';
import { loadModel, decodeImageFile, type MobileNet } from '../src/node.js';
import { failure, serveLocal, type LocalServer } from './bundlers/helpers.js';
import type { RawImage } from '../src/image/types.js';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from './helpers/kernels.js';

function softmax(x: Float32Array): number[] {
  const max = Math.max(...x);
  const e = Array.from(x, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe.skipIf(!MODELS_DIR)('tfjs-compat on the shared models', () => {
  let photo: RawImage;
  beforeAll(async () => {
    photo = await decodeImageFile(join(SHARED_DIR!, 'images', 'samples', 'grace_hopper.bmp'));
  });

  for (const [file, logitTolerance] of [
    // the uint8 model's own softmax is TFLite's fixed-point one with 1/256 output steps: within two steps
    ['mobilenet_v1_1.0_224_quant', 2 / 256],
    ['mobilenet_v1_0.25_128', 1e-5],
  ] as const) {
    describe(file, () => {
      let main: MobileNet;
      let compat: Awaited<ReturnType<typeof load>>;
      beforeAll(async () => {
        const path = join(MODELS_DIR!, `${file}.tflite`);
        main = await loadModel(path, { kernels: 'simd' });
        compat = await load({ version: 1, modelUrl: path, kernels: 'simd' });
      });
      afterAll(() => {
        main.dispose();
        compat.dispose();
      });

      it('classify: topk 3 by default, the same classes and probabilities as MobileNet.classify', async () => {
        const got = await compat.classify(photo);
        expect(got).toHaveLength(3);
        for (const k of [3, 5, 10]) {
          // tfjs-models has no 'background' class: the main call's list without it
          const want = main.classify(photo, { topK: k + 1 }).filter((c) => c.index !== 0).slice(0, k).map((c) => ({ className: c.label, probability: c.score }));
          expect(await compat.classify(photo, k)).toEqual(want);
        }
        expect(got.map((c) => c.className)).toEqual(main.classify(photo, { topK: 3 }).map((c) => c.label));
      });

      it('infer: 1000 pre-softmax logits whose softmax is the model\'s probabilities (background dropped)', async () => {
        const logits = await compat.infer(photo);
        expect(logits).toBeInstanceOf(Float32Array);
        expect(logits).toHaveLength(1000);
        // logits, not probabilities: negative values and a spread far beyond [0, 1]
        expect(Math.min(...logits)).toBeLessThan(0);
        expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(5);
        const p = main.probabilities(photo).slice(1);
        const kept = p.reduce((a, b) => a + b, 0);
        const s = softmax(logits);
        let worst = 0;
        for (let i = 0; i < 1000; i++) worst = Math.max(worst, Math.abs(s[i] - p[i] / kept));
        expect(worst).toBeLessThanOrEqual(logitTolerance / kept);
        // the best logit is the top class
        expect(logits.indexOf(Math.max(...logits)) + 1).toBe(main.classify(photo, { topK: 1 })[0].index);
      });

      it('infer(img, true): the embedding MobileNet.embed gives', async () => {
        const emb = await compat.infer(photo, true);
        expect(emb).toEqual(main.embed(photo));
        expect(emb).toHaveLength(1024 * main.info.alpha!);
      });
    });
  }

  it('reports version and alpha as tfjs-models does, and the model behind it', async () => {
    const m = await load({ version: 1, modelUrl: join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite') });
    expect([m.version, m.alpha]).toEqual(['1.00', '0.25']);
    expect(m.info).toMatchObject({ resolution: 128, precision: 'uint8', classes: 1001 });
    m.dispose();
    const e = await failure(m.classify(photo));
    expect(e.code).toBe('DISPOSED');
  });

  describe('a registry model by alpha, resolution and quantized', () => {
    let server: LocalServer;
    let baseUrl = '';
    const served: string[] = [];
    beforeAll(async () => {
      server = await serveLocal((req, res) => {
        served.push(req.url ?? '');
        try {
          res.writeHead(200).end(readFileSync(join(MODELS_DIR!, (req.url ?? '').replace(/^\/+/, ''))));
        } catch {
          res.writeHead(404).end();
        }
      });
      baseUrl = server.url;
    });
    afterAll(() => server.close());

    it('maps (0.25, 128, quantized) to mobilenet_v1_0.25_128_quant and classifies as that file does', async () => {
      expect(registryName(0.25, 128, true)).toBe('mobilenet_v1_0.25_128_quant');
      expect(registryName()).toBe('mobilenet_v1_1.0_224');
      const byName = await load({ version: 1, alpha: 0.25, resolution: 128, quantized: true, baseUrl, cache: false });
      expect(served).toEqual(['/mobilenet_v1_0.25_128_quant.tflite']);
      const byUrl = await load({ modelUrl: `${baseUrl}/mobilenet_v1_0.25_128_quant.tflite` });
      expect(await byName.classify(photo, 5)).toEqual(await byUrl.classify(photo, 5));
    });
  });

  it('asks only for the precision build the model runs (a uint8 file: the q8 build)', async () => {
    for (const [file, want] of [['mobilenet_v1_1.0_224_quant', 'mobilenet-q8-simd.wasm'], ['mobilenet_v1_0.25_128', 'mobilenet-f32-simd.wasm']]) {
      const asked: string[] = [];
      const m = await load({ modelUrl: join(MODELS_DIR!, `${file}.tflite`), kernels: 'simd', wasm: (flavour: string, name: string) => {
        asked.push(name);
        return readFileSync(join(__dirname, '..', 'build', name));
      } } as never);
      expect(asked, file).toEqual([want]);
      m.dispose();
    }
  });

  it('bad arguments are typed errors naming the problem', async () => {
    const path = join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite');
    const cases: [unknown, string, RegExp][] = [
      [{ version: 2 }, 'UNSUPPORTED_MODEL', /MobileNet v2 is not available yet/],
      [{ version: 3 }, 'INVALID_OPTION', /version must be 1, got 3/],
      [{ version: 1, alpha: 0.3 }, 'INVALID_OPTION', /alpha must be 0.25, 0.5, 0.75 or 1.0, got 0.3/],
      [{ version: 1, resolution: 100 }, 'INVALID_OPTION', /resolution must be 128, 160, 192 or 224/],
      [{ version: 1, colour: 'red' }, 'INVALID_OPTION', /unknown config key 'colour'/],
      [{ modelUrl: path, alpha: 0.5 }, 'INVALID_OPTION', /either modelUrl or alpha/],
      [{ modelUrl: path, inputRange: [1, -1] }, 'INVALID_OPTION', /inputRange must be \[min, max\]/],
      [{ modelUrl: 42 }, 'INVALID_OPTION', /modelUrl must be a URL/],
      [{ modelUrl: join(MODELS_DIR!, 'no-such.tflite') }, 'IO', /no such file/],
      ['1.0', 'INVALID_OPTION', /load config must be an object/],
    ];
    for (const [config, code, msg] of cases) {
      const e = await failure(load(config as never));
      expect([e.code, e.message], JSON.stringify(config)).toEqual([code, expect.stringMatching(msg)]);
    }
    const m = await load({ modelUrl: path });
    for (const [call, code, msg] of [
      [() => m.classify(photo, 0), 'INVALID_OPTION', /topk must be a positive integer, got 0/],
      [() => m.classify(photo, 2.5), 'INVALID_OPTION', /topk must be a positive integer/],
      [() => m.infer(photo, 'yes' as never), 'INVALID_OPTION', /embedding must be true or false/],
      [() => m.classify(null as never), 'INVALID_IMAGE', /./],
      [() => m.classify({ data: new Uint8Array(3), width: 0, height: 1 }), 'INVALID_IMAGE', /./],
    ] as [() => Promise<unknown>, string, RegExp][]) {
      const e = await failure(call());
      expect([e.code, e.message]).toEqual([code, expect.stringMatching(msg)]);
    }
    // topk beyond the class count gives every class, as many as there are
    expect(await m.classify(photo, 5000)).toHaveLength(1000);
    m.dispose();
  });
});

describe.skipIf(!!MODELS_DIR)('tfjs-compat', () => {
  it.skip(SHARED_MISSING, () => {});
});
