/**
 * The README's transfer-learning figures: the photo task of test/transfer/photo-task.ts (7
 * coarse classes of ../shared/images/photos, trained on one half, tested on the other) with a
 * model: class counts, held-out accuracy of the softmax and kNN heads, and the time per
 * training photo: JPEG decoding, embedding (the model, no cache) and head training (median of 5
 * trainings) apart.
 *
 *   npx tsx bench/transfer-task.ts [--model M.tflite] [--json]
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadModel } from '../src/node.js';
import { createClassifier, type Classifier } from '../src/transfer/index.js';
import { embedPhotos, photoTask } from '../test/transfer/photo-task.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { model: { type: 'string' }, json: { type: 'boolean' } } });
const modelPath = values.model ?? join(root, '..', 'shared', 'models', 'mobilenet_v1_1.0_224_quant.tflite');
const TRAININGS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main() {
  const modelBytes = new Uint8Array(readFileSync(modelPath));
  const net = await loadModel(modelBytes);
  const task = photoTask(join(root, '..', 'shared', 'images', 'photos'));
  // no cache: the embedding time is part of the figure; CPU time too, as the shared VM's wall
  // clock counts other processes' turns
  const cpu0 = process.cpuUsage();
  const train = await embedPhotos(net, modelBytes, task.train, undefined);
  const embedCpu = process.cpuUsage(cpu0);
  const test = await embedPhotos(net, modelBytes, task.test, undefined);
  const heldOut = (c: Classifier) => task.test.filter((p, i) => c.predictEmbedding(test.embeddings[i], { topK: 1 })[0].label === p.coarse).length / task.test.length;
  const fill = (c: Classifier) => task.train.forEach((p, i) => c.addEmbedding(train.embeddings[i], p.coarse));

  const trainMs: number[] = [];
  const trainCpuMs: number[] = [];
  let softmax: Classifier | undefined;
  let report;
  for (let r = 0; r < TRAININGS; r++) {
    softmax = createClassifier(net);
    fill(softmax);
    const before = process.cpuUsage();
    report = await softmax.train();
    const used = process.cpuUsage(before);
    trainMs.push(report.ms);
    trainCpuMs.push((used.user + used.system) / 1000);
  }
  const knn = createClassifier(net, { head: 'knn' });
  fill(knn);
  const result = {
    model: modelPath.split('/').pop(),
    kernels: net.info.kernels,
    counts: task.counts,
    trainPhotos: task.train.length,
    testPhotos: task.test.length,
    softmaxHeldOutAccuracy: heldOut(softmax!),
    knnHeldOutAccuracy: heldOut(knn),
    softmaxEpochs: report!.epochs,
    softmaxTrainingAccuracy: report!.accuracy,
    decodeMsPerPhoto: train.decodeMs / train.embedded,
    embedMsPerPhoto: train.embedMs / train.embedded,
    decodeAndEmbedCpuMsPerPhoto: (embedCpu.user + embedCpu.system) / 1000 / train.embedded,
    headTrainCpuMsPerPhoto: median(trainCpuMs) / task.train.length,
    headTrainMs: median(trainMs),
    headTrainMsPerPhoto: median(trainMs) / task.train.length,
    headBytes: softmax!.toTflite().length,
  };
  net.dispose();
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(`| class | train | test |\n|---|---|---|`);
  for (const [c, n] of Object.entries(task.counts)) console.log(`| ${c} | ${n.train} | ${n.test} |`);
  console.log(`\n${result.model} (${result.kernels} kernels): held-out accuracy softmax ${pct(result.softmaxHeldOutAccuracy)}, kNN (k 5) ${pct(result.knnHeldOutAccuracy)}`);
  console.log(`per training photo: decoding ${result.decodeMsPerPhoto.toFixed(1)} ms, embedding ${result.embedMsPerPhoto.toFixed(1)} ms (the two: ${result.decodeAndEmbedCpuMsPerPhoto.toFixed(1)} ms CPU), head training ${result.headTrainMsPerPhoto.toFixed(2)} ms wall / ${result.headTrainCpuMsPerPhoto.toFixed(2)} ms CPU (${result.headTrainMs.toFixed(0)} ms for ${result.trainPhotos} photos, ${result.softmaxEpochs} epochs, median of ${TRAININGS}); head file ${result.headBytes} bytes`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
