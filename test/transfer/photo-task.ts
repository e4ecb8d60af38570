/**
 * The transfer-learning task of issue 12: ../shared/images/photos (AOSP's labelled Open Images
 * photos, one ImageNet label each) grouped into 7 coarse classes by ImageNet index ranges, split
 * in halves deterministically (alternate photos of each class, in file order), embedded with a
 * MobileNet. Used by test/transfer/photo-task.test.ts and bench/transfer-task.ts (the README's
 * figures). Embeddings are cached in tmp/transfer-embeddings/, keyed by the model's and each
 * photo's SHA-256, so reruns skip the ~30 ms per photo.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGENET_1001_SHORT } from '../../src/labels/imagenet.js';
import { parseLabels } from '../../src/labels.js';
import { decodeImageFile, minDecodedSizeFor, type MobileNet } from '../../src/node.js';

/**
 * Coarse class -> inclusive ranges of indices in the 1001-entry ImageNet list (0 = background),
 * with the first and last names of each range so the grouping reads without the list.
 */
export const COARSE_CLASSES: Record<string, { ranges: [number, number][]; names: string }> = {
  dog: { ranges: [[152, 269]], names: 'chihuahua .. mexican hairless' },
  bird: { ranges: [[8, 25], [81, 101], [128, 147]], names: 'cock .. great grey owl; black grouse .. black swan; white stork .. albatross' },
  food: { ranges: [[925, 970]], names: 'guacamole .. eggnog (dishes, fruit, vegetables, drinks)' },
  insect: { ranges: [[301, 327]], names: 'tiger beetle .. lycaenid (beetles, bees, ants, grasshoppers, butterflies...)' },
  primate: { ranges: [[366, 385]], names: 'orangutan .. indri' },
  'reptile or amphibian': { ranges: [[26, 69]], names: 'european fire salamander .. sidewinder' },
  cat: { ranges: [[282, 294]], names: 'tabby .. cheetah (domestic and wild cats)' },
};

export interface TaskPhoto {
  file: string;
  label: string;
  coarse: string;
}

/** the photos of the coarse classes, and the deterministic split (even rank within its class: train) */
export function photoTask(photosDir: string): { train: TaskPhoto[]; test: TaskPhoto[]; counts: Record<string, { train: number; test: number }> } {
  const labels = parseLabels(readFileSync(join(photosDir, 'ground_truth_labels.txt'), 'utf8'));
  const index = new Map(IMAGENET_1001_SHORT.map((name, i) => [name, i]));
  const seen = new Map<string, number>();
  const train: TaskPhoto[] = [];
  const test: TaskPhoto[] = [];
  const counts: Record<string, { train: number; test: number }> = {};
  for (const coarse of Object.keys(COARSE_CLASSES)) counts[coarse] = { train: 0, test: 0 };
  labels.forEach((label, i) => {
    const at = index.get(label);
    if (at === undefined) throw new Error(`${label} (image-${i}.jpeg) is not an ImageNet label`);
    const coarse = Object.keys(COARSE_CLASSES).find((c) => COARSE_CLASSES[c].ranges.some(([a, b]) => at >= a && at <= b));
    if (!coarse) return;
    const rank = seen.get(coarse) ?? 0;
    seen.set(coarse, rank + 1);
    const photo = { file: join(photosDir, `image-${i}.jpeg`), label, coarse };
    (rank % 2 === 0 ? train : test).push(photo);
    counts[coarse][rank % 2 === 0 ? 'train' : 'test']++;
  });
  return { train, test, counts };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Embeddings of `photos` with `net` (loaded from `modelBytes`), from the cache where present.
 * Returns them with the time spent decoding and embedding (the model alone) the photos that
 * were not cached.
 */
export async function embedPhotos(net: MobileNet, modelBytes: Uint8Array, photos: readonly TaskPhoto[], cacheDir: string | undefined): Promise<{ embeddings: Float32Array[]; decodeMs: number; embedMs: number; embedded: number }> {
  const file = cacheDir && join(cacheDir, `${sha256(modelBytes).slice(0, 20)}.json`);
  const cache: Record<string, string> = file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const decode = { minDecodedSize: minDecodedSizeFor(net.info.resolution) };
  const embeddings: Float32Array[] = [];
  let decodeMs = 0;
  let embedMs = 0;
  let embedded = 0;
  for (const p of photos) {
    const bytes = readFileSync(p.file);
    const key = sha256(bytes);
    const hit = cache[key];
    if (hit) {
      const raw = Buffer.from(hit, 'base64');
      embeddings.push(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
      continue;
    }
    const t0 = performance.now();
    const image = await decodeImageFile(p.file, decode);
    const t1 = performance.now();
    const e = net.embed(image);
    decodeMs += t1 - t0;
    embedMs += performance.now() - t1;
    embedded++;
    cache[key] = Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('base64');
    embeddings.push(e);
  }
  if (file && embedded) {
    mkdirSync(cacheDir!, { recursive: true });
    writeFileSync(file, JSON.stringify(cache));
  }
  return { embeddings, decodeMs, embedMs, embedded };
}
