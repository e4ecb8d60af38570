// A bare page using only mobilenet-wasm/core as a web developer would: the SIMD build imported
// as a file URL by the bundler, kernels 'auto', no labels passed.
import { MobileNet } from 'mobilenet-wasm/core';
import simdUrl from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';

async function main() {
  const params = new URLSearchParams(location.search);
  const modelUrl = params.get('model') ?? '/shared/models/mobilenet_v1_1.0_224_quant.tflite';
  const img = document.querySelector('img')!;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(img, 0, 0);
  const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const model = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
  const net = await MobileNet.load(model, { wasm: { simd: fetch(simdUrl).then((r) => r.arrayBuffer()) }, kernels: 'auto' });
  const top = net.classify(pixels, { topK: 5 });
  (window as any).__result = { kernels: net.info.kernels, top };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
