/**
 * combineWithBody: a MobileNet v1 body cut at its pool + a trained head, as one .tflite. It runs
 * in this library and gives the same probabilities as body.embed -> head, for an integer body
 * (DEQUANTIZE into the float head) and a float one; v2 (not a chain) is refused by name.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { combineWithBody, createClassifier, packedLabels } from '../../src/transfer/index.js';
import { readTflite } from '../../src/formats/tflite.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { mulberry32 } from '../../src/arch/random.js';
import { loadModel, decodeImageFile } from '../../src/node.js';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from '../helpers/kernels.js';
import { photoTask } from './photo-task.js';
import { withLabels } from '../../src/transfer/head-file.js';
import { readTfliteMetadata } from '../../src/formats/tflite-metadata.js';

if (!MODELS_DIR) console.warn(`test/transfer/combined: ${SHARED_MISSING}`);

describe('body + head from a graph', () => {
  it('a random int8 body graph + head = embed -> head; a broken graph is INVALID_MODEL', async () => {
    const graph = buildMobileNetV1({ alpha: 0.25, resolution: 64, precision: 'int8', seed: 3 });
    const body = await loadModel(graph);
    const rand = mulberry32(9);
    const images = Array.from({ length: 6 }, () => ({ data: Uint8Array.from({ length: 64 * 64 * 3 }, () => Math.floor(rand() * 256)), width: 64, height: 64, channels: 3 as const }));
    const head = createClassifier(body);
    for (const [i, image] of images.entries()) await head.addExample(image, i % 2 ? 'odd' : 'even');
    await head.train();
    const combined = await loadModel(combineWithBody(graph, head), { labels: head.labels });
    for (const image of images) {
      const viaHead = await head.predict(image);
      expect(combined.classify(image, { topK: 1 })[0]).toMatchObject({ label: viaHead[0].label, score: expect.closeTo(viaHead[0].score, 4) });
    }
    expect(() => combineWithBody({ ops: [{}] } as never, head)).toThrow(expect.objectContaining({ code: 'INVALID_MODEL' }));
    expect(() => combineWithBody('body.tflite' as never, head)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/\.tflite bytes or a graph/) }));
    body.dispose();
    combined.dispose();
  });
});

describe.skipIf(!MODELS_DIR)('body + head as one .tflite', () => {
  for (const file of ['mobilenet_v1_0.25_128_quant.tflite', 'mobilenet_v1_0.25_128.tflite']) {
    it(`${file}: same scores as embed -> head`, async () => {
      const bodyBytes = new Uint8Array(readFileSync(join(MODELS_DIR!, file)));
      const body = await loadModel(bodyBytes);
      // a few photos of three coarse classes; the head's quality is not the point here
      const { train } = photoTask(join(SHARED_DIR!, 'images', 'photos'));
      const pick = ['dog', 'bird', 'food'].flatMap((c) => train.filter((p) => p.coarse === c).slice(0, 4));
      const images = await Promise.all(pick.map((p) => decodeImageFile(p.file)));
      const head = createClassifier(body);
      for (const [i, image] of images.entries()) await head.addExample(image, pick[i].coarse);
      await head.train();
      const combinedBytes = combineWithBody(bodyBytes, head);
      expect(packedLabels(combinedBytes)).toEqual(['dog', 'bird', 'food']);
      const ops = readTflite(combinedBytes).ops.map((o) => o.op);
      expect(ops.slice(-3)).toEqual(['reshape', 'fully_connected', 'softmax']);
      expect(ops.includes('dequantize')).toBe(file.includes('quant'));
      const combined = await loadModel(combinedBytes, { labels: head.labels });
      expect(combined.info.task).toBe('classifier');
      for (const image of images) {
        const viaHead = await head.predict(image);
        const viaFile = combined.classify(image, { topK: 3 });
        expect(viaFile[0].label).toBe(viaHead[0].label);
        for (const p of viaFile) expect(p.score).toBeCloseTo(viaHead.find((h) => h.label === p.label)!.score, 4);
      }
      body.dispose();
      combined.dispose();
    });
  }

  it("a float body's input normalization (its TFLite metadata) carries over", async () => {
    const normalization = { mean: [0], std: [255] }; // pixels to [0, 1]
    const plain = readTflite(new Uint8Array(readFileSync(join(MODELS_DIR!, 'mobilenet_v1_0.25_128.tflite'))));
    const bodyBytes = withLabels(plain, ['unused'], 'a float body whose metadata says [0, 1]', normalization);
    const body = await loadModel(bodyBytes);
    const head = createClassifier(body);
    const image = await decodeImageFile(join(SHARED_DIR!, 'images', 'samples', 'grace_hopper.bmp'));
    head.addEmbedding(body.embed(image), 'a');
    head.addEmbedding(body.embed(image, { inputRange: [-1, 1] }), 'b');
    await head.train();
    const combinedBytes = combineWithBody(bodyBytes, head);
    expect(readTfliteMetadata(combinedBytes)?.inputs[0].normalization).toEqual(normalization);
    const combined = await loadModel(combinedBytes, { labels: head.labels });
    const viaFile = combined.classify(image, { topK: 2 });
    const viaHead = await head.predict(image);
    expect(viaFile[0].label).toBe('a');
    expect(viaFile[0].score).toBeCloseTo(viaHead[0].score, 4);
    body.dispose();
    combined.dispose();
  });

  const v2 = join(MODELS_DIR ?? '', 'mobilenet_v2_1.0_224_quant.tflite');
  it.skipIf(!existsSync(v2))('a v2 body (residual ADDs, not a chain) is refused', async () => {
    const c = createClassifier({ embed: () => new Float32Array(1280) });
    c.addEmbedding(new Float32Array(1280).fill(1), 'a');
    c.addEmbedding(new Float32Array(1280), 'b');
    await c.train();
    expect(() => combineWithBody(new Uint8Array(readFileSync(v2)), c)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/op 9 \(ADD\) joins several tensors.*chains/) }));
  });
});
