// The page that bench/web.mjs bundles and opens in headless Chromium. Query:
//   model    URL of the .tflite
//   kernels  'auto' | 'simd' | ...
//   runs     timed classifications after the warm-up (0: only the first result)
//   warmup   milliseconds of back-to-back classifications before timing (V8 tiers wasm up)
//   overlap  q8 | f32: compile the kernel build of that set that 'kernels' picks while the model
//            downloads (the page hands load a Promise of the compiled module), not after it,
//            inside MobileNet.load
//   packCache 1: load with the packed-model cache in the Cache API (LoadOptions.packCache): the
//            first such load packs and stores, later ones copy the packed bytes (issue 11 item 3)
// The page gives load the per-precision builds (mobilenet-{q8,f32}-<flavour>.wasm): load asks for
// the one file the model needs.
// It classifies the <img> on the page (grace_hopper) as a user's page would, and reports
// performance.now() at the first result: milliseconds since navigation start, since the fetch
// of the model, the compile of the kernels and everything else happen after it. The timed runs
// classify the pixels read once, so they time preprocessing and inference, not canvas reads.
import { MobileNet, chooseFlavour, readImageSync } from 'mobilenet-wasm/core';
import { BUILDS, wasmByFile } from '../examples/web/builds.js';
import { cacheApiPackStore } from '../src/weights/cache-api.js';
import type { Flavour, KernelChoice, WasmSources } from 'mobilenet-wasm/core';

const FLAVOURS: Flavour[] = ['relaxed', 'simd', 'scalar'];

// the page's phases, ms since navigation start: this script running, the model's bytes in
// hand, the model loaded (kernels compiled, weights packed), the first result
const scriptStartMs = performance.now();

async function main() {
  const q = new URLSearchParams(location.search);
  const runs = Number(q.get('runs') ?? 20);
  const warmupMs = Number(q.get('warmup') ?? 3000);
  const img = document.querySelector('img')!;
  const kernels = (q.get('kernels') ?? 'auto') as KernelChoice;
  let wasm: WasmSources = wasmByFile;
  const overlap = q.get('overlap');
  if (overlap) {
    const flavour = chooseFlavour(kernels, FLAVOURS);
    wasm = { [flavour]: WebAssembly.compileStreaming(fetch(BUILDS[`mobilenet-${overlap}-${flavour}.wasm`])) };
  }
  const response = await fetch(q.get('model')!);
  if (!response.ok) throw new Error(`model: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const fetchedMs = performance.now();
  // what the store did, to tell a load from the cache from one that packed (and stored)
  const packLog = { got: 0, put: 0, getMs: 0, sha256Ms: 0 };
  const store = q.get('packCache') === '1' ? cacheApiPackStore() : undefined;
  const packCache = store && {
    get: async (key: string) => {
      const t = performance.now();
      const bytes = await store.get(key);
      packLog.getMs += performance.now() - t;
      packLog.got += bytes ? 1 : 0;
      return bytes;
    },
    sha256: async (bytes: Uint8Array) => {
      const t = performance.now();
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
      packLog.sha256Ms += performance.now() - t;
      return digest;
    },
    put: (key: string, bytes: Uint8Array) => (packLog.put++, store.put(key, bytes)),
  };
  const net = await MobileNet.load(bytes, { wasm, kernels, ...(packCache ? { packCache } : {}) });
  const loadedMs = performance.now();
  const first = net.classify(img, { topK: 1 })[0];
  const firstResultMs = performance.now();

  const times: number[] = [];
  if (runs > 0) {
    const pixels = readImageSync(img);
    const start = performance.now();
    let warmupRuns = 0;
    while (warmupRuns < 3 || performance.now() - start < warmupMs) {
      net.classify(pixels, { topK: 1 });
      warmupRuns++;
    }
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      net.classify(pixels, { topK: 1 });
      times.push(performance.now() - t0);
    }
  }
  const phases = { script: scriptStartMs, fetch: fetchedMs - scriptStartMs, load: loadedMs - fetchedMs, firstRun: firstResultMs - loadedMs };
  (window as any).__result = { kernels: net.info.kernels, top1: first.label, firstResultMs, phases, times, packLog };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
