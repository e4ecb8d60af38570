/**
 * The fuzzer's own checks (the fuzzer itself runs with `npm run fuzz`, not under vitest):
 * cases are a pure function of (seed, index), mutation leaves the seeds alone, and mutated
 * files either parse or are refused with a typed MobileNetError by the readers.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lib from '../../src/index.js';
import { MobileNetError, readTflite, readImageHeader } from '../../src/index.js';
// @ts-expect-error plain .mjs without types
import { loadSeeds, makeModelCase, makeImageCase, writeImageSeeds } from './cases.mjs';
// @ts-expect-error plain .mjs without types
import { mapTflite, mutateTflite } from './tflite-mutator.mjs';
// @ts-expect-error plain .mjs without types
import { Rng } from './rng.mjs';

const MODELS = process.env.MOBILENET_WASM_MODELS ?? join(__dirname, '..', '..', '..', 'shared', 'models');
const SAMPLES = join(MODELS, '..', 'images', 'samples');
const haveShared = existsSync(MODELS);
if (!haveShared) console.warn(`fuzz mutator tests: ${MODELS} not found: only the synthetic seeds are used`);

const digest = (b: Uint8Array) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return `${b.length}:${h}`;
};

type Case = { bytes?: Uint8Array; tfjs?: { json: string }; mutations: string[]; kind: string; seedName: string };
const summary = (c: Case) => JSON.stringify([c.kind, c.seedName, c.mutations, c.bytes ? digest(c.bytes) : c.tfjs!.json.length]);

/** readTflite must return a graph or throw a MobileNetError, never anything else */
function parsedOrTyped(bytes: Uint8Array): string {
  try {
    readTflite(bytes);
    return 'parsed';
  } catch (e) {
    if (e instanceof MobileNetError) return e.code;
    throw e;
  }
}

describe('fuzz mutators', () => {
  const seeds = loadSeeds({ modelsDir: MODELS, imageSeedDir: undefined, lib });

  it('the same seed gives the same model cases; another seed gives others', () => {
    const again = loadSeeds({ modelsDir: MODELS, imageSeedDir: undefined, lib });
    const a = Array.from({ length: 40 }, (_, i) => summary(makeModelCase(seeds, 'test', i)));
    const b = Array.from({ length: 40 }, (_, i) => summary(makeModelCase(again, 'test', i)));
    const c = Array.from({ length: 40 }, (_, i) => summary(makeModelCase(seeds, 'other', i)));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // a case regenerated alone (as the parent does to save a repro) is the same case
    expect(summary(makeModelCase(again, 'test', 17))).toBe(a[17]);
  });

  it('mutation never modifies the seed', () => {
    const s = seeds.models.find((m: { name: string }) => m.name === 'tiny_int8_conv');
    const before = digest(s.bytes);
    const map = mapTflite(s.bytes);
    const rng = new Rng('seed-untouched');
    for (let i = 0; i < 50; i++) mutateTflite(s.bytes, map, rng);
    expect(digest(s.bytes)).toBe(before);
  });

  it('mutated .tflite files parse or give a typed MobileNetError', () => {
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      const c = makeModelCase(seeds, 'typed', i);
      if (c.kind !== 'tflite') continue;
      const o = parsedOrTyped(c.bytes);
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
    }
    // the mutators reach both sides: some files still parse, most are refused
    expect(outcomes.get('INVALID_MODEL') ?? 0).toBeGreaterThan(10);
    expect(outcomes.get('parsed') ?? 0).toBeGreaterThan(0);
  });

  it.skipIf(!existsSync(SAMPLES))('image cases are deterministic; their headers read or give INVALID_IMAGE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-seeds-'));
    try {
      await writeImageSeeds(SAMPLES, dir);
      const withImages = loadSeeds({ modelsDir: MODELS, imageSeedDir: dir, lib });
      const formats = new Set<string>();
      for (let i = 0; i < 100; i++) {
        const c = makeImageCase(withImages, 'img', i);
        expect(summary(makeImageCase(withImages, 'img', i))).toBe(summary(c));
        try {
          formats.add(readImageHeader(c.bytes).format);
        } catch (e) {
          expect(e).toBeInstanceOf(MobileNetError);
          expect((e as MobileNetError).code).toBe('INVALID_IMAGE');
        }
      }
      expect([...formats].sort()).toEqual(['bmp', 'gif', 'jpeg', 'png']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
