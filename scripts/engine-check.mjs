#!/usr/bin/env node
/**
 * Cross-engine exactness check, in plain JavaScript so that Node 18/20, Deno, Bun and arm64 Node
 * under qemu all run the same file. It imports only the portable core (dist/index.js, or the
 * module named by --core) and reads files through node:fs, which all of them provide.
 *
 *   node scripts/engine-check.mjs --write ref.json        # the reference engine (host Node)
 *   deno run --allow-read scripts/engine-check.mjs --compare ref.json
 *
 * What it computes, for every shared integer model and each kernel build the engine runs
 * (scalar, SIMD, relaxed when validated): the outputs of 4 fixed pseudo-random inputs, the AOSP
 * golden inputs, and the top-5 of grace_hopper's pixels (decoded once by the writer and stored
 * in the reference file, so no image decoder is needed here); for the float model the same.
 * --compare asserts integer outputs byte-identical to the reference, float within 1e-5, and the
 * AOSP golden uint8 outputs byte for byte. Exit status 1 on any mismatch.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const root = resolve(here, '..');
const shared = resolve(opt('--shared', process.env.MOBILENET_WASM_SHARED ?? join(root, '../shared')));
const wasmDir = resolve(opt('--wasm-dir', join(root, 'build')));
const coreSpec = opt('--core', pathToFileURL(join(root, 'dist/index.js')).href);
const writePath = opt('--write');
const comparePath = opt('--compare');
const flavoursArg = opt('--kernels');
const engine = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version} ${process.arch}`;

if (!existsSync(join(shared, 'models'))) {
  console.log(`engine-check: SKIP ${shared}/models is missing (the shared models are needed)`);
  process.exit(0);
}
const { MobileNet, engineSupports } = await import(coreSpec);

const INTEGER_MODELS = [
  'mobilenet_v1_0.25_128_quant.tflite',
  'mobilenet_v1_0.5_160_quant.tflite',
  'mobilenet_v1_0.75_192_quant.tflite',
  'mobilenet_v1_1.0_224_quant.tflite',
  'vww_96_int8.tflite',
  // the MobileNet family of the graph runtime (issue 10): residual ADDs, MEAN, uint8<->int8 QUANTIZE,
  // a depth-multiplier stem, SSD's heads and its post-processing (float outputs, compared as floats)
  'mobilenet_v2_1.0_224_quant.tflite',
  'tf2_mobilenet_v2_1.0_224_ptq.tflite',
  'person_detect_int8.tflite',
  'ssd_mobilenet_v1_coco_quant.tflite',
];
const FLOAT_MODELS = ['mobilenet_v1_0.25_128.tflite', 'vww_96_float.tflite'];
const GOLDEN = { 'mobilenet_v1_0.25_128_quant.tflite': '0.25_128', 'mobilenet_v1_0.5_160_quant.tflite': '0.5_160', 'mobilenet_v1_0.75_192_quant.tflite': '0.75_192' };

// the library's own seeded generator (beside the core in dist/): the same numbers on every engine
const { mulberry32 } = await import(new URL('./arch/random.js', coreSpec).href);

function randomInput(info, seed) {
  const n = info.input.shape.reduce((x, y) => x * y, 1);
  const next = mulberry32(seed);
  if (info.input.dtype === 'float32') {
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = next() * 2 - 1;
    return f;
  }
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(next() * 256);
  return info.input.dtype === 'int8' ? new Int8Array(bytes.buffer) : bytes;
}

const b64 = (t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64');
const fromB64 = (s, Type) => {
  const b = Buffer.from(s, 'base64');
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new Type(copy.buffer);
};

/** the build the load asks for: the model's precision's (mobilenet-q8-<flavour>.wasm / mobilenet-f32-<flavour>.wasm) */
const wasmBytes = (flavour, file) => readFile(join(wasmDir, file));

const flavours = (flavoursArg ? flavoursArg.split(',') : ['scalar', 'simd', 'relaxed']).filter((f) => f === 'scalar' || engineSupports(f));

async function compute(pixels) {
  const out = {};
  for (const file of [...INTEGER_MODELS, ...FLOAT_MODELS]) {
    const path = join(shared, 'models', file);
    if (!existsSync(path)) continue;
    const bytes = new Uint8Array(await readFile(path));
    for (const flavour of flavours) {
      const net = await MobileNet.load(bytes, { wasm: wasmBytes, kernels: flavour });
      const entry = { kernels: net.info.kernels, dtype: net.info.output.dtype, random: [], golden: {} };
      // every output of every seed (SSD has four)
      for (let s = 1; s <= 4; s++) for (const o of net.runAll([randomInput(net.info, s)])) entry.random.push(b64(o));
      const g = GOLDEN[file];
      if (g) {
        for (const name of ['banana', 'cup']) {
          const res = g.split('_')[1];
          const input = new Uint8Array(await readFile(join(shared, 'golden/quant', `${name}_${res}.input`)));
          entry.golden[name] = b64(net.run(input));
        }
      }
      if (pixels && net.info.task === 'classifier' && net.info.classes >= 1000) {
        entry.top5 = net.classify(pixels, { topK: 5 }).map(({ index, score }) => [index, score]);
      }
      net.dispose();
      out[`${file} ${flavour}`] = entry;
    }
  }
  return out;
}

if (writePath) {
  // the reference engine decodes grace_hopper once (Node entry, jimp) and stores the pixels
  const { decodeImageFile } = await import(pathToFileURL(join(root, 'dist/node.js')).href);
  const img = await decodeImageFile(join(shared, 'images/samples/grace_hopper.bmp'));
  const pixels = { data: img.data, width: img.width, height: img.height, channels: img.channels };
  const results = await compute(pixels);
  await writeFile(writePath, JSON.stringify({ engine, pixels: { ...pixels, data: b64(img.data) }, results }));
  console.log(`engine-check: wrote ${Object.keys(results).length} model x kernel results from ${engine} to ${writePath}`);
  process.exit(0);
}
if (!comparePath) {
  console.error('usage: engine-check.mjs --write REF.json | --compare REF.json [--kernels scalar,simd] [--core SPEC]');
  process.exit(2);
}

const ref = JSON.parse(await readFile(comparePath, 'utf8'));
const pixels = { ...ref.pixels, data: fromB64(ref.pixels.data, Uint8Array) };
const results = await compute(pixels);
let failures = 0, checks = 0;
const fail = (msg) => { failures++; console.log(`  FAIL ${msg}`); };
const typeOf = (dtype) => (dtype === 'float32' ? Float32Array : dtype === 'int8' ? Int8Array : Uint8Array);

for (const [key, got] of Object.entries(results)) {
  // the reference may lack a flavour this engine runs (relaxed): compare it with SIMD's integer outputs
  const [file, flavour] = key.split(' ');
  const want = ref.results[key] ?? ref.results[`${file} simd`];
  if (!want) { fail(`${key}: no reference`); continue; }
  const Type = typeOf(got.dtype);
  const near = (a, b) => {
    const x = fromB64(a, Type), y = fromB64(b, Type);
    if (x.length !== y.length) return `length ${x.length} vs ${y.length}`;
    if (Type !== Float32Array) {
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `byte ${i}: ${x[i]} vs ${y[i]}`;
      return undefined;
    }
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    return worst <= 1e-5 ? undefined : `max |diff| ${worst}`;
  };
  got.random.forEach((r, i) => { checks++; const d = near(r, want.random[i]); if (d) fail(`${key} random input ${i + 1}: ${d}`); });
  for (const [name, out] of Object.entries(got.golden)) {
    checks++;
    const d = near(out, want.golden[name]);
    if (d) fail(`${key} golden ${name} vs reference engine: ${d}`);
    // and against AOSP's own golden output (TensorFlow Lite), byte for byte
    const res = GOLDEN[file];
    const aosp = new Uint8Array(await readFile(join(shared, 'golden/quant', `${name}_${res}.output`)));
    const mine = fromB64(out, Uint8Array);
    checks++;
    if (aosp.length !== mine.length || aosp.some((v, i) => v !== mine[i])) fail(`${key} golden ${name} differs from AOSP's output`);
  }
  if (got.top5) {
    checks++;
    const same = got.top5.length === want.top5?.length && got.top5.every(([i, s], k) => i === want.top5[k][0] && Math.abs(s - want.top5[k][1]) <= (Type === Float32Array ? 1e-5 : 0));
    if (!same) fail(`${key} grace_hopper top-5 ${JSON.stringify(got.top5)} vs ${JSON.stringify(want.top5)}`);
  }
  void flavour;
}
console.log(`engine-check: ${engine} vs ${ref.engine}: ${Object.keys(results).length} model x kernel runs, ${checks} checks, ${failures} failed (kernels ${flavours.join(', ')})`);
process.exit(failures ? 1 : 0);
