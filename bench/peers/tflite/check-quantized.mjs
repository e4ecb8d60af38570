#!/usr/bin/env node
/**
 * Does a .tflite written by `mobilenet-wasm quantize` load in TFLite's own wasm build, and does
 * it give the same top-1 as this library on the labelled photos? (issue 12 item 2; a dev script:
 * CI does not install the peers. Needs `node bench/peers/install.mjs`; tsx runs this library from
 * src/, as bench/ptq/accuracy.ts does, so both report the same library.)
 *
 *   npx tsx bench/peers/tflite/check-quantized.mjs --model int8.tflite [--skip 100] [--limit N]
 *
 * Photos image-<skip> onwards (skip the calibration photos), AOSP's square crop; both runtimes
 * get the same float (or integer) input tensor from this library's preprocessing. Prints the
 * top-1 agreement, how many outputs are byte-identical, and each runtime's top-1 accuracy.
 */
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadTfliteWasm } from './node-runner.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const shared = resolve(root, '..', 'shared');
const lib = await import(join(root, 'src', 'node.ts'));
const { applyCrop, readGroundTruth } = await import(join(root, 'src', 'cli', 'eval.ts'));
const { resolveLabels } = await import(join(root, 'src', 'cli', 'models.ts'));

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    skip: { type: 'string', default: '100' },
    limit: { type: 'string' },
    photos: { type: 'string', default: join(shared, 'images', 'photos') },
    kernels: { type: 'string', default: 'auto' },
  },
});
if (!values.model) throw new Error('--model int8.tflite is required');
const bytes = new Uint8Array(readFileSync(values.model));
const tfl = await loadTfliteWasm(bytes);
const net = await lib.loadModel(bytes, { kernels: values.kernels });
const inputTensor = lib.readTflite(bytes).input;
const vocab = resolveLabels(join(shared, 'labels', 'imagenet_1001_short.txt'), 1001);
const labels = lib.alignLabels(vocab, net.info.classes);
let photos = readGroundTruth(values.photos, vocab).slice(Number(values.skip));
if (values.limit) photos = photos.slice(0, Number(values.limit));

const argmax = (a) => a.reduce((b, v, i) => (v > a[b] ? i : b), 0);
let agree = 0, identical = 0, oursCorrect = 0, theirsCorrect = 0, maxDiff = 0;
const t0 = performance.now();
for (const photo of photos) {
  const { image, options } = applyCrop(await lib.decodeImageFile(photo.file), 'aosp-square');
  const input = lib.preprocess(image, inputTensor, options);
  const ours = net.run(input);
  const theirs = tfl.run(input);
  const a = argmax(ours), b = argmax(theirs);
  if (a === b) agree++;
  if (ours.length === theirs.length && ours.every((v, i) => v === theirs[i])) identical++;
  for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
  if (labels[a] === photo.label) oursCorrect++;
  if (labels[b] === photo.label) theirsCorrect++;
}
const n = photos.length;
console.log(`model ${values.model}: loads in TFLite wasm ${tfl.version} (input ${tfl.input.dataType} [${tfl.input.shape}], output ${tfl.output.dataType} [${tfl.output.shape}])`);
console.log(`photos: ${n} (image-${values.skip} on), crop aosp-square, this library's kernels: ${net.info.kernels}`);
console.log(`top-1 agreement: ${agree}/${n} = ${(agree / n).toFixed(4)}; byte-identical outputs: ${identical}/${n}; max |difference| ${maxDiff}`);
console.log(`top-1 accuracy: this library ${(oursCorrect / n).toFixed(4)} (${oursCorrect}), TFLite wasm ${(theirsCorrect / n).toFixed(4)} (${theirsCorrect}); ${((performance.now() - t0) / 1000).toFixed(1)} s`);
