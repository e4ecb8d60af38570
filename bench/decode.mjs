#!/usr/bin/env node
/**
 * Decode + preprocess of a photo against one inference of MobileNet v1 1.0/224 uint8, in the
 * same process, after warm-up (issue 9: decoding must not cost more than the model).
 *
 *   npm run build:ts && node bench/decode.mjs [--runs 15] [--json]
 *
 * Photos: ../shared/images/samples/cat_720p.jpg (1280x720) and a 4000x3000 (12 MP) JPEG made
 * from it once (cached in the OS temp folder). Ways to decode, each followed by the central
 * crop + resize to 224x224 (preprocess):
 * - jimp: jimp's pure-JS jpeg-js, in this thread (what decodeImage used before issue 9);
 * - turbo full: decodeImage(), libjpeg-turbo (wasm) in the decode worker, full size;
 * - turbo scaled: decodeImage(..., { minDecodedSize: minDecodedSizeFor(224) }), decoded at
 *   1/2, 1/4 or 1/8 scale in the DCT domain while the crop keeps >= 224 pixels a side.
 * Inference: net.run() on a preprocessed input, SIMD kernels. Medians of --runs runs.
 *
 *   node bench/decode.mjs --accuracy 300
 *
 * instead measures what the decoders do to accuracy: top-1 / top-5 of 1.0/224 uint8 on the first
 * N labelled photos of ../shared/images/photos (the eval command's set, tf-slim central crop),
 * each photo decoded the three ways above.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Jimp } from 'jimp';
import { decodeImage, loadModel, minDecodedSizeFor, preprocess } from '../dist/node.js';

const argv = process.argv.slice(2);
const opt = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const runs = Number(opt('runs', 15));
const shared = new URL('../../shared/', import.meta.url).pathname;
const modelPath = join(shared, 'models', 'mobilenet_v1_1.0_224_quant.tflite');
const photo720 = join(shared, 'images', 'samples', 'cat_720p.jpg');
if (!existsSync(modelPath) || !existsSync(photo720)) {
  console.error(`bench/decode.mjs: needs ${modelPath} and ${photo720}`);
  process.exit(2);
}

const big = join(tmpdir(), 'mobilenet-wasm-bench-12mp.jpg');
if (!existsSync(big)) {
  const img = await Jimp.fromBuffer(readFileSync(photo720));
  img.resize({ w: 4000, h: 3000 });
  writeFileSync(big, await img.getBuffer('image/jpeg', { quality: 90 }));
}

const accuracyPhotos = opt('accuracy', undefined);
if (accuracyPhotos !== undefined) {
  const { readGroundTruth, evaluate } = await import('../dist/cli/eval.js');
  const { parseLabels, alignLabels, decodeImageFile } = await import('../dist/node.js');
  const vocabulary = parseLabels(readFileSync(join(shared, 'labels', 'imagenet_1001_short.txt'), 'utf8'));
  const photos = readGroundTruth(join(shared, 'images', 'photos'), vocabulary, Number(accuracyPhotos));
  const net = await loadModel(modelPath, { kernels: 'simd' });
  const model = { name: '1.0/224 uint8', net, labels: alignLabels(vocabulary, net.info.classes) };
  const jimpDecode = async (f) => (await Jimp.fromBuffer(readFileSync(f))).bitmap;
  const decoders = {
    'jimp (jpeg-js), full size': jimpDecode,
    'libjpeg-turbo, full size': (f) => decodeImageFile(f),
    'libjpeg-turbo, scaled (minDecodedSize 256)': (f) => decodeImageFile(f, { minDecodedSize: minDecodedSizeFor(224) }),
  };
  let scaledPhotos = 0;
  for (const p of photos) {
    const img = await decodeImageFile(p.file, { minDecodedSize: minDecodedSizeFor(224) });
    const full = await decodeImageFile(p.file);
    if (img.width !== full.width) scaledPhotos++;
  }
  console.log(`1.0/224 uint8, ${photos.length} photos (tf-slim crop); ${scaledPhotos} of them large enough to be decoded at reduced scale\n`);
  console.log('| decoder | top-1 | top-5 |');
  console.log('| --- | --- | --- |');
  for (const [name, decode] of Object.entries(decoders)) {
    const r = await evaluate([model], photos, { crop: 'tf-slim', decode });
    const m = r.models[0];
    const pct = (k) => `${(100 * m[k]).toFixed(1)}% (${m[`${k}Correct`]})`;
    console.log(`| ${name} | ${pct('top1')} | ${pct('top5')} |${r.failed.length ? ` ${r.failed.length} failed` : ''}`);
  }
  net.dispose();
  process.exit(0);
}

const net = await loadModel(modelPath, { kernels: 'simd' });
const input = { name: 'input', shape: net.info.input.shape, dtype: 'float32' };
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
async function time(f) {
  for (let i = 0; i < 3; i++) await f(); // warm-up: JIT tiers, the decode worker's start
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

const tensor = new Uint8Array(net.info.input.shape.reduce((a, b) => a * b, 1));
for (let i = 0; i < tensor.length; i++) tensor[i] = (i * 37) & 255;
const rows = [];
const inferenceMs = await time(() => net.run(tensor));
for (const [label, file] of [['1280x720 JPEG (cat_720p.jpg)', photo720], ['4000x3000 JPEG (12 MP)', big]]) {
  const bytes = new Uint8Array(readFileSync(file));
  const ways = {
    jimp: async () => preprocess((await Jimp.fromBuffer(Buffer.from(bytes))).bitmap, input),
    'turbo full': async () => preprocess(await decodeImage(bytes), input),
    'turbo scaled': async () => preprocess(await decodeImage(bytes, { minDecodedSize: minDecodedSizeFor(224) }), input),
  };
  const scaled = await decodeImage(bytes, { minDecodedSize: minDecodedSizeFor(224) });
  const row = { photo: label, decodedAt: `${scaled.width}x${scaled.height}` };
  for (const [way, f] of Object.entries(ways)) row[way] = await time(f);
  rows.push(row);
}
const inferenceAgain = await time(() => net.run(tensor));
net.dispose();

const result = { inferenceMs: Math.min(inferenceMs, inferenceAgain), runs, node: process.version, rows };
if (argv.includes('--json')) console.log(JSON.stringify(result));
else {
  const f = (x) => x.toFixed(1);
  const r = result.inferenceMs;
  console.log(`one 1.0/224 uint8 inference (SIMD): ${f(r)} ms (median of ${runs}, Node ${process.version})\n`);
  console.log('| photo | jimp (jpeg-js) | libjpeg-turbo full | libjpeg-turbo scaled (decoded at) | scaled / inference |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) {
    console.log(`| ${row.photo} | ${f(row.jimp)} ms | ${f(row['turbo full'])} ms | ${f(row['turbo scaled'])} ms (${row.decodedAt}) | ${(row['turbo scaled'] / r).toFixed(2)} |`);
  }
}
