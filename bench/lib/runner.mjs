/**
 * Drives a benchmark runner (any script following the bench/lib/timing.mjs contract: one JSON
 * line on stdout, `{error}` plus exit 1 on failure) in a fresh Node process.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * runRunner('bench/peers/ort/run.mjs', ['--model', '1.0/224', '--precision', 'int8', '--json'])
 * -> the runner's result object; `{error}` when it failed or printed no JSON.
 * `nodeArgs` go before the script (e.g. V8 flags).
 */
export function runRunner(script, args, { nodeArgs = [], timeoutMs = 10 * 60_000, env = process.env } = {}) {
  const res = spawnSync(process.execPath, [...nodeArgs, script, ...args], { encoding: 'utf8', timeout: timeoutMs, env, maxBuffer: 64 << 20 });
  const line = (res.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    const why = res.error ? res.error.message : `exit ${res.status ?? res.signal}`;
    return { error: `no JSON from ${script} (${why}): ${(res.stderr ?? '').trim().split('\n').pop() ?? ''}` };
  }
}

/** Share of this machine's CPU time that was busy over the next `ms` milliseconds (0..1; 0 where /proc/stat is absent). */
export function busyFraction(ms = 500) {
  try {
    const read = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const a = read();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    const b = read();
    const d = b.map((v, i) => v - a[i]);
    const total = d.reduce((x, y) => x + y, 0);
    return total ? 1 - (d[3] + d[4]) / total : 0; // idle + iowait
  } catch {
    return 0;
  }
}
