// The page that bench/web.mjs bundles and opens in headless Chromium. Query:
//   model    URL of the .tflite
//   kernels  'auto' | 'simd' | ...
//   runs     timed classifications after the warm-up (0: only the first result)
//   warmup   milliseconds of back-to-back classifications before timing (V8 tiers wasm up)
//   overlap  1: compile the kernel build 'kernels' picks while the model downloads (the page
//            passes a Promise of the compiled module), instead of after, inside MobileNet.load
// It classifies the <img> on the page (grace_hopper) as a user's page would, and reports
// performance.now() at the first result: milliseconds since navigation start, since the fetch
// of the model, the compile of the kernels and everything else happen after it. The timed runs
// classify the pixels read once, so they time preprocessing and inference, not canvas reads.
import { MobileNet, chooseFlavour, readImageSync } from 'mobilenet-wasm/core';
import relaxed from 'mobilenet-wasm/wasm/mobilenet-relaxed.wasm';
import simd from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';
import scalar from 'mobilenet-wasm/wasm/mobilenet-scalar.wasm';
import type { KernelChoice } from 'mobilenet-wasm/core';

// the page's phases, ms since navigation start: this script running, the model's bytes in
// hand, the model loaded (kernels compiled, weights packed), the first result
const scriptStartMs = performance.now();

async function main() {
  const q = new URLSearchParams(location.search);
  const runs = Number(q.get('runs') ?? 20);
  const warmupMs = Number(q.get('warmup') ?? 3000);
  const img = document.querySelector('img')!;
  const kernels = (q.get('kernels') ?? 'auto') as KernelChoice;
  const urls = { relaxed, simd, scalar };
  let wasm: Record<string, string | Promise<WebAssembly.Module>> = urls;
  if (q.get('overlap') === '1') {
    const flavour = chooseFlavour(kernels, Object.keys(urls) as (keyof typeof urls)[]);
    wasm = { [flavour]: WebAssembly.compileStreaming(fetch(urls[flavour])) };
  }
  const response = await fetch(q.get('model')!);
  if (!response.ok) throw new Error(`model: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const fetchedMs = performance.now();
  const net = await MobileNet.load(bytes, { wasm, kernels });
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
  (window as any).__result = { kernels: net.info.kernels, top1: first.label, firstResultMs, phases, times };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
