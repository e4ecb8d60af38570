// onnxruntime-web in the page: wasm execution provider, one thread (no worker, no proxy), the
// .onnx files bench/peers/make-models.ts writes (the project's random weights; int8 is the
// QLinearConv form with uint8 activations), NCHW float input. As bench/peers/ort/run.mjs in Node.
// the wasm-only entry: the default one is the WebGPU/WebNN build (ort-wasm-simd-threaded.jsep.wasm);
// Node's runner loads the plain ort-wasm-simd-threaded.wasm, and so does this
import * as ort from 'onnxruntime-web/wasm';
import { argmax, fetchBytes, pageQuery, randomInput, report, timeInference } from './common.js';

report(async () => {
  const q = pageQuery();
  const bytes = await fetchBytes(q.model);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = q.get('wasm') ?? '/peers/ort/';
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const r = q.resolution;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', randomInput('float32', 3 * r * r) as Float32Array, [1, 3, r, r]) };
  const outputName = session.outputNames[0];
  const infer = async () => {
    const out = await session.run(feeds);
    const t = out[outputName];
    const probs = t.data as Float32Array; // already copied out of wasm memory
    t.dispose?.();
    return probs;
  };
  const first = await infer();
  const timing = await timeInference(infer, q.runs, q.warmupMs);
  await session.release();
  return {
    ...timing,
    top1: argmax(first),
    version: `onnxruntime-web ${ort.env.versions?.web ?? ''}`.trim(),
    modelNote: 'NCHW float input, graphOptimizationLevel all',
    // onnxruntime-web >= 1.19 ships SIMD builds only
    features: { simd: true, numThreads: ort.env.wasm.numThreads, proxy: ort.env.wasm.proxy, crossOriginIsolated: self.crossOriginIsolated },
  };
});
