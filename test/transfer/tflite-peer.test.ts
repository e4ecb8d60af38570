/**
 * Heads written by mobilenet-wasm/transfer run in TFLite itself (@tensorflow/tfjs-tflite's wasm
 * in bench/peers/tflite) with the same probabilities as this library: the head alone on
 * embeddings, and the 0.25/128 uint8 body + head on the same input tensors. Skips when the peers
 * are not installed (CI does not install them: `node bench/peers/install.mjs`);
 * bench/peers/tflite/check-head.ts runs the whole photo task the same way.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { combineWithBody, createClassifier } from '../../src/transfer/index.js';
import { readTflite } from '../../src/formats/tflite.js';
import { preprocess } from '../../src/image/preprocess.js';
import { loadModel, decodeImageFile } from '../../src/node.js';
import { MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';
import { photoTask } from './photo-task.js';

const PEER = join(__dirname, '..', '..', 'bench', 'peers', 'tflite');
const installed = existsSync(join(PEER, 'node_modules', '@tensorflow', 'tfjs-tflite')) && existsSync(join(PEER, 'node-runner.mjs'));
const BODY = join(MODELS_DIR ?? '', 'mobilenet_v1_0.25_128_quant.tflite');
if (!installed) console.warn('test/transfer/tflite-peer: skipped: TFLite wasm (bench/peers/tflite) is not installed; run `node bench/peers/install.mjs`');

const argmax = (a: ArrayLike<number>) => Array.prototype.indexOf.call(a, Math.max(...Array.from(a)));

describe.skipIf(!installed || !MODELS_DIR || !existsSync(BODY))('heads in TFLite wasm', () => {
  it('the head and body + head give this library\'s probabilities', { timeout: 120_000 }, async () => {
    const { loadTfliteWasm } = await import(join(PEER, 'node-runner.mjs'));
    const bodyBytes = new Uint8Array(readFileSync(BODY));
    const body = await loadModel(bodyBytes);
    const { train, test } = photoTask(join(SHARED_DIR!, 'images', 'photos'));
    const classes = ['dog', 'bird', 'food', 'insect'];
    const head = createClassifier(body);
    for (const p of classes.flatMap((c) => train.filter((x) => x.coarse === c).slice(0, 5))) await head.addExample(await decodeImageFile(p.file), p.coarse);
    await head.train();

    const headBytes = head.toTflite();
    const tfliteHead = await loadTfliteWasm(headBytes);
    expect(tfliteHead.input).toEqual({ dataType: 'float32', shape: [1, body.embed(await decodeImageFile(train[0].file)).length] });
    const combinedBytes = combineWithBody(bodyBytes, head);
    const tfliteCombined = await loadTfliteWasm(combinedBytes);
    const ours = await loadModel(combinedBytes);
    const input = readTflite(combinedBytes).input;
    for (const p of classes.flatMap((c) => test.filter((x) => x.coarse === c).slice(0, 2))) {
      const image = await decodeImageFile(p.file);
      const e = body.embed(image);
      const expected = head.predictEmbedding(e);
      const fromTflite: Float32Array = tfliteHead.run(e);
      for (const q of expected) expect(fromTflite[head.labels.indexOf(q.label)]).toBeCloseTo(q.score, 5);
      const tensor = preprocess(image, input);
      const a = ours.run(tensor) as Float32Array;
      const b: Float32Array = tfliteCombined.run(tensor);
      expect(argmax(b)).toBe(argmax(a));
      expect(head.labels[argmax(a)]).toBe(expected[0].label);
    }
    ours.dispose();
    body.dispose();
  });
});
