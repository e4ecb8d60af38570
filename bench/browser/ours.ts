// mobilenet-wasm in the page, as a user's bundle loads it (mobilenet-wasm/core, .wasm files
// served beside the bundle). Query `kernels`: 'auto' (relaxed SIMD in Chromium) or 'simd'.
// Times runAll on a random input of the model's input type, as the Node bench (`mobilenet-wasm bench`) does.
import { MobileNet, type KernelChoice } from 'mobilenet-wasm/core';
// the per-precision builds: load fetches the one file the model needs, as a user's page does
import { wasmByFile } from '../../examples/web/builds.js';
import { argmax, fetchBytes, pageQuery, randomInput, report, timeInference } from './common.js';

report(async () => {
  const q = pageQuery();
  const kernels = (q.get('kernels') ?? 'auto') as KernelChoice;
  const bytes = await fetchBytes(q.model);
  const net = await MobileNet.load(bytes, { wasm: wasmByFile, kernels });
  const { dtype, shape } = net.info.input;
  const inputs = [randomInput(dtype, shape.reduce((a: number, b: number) => a * b, 1))];
  const infer = () => net.runAll(inputs);
  const first = infer()[0] as ArrayLike<number>;
  const timing = await timeInference(infer, q.runs, q.warmupMs);
  return {
    ...timing,
    top1: argmax(first),
    version: 'this repository',
    modelNote: `${net.info.precision}, input ${dtype}[${shape.join(',')}]`,
    features: { kernels: net.info.kernels, asked: kernels },
  };
});
