/**
 * `mobilenet-wasm bench`: latency of one model in this process, after a warm-up long enough for
 * V8 to finish re-optimising the hot wasm (>= 3 s by default), and optionally a per-layer profile.
 */
import { cpus } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../node.js';
import { buildMobileNetV1 } from '../arch/mobilenet.js';
import type { MobileNet, Tensor } from '../mobilenet.js';
import type { KernelChoice } from '../runtime/kernels.js';
import { sizeOf } from '../model/ir.js';
import { MobileNetError, invalidOption } from '../errors.js';
import { ioSync } from './common.js';

export interface BenchArgs {
  model?: string;
  alpha?: number;
  resolution?: number;
  precision?: 'float32' | 'uint8' | 'int8';
  runs: number;
  warmupMs: number;
  kernels: KernelChoice;
  profile: boolean;
  /** kernel builds from this folder instead of the package's build/ (to measure a dev build) */
  wasmDir?: string;
}

export interface BenchResult {
  model: string;
  precision: string;
  kernels: string;
  runs: number;
  min_ms: number;
  median_ms: number;
  p90_ms: number;
  mean_ms: number;
  /** CPU time per run (process.cpuUsage): less disturbed than wall time on a shared machine */
  cpu_ms: number;
  load_ms: number;
  first_run_ms: number;
  warmup_runs: number;
  macs: number;
  gmacs_per_s: number;
  weight_bytes: number;
  memory_bytes: number;
  cpu: string;
  layers?: { index: number; op: string; kernel: string; shape: number[]; macs: number; ms: number; gops: number }[];
}

export function randomInput(net: MobileNet, seed = 7): Tensor {
  const n = sizeOf(net.info.input.shape);
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
  if (net.info.input.dtype === 'float32') return Float32Array.from({ length: n }, () => next() / 127.5 - 1);
  if (net.info.input.dtype === 'uint8') return Uint8Array.from({ length: n }, next);
  return Int8Array.from({ length: n }, () => next() - 128);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (x: number, d = 3) => Number(x.toFixed(d));

export async function bench(a: BenchArgs): Promise<BenchResult> {
  const t0 = performance.now();
  const dir = a.wasmDir;
  const wasm = (f: string) => {
    const file = join(dir!, `mobilenet-${f}.wasm`);
    if (!existsSync(file)) throw new MobileNetError('IO', `${file} not found (--wasm-dir)`);
    return WebAssembly.compile(ioSync('read', file, () => readFileSync(file), 'kernel build'));
  };
  const opts = { kernels: a.kernels, ...(dir ? { wasm } : {}) };
  let name: string;
  let net: MobileNet;
  if (a.model) {
    net = await loadModel(a.model, opts);
    name = a.model;
  } else {
    if (a.alpha === undefined || a.resolution === undefined || !a.precision) throw invalidOption('bench needs --model, or --alpha, --resolution and --precision');
    net = await loadModel(buildMobileNetV1({ alpha: a.alpha, resolution: a.resolution, precision: a.precision, classes: 1001, seed: 1 }), opts);
    name = `random ${a.alpha}/${a.resolution}`;
  }
  const loadMs = performance.now() - t0;
  // runAll: a detector has four outputs (run takes one-output models)
  const inputs = [randomInput(net)];
  const infer = () => net.runAll(inputs);
  const t1 = performance.now();
  infer();
  const firstRunMs = performance.now() - t1;
  let warmupRuns = 0;
  const until = performance.now() + a.warmupMs;
  while (performance.now() < until || warmupRuns < 3) {
    infer();
    warmupRuns++;
  }
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < a.runs; i++) {
    const s = performance.now();
    infer();
    times.push(performance.now() - s);
  }
  const cpu = process.cpuUsage(cpu0);
  const sorted = [...times].sort((x, y) => x - y);
  const median = percentile(sorted, 50);
  const result: BenchResult = {
    model: name,
    precision: net.info.precision,
    kernels: net.info.kernels,
    runs: a.runs,
    min_ms: round(sorted[0]),
    median_ms: round(median),
    p90_ms: round(percentile(sorted, 90)),
    mean_ms: round(times.reduce((x, y) => x + y, 0) / times.length),
    cpu_ms: round((cpu.user + cpu.system) / 1000 / a.runs),
    load_ms: round(loadMs, 1),
    first_run_ms: round(firstRunMs, 2),
    warmup_runs: warmupRuns,
    macs: net.info.macs,
    gmacs_per_s: round(net.info.macs / median / 1e6, 1),
    weight_bytes: net.info.weightBytes,
    memory_bytes: net.info.memoryBytes,
    cpu: cpus()[0]?.model ?? 'unknown',
  };
  if (a.profile) {
    result.layers = net.profile(inputs[0], Math.max(10, a.runs)).map((l) => ({ ...l, ms: round(l.ms, 4), gops: l.ms > 0 ? round((2 * l.macs) / l.ms / 1e6, 1) : 0 }));
  }
  net.dispose();
  return result;
}

export function formatBench(r: BenchResult): string {
  const lines = [
    `${r.model} ${r.precision} (${r.kernels} kernels) on ${r.cpu}`,
    `median ${r.median_ms} ms, min ${r.min_ms}, p90 ${r.p90_ms}, CPU ${r.cpu_ms} ms per run over ${r.runs} runs after ${r.warmup_runs} warm-up runs; ${r.gmacs_per_s} G mult-adds/s`,
    `load ${r.load_ms} ms, first run ${r.first_run_ms} ms; weights ${(r.weight_bytes / 2 ** 20).toFixed(2)} MiB, wasm memory ${(r.memory_bytes / 2 ** 20).toFixed(2)} MiB`,
  ];
  if (r.layers) {
    lines.push('', ' #  op                                kernel                output              M mult-adds      ms   GOP/s');
    for (const l of r.layers) {
      lines.push(
        `${String(l.index).padStart(2)}  ${l.op.padEnd(33)} ${l.kernel.padEnd(21)} ${l.shape.join('x').padEnd(18)} ${(l.macs / 1e6).toFixed(2).padStart(11)} ${l.ms.toFixed(3).padStart(8)} ${String(l.gops).padStart(7)}`,
      );
    }
    const total = r.layers.reduce((s, l) => s + l.ms, 0);
    lines.push(`sum of layer medians ${total.toFixed(3)} ms`);
  }
  return lines.join('\n');
}
