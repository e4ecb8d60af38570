// What a page classifying with a uint8 .tflite model imports (bench/size.mjs bundles it as a
// page would be: esbuild, minified, browser). The model bytes come from the page; the kernel
// build for the model's precision is fetched by the library (options.wasm omitted).
import { MobileNet } from '../../src/index.js';

export async function classify(modelUrl: string, image: ImageData) {
  const net = await MobileNet.load(new Uint8Array(await (await fetch(modelUrl)).arrayBuffer()));
  return net.classify(image);
}
