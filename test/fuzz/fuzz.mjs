#!/usr/bin/env node
/**
 * Fuzzer CLI (npm run fuzz -- ...). See test/fuzz/README.md.
 *
 *   --cases N          model cases (.tflite and TF.js folders), default 2000
 *   --image-cases M    image cases (JPEG, PNG, BMP, GIF), default 500
 *   --seed S           run seed (same seed, same cases), default 1
 *   --jobs J           worker processes, default: the number of cores
 *   --models DIR       the shared models (default $MOBILENET_WASM_MODELS or ../shared/models)
 *   --out DIR          repros and failures.jsonl (default fuzz-out)
 *   --timeout-ms T     per-case watchdog for model cases (default 20000)
 *   --image-timeout-ms T  the same for image cases (default 20000; CI uses less)
 *   --cross-rate P     share of valid integer cases re-run on the scalar build (default 0.1)
 *   --max-rss-mb MB    a worker over this after a case is a memory failure (default 1536)
 *   --max-memory-mb MB loadModel's maxMemoryBytes (default 512)
 *   --repros-per-class K  repro files kept per failure class (default 5)
 *   --start I          first case index (to continue a run), default 0
 *   --replay FILE      run one saved repro (a .tflite / image file, a TF.js folder, or its .json)
 *   --quiet            no progress lines
 *
 * Exit status 1 when any case failed. The last line is always `fuzz: N passed, F failed`.
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, writeFileSync, appendFileSync, readFileSync, statSync, cpSync, rmSync, readdirSync } from 'node:fs';
import { join, resolve, basename, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, DIST, loadSeeds, writeImageSeeds, makeModelCase, makeImageCase } from './cases.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const o = {
    cases: 2000,
    imageCases: 500,
    seed: '1',
    jobs: availableParallelism(),
    models: process.env.MOBILENET_WASM_MODELS || join(REPO, '..', 'shared', 'models'),
    out: join(REPO, 'fuzz-out'),
    timeoutMs: 20000,
    imageTimeoutMs: 20000,
    crossRate: 0.1,
    maxRssMb: 1536,
    maxMemoryMb: 512,
    reprosPerClass: 5,
    start: 0,
    replay: null,
    quiet: false,
  };
  const num = (v, k) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} needs a non-negative number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--cases': o.cases = num(v(), 'cases'); break;
      case '--image-cases': o.imageCases = num(v(), 'image-cases'); break;
      case '--seed': o.seed = v(); break;
      case '--jobs': o.jobs = Math.max(1, num(v(), 'jobs')); break;
      case '--models': o.models = v(); break;
      case '--out': o.out = v(); break;
      case '--timeout-ms': o.timeoutMs = num(v(), 'timeout-ms'); break;
      case '--image-timeout-ms': o.imageTimeoutMs = num(v(), 'image-timeout-ms'); break;
      case '--cross-rate': o.crossRate = num(v(), 'cross-rate'); break;
      case '--max-rss-mb': o.maxRssMb = num(v(), 'max-rss-mb'); break;
      case '--max-memory-mb': o.maxMemoryMb = num(v(), 'max-memory-mb'); break;
      case '--repros-per-class': o.reprosPerClass = num(v(), 'repros-per-class'); break;
      case '--start': o.start = num(v(), 'start'); break;
      case '--replay': o.replay = v(); break;
      case '--quiet': o.quiet = true; break;
      case '-h':
      case '--help':
        console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith(' *')).join('\n'));
        process.exit(0);
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  o.models = resolve(o.models);
  o.out = resolve(o.out);
  return o;
}

/** a stable class for a failure: type, error name, and the message with numbers and quotes masked */
function failureClass(o) {
  const msg = (o.message || '')
    .replace(/^[^:]*: /, (m) => m) // keep the "where: " prefix
    .replace(/'[^']*'|"[^"]*"/g, "'…'")
    .replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/gi, '#')
    .slice(0, 90);
  return `${o.type}|${o.name}|${msg}`;
}

function spawnWorker(opts, config) {
  const child = fork(join(here, 'worker.mjs'), [], {
    execArgv: ['--expose-gc', '--max-old-space-size=2048'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  child.stderrTail = '';
  child.stderr.on('data', (d) => {
    child.stderrTail = (child.stderrTail + d.toString()).slice(-2000);
  });
  child.stdout.on('data', (d) => {
    child.stdoutTail = (child.stdoutTail ?? '') + d.toString();
  });
  child.ready = new Promise((res, rej) => {
    child.once('message', (m) => (m.type === 'ready' ? res() : rej(new Error('worker did not start'))));
    child.once('exit', (code) => rej(new Error(`worker exited during start (${code}): ${child.stderrTail}`)));
  });
  child.send({ type: 'init', config });
  return child;
}

function ext(c) {
  if (c.kind === 'tflite') return '.tflite';
  if (c.kind === 'tfjs') return '';
  const b = c.bytes;
  if (b[0] === 0xff && b[1] === 0xd8) return '.jpg';
  if (b[0] === 0x89 && b[1] === 0x50) return '.png';
  if (b[0] === 0x42 && b[1] === 0x4d) return '.bmp';
  if (b[0] === 0x47 && b[1] === 0x49) return '.gif';
  return '.bin';
}

/** write a case to disk: a file, or for TF.js a complete folder (seed shards + edits) */
function saveRepro(c, seeds, path) {
  if (c.kind === 'tfjs') {
    const s = seeds.models.find((m) => m.kind === 'tfjs');
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path, { recursive: true });
    for (const f of s.shardNames) {
      if (c.tfjs.shards[f] === null) continue;
      writeFileSync(join(path, f), c.tfjs.shards[f] ?? s.shardBytes.get(f));
    }
    for (const [f, b] of Object.entries(c.tfjs.shards)) if (b && !s.shardNames.includes(f)) writeFileSync(join(path, f), b);
    writeFileSync(join(path, 'model.json'), c.tfjs.json);
  } else {
    writeFileSync(path, c.bytes);
  }
}

const meta = (c) => ({ id: c.id, kind: c.kind, seedName: c.seedName, mutations: c.mutations, plan: c.plan, expect: c.expect });

async function replay(opts) {
  const file = resolve(opts.replay);
  let spec = null;
  let target = file;
  if (file.endsWith('.json') && existsSync(file) && !statSync(file).isDirectory() && basename(file) !== 'model.json') {
    spec = JSON.parse(readFileSync(file, 'utf8'));
    target = spec.repro ? resolve(dirname(file), spec.repro) : file.replace(/\.json$/, '');
  } else if (existsSync(file + '.json')) {
    spec = JSON.parse(readFileSync(file + '.json', 'utf8'));
  }
  if (!existsSync(target)) throw new Error(`${target} does not exist`);
  const isDir = statSync(target).isDirectory() || basename(target) === 'model.json';
  const kind = spec?.kind ?? (isDir ? 'tfjs' : extname(target) === '.tflite' ? 'tflite' : 'image');
  const defaultPlan = kind === 'image' ? { classify: true } : { inputSeed: 1, crossCheck: true, classify: [48, 36], embed: true, badTensor: -1, badImage: -1, useAfterDispose: true };
  const c = {
    id: 'replay',
    kind,
    seedName: spec?.seedName ?? basename(target),
    mutations: spec?.mutations ?? [],
    plan: spec?.plan ?? defaultPlan,
    expect: spec?.expect,
  };
  if (kind === 'tfjs') c.dir = statSync(target).isDirectory() ? target : dirname(target);
  else c.bytes = new Uint8Array(readFileSync(target));
  const config = workerConfig(opts);
  const child = spawnWorker(opts, config);
  await child.ready;
  console.log(`replaying ${target} (${kind}${spec ? `, ${c.seedName}: ${c.mutations.join('; ')}` : ''})`);
  const limit = kind === 'image' ? opts.imageTimeoutMs : opts.timeoutMs;
  const result = await new Promise((res) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      res({ outcome: { ok: false, type: 'timeout', name: kind, message: `no result within ${limit} ms (hang)` } });
    }, limit);
    child.on('message', (m) => {
      if (m.type === 'result') {
        clearTimeout(timer);
        res(m);
      }
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      res({ outcome: { ok: false, type: 'crash', name: String(sig ?? code), message: child.stderrTail.slice(-500) } });
    });
    child.send({ type: 'replay', case: c });
  });
  child.kill();
  console.log(JSON.stringify(result.outcome, null, 2));
  const ok = result.outcome.ok;
  console.log(`fuzz: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
  process.exit(ok ? 0 : 1);
}

function workerConfig(opts) {
  return {
    seed: opts.seed,
    modelsDir: opts.models,
    imageSeedDir: join(opts.out, 'seeds', 'images'),
    crossRate: opts.crossRate,
    maxRssBytes: opts.maxRssMb * 2 ** 20,
    maxMemoryBytes: opts.maxMemoryMb * 2 ** 20,
  };
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`fuzz: ${e.message}`);
    console.log('fuzz: 0 passed, 1 failed');
    process.exit(2);
  }
  if (!existsSync(DIST)) {
    console.error(`fuzz: ${DIST} is missing: run \`npm run build\` first`);
    console.log('fuzz: 0 passed, 1 failed');
    process.exit(2);
  }
  if (!existsSync(opts.models)) {
    console.error(`fuzz: models folder ${opts.models} not found (set --models or MOBILENET_WASM_MODELS)`);
    console.log('fuzz: 0 passed, 1 failed');
    process.exit(2);
  }
  mkdirSync(opts.out, { recursive: true });
  await writeImageSeeds(join(opts.models, '..', 'images', 'samples'), join(opts.out, 'seeds', 'images'));
  if (opts.replay) return replay(opts);

  const lib = await import(DIST);
  const seeds = loadSeeds({ modelsDir: opts.models, imageSeedDir: join(opts.out, 'seeds', 'images'), lib });
  const config = workerConfig(opts);
  const reproDir = join(opts.out, 'repros');
  mkdirSync(reproDir, { recursive: true });
  const failuresFile = join(opts.out, 'failures.jsonl');
  const runStamp = new Date().toISOString();

  // the work list: model and image cases interleaved so both kinds progress together
  const jobs = [];
  const nm = Math.floor(opts.cases);
  const ni = seeds.images.length ? Math.floor(opts.imageCases) : 0;
  if (!seeds.images.length && opts.imageCases > 0) console.error('fuzz: no image seeds (../shared/images/samples missing?): image cases skipped');
  let mi = 0;
  let ii = 0;
  while (mi < nm || ii < ni) {
    if (mi < nm && (ii >= ni || mi * ni <= ii * nm)) jobs.push({ kind: 'model', index: opts.start + mi++ });
    else jobs.push({ kind: 'image', index: opts.start + ii++ });
  }

  const counts = new Map(); // "model ok INVALID_MODEL" -> n
  const bump = (k) => counts.set(k, (counts.get(k) ?? 0) + 1);
  const classes = new Map(); // class -> { count, repros: [], example }
  let passed = 0;
  let failed = 0;
  let done = 0;
  const slow = [];
  const timeBySeed = new Map(); // seedName -> [cases, ms]
  const t0 = performance.now();

  function record(job, msg) {
    done++;
    const o = msg.outcome;
    const kindLabel = msg.caseKind ?? job.kind;
    if (msg.seedName) {
      const t = timeBySeed.get(msg.seedName) ?? [0, 0];
      t[0]++;
      t[1] += msg.ms ?? 0;
      timeBySeed.set(msg.seedName, t);
    }
    if (msg.ms > 2000) slow.push({ job, ms: Math.round(msg.ms), seedName: msg.seedName });
    if (o.ok) {
      passed++;
      bump(`${kindLabel}\tok\t${o.code}`);
      return;
    }
    failed++;
    bump(`${kindLabel}\tFAIL\t${o.type}`);
    const cls = failureClass(o);
    let entry = classes.get(cls);
    if (!entry) classes.set(cls, (entry = { count: 0, repros: [], example: o, kind: kindLabel }));
    entry.count++;
    // regenerate the case here (the worker may be dead) and save it
    const c = job.kind === 'image' ? makeImageCase(seeds, opts.seed, job.index) : makeModelCase(seeds, opts.seed, job.index, config);
    let repro = null;
    if (entry.repros.length < opts.reprosPerClass) {
      repro = join(reproDir, `${o.type}-${c.seedName}-s${opts.seed}-${c.id}${ext(c)}`);
      saveRepro(c, seeds, repro);
      writeFileSync(`${repro}.json`, JSON.stringify({ ...meta(c), seed: opts.seed, outcome: o, repro: basename(repro) }, null, 2));
      entry.repros.push(repro);
    }
    appendFileSync(failuresFile, JSON.stringify({ run: runStamp, seed: opts.seed, ...meta(c), outcome: o, class: cls, repro }) + '\n');
    if (!opts.quiet) console.log(`FAIL ${c.id} ${c.seedName} [${c.mutations.join('; ')}]: ${o.type} ${o.name}: ${o.message.slice(0, 200)}`);
  }

  let next = 0;
  let lastProgress = performance.now();
  const progress = (force) => {
    const now = performance.now();
    if (opts.quiet || (!force && now - lastProgress < 5000)) return;
    lastProgress = now;
    const s = (now - t0) / 1000;
    console.log(`[fuzz] ${done}/${jobs.length} cases, ${(done / s).toFixed(0)}/s, ${failed} failed, ${s.toFixed(0)} s`);
  };

  async function lane(n) {
    let child = spawnWorker(opts, config);
    await child.ready;
    while (next < jobs.length) {
      const job = jobs[next++];
      const msg = await new Promise((res) => {
        const onMsg = (m) => {
          if (m.type !== 'result') return;
          cleanup();
          res(m);
        };
        const onExit = (code, sig) => {
          cleanup();
          const tail = child.stderrTail.split('\n').filter(Boolean).slice(-3).join(' | ');
          res({ outcome: { ok: false, type: 'crash', name: String(sig ?? code), message: `worker died (${sig ?? `exit ${code}`}): ${tail}` }, dead: true });
        };
        const limit = job.kind === 'image' ? opts.imageTimeoutMs : opts.timeoutMs;
        const timer = setTimeout(() => {
          cleanup();
          child.kill('SIGKILL');
          res({ outcome: { ok: false, type: 'timeout', name: job.kind, message: `no result within ${limit} ms (hang)` }, dead: true });
        }, limit);
        const cleanup = () => {
          clearTimeout(timer);
          child.off('message', onMsg);
          child.off('exit', onExit);
        };
        child.on('message', onMsg);
        child.on('exit', onExit);
        child.send({ type: 'case', kind: job.kind, index: job.index });
      });
      record(job, msg);
      progress(false);
      if (msg.dead || (!msg.outcome.ok && msg.outcome.type === 'memory')) {
        child.kill('SIGKILL');
        child = spawnWorker(opts, config);
        await child.ready;
      }
    }
    child.kill();
  }

  await Promise.all(Array.from({ length: Math.max(1, Math.floor(opts.jobs)) }, (_, n) => lane(n)));
  const secs = (performance.now() - t0) / 1000;

  console.log('');
  console.log(`fuzz seed ${opts.seed}: ${nm} model cases (start ${opts.start}), ${ni} image cases, ${Math.floor(opts.jobs)} jobs, ${secs.toFixed(1)} s, ${(done / secs).toFixed(1)} cases/s`);
  console.log('outcomes (case kind, result, code):');
  for (const [k, n] of [...counts].sort()) console.log(`  ${k.padEnd(40)}\t${n}`);
  const bySeed = [...timeBySeed].sort((a, b) => b[1][1] - a[1][1]);
  console.log(`time by seed (cases, mean ms, share of worker time): ${bySeed.slice(0, 8).map(([k, [n, ms]]) => `${k} ${n} ${(ms / n).toFixed(1)} ${((100 * ms) / bySeed.reduce((s, [, [, m]]) => s + m, 0)).toFixed(0)}%`).join('; ')}`);
  if (slow.length) console.log(`slow cases (> 2 s): ${slow.length}, e.g. ${slow.slice(0, 5).map((s) => `${s.job.kind}#${s.job.index} ${s.seedName} ${s.ms} ms`).join(', ')}`);
  if (classes.size) {
    console.log(`failure classes (${classes.size}); repros in ${reproDir}, all failures in ${failuresFile}:`);
    for (const [cls, e] of [...classes].sort((a, b) => b[1].count - a[1].count)) {
      console.log(`  ${e.count} x ${e.example.type} (${e.kind}) ${e.example.name}: ${e.example.message.slice(0, 160)}`);
      for (const r of e.repros) console.log(`      ${r}`);
    }
  }
  console.log(`fuzz: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log('fuzz: 0 passed, 1 failed');
  process.exit(2);
});
