// The worker API in a page: two models in two Web Workers with calls outstanding on both, compared
// with the same models on the main thread. The worker script is bundled as its own entry
// (esbuild does not follow new Worker(new URL(...))) and its URL passed as options.worker.
import { MobileNet } from 'mobilenet-wasm/core';
import { MobileNetWorker } from 'mobilenet-wasm/worker';
import simdUrl from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';

const MODELS = ['mobilenet_v1_1.0_224_quant', 'mobilenet_v1_0.25_128'];

async function main() {
  const img = document.querySelector('img')!;
  await img.decode();
  const simd = await WebAssembly.compileStreaming(fetch(simdUrl));
  const worker = new URL('./mobilenet-worker.js', import.meta.url);
  const bytes = await Promise.all(MODELS.map(async (m) => new Uint8Array(await (await fetch(`/shared/models/${m}.tflite`)).arrayBuffer())));

  const main = await Promise.all(bytes.map((b) => MobileNet.load(b, { wasm: { simd } })));
  const expected = main.map((net) => net.classify(img));
  const expectedEmbedding = Array.from(main[1].embed(img));

  const workers = await Promise.all(bytes.map((b) => MobileNetWorker.load(b, { wasm: { simd }, worker })));
  // every call below is outstanding at once, on both workers
  const [a1, b1, a2, b2, emb, batch] = await Promise.all([
    workers[0].classify(img),
    workers[1].classify(img),
    workers[0].classify(img, { topK: 5 }),
    workers[1].classify(img),
    workers[1].embed(img),
    workers[0].classify([img, img]),
  ]);

  // the element inputs through the worker: each becomes an ImageBitmap read in the worker
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  canvas.getContext('2d')!.drawImage(img, 0, 0);
  const offscreen = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
  offscreen.getContext('2d')!.drawImage(img, 0, 0);
  const bitmap = await createImageBitmap(img);
  const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
  const blob = await (await fetch('/shared/images/samples/grace_hopper.bmp')).blob();
  const loading = new Image();
  loading.src = `/shared/images/samples/grace_hopper.bmp?later=${Date.now()}`;
  const inputs = await Promise.all([
    workers[0].classify(canvas),
    workers[0].classify(offscreen),
    workers[0].classify(bitmap, { transfer: true }),
    workers[0].classify(pixels, { transfer: true }),
    workers[0].classify(blob),
    workers[0].classify(loading),
  ]);
  const moved = { bitmapWidth: bitmap.width, pixelBytes: pixels.data.length };
  const frame = new VideoFrame(canvas, { timestamp: 0 });
  const fromFrame = await workers[0].classify(frame);
  frame.close();
  // a <video> playing a stream of the canvas (painted, so it emits frames): its current frame
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = canvas.captureStream();
  document.body.append(video);
  const painter = setInterval(() => canvas.getContext('2d')!.drawImage(img, 0, 0), 50);
  video.play().catch(() => {});
  for (let i = 0; i < 100 && video.readyState < 2; i++) await new Promise((ok) => setTimeout(ok, 100));
  const fromVideo = video.readyState >= 2 ? (await workers[0].classify(video))[0] : `readyState ${video.readyState}`;
  clearInterval(painter);
  const settle = (p: Promise<unknown>) => p.then(() => 'resolved', (e) => ({ name: e.name, code: e.code, message: e.message }));
  const foreign = new URLSearchParams(location.search).get('foreign');
  const other = new Image();
  other.src = `${foreign}/shared/images/samples/grace_hopper.bmp`;
  await other.decode();
  const tainted = await settle(workers[0].classify(other));
  const taintedCanvas = document.createElement('canvas');
  taintedCanvas.width = other.naturalWidth;
  taintedCanvas.height = other.naturalHeight;
  taintedCanvas.getContext('2d')!.drawImage(other, 0, 0);
  const taintedBitmap = await settle(workers[0].classify(taintedCanvas));
  const badBlob = await settle(workers[0].classify(new Blob([new Uint8Array([1, 2, 3])])));

  // dispose with a call outstanding: it rejects with DISPOSED
  const pending = workers[1].classify(img);
  workers[1].dispose();
  const afterDispose = await settle(pending);

  // a model's error comes back typed, with the worker's code
  const badOption = await settle(workers[0].classify(img, { topK: 0 }));
  workers[0].dispose();

  // a worker script that is not there (an esbuild bundle without the worker entry), and a bad option
  const missingScript = await settle(MobileNetWorker.load(bytes[1], { wasm: { simd }, worker: '/no-such-worker.js' }));
  const badWorker = await settle(MobileNetWorker.load(bytes[1], { wasm: { simd }, worker: 42 as never }));

  (window as any).__result = {
    expected,
    expectedEmbedding,
    got: { a1, b1, a2, b2, batch },
    embedding: Array.from(emb),
    kernels: workers.map((w) => w.info.kernels),
    afterDispose,
    inputs,
    fromFrame,
    fromVideo,
    moved,
    tainted,
    missingScript,
    badWorker,
    taintedBitmap,
    badBlob,
    badOption,
  };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
