// Every input a page has, classified on the main thread by mobilenet-wasm/core: grace_hopper as
// <img>, <canvas>, OffscreenCanvas, ImageBitmap, ImageData, VideoFrame and a fetched Blob must
// give the same probabilities to the bit; a <video> playing a canvas stream; and the bad inputs
// (unloaded or broken <img>, zero-size canvas, closed bitmap, tainted canvas) as typed errors.
import { MobileNet, readImage } from 'mobilenet-wasm/core';
import simdUrl from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';

const PHOTO = '/shared/images/samples/grace_hopper.bmp';

const errorOf = (f: () => unknown) => {
  try {
    f();
    return 'no error';
  } catch (e: any) {
    return { name: e?.name, code: e?.code, message: String(e?.message ?? e) };
  }
};

async function main() {
  const params = new URLSearchParams(location.search);
  const foreign = params.get('foreign')!;
  const img = document.querySelector('img')!;
  await img.decode();
  const { naturalWidth: w, naturalHeight: h } = img;
  const model = new Uint8Array(await (await fetch('/shared/models/mobilenet_v1_1.0_224_quant.tflite')).arrayBuffer());
  const net = await MobileNet.load(model, { wasm: { simd: await WebAssembly.compileStreaming(fetch(simdUrl)) } });
  const scores = (src: unknown) => Array.from(net.probabilities(src as never));

  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  canvas.getContext('2d')!.drawImage(img, 0, 0);
  const offscreen = new OffscreenCanvas(w, h);
  offscreen.getContext('2d')!.drawImage(img, 0, 0);
  const bitmap = await createImageBitmap(img);
  const imageData = canvas.getContext('2d')!.getImageData(0, 0, w, h);
  const blob = await (await fetch(PHOTO)).blob();
  const fromBlob = await readImage(blob);
  const frame = typeof VideoFrame === 'function' ? new VideoFrame(canvas, { timestamp: 0 }) : undefined;

  const same = {
    img: scores(img),
    canvas: scores(canvas),
    offscreen: scores(offscreen),
    bitmap: scores(bitmap),
    imageData: scores(imageData),
    blob: scores(fromBlob),
    videoFrame: frame ? scores(frame) : null,
    batch: (net.classify([img, canvas, bitmap]) as { index: number; score: number }[][]).map((t) => t.map((c) => [c.index, c.score])),
  };
  const top5 = net.classify(img);
  frame?.close();

  // a <video> playing a stream of the canvas: its current frame, once it has one
  const video = document.createElement('video');
  video.muted = true;
  const noFrame = errorOf(() => net.classify(video));
  let videoTop: unknown = 'unavailable';
  if (typeof canvas.captureStream === 'function') {
    video.srcObject = canvas.captureStream();
    document.body.append(video);
    // a captured canvas only emits frames when it is painted
    const painter = setInterval(() => canvas.getContext('2d')!.drawImage(img, 0, 0), 50);
    video.play().catch(() => {});
    for (let i = 0; i < 100 && video.readyState < 2; i++) await new Promise((ok) => setTimeout(ok, 100));
    clearInterval(painter);
    videoTop = video.readyState >= 2 ? { size: [video.videoWidth, video.videoHeight], top: net.classify(video)[0] } : `readyState ${video.readyState}`;
  }

  // a WebGL canvas is read by drawing it, like any other
  const gl = document.createElement('canvas');
  gl.width = 8;
  gl.height = 8;
  const ctx = gl.getContext('webgl', { preserveDrawingBuffer: true });
  let webgl: unknown = 'no webgl';
  if (ctx) {
    ctx.clearColor(1, 0, 0, 1);
    ctx.clear(ctx.COLOR_BUFFER_BIT);
    const { readImageSync } = await import('mobilenet-wasm/core');
    webgl = Array.from(readImageSync(gl).data.slice(0, 4));
  }

  // the bad inputs
  const loading = new Image();
  loading.src = `${PHOTO}?slow=${Date.now()}`;
  const unloaded = errorOf(() => net.classify(loading));
  const broken = new Image();
  broken.src = '/shared/no-such-image.png';
  await new Promise((ok) => { broken.onerror = ok; broken.onload = ok; });
  const brokenErr = errorOf(() => net.classify(broken));
  const settle = (p: Promise<unknown>) => p.then(() => 'no error', (e) => ({ name: e.name, code: e.code, message: e.message }));
  const brokenAsync = await settle(readImage(broken));
  // readImage waits for an <img> still loading, and reports one whose load then fails
  const failing = new Image();
  failing.src = '/shared/also-missing.png';
  const failingAsync = await settle(readImage(failing));
  const loadingLater = new Image();
  loadingLater.src = `${PHOTO}?later=${Date.now()}`;
  const waited = Array.from(net.probabilities(await readImage(loadingLater)));
  const empty = document.createElement('canvas');
  empty.width = 0;
  const zero = errorOf(() => net.classify(empty));
  const closed = await createImageBitmap(img);
  closed.close();
  const closedErr = errorOf(() => net.classify(closed));
  const blobSync = errorOf(() => net.classify(blob));

  // an image from another origin without CORS: the <img> shows, its pixels are not readable
  const other = new Image();
  other.src = `${foreign}${PHOTO}`;
  await other.decode();
  const taintedImg = errorOf(() => net.classify(other));
  const tainted = document.createElement('canvas');
  tainted.width = other.naturalWidth;
  tainted.height = other.naturalHeight;
  tainted.getContext('2d')!.drawImage(other, 0, 0);
  const taintedCanvas = errorOf(() => net.classify(tainted));
  // and the page's own images still read afterwards
  const afterTaint = scores(img);

  (window as any).__result = { size: [w, h], same, top5, noFrame, videoTop, webgl, unloaded, brokenErr, brokenAsync, failingAsync, waited, zero, closedErr, blobSync, taintedImg, taintedCanvas, afterTaint };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e), stack: String(e?.stack) }; });
