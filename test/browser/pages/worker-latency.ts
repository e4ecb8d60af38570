// Figures for the README (not a test): what a classify costs the page's main thread in-process
// and through MobileNetWorker, from an <img>, at the CPU throttling the runner sets.
// The longest main-thread stall is the largest gap between ticks of a setTimeout(0) chain.
import { MobileNet } from 'mobilenet-wasm/core';
import { MobileNetWorker } from 'mobilenet-wasm/worker';
import simdUrl from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** runs `f` while a setTimeout(0) chain ticks; returns f's latency and the longest gap between ticks */
async function watched(f: () => unknown): Promise<{ ms: number; stall: number }> {
  let last = performance.now();
  let stall = 0;
  let on = true;
  const tick = () => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
    if (on) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  await new Promise((ok) => setTimeout(ok, 20));
  stall = 0;
  last = performance.now();
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  await new Promise((ok) => setTimeout(ok, 20));
  on = false;
  return { ms, stall };
}

async function main() {
  const params = new URLSearchParams(location.search);
  const name = params.get('model') ?? 'mobilenet_v1_1.0_224_quant';
  const runs = Number(params.get('runs') ?? 9);
  const img = document.querySelector('img')!;
  await img.decode();
  const simd = await WebAssembly.compileStreaming(fetch(simdUrl));
  const bytes = new Uint8Array(await (await fetch(`/shared/models/${name}.tflite`)).arrayBuffer());
  let t0 = performance.now();
  const net = await MobileNet.load(bytes, { wasm: { simd } });
  const loadMain = performance.now() - t0;
  t0 = performance.now();
  const remote = await MobileNetWorker.load(bytes, { wasm: { simd }, worker: new URL('./mobilenet-worker.js', import.meta.url) });
  const loadWorker = performance.now() - t0;
  net.classify(img);
  await remote.classify(img);
  const main: { ms: number; stall: number }[] = [];
  const worker: { ms: number; stall: number }[] = [];
  for (let i = 0; i < runs; i++) {
    main.push(await watched(() => net.classify(img)));
    worker.push(await watched(() => remote.classify(img)));
  }
  remote.dispose();
  const sum = (xs: { ms: number; stall: number }[]) => ({ ms: median(xs.map((x) => x.ms)), stall: median(xs.map((x) => x.stall)) });
  (window as any).__result = { model: name, loadMain, loadWorker, main: sum(main), worker: sum(worker) };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
