// TFLite's wasm build from @tensorflow/tfjs-tflite in the page, one thread. Its loader appends a
// <script> for the emscripten glue it picks by the engine's features (the page is not
// cross-origin isolated, so no threads: tflite_web_api_cc_simd.js) from setWasmPath's folder.
// Timed as bench/peers/tflite/run.mjs does in Node: its TFLiteWebModelRunner directly (set the
// input view, infer(), copy the output), which is TFLiteModel.predict() minus tfjs tensors.
// The package's ESM entry (dist/index.js) imports a file the package does not ship, so its flat
// ESM bundle is imported (bench/browser.mjs aliases it).
// @ts-ignore: resolved by bench/browser.mjs to dist/tf-tflite.fesm.js
import * as tflite from '@tensorflow/tfjs-tflite';
import { argmax, fetchBytes, pageQuery, randomInput, report, timeInference } from './common.js';

report(async () => {
  const q = pageQuery();
  const bytes = await fetchBytes(q.model);
  tflite.setWasmPath(q.get('wasm') ?? '/peers/tflite/');
  const model = await tflite.loadTFLiteModel(bytes.buffer, { numThreads: 1 });
  const runner = model.modelRunner;
  const inInfo = runner.getInputs()[0];
  const outInfo = runner.getOutputs()[0];
  const inLen = inInfo.shape.split(',').map(Number).reduce((a: number, b: number) => a * b, 1);
  const input = randomInput(inInfo.dataType, inLen);
  const infer = () => {
    // views re-taken each call (as predict() does): memory growth would detach old ones
    runner.getInputs()[0].data().set(input);
    if (!runner.infer()) throw new Error('TFLite infer() failed');
    return runner.getOutputs()[0].data().slice();
  };
  const first = infer();
  const timing = await timeInference(infer, q.runs, q.warmupMs);
  const features = await tflite.getWasmFeatures();
  return {
    ...timing,
    top1: argmax(first),
    version: 'tfjs-tflite',
    modelNote: `input ${inInfo.dataType} [${inInfo.shape}], output ${outInfo.dataType} [${outInfo.shape}]`,
    features: { simd: features.simd, multiThreading: features.multiThreading, threads: 1 },
  };
});
