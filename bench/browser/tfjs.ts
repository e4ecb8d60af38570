// tfjs-backend-wasm in the page (SIMD, one thread), the network exactly as bench/peers/tfjs/run.mjs
// builds it in Node: bench/lib/mobilenet-v1.mjs's seeded random weights, tf.fused.conv2d /
// tf.fused.depthwiseConv2d with bias and relu6 fused (what a converted graph model runs), avgPool,
// 1x1 classifier, softmax; float32 only. The .wasm comes from the package's dist, served at `wasm`.
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// @ts-ignore: plain JS module of the Node bench
import { buildMobileNetV1 } from '../lib/mobilenet-v1.mjs';
import { argmax, pageQuery, randomInput, report, timeInference } from './common.js';

/** OHWI -> HWIO (tf.conv2d filter layout). */
function ohwiToHwio(f: Float32Array, O: number, H: number, W: number, I: number): Float32Array {
  const out = new Float32Array(f.length);
  for (let o = 0; o < O; o++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let i = 0; i < I; i++) out[((h * W + w) * I + i) * O + o] = f[((o * H + h) * W + w) * I + i];
  return out;
}

report(async () => {
  const q = pageQuery();
  if (q.precision !== 'float32') throw new Error(`tfjs-backend-wasm runs float32 only (asked for ${q.precision})`);
  const net = buildMobileNetV1({ alpha: q.alpha, resolution: q.resolution, seed: 1 });
  setWasmPaths(q.get('wasm') ?? '/peers/tfjs/');
  setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const weights = net.layers.map((l: any) => {
    if (l.kind === 'conv') return { filter: tf.tensor4d(ohwiToHwio(l.filter, l.outC, l.k, l.k, l.inC), [l.k, l.k, l.inC, l.outC]), bias: tf.tensor1d(l.bias) };
    if (l.kind === 'dw') return { filter: tf.tensor4d(l.filter, [l.k, l.k, l.C, 1]), bias: tf.tensor1d(l.bias) };
    return null;
  });
  const forward = (input: tf.Tensor4D) => {
    let x: tf.Tensor4D = input;
    for (let i = 0; i < net.layers.length; i++) {
      const l = net.layers[i];
      const w = weights[i]!;
      const activation = l.relu6 ? 'relu6' : 'linear';
      if (l.kind === 'conv') x = tf.fused.conv2d({ x, filter: w.filter as tf.Tensor4D, strides: l.stride, pad: 'same', bias: w.bias, activation });
      else if (l.kind === 'dw') x = tf.fused.depthwiseConv2d({ x, filter: w.filter as tf.Tensor4D, strides: l.stride, pad: 'same', bias: w.bias, activation });
      else x = tf.avgPool(x, l.size, 1, 'valid');
    }
    return tf.softmax(tf.reshape(x, [1, net.numClasses]));
  };
  const r = q.resolution;
  const input = tf.tensor4d(randomInput('float32', r * r * 3) as Float32Array, [1, r, r, 3]);
  const infer = () => {
    const y = tf.tidy(() => forward(input));
    const probs = y.dataSync(); // reading the output back, as the Node runner does
    y.dispose();
    return probs;
  };
  const first = infer();
  const timing = await timeInference(infer, q.runs, q.warmupMs);
  return {
    ...timing,
    top1: argmax(first),
    version: `tfjs-core ${tf.version_core}`,
    modelNote: 'tf ops (fused conv + bias + relu6), random weights (bench/lib/mobilenet-v1.mjs seed 1)',
    features: {
      backend: tf.getBackend(),
      simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      threads: getThreadsCount(),
    },
  };
});
