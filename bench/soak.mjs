#!/usr/bin/env node
/**
 * Soak test: long runs that would show a leak or arena corruption. Not a test (no timing, no
 * CI); a check to run before a release and record in bench/SOAK.md.
 *
 *   npm run soak -- [--models DIR] [--runs 10000] [--cycles 1000] [--model NAME]
 *                   [--kernels auto|simd|scalar|relaxed] [--side-by-side 20] [--side-model NAME]
 *                   [--only-side] [--json]
 *   (= node --expose-gc bench/soak.mjs ...; without --expose-gc it re-executes itself with it)
 *
 * For every model in DIR (default ../shared/models or $MOBILENET_WASM_MODELS: each *.tflite and
 * each folder under tfjs/ with a model.json), in a fresh child process per model:
 *   (a) one loaded model, `runs` inferences on varying seeded inputs (seed = run index);
 *   (b) `cycles` load (from the path: read + parse + plan + instantiate) / one run / dispose cycles.
 * Every `runs/20` runs and `cycles/20` cycles it calls gc() (twice, in a fresh task so WeakRefs
 * can clear) and samples RSS, heapTotal, heapUsed, external, arrayBuffers and the wasm memory:
 *   - live: the loaded instance's WebAssembly.Memory size (read through the model's kernels
 *     object, a private member: there is no public live figure; info.memoryBytes is taken at load);
 *   - retained: the summed size of every wasm memory ever created that a WeakRef still reaches
 *     after gc (a disposed model whose instance is still reachable shows up here).
 * Models the library refuses with UNSUPPORTED_MODEL are listed as skipped with the code.
 *
 * PASS per phase when, over the plateau (samples after the first 20% of the phase):
 *   - RSS outside V8's own heap reservation (RSS - heapTotal) grows by less than 8 MiB from the
 *     first to the last plateau sample, and so does heapUsed. V8 reserves heap pages in steps
 *     (heapTotal 16 -> 24 -> 41 MiB seen here while heapUsed stayed at 6.7 MiB): that is the
 *     collector sizing itself, not a leak. A leak shows in heapUsed (JS objects) or in RSS
 *     outside the V8 heap (ArrayBuffers, wasm memory, native allocations);
 *   - the live wasm memory is the same at every sample (runs), resp. every instance has the same
 *     size and at most one disposed instance is still reachable at any plateau sample (cycles);
 *   - a fixed reference input gives byte-identical outputs at the start and the end (runs: the
 *     same instance; cycles: every sampled fresh instance vs the first).
 * Side by side: N instances of one model (default 20 of the 1.0/224 uint8) loaded at once, one
 * run each, then disposed while still referenced, gc: every instance's wasm memory must be
 * collected and RSS must fall by at least 80% of the N instances' wasm memory; then the references
 * dropped, gc. Done 5 times: after the drop, RSS at round 5 must be within 8 MiB of round 2
 * (round 1 warms up; freed memory is reused, not leaked). How far RSS stays above the start is
 * reported, not judged: glibc malloc keeps freed ArrayBuffer memory (see bench/SOAK.md).
 * Prints a table per model and a PASS/FAIL line; exits 1 on FAIL.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const MiB = 2 ** 20;
const RSS_BOUND = 8 * MiB;
const WARMUP_FRACTION = 0.2;
const SAMPLES = 20;
const SIDE_ROUNDS = 5;

// ---------------------------------------------------------------- arguments
const argv = process.argv.slice(2);
function opt(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  if (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) die(`--${name} needs a value`);
  return argv[i + 1];
}
const flag = (name) => argv.includes(`--${name}`);
function die(msg) {
  process.stderr.write(`soak: ${msg}\n`);
  process.exit(2);
}
function count(name, fallback) {
  const v = Number(opt(name, fallback));
  if (!Number.isInteger(v) || v < 0) die(`--${name} must be a non-negative integer`);
  return v;
}
const modelsDir = resolve(opt('models', process.env.MOBILENET_WASM_MODELS ?? join(root, '..', 'shared', 'models')));
const runs = count('runs', '10000');
const cycles = count('cycles', '1000');
const kernels = opt('kernels', 'auto');
if (!['auto', 'simd', 'scalar', 'relaxed'].includes(kernels)) die(`--kernels must be auto, simd, scalar or relaxed, got ${kernels}`);
const only = opt('model', undefined);
const sideN = count('side-by-side', '20');
const sideModel = opt('side-model', 'mobilenet_v1_1.0_224_quant.tflite');
const json = flag('json');
const child = opt('child', undefined); // internal: 'model:<path>' or 'side:<path>'

// ---------------------------------------------------------------- driver
function listModels() {
  if (!existsSync(modelsDir)) die(`models folder ${modelsDir} not found (--models DIR or MOBILENET_WASM_MODELS)`);
  const out = readdirSync(modelsDir)
    .filter((f) => f.endsWith('.tflite'))
    .sort()
    .map((f) => ({ name: f, path: join(modelsDir, f) }));
  const tfjs = join(modelsDir, 'tfjs');
  if (existsSync(tfjs)) {
    for (const d of readdirSync(tfjs).sort()) {
      if (existsSync(join(tfjs, d, 'model.json'))) out.push({ name: `tfjs/${d}`, path: join(tfjs, d) });
    }
  }
  return out;
}

function runInChild(spec, label) {
  return new Promise((res) => {
    // the children get this process's node flags (e.g. --min-semi-space-size=16 to fix V8's heap sizing)
    const flags = process.execArgv.filter((f) => f !== '--expose-gc');
    const args = ['--expose-gc', ...flags, fileURLToPath(import.meta.url), '--child', spec, '--runs', String(runs), '--cycles', String(cycles), '--kernels', kernels, '--side-by-side', String(sideN)];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code, sig) => {
      const line = out.trim().split('\n').pop();
      try {
        res(JSON.parse(line));
      } catch {
        res({ error: { code: 'CHILD_FAILED', message: `${label}: child exited with ${code ?? sig}, output ${JSON.stringify(out.slice(-300))}` } });
      }
    });
  });
}

async function main() {
  let models = listModels();
  if (only) {
    models = models.filter((m) => m.name === only || basename(m.path) === only || m.name.replace(/\.tflite$/, '') === only);
    if (!models.length) die(`no model named ${only} in ${modelsDir}`);
  }
  if (flag('only-side')) models = [];
  const started = new Date();
  const results = [];
  for (const m of models) {
    process.stderr.write(`soak: ${m.name} ...\n`);
    const r = await runInChild(`model:${m.path}`, m.name);
    results.push({ model: m.name, ...r });
    if (!json) printModel(results[results.length - 1]);
  }
  let side;
  if (sideN > 0 && (!only || flag('only-side'))) {
    const sm = listModels().find((m) => m.name === sideModel || m.name.replace(/\.tflite$/, '') === sideModel);
    if (!sm) die(`side-by-side model ${sideModel} not in ${modelsDir}`);
    process.stderr.write(`soak: ${sideN} x ${sm.name} side by side ...\n`);
    side = { model: sm.name, ...(await runInChild(`side:${sm.path}`, 'side-by-side')) };
    if (!json) printSide(side);
  }
  const failed = results.filter((r) => r.error || (r.pass === false)).map((r) => r.model);
  if (side && (side.error || !side.pass)) failed.push('side-by-side');
  const summary = {
    date: started.toISOString(),
    node: process.version,
    kernels,
    runs,
    cycles,
    modelsDir,
    rssBoundMiB: RSS_BOUND / MiB,
    warmupFraction: WARMUP_FRACTION,
    results,
    side,
    pass: failed.length === 0,
  };
  if (json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else {
    const tested = results.filter((r) => !r.skipped && !r.error).length;
    const skipped = results.filter((r) => r.skipped).length;
    console.log(`\n${failed.length ? 'FAIL' : 'PASS'}: ${tested} models soaked (${runs} runs, ${cycles} load/dispose cycles each), ${skipped} skipped` + (side ? `, ${sideN} side by side ${side.pass ? 'released' : 'NOT released'}` : '') + (failed.length ? `; failed: ${failed.join(', ')}` : ''));
  }
  process.exitCode = failed.length ? 1 : 0;
}

const mib = (b) => (b / MiB).toFixed(1);
function printModel(r) {
  console.log(`\n== ${r.model}`);
  if (r.skipped) return console.log(`   skipped: ${r.skipped.code} (${r.skipped.message.slice(0, 100)})`);
  if (r.error) return console.log(`   ERROR ${r.error.code}: ${r.error.message}`);
  console.log(`   ${r.precision}, kernels ${r.kernels}, input ${r.input}, wasm memory ${mib(r.memoryBytes)} MiB (info.memoryBytes)`);
  for (const ph of [r.runs, r.cycles]) {
    if (!ph) continue;
    console.log(`   ${ph.phase}: ${ph.count} in ${(ph.seconds).toFixed(0)} s, ${ph.msPer.toFixed(2)} ms each`);
    console.log('     at        RSS MiB  heapTotal  heapUsed  external  arrayBuf  wasm live  wasm retained');
    for (const s of ph.samples) {
      console.log(`     ${String(s.at).padStart(6)}${s.plateau ? '*' : ' '} ${mib(s.rss).padStart(8)} ${mib(s.heapTotal).padStart(10)} ${mib(s.heapUsed).padStart(9)} ${mib(s.external).padStart(9)} ${mib(s.arrayBuffers).padStart(9)} ${mib(s.wasmLive).padStart(10)} ${mib(s.wasmRetained).padStart(14)}`);
    }
    const v = ph.verdict;
    console.log(`     (* plateau) RSS first ${mib(v.rssFirst)} -> plateau start ${mib(v.rssPlateauStart)} -> last ${mib(v.rssLast)} MiB: plateau growth ${(v.rssGrowth / MiB).toFixed(2)} MiB, outside the V8 heap ${(v.outsideHeapGrowth / MiB).toFixed(2)} MiB (bound ${RSS_BOUND / MiB}), slope ${v.slopeKiBPer1000.toFixed(1)} KiB per 1000; heapUsed growth ${(v.heapGrowth / MiB).toFixed(2)} MiB (bound ${RSS_BOUND / MiB})`);
    console.log(`     wasm ${v.wasmConstant ? 'constant' : 'NOT constant'} (${v.wasmNote}); outputs ${v.outputsIdentical ? 'identical' : 'DIFFER'} (${v.outputNote}) => ${v.pass ? 'PASS' : 'FAIL: ' + v.reasons.join('; ')}`);
  }
}

function printSide(s) {
  console.log(`\n== side by side: ${s.n ?? sideN} x ${s.model}, ${SIDE_ROUNDS} rounds`);
  if (s.error) return console.log(`   ERROR ${s.error.code}: ${s.error.message}`);
  const row = (label, m) => console.log(`   ${label.padEnd(50)} RSS ${mib(m.rss).padStart(7)}  heapUsed ${mib(m.heapUsed).padStart(6)}  external ${mib(m.external).padStart(7)}  arrayBuf ${mib(m.arrayBuffers).padStart(7)}  wasm retained ${mib(m.wasmRetained).padStart(7)} MiB (${m.liveInstances} instances)`);
  row('before load', s.before);
  s.rounds.forEach((r, i) => {
    row(`round ${i + 1}: ${s.n} loaded, one run each`, r.loaded);
    row(`round ${i + 1}: all disposed (still referenced), gc`, r.disposed);
    row(`round ${i + 1}: references dropped, gc`, r.dropped);
  });
  const r1 = s.rounds[0];
  console.log(`   wasm memory ${mib(s.memoryBytes)} MiB per instance, ${mib(s.n * s.memoryBytes)} MiB in all; RSS fell ${mib(r1.loaded.rss - r1.disposed.rss)} MiB at dispose + gc; after the drop RSS is ${mib(r1.dropped.rss - s.before.rss)} MiB above the start (not returned to the OS), after the drop, rounds ${s.rounds.map((r) => mib(r.dropped.rss)).join(' / ')} MiB: round ${SIDE_ROUNDS} ${mib(s.growth)} MiB above round 2 (bound ${RSS_BOUND / MiB}) => ${s.pass ? 'PASS' : 'FAIL: ' + s.reasons.join('; ')}`);
}

// ---------------------------------------------------------------- child: measurements
async function runChild(spec) {
  const [kind, ...rest] = spec.split(':');
  const path = rest.join(':');
  const { loadModel, MobileNetError } = await import(join(root, 'dist', 'node.js'));
  const opts = kernels === 'auto' ? {} : { kernels };

  // every wasm memory ever created, weakly: what gc leaves of it is retained
  const memories = [];
  // (returns the size, never the Memory: a Memory held in an async function's frame would be
  // retained by the harness itself)
  const track = (model) => {
    const mem = model.kernels?.memory; // private member: the only live view of the instance's memory
    if (!(mem instanceof WebAssembly.Memory)) throw new Error('no wasm memory at model.kernels.memory (the private member changed): update bench/soak.mjs');
    memories.push({ ref: new WeakRef(mem), bytes: mem.buffer.byteLength });
    return mem.buffer.byteLength;
  };
  const liveBytes = () => net?.kernels?.memory?.buffer.byteLength ?? 0;
  const tick = () => new Promise((r) => setImmediate(r));
  async function sample(at, live, extra = {}) {
    await tick();
    gc();
    await tick();
    gc();
    await tick();
    let retained = 0;
    let instances = 0;
    for (let i = memories.length - 1; i >= 0; i--) {
      const m = memories[i].ref.deref();
      if (m) {
        retained += m.buffer.byteLength;
        instances++;
      } else memories.splice(i, 1);
    }
    const u = process.memoryUsage();
    return { at, rss: u.rss, heapTotal: u.heapTotal, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, wasmLive: live ? live() : 0, wasmRetained: retained, liveInstances: instances, ...extra };
  }

  let net;
  try {
    net = await loadModel(path, opts);
  } catch (e) {
    if (e instanceof MobileNetError && e.code === 'UNSUPPORTED_MODEL') return emit({ skipped: { code: e.code, message: e.message } });
    throw e;
  }
  const info = net.info;
  const n = info.input.shape.reduce((a, b) => a * b, 1);
  const makeInput = (seed) => seededInput(info.input.dtype, n, seed);
  const reference = makeInput(0x5eed);
  const same = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

  if (kind === 'side') {
    net.dispose();
    net = undefined;
    return emit(await sideBySide(path));
  }

  const base = { precision: info.precision, kernels: info.kernels, input: `${info.input.dtype}[${info.input.shape.join(',')}]`, memoryBytes: info.memoryBytes };

  // (a) runs on one instance
  let runsPhase;
  {
    track(net);
    const ref0 = net.run(reference);
    const every = Math.max(1, Math.round(runs / SAMPLES));
    const samples = [await sample(0, liveBytes)];
    const t0 = performance.now();
    let busy = 0;
    for (let i = 1; i <= runs; i++) {
      const input = makeInput(i);
      const b0 = performance.now();
      net.run(input);
      busy += performance.now() - b0;
      if (i % every === 0 || i === runs) {
        samples.push(await sample(i, liveBytes));
        progress(`runs ${i}/${runs}`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const refEnd = net.run(reference);
    const identical = same(ref0, refEnd);
    runsPhase = {
      phase: 'runs',
      count: runs,
      seconds,
      msPer: runs ? busy / runs : 0,
      samples,
      verdict: verdict(samples, runs, {
        wasmConstant: samples.every((s) => s.wasmLive === samples[0].wasmLive),
        wasmNote: `live ${mib(samples[0].wasmLive)} MiB at every sample`,
        outputsIdentical: identical,
        outputNote: `reference input at run 0 vs after run ${runs}, ${ref0.constructor.name}[${ref0.length}]`,
      }),
    };
    if (!runsPhase.verdict.wasmConstant) runsPhase.verdict.wasmNote = `live ${samples.map((s) => mib(s.wasmLive)).join(',')} MiB`;
    net.dispose();
  }
  net = undefined;

  // (b) load / run / dispose cycles
  let cyclesPhase;
  if (cycles > 0) {
    const every = Math.max(1, Math.round(cycles / SAMPLES));
    const samples = [await sample(0, null)];
    const sizes = new Set();
    let refOut;
    let identical = true;
    let compared = 0;
    const t0 = performance.now();
    for (let c = 1; c <= cycles; c++) {
      let m = await loadModel(path, opts);
      sizes.add(track(m));
      const atSample = c % every === 0 || c === cycles || c === 1;
      if (atSample) {
        const out = m.run(reference);
        if (!refOut) refOut = out;
        else {
          compared++;
          if (!same(refOut, out)) identical = false;
        }
      }
      m.dispose();
      m = undefined;
      if (c % every === 0 || c === cycles) {
        samples.push(await sample(c, null));
        progress(`cycles ${c}/${cycles}`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    // a disposed instance may stay reachable until a later gc (V8 feedback / inline caches can
    // hold the last one); a leak is a count that grows, so the bound is one instance
    const maxRetainedPlateau = Math.max(...samples.filter((s) => s.at >= WARMUP_FRACTION * cycles).map((s) => s.liveInstances));
    const maxRetained = Math.max(...samples.map((s) => s.liveInstances));
    cyclesPhase = {
      phase: 'cycles',
      count: cycles,
      seconds,
      msPer: (seconds * 1000) / cycles,
      samples,
      verdict: verdict(samples, cycles, {
        wasmConstant: sizes.size === 1 && maxRetainedPlateau <= 1,
        wasmNote: `every instance ${[...sizes].map((b) => mib(b)).join('/')} MiB; at most ${maxRetained} disposed instance(s) still reachable after gc (bound 1)`,
        outputsIdentical: identical,
        outputNote: `reference input on ${compared + 1} fresh instances`,
      }),
    };
  }
  const pass = runsPhase.verdict.pass && (!cyclesPhase || cyclesPhase.verdict.pass);
  return emit({ ...base, pass, runs: runsPhase, cycles: cyclesPhase });

  // (loops over the models live in plain functions: a loop variable in this async function's
  // frame would keep the last model reachable and count against the release)
  async function sideBySide(p) {
    const N = sideN;
    const before = await sample(0, null);
    const rounds = [];
    const reasons = [];
    let memoryBytes = 0;
    for (let round = 1; round <= SIDE_ROUNDS; round++) {
      let nets = [];
      for (let i = 0; i < N; i++) nets.push(await loadModel(p, opts));
      memoryBytes = nets[0].info.memoryBytes;
      nets.forEach(track);
      const outs = runAll(nets, reference);
      const allSame = outs.every((o) => same(o, outs[0]));
      const loaded = await sample(0, null);
      disposeAll(nets);
      const disposed = await sample(0, null);
      const disposedThrows = countDisposed(nets, reference);
      nets = undefined;
      const dropped = await sample(0, null);
      rounds.push({ loaded, disposed, dropped });
      const wasmReturned = loaded.rss - disposed.rss;
      if (disposed.liveInstances > 0) reasons.push(`round ${round}: ${disposed.liveInstances} wasm instances still reachable after dispose + gc`);
      if (dropped.liveInstances > 0) reasons.push(`round ${round}: ${dropped.liveInstances} wasm instances still reachable after dropping the models + gc`);
      if (wasmReturned < 0.8 * N * memoryBytes) reasons.push(`round ${round}: RSS fell only ${mib(wasmReturned)} MiB at dispose + gc for ${mib(N * memoryBytes)} MiB of wasm memory`);
      if (!allSame) reasons.push(`round ${round}: the instances disagree on the reference output`);
      if (disposedThrows !== N) reasons.push(`round ${round}: only ${disposedThrows}/${N} disposed models refuse run() with DISPOSED`);
    }
    // round 1 is the warm-up (as the first 20% of a soak): the later rounds must not climb
    const growth = rounds[SIDE_ROUNDS - 1].dropped.rss - rounds[1].dropped.rss;
    if (!(growth < RSS_BOUND)) reasons.push(`RSS after round ${SIDE_ROUNDS} is ${mib(growth)} MiB above round 2 (freed memory not reused)`);
    return { n: N, memoryBytes, before, rounds, growth, pass: reasons.length === 0, reasons };
  }
}

function runAll(nets, input) {
  return nets.map((m) => m.run(input));
}
function disposeAll(nets) {
  nets.forEach((m) => m.dispose());
}
function countDisposed(nets, input) {
  let n = 0;
  nets.forEach((m) => {
    try {
      m.run(input);
    } catch (e) {
      if (e.code === 'DISPOSED') n++;
    }
  });
  return n;
}

function verdict(samples, total, w) {
  const plateau = samples.filter((s) => s.at >= WARMUP_FRACTION * total);
  for (const s of plateau) s.plateau = true;
  const a = plateau[0];
  const z = plateau[plateau.length - 1];
  // least squares slope of RSS over the plateau, per 1000 runs / cycles
  const mx = plateau.reduce((t, s) => t + s.at, 0) / plateau.length;
  const my = plateau.reduce((t, s) => t + s.rss, 0) / plateau.length;
  const sxx = plateau.reduce((t, s) => t + (s.at - mx) ** 2, 0);
  const sxy = plateau.reduce((t, s) => t + (s.at - mx) * (s.rss - my), 0);
  const slope = sxx ? (sxy / sxx) * 1000 : 0;
  const rssGrowth = z.rss - a.rss;
  const outsideHeapGrowth = z.rss - z.heapTotal - (a.rss - a.heapTotal);
  const heapGrowth = z.heapUsed - a.heapUsed;
  const reasons = [];
  if (!(outsideHeapGrowth < RSS_BOUND)) reasons.push(`RSS outside the V8 heap grew ${(outsideHeapGrowth / MiB).toFixed(2)} MiB over the plateau`);
  if (!(heapGrowth < RSS_BOUND)) reasons.push(`heapUsed grew ${(heapGrowth / MiB).toFixed(2)} MiB over the plateau`);
  if (!w.wasmConstant) reasons.push(`wasm memory not constant (${w.wasmNote})`);
  if (!w.outputsIdentical) reasons.push('reference outputs differ');
  return {
    rssFirst: samples[0].rss,
    rssPlateauStart: a.rss,
    rssLast: z.rss,
    rssMax: Math.max(...plateau.map((s) => s.rss)),
    rssGrowth,
    outsideHeapGrowth,
    slopeKiBPer1000: slope / 1024,
    heapGrowth,
    ...w,
    pass: reasons.length === 0,
    reasons,
  };
}

/** a fresh input of the model's dtype from a seed (mulberry32): uint8/int8 over the full range, float32 in [-1, 1] */
function seededInput(dtype, n, seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  if (dtype === 'float32') {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = next() / 2147483648 - 1;
    return a;
  }
  const a = dtype === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = next();
    a[i] = v;
    if (i + 1 < n) a[i + 1] = v >>> 8;
    if (i + 2 < n) a[i + 2] = v >>> 16;
    if (i + 3 < n) a[i + 3] = v >>> 24;
  }
  return a;
}

function progress(msg) {
  process.stderr.write(process.stderr.isTTY ? `\r  ${msg}   ` : `  ${msg}\n`);
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// ---------------------------------------------------------------- re-exec with gc
if (typeof globalThis.gc !== 'function') {
  const p = spawn(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit' });
  p.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
} else if (child) {
  runChild(child).catch((e) => {
    process.stdout.write(JSON.stringify({ error: { code: e?.code ?? 'ERROR', message: String(e?.message ?? e) } }) + '\n');
    process.exit(0);
  });
} else {
  await main();
}
