/**
 * Shared timing helpers for the benchmark runners (ours and the peers').
 * Every runner is a separate process printing exactly one JSON line on stdout, so a
 * driver can run configurations in isolation (fresh V8, fresh wasm instance, honest cold start).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

export const now = () => performance.now();

/**
 * Command line shared by all runners:
 *   --model <spec> --runs N --warmup-ms 3000 [--precision float32|uint8|int8] [--json] [--seed S]
 * plus runner-specific flags (returned in `extra`).
 */
export function parseArgs(argv = process.argv.slice(2), defaults = {}) {
  const out = { model: '0.25/128', runs: 30, warmupMs: 3000, json: false, precision: undefined, seed: 1, ...defaults, extra: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--model': out.model = next(); break;
      case '--runs': out.runs = positiveInt(a, next()); break;
      case '--warmup-ms': out.warmupMs = nonNegative(a, next()); break;
      case '--precision': out.precision = next(); break;
      case '--seed': out.seed = positiveInt(a, next()); break;
      case '--json': out.json = true; break;
      default:
        if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
        out.extra[a.slice(2)] = i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[++i] : true;
    }
  }
  return out;
}

function positiveInt(flag, v) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${v}`);
  return n;
}
function nonNegative(flag, v) {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a number >= 0, got ${v}`);
  return n;
}

/** "1.0/224" -> {alpha: 1, resolution: 224}; returns undefined for anything else (e.g. a file path). */
export function parseArchSpec(spec) {
  const m = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(spec);
  if (!m) return undefined;
  const alpha = Number(m[1]);
  const resolution = Number(m[2]);
  if (!(alpha > 0 && alpha <= 4) || resolution < 32 || resolution > 1024) throw new Error(`bad model spec ${spec}`);
  return { alpha, resolution, alphaText: m[1].includes('.') ? m[1] : `${m[1]}.0` };
}

/**
 * Run `fn` back to back for at least `ms` milliseconds (and at least `minRuns` times):
 * V8 tiers hot wasm up (Liftoff -> TurboFan) and keeps re-optimising for about a second.
 * `fn` may be async; it is awaited.
 */
export async function warmUp(fn, ms, minRuns = 3) {
  const start = now();
  const cpu0 = process.cpuUsage();
  const cpuMs = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1000;
  };
  let count = 0;
  // On a busy machine `ms` of wall time may give us far less CPU: also want `ms` of our own CPU
  // time (capped at 4x the wall budget) so V8 gets as far with tiering up as on an idle machine.
  while (count < minRuns || now() - start < ms || (cpuMs() < ms && now() - start < 4 * ms)) {
    await fn();
    count++;
  }
  return { count, elapsedMs: now() - start };
}

/**
 * Time `runs` calls of `fn` individually: wall milliseconds per call, and this process's CPU
 * milliseconds per call (user + system, all threads). On a machine shared with other busy
 * processes wall time includes time spent waiting for a core; CPU time mostly does not.
 */
export async function timeRuns(fn, runs) {
  const times = new Array(runs);
  const cpuTimes = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = now();
    await fn();
    times[i] = now() - t0;
    const c = process.cpuUsage(c0);
    cpuTimes[i] = (c.user + c.system) / 1000;
  }
  return Object.assign(times, { cpuTimes });
}

/** min / median / p90 / mean of a list of times (nearest-rank percentiles). */
export function summarize(times) {
  if (times.length === 0) throw new Error('no times to summarize');
  const s = [...times].sort((a, b) => a - b);
  const rank = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return {
    min_ms: round(s[0]),
    median_ms: round(median),
    p90_ms: round(rank(0.9)),
    mean_ms: round(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

export const round = (x, digits = 3) => Number(x.toFixed(digits));

/** CPU model name, from /proc/cpuinfo where there is one. */
export function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function environment() {
  // load1: other processes on a 2-core machine skew timings; recorded so a noisy run can be spotted.
  return { cpu: cpuModel(), cores: os.cpus().length, load1: round(os.loadavg()[0], 2), node: process.versions.node, v8: process.versions.v8, platform: `${process.platform}-${process.arch}` };
}

/** Sum of the sizes of the given files, in bytes. */
export const fileBytes = (...paths) => paths.reduce((n, p) => n + statSync(p).size, 0);

/**
 * Checks the output is a probability vector: all finite, in [0, 1], summing to ~1.
 * Quantized outputs (dequantized) lose mass to rounding, hence the looser tolerance.
 * Throws with a message naming what is wrong; returns {sum, top1, top1Prob}.
 */
export function checkProbabilities(probs, { expectedLength, tolerance = 1e-3 } = {}) {
  if (expectedLength !== undefined && probs.length !== expectedLength) {
    throw new Error(`output has ${probs.length} values, expected ${expectedLength}`);
  }
  let sum = 0;
  let top1 = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (!Number.isFinite(p) || p < -1e-6 || p > 1 + 1e-6) throw new Error(`output[${i}] = ${p} is not a probability`);
    sum += p;
    if (p > probs[top1]) top1 = i;
  }
  if (Math.abs(sum - 1) > tolerance) throw new Error(`output sums to ${sum}, not 1 (tolerance ${tolerance})`);
  return { sum: round(sum, 6), top1, top1Prob: round(probs[top1], 6) };
}

/**
 * The full measurement protocol shared by all runners, once the model is loaded and one
 * inference has been done: warm up, then time `runs` inferences.
 */
export async function measure(infer, { runs, warmupMs }) {
  const warm = await warmUp(infer, warmupMs);
  const times = await timeRuns(infer, runs);
  const cpu = summarize(times.cpuTimes);
  return {
    ...summarize(times),
    runs,
    warmup_runs: warm.count,
    // CPU time per inference: the contention-robust figure on a shared machine (see timeRuns)
    cpu_min_ms: cpu.min_ms,
    cpu_median_ms: cpu.median_ms,
    cpu_p90_ms: cpu.p90_ms,
  };
}

/** Print the runner's single JSON line (stdout) and, unless --json, a readable summary (stderr). */
export function report(result, { json }) {
  process.stdout.write(JSON.stringify(result) + '\n');
  if (!json) {
    process.stderr.write(
      `${result.peer} ${result.version} ${result.precision} ${result.model}: median ${result.median_ms} ms ` +
        `(min ${result.min_ms}, p90 ${result.p90_ms}, ${result.runs} runs; CPU median ${result.cpu_median_ms}), cold start ${result.cold_start_ms} ms, ` +
        `wasm ${(result.wasm_bytes / 1024).toFixed(0)} KiB\n`,
    );
  }
}

/** Run a runner's main(); on failure print one JSON line with `error` and exit 1, so drivers always get JSON. */
export function runMain(peer, main) {
  main().catch((err) => {
    process.stdout.write(JSON.stringify({ peer, error: String(err?.message ?? err) }) + '\n');
    process.stderr.write(`${peer}: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}

/** --dump-output <file>: the first inference's probabilities as raw little-endian float32, for cross-checks. */
export function dumpOutput(file, probs) {
  writeFileSync(file, Buffer.from(Float32Array.from(probs).buffer));
}

/** Fail with the fix when a peer folder has not been installed yet. */
export function requireInstalled(peerDir, peer) {
  if (!existsSync(join(peerDir, 'node_modules', '.package-lock.json'))) {
    throw new Error(`the ${peer} peer is not installed: run \`node bench/peers/install.mjs\` (needs the npm registry)`);
  }
}

/** Deterministic PRNG (mulberry32; the same generator as test/helpers/kernels.ts). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
