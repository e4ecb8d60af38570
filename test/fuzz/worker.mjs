/**
 * Fuzz worker: a child process (forked by fuzz.mjs) that imports the library once, compiles
 * the kernel builds once, regenerates each case from (seed, kind, index) and runs it through
 * the public API, reporting an outcome per case over IPC. The parent kills it on a timeout.
 *
 * Besides the result, it watches: reads of files outside the model folder (fs patched and
 * synced into the ESM bindings), writes to stdout, and the process RSS after each case.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';
import { tmpdir } from 'node:os';
import { DIST, loadSeeds, makeModelCase, makeImageCase } from './cases.mjs';
import { ESCAPE_TARGET } from './tfjs-mutator.mjs';
import { Rng } from './rng.mjs';

const REPO_DIR = resolve(DIST, '..', '..');
const CODE_DIRS = ['node_modules', 'build', 'dist'].map((d) => join(REPO_DIR, d));
const CODES = new Set(['INVALID_MODEL', 'UNSUPPORTED_MODEL', 'INVALID_INPUT', 'INVALID_OPTION', 'INVALID_IMAGE', 'OUT_OF_MEMORY', 'DISPOSED', 'IO']);

// ---- watchers ----------------------------------------------------------------------------

const reads = [];
let watching = false;
function patchFs() {
  const wrap = (obj, name) => {
    const orig = obj[name];
    if (typeof orig !== 'function') return;
    obj[name] = function (p, ...rest) {
      if (watching) {
        const s = typeof p === 'string' ? p : p instanceof URL ? p.pathname : Buffer.isBuffer(p) ? p.toString() : typeof p === 'number' ? `fd:${p}` : String(p);
        reads.push(s);
      }
      return orig.call(this, p, ...rest);
    };
  };
  for (const n of ['readFile', 'readFileSync', 'open', 'openSync', 'createReadStream', 'statSync', 'stat']) wrap(fs, n);
  for (const n of ['readFile', 'open', 'stat']) wrap(fsp, n);
  syncBuiltinESMExports();
}

let stdoutLog = [];
function patchStdout() {
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    stdoutLog.push(String(chunk).slice(0, 300));
    return true; // swallowed: the parent owns the terminal
  };
  return orig;
}

// ---- setup -------------------------------------------------------------------------------

let lib;
let seeds;
let config;
let workDir;
let caseDir;
let tinyNet; // a loaded float model for classify() probes on decoded images
const shardsLinked = new Set();

async function init(cfg) {
  config = cfg;
  lib = await import(DIST);
  seeds = loadSeeds({ modelsDir: cfg.modelsDir, imageSeedDir: cfg.imageSeedDir, lib });
  // compile every build and import jimp now, before the read log starts
  for (const k of ['simd', 'scalar']) await lib.nodeKernelModule(k);
  const tiny = seeds.models.find((m) => m.name === 'tiny_float32_conv');
  tinyNet = await lib.loadModel(tiny.bytes, { kernels: 'simd' });
  // decode one seed of each format so jimp loads its lazily imported decoders now
  const seen = new Set();
  for (const im of seeds.images) {
    const ext = im.name.split('.').pop();
    if (seen.has(ext)) continue;
    seen.add(ext);
    const img = await lib.decodeImage(im.bytes).catch(() => null);
    if (img) tinyNet.classify(img);
  }
  workDir = fs.mkdtempSync(join(tmpdir(), 'mobilenet-fuzz-'));
  caseDir = join(workDir, 'model');
  fs.mkdirSync(caseDir);
  const tfjs = seeds.models.find((m) => m.kind === 'tfjs');
  if (tfjs) {
    // real copies, not symlinks: the loader refuses weight files whose real path leaves the folder
    for (const f of tfjs.shardNames) {
      fs.writeFileSync(join(caseDir, f), tfjs.shardBytes.get(f));
      shardsLinked.add(f);
    }
    // the target of ../ escapes: a copy of the first shard, so an escape can even load
    fs.writeFileSync(join(workDir, ESCAPE_TARGET), tfjs.shardBytes.get(tfjs.shardNames.sort()[0]));
  }
  patchFs();
}

function cleanup() {
  try {
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  } catch {}
}
process.on('exit', cleanup);

// ---- outcomes ----------------------------------------------------------------------------

const ok = (code, extra = {}) => ({ ok: true, code, ...extra });
const fail = (type, name, message, extra = {}) => ({ ok: false, type, name, message: String(message).slice(0, 500), ...extra });

function fromError(e, where) {
  if (e instanceof lib.MobileNetError) {
    if (!CODES.has(e.code)) return fail('bad-error-code', 'MobileNetError', `${where}: unknown code ${e.code}: ${e.message}`);
    if (!e.message) return fail('empty-error-message', 'MobileNetError', `${where}: ${e.code} without a message`);
    // typed by the library's last line of defence (src/runtime/guard.ts): the user is safe, but a check is missing
    if (e.cause !== undefined && !(e.cause instanceof lib.MobileNetError)) {
      const trap = e.cause instanceof WebAssembly.RuntimeError;
      return fail(trap ? 'wasm-trap' : 'guarded-exception', e.cause?.constructor?.name ?? typeof e.cause, `${where}: ${e.code}: ${e.message}`, {
        stack: e.cause?.stack?.split('\n').slice(0, 6).join('\n'),
      });
    }
    return ok(e.code);
  }
  if (e instanceof WebAssembly.RuntimeError) return fail('wasm-trap', 'RuntimeError', `${where}: ${e.message}`, { stack: e.stack?.split('\n').slice(0, 6).join('\n') });
  const name = e?.constructor?.name ?? typeof e;
  return fail('raw-exception', name, `${where}: ${e?.message ?? String(e)}`, { stack: e?.stack?.split('\n').slice(0, 6).join('\n') });
}

class CaseFailure extends Error {
  constructor(outcome) {
    super(outcome.message);
    this.outcome = outcome;
  }
}

/** run fn; a typed error with one of `codes` is fine, anything else ends the case as a failure */
function expectTyped(fn, where, codes, notCodes) {
  let r;
  try {
    r = fn();
  } catch (e) {
    const o = fromError(e, where);
    if (!o.ok) throw new CaseFailure(o);
    if (codes && !codes.includes(o.code)) throw new CaseFailure(fail('wrong-code', o.code, `${where}: got ${o.code}, expected ${codes.join('/')}: ${e.message}`));
    if (notCodes && notCodes.includes(o.code)) throw new CaseFailure(fail('wrong-code', o.code, `${where}: got ${o.code}, but the call passed no options / valid arguments: ${e.message}`));
    return { error: o.code };
  }
  return { value: r };
}

function finiteAll(arr) {
  for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) return false;
  return true;
}

function makeInput(info, seed) {
  const n = info.input.shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(seed);
  if (info.input.dtype === 'float32') {
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = rng.float() * 2 - 1;
    return x;
  }
  const x = info.input.dtype === 'uint8' ? new Uint8Array(n) : new Int8Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.u32() & 0xff;
  return x;
}

function rawImage(w, h, seed) {
  const rng = new Rng(seed);
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = rng.u32() & 0xff;
  return { data, width: w, height: h, channels: 4 };
}

/** every output of one inference (runAll: a detector has four), joined into one array when they share a type */
function inferAll(net, x) {
  const outs = net.runAll([x]);
  if (outs.length === 1) return outs[0];
  const Ctor = outs[0].constructor;
  if (!outs.every((o) => o.constructor === Ctor)) return outs[0];
  const all = new Ctor(outs.reduce((n, o) => n + o.length, 0));
  let at = 0;
  for (const o of outs) {
    all.set(o, at);
    at += o.length;
  }
  return all;
}

const BAD_IMAGES = [
  () => ({ data: new Uint8Array(4), width: 100000, height: 100000, channels: 4 }),
  () => ({ data: new Uint8Array(0), width: 0, height: 0, channels: 4 }),
  () => ({ data: new Uint8Array(16), width: NaN, height: 2, channels: 4 }),
  () => ({ data: new Uint8Array(16), width: -2, height: -2, channels: 4 }),
  () => ({ data: new Uint8Array(16), width: 2, height: 2, channels: 5 }),
  () => ({ data: null, width: 2, height: 2 }),
  () => ({ data: new Float32Array(16), width: 2, height: 2, channels: 4 }),
  () => ({ data: new Uint8Array(15), width: 2, height: 2, channels: 4 }),
  () => ({ data: new Uint8Array(16), width: 2.5, height: 1.6, channels: 4 }),
];

function badTensor(k, info) {
  const n = info.input.shape.reduce((a, b) => a * b, 1);
  const T = info.input.dtype === 'float32' ? Float32Array : info.input.dtype === 'uint8' ? Uint8Array : Int8Array;
  const Other = info.input.dtype === 'float32' ? Uint8Array : Float32Array;
  switch (k) {
    case 0: return { t: new Other(n), what: 'wrong dtype' };
    case 1: return { t: new T(n + 1), what: 'one element too many' };
    case 2: return { t: new T(Math.max(0, n - 1)), what: 'one element short' };
    case 3: return { t: null, what: 'null' };
    case 4: return { t: undefined, what: 'undefined' };
    case 5: return { t: Array.from({ length: n }, () => 0), what: 'plain array' };
    case 6: return { t: new Float64Array(n), what: 'Float64Array' };
    case 7: return { t: new T(0), what: 'empty' };
    case 8: return { t: T === Float32Array ? new Float32Array(n).fill(NaN) : new T(n), what: 'NaN-filled' };
    default: return { t: T === Float32Array ? new Float32Array(n).fill(Infinity) : new T(n).fill(127), what: 'Inf-filled' };
  }
}

// ---- model cases -------------------------------------------------------------------------

async function prepareTfjs(c) {
  const written = [];
  fs.writeFileSync(join(caseDir, 'model.json'), c.tfjs.json);
  for (const [name, bytes] of Object.entries(c.tfjs.shards)) {
    const p = join(caseDir, name);
    fs.rmSync(p, { force: true });
    if (bytes) fs.writeFileSync(p, bytes);
    written.push(name);
  }
  return () => {
    const tfjs = seeds.models.find((m) => m.kind === 'tfjs');
    for (const name of written) {
      const p = join(caseDir, name);
      fs.rmSync(p, { force: true });
      if (shardsLinked.has(name)) fs.writeFileSync(p, tfjs.shardBytes.get(name));
    }
  };
}

async function loadCase(c, kernels) {
  const opts = { kernels, maxMemoryBytes: config.maxMemoryBytes };
  if (c.kind === 'tfjs') return lib.loadModel(c.dir ?? caseDir, opts);
  return lib.loadModel(c.bytes, opts);
}

async function runModel(c) {
  let net;
  try {
    net = await loadCase(c, 'simd');
  } catch (e) {
    const o = fromError(e, 'loadModel');
    if (o.ok && c.expect && o.code !== c.expect) return fail('wrong-code', o.code, `unmodified ${c.seedName}: expected ${c.expect}, got ${o.code}: ${e.message}`);
    return o;
  }
  if (c.expect === 'UNSUPPORTED_MODEL') return fail('wrong-code', 'VALID', `unmodified ${c.seedName} loaded; expected UNSUPPORTED_MODEL`);
  const p = c.plan;
  const info = net.info;
  try {
    const x = makeInput(info, p.inputSeed);
    const r = expectTyped(() => inferAll(net, x), 'run', undefined, ['INVALID_OPTION', 'INVALID_INPUT']);
    if (r.value) {
      const y = r.value;
      if (y instanceof Float32Array && !finiteAll(y)) {
        const bad = y.findIndex((v) => !Number.isFinite(v));
        return fail('nan-output', 'run', `float output has non-finite values (first at ${bad}: ${y[bad]}) for a finite input`);
      }
      if (p.crossCheck && !(y instanceof Float32Array)) {
        let net2;
        try {
          net2 = await loadCase(c, 'scalar');
        } catch (e) {
          return fail('simd-scalar-mismatch', 'load', `loads with simd kernels but not with scalar: ${e.message}`);
        }
        const y2 = inferAll(net2, x);
        net2.dispose();
        const diff = y.findIndex((v, i) => v !== y2[i]);
        if (diff >= 0 || y.length !== y2.length) {
          return fail('simd-scalar-mismatch', info.precision, `integer outputs differ between simd and scalar at ${diff} (${y[diff]} vs ${y2[diff]})`);
        }
      }
    }
    if (p.classify) {
      const [w, h] = p.classify;
      const cr = expectTyped(() => net.classify(rawImage(w, h, p.inputSeed), { topK: 3 }), `classify ${w}x${h}`, undefined, ['INVALID_OPTION', 'INVALID_INPUT', 'INVALID_IMAGE']);
      if (cr.value && !cr.value.every((k) => Number.isFinite(k.score) && k.score >= 0 && k.score <= 1 + 1e-6)) {
        return fail('nan-output', 'classify', `classify ${w}x${h} gave scores ${JSON.stringify(cr.value.map((k) => k.score))}`);
      }
    }
    if (p.embed) {
      const er = expectTyped(() => net.embed(rawImage(40, 30, p.inputSeed)), 'embed', undefined, ['INVALID_OPTION', 'INVALID_INPUT', 'INVALID_IMAGE']);
      if (er.value && !finiteAll(er.value)) return fail('nan-output', 'embed', `embedding has non-finite values`);
    }
    if (p.badTensor >= 0) {
      const { t, what } = badTensor(p.badTensor, info);
      const nonFinite = what === 'NaN-filled' || what === 'Inf-filled';
      const br = expectTyped(() => inferAll(net, t), `run(${what} tensor)`, nonFinite ? undefined : ['INVALID_INPUT']);
      if (br.value) {
        if (!nonFinite) return fail('accepted-bad-tensor', what, `run() accepted a ${what} input tensor`);
        if (br.value instanceof Float32Array && !finiteAll(br.value)) {
          return fail('nan-output', 'non-finite-input', `run() on a ${what} input returns non-finite outputs instead of a typed error`);
        }
      }
    }
    if (p.badImage >= 0) {
      const im = BAD_IMAGES[p.badImage]();
      const br = expectTyped(() => net.classify(im), `classify(bad image ${p.badImage})`, ['INVALID_INPUT', 'INVALID_IMAGE', ...(info.task === 'classifier' ? [] : ['UNSUPPORTED_MODEL'])]);
      if (br.value) return fail('accepted-bad-image', `badImage${p.badImage}`, `classify() accepted a bad RawImage (#${p.badImage})`);
    }
    if (p.useAfterDispose) {
      // run on a model with one input and one output (runAll on the others) must say DISPOSED too
      net.dispose();
      expectTyped(() => net.run(makeInput(info, 1)), 'run after dispose', ['DISPOSED']);
      const again = expectTyped(() => net.run(makeInput(info, 1)), 'run after dispose', ['DISPOSED']);
      if (again.value) return fail('use-after-dispose', 'run', 'run() after dispose() returned a result');
    }
  } catch (e) {
    if (e instanceof CaseFailure) return e.outcome;
    return fromError(e, 'probe');
  } finally {
    net.dispose();
  }
  return ok('VALID', { precision: info.precision });
}

// ---- image cases -------------------------------------------------------------------------

async function runImage(c) {
  let img;
  try {
    img = await lib.decodeImage(c.bytes, c.plan.maxPixels ? { maxPixels: c.plan.maxPixels } : {});
  } catch (e) {
    return fromError(e, 'decodeImage');
  }
  if (!(img.width > 0 && img.height > 0 && img.data.length === img.width * img.height * 4 && img.channels === 4)) {
    return fail('bad-result', 'decodeImage', `decoded ${img.width}x${img.height} with ${img.data?.length} bytes`);
  }
  if (c.plan.maxPixels && img.width * img.height > c.plan.maxPixels) {
    return fail('bad-result', 'maxPixels', `decoded ${img.width}x${img.height} despite maxPixels ${c.plan.maxPixels}`);
  }
  if (c.plan.classify) {
    try {
      const r = tinyNet.classify(img, { topK: 3 });
      if (!r.every((k) => Number.isFinite(k.score))) return fail('nan-output', 'classify', `classify of a decoded ${img.width}x${img.height} image gave non-finite scores`);
    } catch (e) {
      const o = fromError(e, 'classify(decoded image)');
      if (!o.ok) return o;
    }
  }
  return ok('DECODED');
}

// ---- loop --------------------------------------------------------------------------------

function insideDir(p, dir) {
  const r = resolve(dir, p);
  return r === dir || r.startsWith(dir + sep);
}

async function runCase(c) {
  reads.length = 0;
  stdoutLog = [];
  let restore = null;
  const allowed = c.kind === 'tfjs' ? resolve(c.dir ?? caseDir) : null;
  const t0 = performance.now();
  let outcome;
  try {
    if (c.kind === 'tfjs' && !c.dir) restore = await prepareTfjs(c);
    watching = true;
    outcome = c.kind === 'image' ? await runImage(c) : await runModel(c);
  } catch (e) {
    outcome = fromError(e, 'case');
  } finally {
    watching = false;
    if (restore) restore();
  }
  const ms = performance.now() - t0;
  // reads outside the model folder (any read at all for cases given as bytes)
  // module code that libraries load lazily (jimp's decoders, exif-parser) is not model data
  const outside = reads.filter((p) => !p.startsWith('fd:') && !CODE_DIRS.some((d) => insideDir(p, d)) && !(allowed && insideDir(p, allowed)));
  if (outside.length) {
    const shown = outside.slice(0, 3).map((p) => (allowed ? relative(allowed, resolve(allowed, p)) : p));
    outcome = fail('read-outside-model-folder', c.kind, `read ${shown.join(', ')} ${allowed ? '(relative to the model folder)' : '(model given as bytes)'}; outcome otherwise ${outcome.ok ? outcome.code : outcome.type}`);
  }
  if (stdoutLog.length) {
    outcome = fail('stdout-output', c.kind, `wrote to stdout: ${JSON.stringify(stdoutLog.join('').slice(0, 200))}; outcome otherwise ${outcome.ok ? outcome.code : outcome.type}`);
  }
  let rss = process.memoryUsage().rss;
  if (rss > config.maxRssBytes && global.gc) {
    global.gc();
    rss = process.memoryUsage().rss;
  }
  if (rss > config.maxRssBytes && outcome.ok) {
    outcome = fail('memory', c.kind, `RSS ${(rss / 2 ** 20).toFixed(0)} MiB after the case, over the ${(config.maxRssBytes / 2 ** 20).toFixed(0)} MiB bound`);
  }
  return { outcome, ms, rss };
}

patchStdout();
process.on('message', async (msg) => {
  if (msg.type === 'init') {
    await init(msg.config);
    process.send({ type: 'ready' });
    return;
  }
  if (msg.type === 'case') {
    const c = msg.kind === 'image' ? makeImageCase(seeds, config.seed, msg.index) : makeModelCase(seeds, config.seed, msg.index, config);
    const r = await runCase(c);
    process.send({ type: 'result', kind: msg.kind, index: msg.index, caseKind: c.kind, seedName: c.seedName, ...r });
    return;
  }
  if (msg.type === 'replay') {
    const r = await runCase(msg.case);
    process.send({ type: 'result', kind: 'replay', index: 0, caseKind: msg.case.kind, seedName: msg.case.seedName, ...r });
  }
});
process.on('disconnect', () => process.exit(0));
