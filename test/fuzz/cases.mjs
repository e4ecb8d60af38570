/**
 * Seeds and case generation, shared by the parent (to save repros), the workers (to run
 * cases) and the vitest check. A case is a pure function of (run seed, kind, index, seeds).
 */
import { readFileSync, readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caseRng } from './rng.mjs';
import { mapTflite, mutateTflite } from './tflite-mutator.mjs';
import { mutateTfjs } from './tfjs-mutator.mjs';
import { mutateImage } from './image-mutator.mjs';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = join(REPO, 'dist', 'node.js');

/**
 * .tflite seeds and their weights: mostly small models (cheap to load and run), a few of the
 * large ones, the four the library must refuse (UNSUPPORTED_MODEL), and tiny random-weight
 * MobileNets written by the project's own writer (32 px: a valid run costs about 1 ms).
 */
export const MODEL_SEEDS = [
  { name: 'tiny_float32_conv', synth: { precision: 'float32', head: 'conv' }, weight: 10 },
  { name: 'tiny_uint8_fc', synth: { precision: 'uint8', head: 'fc' }, weight: 10 },
  { name: 'tiny_int8_conv', synth: { precision: 'int8', head: 'conv' }, weight: 10 },
  { name: 'tiny_int8_fc', synth: { precision: 'int8', head: 'fc' }, weight: 5 },
  { name: 'vww_96_float', file: 'vww_96_float.tflite', weight: 10 },
  { name: 'vww_96_int8', file: 'vww_96_int8.tflite', weight: 12 },
  { name: 'mobilenet_v1_0.25_128', file: 'mobilenet_v1_0.25_128.tflite', weight: 8 },
  { name: 'mobilenet_v1_0.25_128_quant', file: 'mobilenet_v1_0.25_128_quant.tflite', weight: 10 },
  { name: 'mobilenet_v1_0.5_160_quant', file: 'mobilenet_v1_0.5_160_quant.tflite', weight: 1.5 },
  { name: 'mobilenet_v1_0.75_192_quant', file: 'mobilenet_v1_0.75_192_quant.tflite', weight: 0.7 },
  { name: 'mobilenet_v1_1.0_224_quant', file: 'mobilenet_v1_1.0_224_quant.tflite', weight: 0.3 },
  // the graph runtime's family (issue 10): residual ADDs, MEAN, QUANTIZE ends, a depth-multiplier
  // stem, CONCATENATION, LOGISTIC and the detection post-process's flexbuffer options
  { name: 'mobilenet_v2_1.0_224_quant', file: 'mobilenet_v2_1.0_224_quant.tflite', weight: 2 },
  { name: 'tf2_mobilenet_v2_1.0_224_ptq', file: 'tf2_mobilenet_v2_1.0_224_ptq.tflite', weight: 2 },
  { name: 'person_detect_int8', file: 'person_detect_int8.tflite', weight: 4 },
  { name: 'ssd_mobilenet_v1_coco_quant', file: 'ssd_mobilenet_v1_coco_quant.tflite', weight: 3 },
  { name: 'tfjs_mobilenet_v1_0.25_224', tfjs: 'tfjs/mobilenet_v1_0.25_224', weight: 1.5 },
];

/** shared samples turned into small images in all four formats */
const IMAGE_SOURCES = ['grace_hopper.bmp', 'cat.bmp', 'coffee.jpg', 'parrot.jpg', 'sunflower.bmp'];
const IMAGE_SIZES = [
  [48, 36],
  [17, 23],
  [64, 64],
  [1, 1],
  [3, 97],
];
export const IMAGE_FORMATS = ['png', 'gif', 'bmp', 'jpeg'];

/**
 * Load every seed. `lib` is the library module (dist/node.js) for the synthetic models;
 * `imageSeedDir` holds the image seeds written by writeImageSeeds().
 */
export function loadSeeds({ modelsDir, imageSeedDir, lib }) {
  const models = [];
  for (const s of MODEL_SEEDS) {
    if (s.synth) {
      const g = lib.buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: s.synth.precision, classes: 10, seed: 7, head: s.synth.head });
      models.push({ ...s, kind: 'tflite', bytes: lib.writeTflite(g) });
    } else if (s.file) {
      const p = join(modelsDir, s.file);
      if (existsSync(p)) models.push({ ...s, kind: 'tflite', bytes: new Uint8Array(readFileSync(p)) });
    } else if (s.tfjs) {
      const dir = join(modelsDir, s.tfjs);
      if (!existsSync(join(dir, 'model.json'))) continue;
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const shardNames = readdirSync(dir).filter((f) => f !== 'model.json');
      const shardBytes = new Map(shardNames.map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
      models.push({ ...s, kind: 'tfjs', dir, json, shardNames, shardBytes });
    }
  }
  const images = [];
  if (imageSeedDir && existsSync(imageSeedDir)) {
    for (const f of readdirSync(imageSeedDir).sort().filter((n) => !n.startsWith('.'))) {
      // the full-size photo costs ~60-180 ms a decode: a tenth of the share of the small seeds
      images.push({ name: f, bytes: new Uint8Array(readFileSync(join(imageSeedDir, f))), weight: f.includes('_orig') ? 0.1 : 1 });
    }
  }
  return { models, images, maps: new Map() };
}

/** Small PNG / GIF / BMP / JPEG seeds from the shared samples, made with jimp (deterministic). */
export async function writeImageSeeds(samplesDir, outDir) {
  const marker = join(outDir, '.complete');
  if (existsSync(marker)) return;
  mkdirSync(outDir, { recursive: true });
  const { Jimp } = await import('jimp');
  const mime = { png: 'image/png', gif: 'image/gif', bmp: 'image/bmp', jpeg: 'image/jpeg' };
  for (const [i, src] of IMAGE_SOURCES.entries()) {
    const p = join(samplesDir, src);
    if (!existsSync(p)) continue;
    const img = await Jimp.read(p);
    const [w, h] = IMAGE_SIZES[i % IMAGE_SIZES.length];
    const small = img.clone().resize({ w, h });
    for (const fmt of IMAGE_FORMATS) {
      const buf = await small.getBuffer(mime[fmt], fmt === 'jpeg' ? { quality: 80 } : undefined);
      writeFileSync(join(outDir, `${src.replace(/\.\w+$/, '')}_${w}x${h}.${fmt === 'jpeg' ? 'jpg' : fmt}`), buf);
    }
  }
  // one real photo as it is, for the JPEG decoder's full path (progressive-free, 30 KB)
  const coffee = join(samplesDir, 'coffee.jpg');
  if (existsSync(coffee)) writeFileSync(join(outDir, 'coffee_orig.jpg'), readFileSync(coffee));
  writeFileSync(marker, '');
}

function pickWeighted(rng, items) {
  return rng.weighted(items.map((s) => [s.weight ?? 1, s]));
}

function tfliteMap(seeds, s) {
  let m = seeds.maps.get(s.name);
  if (!m) seeds.maps.set(s.name, (m = mapTflite(s.bytes)));
  return m;
}

/** What to do with a model that loads: input, cross-check, probes of the other entry points. */
function modelPlan(rng, crossRate) {
  return {
    inputSeed: rng.u32(),
    crossCheck: rng.chance(crossRate),
    classify: rng.chance(0.25) ? rng.pick([[1, 1], [7, 300], [48, 36], [224, 224], [3, 2]]) : null,
    embed: rng.chance(0.15),
    badTensor: rng.chance(0.2) ? rng.int(10) : -1,
    badImage: rng.chance(0.1) ? rng.int(9) : -1,
    useAfterDispose: rng.chance(0.1),
  };
}

/**
 * Model case `index` of run `seed`. Returns { id, kind: 'tflite'|'tfjs', seedName, mutations,
 * expect?, bytes | tfjs: { json, shards }, plan }.
 */
export function makeModelCase(seeds, seed, index, opts = {}) {
  const rng = caseRng(seed, 'model', index);
  const s = pickWeighted(rng, seeds.models);
  const plan = modelPlan(rng, opts.crossRate ?? 0.1);
  const identity = rng.chance(0.01);
  const id = `m${index}`;
  if (s.kind === 'tfjs') {
    if (identity) return { id, kind: 'tfjs', seedName: s.name, mutations: [], tfjs: { json: JSON.stringify(s.json), shards: {} }, plan };
    const r = mutateTfjs(s, rng);
    return { id, kind: 'tfjs', seedName: s.name, mutations: r.mutations, tfjs: { json: r.json, shards: r.shards }, plan };
  }
  if (identity) {
    return { id, kind: 'tflite', seedName: s.name, mutations: [], bytes: s.bytes.slice(), plan, expect: s.unsupported ? 'UNSUPPORTED_MODEL' : 'VALID' };
  }
  const r = mutateTflite(s.bytes, tfliteMap(seeds, s), rng);
  return { id, kind: 'tflite', seedName: s.name, mutations: r.mutations, bytes: r.bytes, plan };
}

/** Image case `index`: mutated bytes, sometimes a small pixel limit, sometimes a classify. */
export function makeImageCase(seeds, seed, index) {
  const rng = caseRng(seed, 'image', index);
  const s = pickWeighted(rng, seeds.images);
  const r = mutateImage(s.bytes, rng);
  return {
    id: `i${index}`,
    kind: 'image',
    seedName: s.name,
    mutations: r.mutations,
    bytes: r.bytes,
    // A header may claim up to 50 MP (the library default), which decodes for seconds: most
    // cases use a 4 MP limit so the run stays fast; 5% keep the default, 10% use tiny limits.
    plan: { maxPixels: rng.weighted([[85, 4e6], [5, undefined], [10, rng.pick([1, 100, 2000])]]), classify: rng.chance(0.25) },
  };
}
