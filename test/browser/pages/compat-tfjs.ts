// The tfjs-compat entry in a page, as code migrating from @tensorflow-models/mobilenet uses it:
// classify an <img> (topk 3 by default, and 5), infer its logits and embedding; next to it the
// main-thread MobileNet.classify of the same model. The kernel build is given as a URL string.
import { MobileNet } from 'mobilenet-wasm/core';
import { load } from 'mobilenet-wasm/tfjs-compat';
import simdUrl from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';

async function main() {
  const img = document.querySelector('img')!;
  await img.decode();
  const modelUrl = new URLSearchParams(location.search).get('model')!;
  const compat = await load({ version: 1, modelUrl, wasm: { simd: simdUrl } });
  const net = await MobileNet.load(await (await fetch(modelUrl)).arrayBuffer(), { wasm: { simd: simdUrl } });
  const canvas = document.createElement('canvas');
  [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
  canvas.getContext('2d')!.drawImage(img, 0, 0);
  (window as any).__result = {
    alpha: compat.alpha,
    kernels: compat.info.kernels,
    main: net.classify(img, { topK: 6 }),
    compat3: await compat.classify(img),
    compat5: await compat.classify(img, 5),
    compatCanvas: await compat.classify(canvas, 5),
    logits: Array.from(await compat.infer(img)),
    embedding: Array.from(await compat.infer(img, true)),
    mainEmbedding: Array.from(net.embed(img)),
  };
  compat.dispose();
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
