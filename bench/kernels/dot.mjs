// int8 GEMM with 8-bit dot products (issue 11 item 2): the exact relaxed-dot formulations of
// bench/kernels/probe.ts against the shipped scheme's i32x4.dot_i16x8_s tile, in Node 20 (this
// process, TurboFan after warm-up) and in headless Chromium (same function via page.evaluate).
// Usage: node bench/kernels/dot.mjs [--engines node,chromium] [--rounds 9] [--round-ms 150]
//        [--warmup-ms 3000] [--js-flags '--no-liftoff' (Chromium's V8)] [--json out.json] [--write]
// Prints one table per engine: GOP/s (2 ops per multiply-add), median of interleaved rounds,
// and the mismatch count of each formulation against a plain-loop reference (must be 0).
import v8 from 'node:v8';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { dotBench } from './dot-core.mjs';
import { probeWasm } from './probe.mjs';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

// Pointwise layers of MobileNet v1 (M = output pixels, rounded up to the 4-row tile; K = input
// channels, N = output channels). K % 16 == 0 (the split pre-pass), so 0.25/128's K=8 is left out.
export const DOT_SHAPES = [
  { name: '1.0/224 112x112 32->64', m: 12544, k: 32, n: 64 },
  { name: '1.0/224 56x56 64->128', m: 3136, k: 64, n: 128 },
  { name: '1.0/224 56x56 128->128', m: 3136, k: 128, n: 128 },
  { name: '1.0/224 28x28 256->256', m: 784, k: 256, n: 256 },
  { name: '1.0/224 14x14 512->512', m: 196, k: 512, n: 512 },
  { name: '1.0/224 7x7 1024->1024', m: 52, k: 1024, n: 1024 },
  { name: '0.25/128 32x32 16->32', m: 1024, k: 16, n: 32 },
  { name: '0.25/128 32x32 32->32', m: 1024, k: 32, n: 32 },
  { name: '0.25/128 16x16 64->64', m: 256, k: 64, n: 64 },
  { name: '0.25/128 8x8 128->128', m: 64, k: 128, n: 128 },
  { name: '0.25/128 4x4 256->256', m: 16, k: 256, n: 256 },
];

const MARK = '<!-- dot -->';

export async function runChromium(opts) {
  const { launchBrowser } = await import('../../test/browser/harness.ts');
  const browser = await launchBrowser([`--js-flags=--experimental-wasm-relaxed-simd${opts.jsFlags ? ` ${opts.jsFlags}` : ''}`]);
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    const version = browser.version();
    const result = await page.evaluate(`(${dotBench.toString()})(${JSON.stringify(opts)})`);
    return { engine: `Chromium ${version}`, ...result };
  } finally {
    await browser.close();
  }
}

export function table(r) {
  const lines = [`### ${r.engine}`, '', 'ceilings (GOP/s, 8 independent accumulators in registers): ' +
    Object.entries(r.ceilings).map(([k, v]) => `${k.replace('probe_', '')} ${v.toFixed(1)}`).join(', '), '',
    '| shape (M x K x N) | i16 (dot_i16x8, shipped scheme) | wsplit (w+/w-, ~x) | asplit (x = l + 128h) | best relaxed / i16 | mismatches i16/wsplit/asplit: first call, after warm-up |',
    '|---|---|---|---|---|---|'];
  for (const [name, g] of Object.entries(r.gopsMedian)) {
    const best = Math.max(g.wsplit, g.asplit);
    const ex = (e) => `${e.i16}/${e.wsplit}/${e.asplit}`;
    lines.push(`| ${name} | ${g.i16.toFixed(1)} | ${g.wsplit.toFixed(1)} | ${g.asplit.toFixed(1)} | ${(best / g.i16).toFixed(2)}x | ${ex(r.exactCold[name])}, ${ex(r.exact[name])} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: {
    engines: { type: 'string', default: 'node,chromium' }, rounds: { type: 'string', default: '9' },
    'round-ms': { type: 'string', default: '150' }, 'warmup-ms': { type: 'string', default: '3000' },
    'js-flags': { type: 'string', default: '' }, json: { type: 'string' }, filter: { type: 'string', default: '' }, write: { type: 'boolean', default: false },
  } });
  const opts = {
    wasm: Array.from(probeWasm()), shapes: DOT_SHAPES.filter((s) => s.name.includes(values.filter)),
    jsFlags: values['js-flags'], rounds: Number(values.rounds), roundMs: Number(values['round-ms']), warmupMs: Number(values['warmup-ms']), probeIters: 20_000_000,
  };
  const results = [];
  for (const engine of values.engines.split(',')) {
    const r = engine === 'node' ? { engine: `Node ${process.version}`, ...(await dotBench(opts)) } : await runChromium(opts);
    results.push(r);
    console.log(table(r) + '\n');
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 1));
  // --write: the section between the dot markers of bench/kernels/RESULTS.md (run.mjs keeps it)
  if (values.write) {
    const file = new URL('./RESULTS.md', import.meta.url);
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Kernel microbenchmarks\n';
    const [head, , tail = '\n'] = old.includes(MARK) ? old.split(MARK) : [old + '\n', '', '\n'];
    const section = ['', '## int8 GEMM with 8-bit dot products (`node bench/kernels/dot.mjs --write`)', '',
      `${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} vCPU, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ` +
      `--rounds ${opts.rounds} --round-ms ${opts.roundMs} --warmup-ms ${opts.warmupMs}. Accumulate-only tiles (bench/kernels/probe.ts), GOP/s medians of interleaved rounds; ` +
      'the relaxed formulations include their split pre-pass (asplit) and need 2 relaxed dots per 16 multiply-adds to be exact.', '',
      ...results.map((r) => table(r) + '\n'), ''].join('\n');
    writeFileSync(file, head + MARK + section + MARK + tail);
  }
}
