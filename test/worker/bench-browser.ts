// Figures for the README's worker section, in headless Chromium: `npx tsx test/worker/bench-browser.ts`.
// Per model and CPU throttling rate: load time in-process and in a worker, classify latency from
// an <img>, and the longest main-thread stall during the call (medians of 9 runs). Not a test.
import os from 'node:os';
import { join } from 'node:path';
import { pageResult, repoRoot, startPageSuite, throttleCpu } from '../browser/harness.js';

const suite = await startPageSuite({
  'worker-latency': { entry: join(repoRoot, 'test/browser/pages/worker-latency.ts'), body: '<img src="/shared/images/samples/grace_hopper.bmp">' },
  'mobilenet-worker': { entry: 'mobilenet-wasm/worker/script' },
});
const { browser } = suite;
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`load average at start: ${load()}`);
const f = (x: number) => x.toFixed(1);
console.log('| model | CPU | load in-process | load in worker | classify in-process (main thread stalled) | classify via worker | longest main-thread stall via worker |');
console.log('|---|---|---|---|---|---|---|');
try {
  for (const model of ['mobilenet_v1_0.25_128_quant', 'mobilenet_v1_1.0_224_quant']) {
    for (const rate of [1, 6]) {
      const page = await browser.newPage();
      await throttleCpu(page, rate);
      const r = await pageResult<any>(page, `${suite.url}/worker-latency.html?model=${model}`, 300_000);
      console.log(`| ${model} | ${rate}x | ${f(r.loadMain)} ms | ${f(r.loadWorker)} ms | ${f(r.main.ms)} ms (${f(r.main.stall)} ms) | ${f(r.worker.ms)} ms | ${f(r.worker.stall)} ms |`);
      await page.close();
    }
  }
} finally {
  console.log(`load average at end: ${load()}`);
  await suite.close();
}
