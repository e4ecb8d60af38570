// A bare page using only mobilenet-wasm/core with only the scalar build supplied (no SIMD at
// all, as on an engine without it): kernels 'auto' must run 'scalar'. Besides the top-5 it
// returns the model's raw uint8 input and output tensors, so the test can check them byte for
// byte against the SIMD build.
import { MobileNet, preprocess, readImageSync, readTflite } from 'mobilenet-wasm/core';
import scalar from 'mobilenet-wasm/wasm/mobilenet-scalar.wasm';

async function main() {
  const params = new URLSearchParams(location.search);
  const modelUrl = params.get('model') ?? '/shared/models/mobilenet_v1_1.0_224_quant.tflite';
  const img = document.querySelector('img')!;
  await img.decode();
  const pixels = readImageSync(img);
  const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
  const net = await MobileNet.load(bytes, { wasm: { scalar }, kernels: 'auto' });
  const top = net.classify(pixels, { topK: 5 });
  const input = preprocess(pixels, readTflite(bytes).input);
  const output = net.run(input);
  (window as any).__result = { kernels: net.info.kernels, top, input: Array.from(input), output: Array.from(output) };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
