#!/usr/bin/env node
/**
 * Interleaved cold starts of several variants (bench/STARTUP.md's tables): each round runs
 * bench/startup.mjs once per variant, each in a fresh process, and prints the medians per variant
 * as a markdown table with the load average seen. A variant is name=<entry>[,extra,args].
 *
 *   node bench/startup-ab.mjs 11 base=tmp/base/dist/node.js now=dist/node.js cache=dist/node.js,--pack-cache,tmp/packed
 *   node bench/startup-ab.mjs 9 a=... b=... -- --model ../shared/models/mobilenet_v1_0.25_128_quant.tflite
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
const args = process.argv.slice(2);
const dd = args.indexOf('--');
const extra = dd >= 0 ? args.slice(dd + 1) : [];
const [rounds, ...variants] = (dd >= 0 ? args.slice(0, dd) : args);
const rows = Object.fromEntries(variants.map((v) => [v.split('=')[0], []]));
const loads = [];
for (let r = 0; r < Number(rounds); r++) {
  loads.push(loadavg()[0]);
  for (const v of variants) {
    const [name, spec] = v.split('=');
    const [entry, ...own] = spec.split(',');
    const res = spawnSync(process.execPath, [fileURLToPath(new URL('./startup.mjs', import.meta.url)), '--entry', entry, ...own, ...extra], { encoding: 'utf8' });
    if (res.status !== 0) { console.error(res.stderr); process.exit(1); }
    rows[name].push(JSON.parse(res.stdout.trim().split('\n').pop()));
  }
}
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const keys = ['cold_start_ms', 'import_ms', 'read_ms', 'load_ms', 'first_run_ms', 'second_run_ms', 'cpu_cold_start_ms', 'cpu_load_ms', 'cpu_first_run_ms'];
console.log(`rounds ${rounds}, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`);
console.log('| variant | ' + keys.join(' | ') + ' |');
for (const [name, rs] of Object.entries(rows)) console.log(`| ${name} | ` + keys.map((k) => (rs[0][k] === undefined ? '-' : med(rs.map((x) => x[k])).toFixed(1))).join(' | ') + ' |');
