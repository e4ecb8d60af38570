// Shared by the pages of `npm run bench:browser` (bench/browser.mjs): the query every page takes,
// the in-page timing protocol, and how a page hands its result (or error) to the driver.
//
// Query: model (URL of the model file), size (<alpha>/<resolution>), precision, runs, warmup (ms),
// plus page-specific keys (kernels for ours).

import { mulberry32 } from '../../src/arch/random.js';

export interface PageQuery {
  model: string;
  size: string;
  alpha: number;
  resolution: number;
  precision: 'float32' | 'uint8' | 'int8';
  runs: number;
  warmupMs: number;
  get(key: string): string | null;
}

export function pageQuery(): PageQuery {
  const q = new URLSearchParams(location.search);
  const size = q.get('size') ?? '0.25/128';
  const [alpha, resolution] = size.split('/').map(Number);
  return {
    model: q.get('model') ?? '',
    size,
    alpha,
    resolution,
    precision: (q.get('precision') ?? 'float32') as PageQuery['precision'],
    runs: Number(q.get('runs') ?? 30),
    warmupMs: Number(q.get('warmup') ?? 3000),
    get: (key) => q.get(key),
  };
}

export async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The same seeded generator as bench/lib/timing.mjs (mulberry32, src/arch/random.ts), so inputs match the Node runners'. */
export const rng = (seed: number): (() => number) => mulberry32(seed);

/** A random input of `length` elements of a model's input type (values in the type's whole range). */
export function randomInput(dtype: string, length: number, seed = 7): Float32Array | Uint8Array | Int8Array {
  const rand = rng(seed);
  if (dtype === 'float32') return Float32Array.from({ length }, () => rand() * 2 - 1);
  if (dtype === 'uint8') return Uint8Array.from({ length }, () => Math.floor(rand() * 256));
  if (dtype === 'int8') return Int8Array.from({ length }, () => Math.floor(rand() * 256) - 128);
  throw new Error(`no random input for dtype ${dtype}`);
}

// A page that is not cross-origin isolated (none of ours is: one thread needs no
// SharedArrayBuffer, and isolation would make TFLite's loader pick its threaded build) gets
// performance.now() coarsened to 100 us. So a timed sample is a batch of back-to-back inferences
// lasting >= MIN_SAMPLE_MS, and a sample's time is divided by its batch size: rounding then moves
// a sample by <= 0.5%. Models slower than MIN_SAMPLE_MS are timed one inference per sample.
const MIN_SAMPLE_MS = 20;
const MIN_WARMUP_RUNS = 3;

export interface Timing {
  /** per-inference milliseconds of each timed sample */
  times: number[];
  /** inferences per sample */
  batch: number;
  warmupRuns: number;
}

/**
 * Runs `infer` back to back for >= warmupMs (V8 tiers hot wasm up from Liftoff to TurboFan and
 * keeps re-optimising for about a second), then times `runs` samples. `infer` may return a
 * promise (onnxruntime-web's session.run); it is awaited, as in the Node runners.
 */
export async function timeInference(infer: () => unknown, runs: number, warmupMs: number): Promise<Timing> {
  const call = async () => {
    const r = infer();
    if (r instanceof Promise) await r;
  };
  const start = performance.now();
  let warmupRuns = 0;
  let lastRunMs = Infinity;
  while (warmupRuns < MIN_WARMUP_RUNS || performance.now() - start < warmupMs) {
    const t0 = performance.now();
    await call();
    lastRunMs = performance.now() - t0;
    warmupRuns++;
  }
  // the last warm-up runs give the batch size; a 0 reading (below the timer's tick) counts as one tick
  const batch = Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(lastRunMs, 0.1)));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    for (let j = 0; j < batch; j++) await call();
    times.push((performance.now() - t0) / batch);
  }
  return { times, batch, warmupRuns };
}

export interface PageResult extends Timing {
  /** what the runtime reports it uses: kernel build, SIMD, threads, ... */
  features: Record<string, unknown>;
  /** the model as this runtime ran it */
  modelNote: string;
  /** a sanity figure from the first output (top-1 index), so a broken run shows */
  top1: number;
  version: string;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Hands the page's result to the driver (harness.ts pageResult waits for __result / __error). */
export function report(run: () => Promise<PageResult>): void {
  run().then(
    (result) => { (window as any).__result = result; },
    (e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; },
  );
}
