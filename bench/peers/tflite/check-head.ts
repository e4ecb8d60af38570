/**
 * Do heads written by mobilenet-wasm/transfer run in TFLite itself with the same predictions?
 * A dev check (CI does not install the peers): trains the photo task of
 * test/transfer/photo-task.ts (7 coarse classes, one half) and compares, on the held-out half,
 *   - the head .tflite (FULLY_CONNECTED + SOFTMAX on the embedding; softmax head and a kNN
 *     classifier's nearest-class-mean head) in TFLite wasm vs this library vs predictEmbedding
 *     (for the kNN classifier that is the kNN vote, which its saved mean head only approximates),
 *   - the combined body + head .tflite in TFLite wasm vs this library vs body.embed -> head,
 *     on the same preprocessed input tensor.
 *
 *   npx tsx bench/peers/tflite/check-head.ts [--model M.tflite] [--combined-limit N]
 *
 * Needs bench/peers/tflite installed (node bench/peers/install.mjs) and ../shared.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadModel, decodeImageFile, minDecodedSizeFor } from '../../../src/node.js';
import { preprocess } from '../../../src/image/preprocess.js';
import { readTflite } from '../../../src/formats/tflite.js';
import { combineWithBody, createClassifier, type Classifier } from '../../../src/transfer/index.js';
import { embedPhotos, photoTask } from '../../../test/transfer/photo-task.js';
// @ts-expect-error a plain .mjs module without types
import { loadTfliteWasm } from './node-runner.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { values } = parseArgs({ options: { model: { type: 'string' }, 'combined-limit': { type: 'string' } } });
const modelPath = values.model ?? join(root, '..', 'shared', 'models', 'mobilenet_v1_1.0_224_quant.tflite');
const combinedLimit = Number(values['combined-limit'] ?? 80);

const argmax = (a: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
};

interface Comparison {
  compared: number;
  top1AgreeTflite: number;
  top1AgreeLibrary: number;
  /** TFLite's top-1 = this library's top-1 on the same file and input */
  top1TfliteEqualsLibrary: number;
  maxAbsProbDiff: number;
}

function compare(): Comparison & { add(ours: ArrayLike<number>, tflite: ArrayLike<number>, expected: number): void } {
  return {
    compared: 0,
    top1AgreeTflite: 0,
    top1AgreeLibrary: 0,
    top1TfliteEqualsLibrary: 0,
    maxAbsProbDiff: 0,
    add(ours, tflite, expected) {
      this.compared++;
      if (argmax(tflite) === expected) this.top1AgreeTflite++;
      if (argmax(ours) === expected) this.top1AgreeLibrary++;
      if (argmax(ours) === argmax(tflite)) this.top1TfliteEqualsLibrary++;
      for (let i = 0; i < ours.length; i++) this.maxAbsProbDiff = Math.max(this.maxAbsProbDiff, Math.abs(ours[i] - tflite[i]));
    },
  };
}

async function checkHead(name: string, classifier: Classifier, embeddings: Float32Array[]) {
  const bytes = classifier.toTflite();
  const tflite = await loadTfliteWasm(bytes);
  const ours = await loadModel(bytes);
  const c = compare();
  for (const e of embeddings) {
    const expected = classifier.labels.indexOf(classifier.predictEmbedding(e, { topK: 1 })[0].label);
    c.add(ours.run(e) as Float32Array, tflite.run(e), expected);
  }
  ours.dispose();
  const { add: _, ...result } = c;
  return { head: name, bytes: bytes.length, tflite: `${tflite.input.dataType}[${tflite.input.shape}] -> ${tflite.output.dataType}[${tflite.output.shape}]`, ...result };
}

async function main() {
  const modelBytes = new Uint8Array(readFileSync(modelPath));
  const net = await loadModel(modelBytes);
  const task = photoTask(join(root, '..', 'shared', 'images', 'photos'));
  const cache = join(root, 'tmp', 'transfer-embeddings');
  const train = await embedPhotos(net, modelBytes, task.train, cache);
  const test = await embedPhotos(net, modelBytes, task.test, cache);
  const softmax = createClassifier(net);
  const knn = createClassifier(net, { head: 'knn' });
  task.train.forEach((p, i) => {
    softmax.addEmbedding(train.embeddings[i], p.coarse);
    knn.addEmbedding(train.embeddings[i], p.coarse);
  });
  await softmax.train();
  const results: unknown[] = [await checkHead('softmax', softmax, test.embeddings), await checkHead('knn (nearest class mean)', knn, test.embeddings)];

  // body + head: the same preprocessed input tensor to both runtimes
  const combinedBytes = combineWithBody(modelBytes, softmax);
  const input = readTflite(combinedBytes).input;
  const tflite = await loadTfliteWasm(combinedBytes);
  const ours = await loadModel(combinedBytes);
  const c = compare();
  const decode = { minDecodedSize: minDecodedSizeFor(net.info.resolution) };
  for (const [i, p] of task.test.slice(0, combinedLimit).entries()) {
    const tensor = preprocess(await decodeImageFile(p.file, decode), input);
    const expected = softmax.labels.indexOf(softmax.predictEmbedding(test.embeddings[i], { topK: 1 })[0].label);
    c.add(ours.run(tensor) as Float32Array, tflite.run(tensor), expected);
  }
  ours.dispose();
  const { add: _, ...combined } = c;
  results.push({ head: 'combined body + softmax head', bytes: combinedBytes.length, tflite: `${tflite.input.dataType}[${tflite.input.shape}] -> ${tflite.output.dataType}[${tflite.output.shape}]`, ...combined });
  net.dispose();
  console.log(JSON.stringify({ model: modelPath, tfliteVersion: tflite.version, heldOut: task.test.length, results }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
