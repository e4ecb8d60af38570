/**
 * The packed-model cache (src/runtime/pack-cache.ts): a load from an entry gives the same bytes as
 * a fresh load on every shared model it applies to; damaged, truncated, mismatched and forged
 * entries are ignored (the load packs and replaces them); the Node folder store round-trips.
 */
import { beforeAll, describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, MobileNet, type Tensor } from '../../src/node.js';
import { LIBRARY_VERSION, PACK_FORMAT, type PackCacheStore } from '../../src/runtime/pack-cache.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { writeTflite } from '../../src/formats/tflite-writer.js';
import { rng } from '../helpers/kernels.js';

const MODELS = '../shared/models';
const have = existsSync(MODELS);
const files = have ? readdirSync(MODELS).filter((f) => f.endsWith('.tflite')) : [];

/** a store in a Map that counts its calls */
function memoryStore() {
  const entries = new Map<string, Uint8Array>();
  const log = { gets: 0, puts: 0 };
  const store: PackCacheStore = {
    get: (key) => (log.gets++, entries.get(key)),
    put: (key, bytes) => void (log.puts++, entries.set(key, bytes)),
  };
  return { store, entries, log };
}

function inputFor(net: MobileNet): Tensor[] {
  const r = rng(5);
  return net.info.inputs.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.dtype === 'float32') return Float32Array.from({ length: n }, () => r() * 2 - 1);
    const bytes = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
    return t.dtype === 'int8' ? new Int8Array(bytes.buffer) : bytes;
  });
}

const outputs = (net: MobileNet) => net.runAll(inputFor(net)).map((t) => Array.from(t));

/** rewrites an entry's sha256 after a change, as a forger would */
function resealed(entry: Uint8Array, change: (body: Uint8Array) => Uint8Array): Uint8Array {
  const body = change(entry.slice(0, entry.length - 32));
  const out = new Uint8Array(body.length + 32);
  out.set(body);
  out.set(createHash('sha256').update(body).digest(), body.length);
  return out;
}

const jsonOf = (entry: Uint8Array) => {
  const n = new DataView(entry.buffer, entry.byteOffset).getUint32(8, true);
  return { at: 16, n, text: new TextDecoder().decode(entry.subarray(16, 16 + n)) };
};

/** the entry with its JSON rewritten (same length or not), resealed */
function withJson(entry: Uint8Array, edit: (json: Record<string, unknown>) => void): Uint8Array {
  const { n, text } = jsonOf(entry);
  const json = JSON.parse(text);
  edit(json);
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  const constLength = new DataView(entry.buffer, entry.byteOffset).getUint32(12, true);
  const oldConstAt = (16 + n + 15) & ~15;
  const constAt = (16 + bytes.length + 15) & ~15;
  return resealed(entry, () => {
    const body = new Uint8Array(constAt + constLength);
    body.set(entry.subarray(0, 16));
    new DataView(body.buffer).setUint32(8, bytes.length, true);
    body.set(bytes, 16);
    body.set(entry.subarray(oldConstAt, oldConstAt + constLength), constAt);
    return body;
  });
}

describe.skipIf(!have)('packed-model cache on the shared models', () => {
  for (const file of files) {
    it(`${file}: a load from the entry gives the fresh load's bytes`, async () => {
      const bytes = new Uint8Array(readFileSync(join(MODELS, file)));
      const fresh = await loadModel(bytes, { kernels: 'simd' });
      const want = outputs(fresh);
      const { store, entries, log } = memoryStore();
      const first = await loadModel(bytes, { kernels: 'simd', packCache: store });
      expect(outputs(first)).toEqual(want);
      if (entries.size === 0) {
        // a model with a step that is not only kernel calls (ADD's JS path, detection post-processing) is not cached
        expect(fresh.profile(inputFor(fresh)[0], 1).some((l) => /add|mul|detection|concatenation|dequantize|quantize|lut|repeat_channels/.test(l.kernel))).toBe(true);
        return;
      }
      const second = await loadModel(bytes, { kernels: 'simd', packCache: store });
      expect(log.puts).toBe(1);
      expect(outputs(second)).toEqual(want);
      expect(second.info).toEqual(fresh.info);
      expect(second.profile(inputFor(second)[0], 1).map((l) => [l.op, l.kernel, l.macs])).toEqual(fresh.profile(inputFor(fresh)[0], 1).map((l) => [l.op, l.kernel, l.macs]));
      for (const net of [fresh, first, second]) net.dispose();
    });
  }
});

describe.skipIf(!have)('packed-model cache: untrusted entries', () => {
  const file = join(MODELS, 'mobilenet_v1_0.25_128_quant.tflite');
  const other = join(MODELS, 'mobilenet_v1_0.5_160_quant.tflite');

  async function entryFor(path: string) {
    const { store, entries } = memoryStore();
    (await loadModel(new Uint8Array(readFileSync(path)), { kernels: 'simd', packCache: store })).dispose();
    expect(entries.size).toBe(1);
    return [...entries][0];
  }

  const bytes = have ? new Uint8Array(readFileSync(file)) : new Uint8Array(0);
  let key: string, entry: Uint8Array, otherEntry: Uint8Array, want: number[][];
  beforeAll(async () => {
    if (!have) return;
    [key, entry] = await entryFor(file);
    [, otherEntry] = await entryFor(other);
    want = outputs(await loadModel(bytes, { kernels: 'simd' }));
  });

  it('uses what the entry holds (a resealed entry with zeroed constants changes the outputs)', async () => {
    const { n } = jsonOf(entry);
    const forged = resealed(entry, (body) => body.fill(0, (16 + n + 15) & ~15));
    const got = outputs(await loadModel(bytes, { kernels: 'simd', packCache: { get: () => forged, put: () => {} } }));
    expect(key).toMatch(/^[0-9a-f]{64}-mobilenet-q8-simd-simd-/);
    expect(got).not.toEqual(want);
  });

  const cases: [string, (entry: Uint8Array, otherEntry: Uint8Array) => unknown][] = [
    ['a flipped constant byte (digest mismatch)', (e) => { const c = e.slice(); c[c.length - 100] ^= 1; return c; }],
    ['a flipped digest byte', (e) => { const c = e.slice(); c[c.length - 1] ^= 1; return c; }],
    ['truncated', (e) => e.subarray(0, e.length - 1)],
    ['truncated to the header', (e) => e.subarray(0, 16)],
    ['empty', () => new Uint8Array(0)],
    ['another model\'s entry', (_, o) => o],
    ['not bytes', () => 'hello'],
    ['a huge length field', (e) => resealed(e, (b) => (new DataView(b.buffer).setUint32(12, 0xffffffff, true), b))],
    ['another format version', (e) => resealed(e, (b) => (new DataView(b.buffer).setUint32(4, 99, true), b))],
    ['JSON that does not parse', (e) => resealed(e, (b) => (b[16] = 0x7b + 1, b))],
    ['a call to a kernel that does not exist', (e) => withJson(e, (j) => { ((j.steps as { calls: unknown[][] }[]).find((s) => s.calls.length)!.calls[0][0] = 'eval'); })],
    ['a call with an argument missing', (e) => withJson(e, (j) => { (j.steps as { calls: unknown[][] }[]).find((s) => s.calls.length)!.calls[0].pop(); })],
    ['a fractional pointer', (e) => withJson(e, (j) => { (j.steps as { calls: unknown[][] }[]).find((s) => s.calls.length)!.calls[0][1] = 0.5; })],
    ['a step that skips an op', (e) => withJson(e, (j) => { (j.steps as { ops: number[] }[])[1].ops = [5]; })],
    ['an arena whose regions overlap', (e) => withJson(e, (j) => { (j.arena as { scratch: number }).scratch = 0; })],
    ['an entry made for a build with other static data (heap base)', (e) => withJson(e, (j) => { j.heapBase = (j.heapBase as number) + 16; })],
    ['a kernel that is not call-only', (e) => withJson(e, (j) => { (j.steps as { kernel: string; calls: unknown[] }[]).find((s) => s.calls.length)!.kernel = 'js_detection_postprocess'; })],
  ];
  for (const [what, make] of cases) {
    it(`ignores ${what}: packs, gives the fresh bytes, stores a new entry`, async () => {
      const puts: Uint8Array[] = [];
      const bad = make(entry, otherEntry);
      const net = await loadModel(bytes, { kernels: 'simd', packCache: { get: () => bad as Uint8Array, put: (k, b) => void (expect(k).toBe(key), puts.push(b)) } });
      expect(outputs(net)).toEqual(want);
      expect(puts).toHaveLength(1);
      expect(Buffer.from(puts[0]).equals(entry)).toBe(true); // the same entry again (toEqual on 100s of KB is slow)
    });
  }

  it('a store that throws or returns a promise that rejects is no cache', async () => {
    const throwing = { get: () => { throw new Error('disk gone'); }, put: () => { throw new Error('disk gone'); } };
    expect(outputs(await loadModel(bytes, { kernels: 'simd', packCache: throwing }))).toEqual(want);
    const rejecting = { get: () => Promise.reject(new Error('quota')), put: () => Promise.reject(new Error('quota')) };
    expect(outputs(await loadModel(bytes, { kernels: 'simd', packCache: rejecting }))).toEqual(want);
    // a store's own hash that throws or gives something else than 32 bytes: nothing read or written
    for (const sha256 of [() => { throw new Error('no'); }, () => new Uint8Array(3)]) {
      const log = { gets: 0, puts: 0 };
      const odd = { get: () => void log.gets++, put: () => void log.puts++, sha256 };
      expect(outputs(await loadModel(bytes, { kernels: 'simd', packCache: odd }))).toEqual(want);
      expect(log).toEqual({ gets: 0, puts: 0 });
    }
  });

  it('entries are per kernel build: the scalar load does not take the simd entry', async () => {
    const { store, entries } = memoryStore();
    const simd = outputs(await loadModel(bytes, { kernels: 'simd', packCache: store }));
    const scalar = outputs(await loadModel(bytes, { kernels: 'scalar', packCache: store }));
    expect(entries.size).toBe(2);
    expect(scalar).toEqual(simd);
    expect(outputs(await loadModel(bytes, { kernels: 'scalar', packCache: store }))).toEqual(simd);
  });
});

describe('packCache option', () => {
  it('refuses what is not a store, true or a folder', async () => {
    for (const bad of [5, null, {}, { get: () => undefined }]) {
      await expect(loadModel(new Uint8Array(8), { packCache: bad as never })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('packCache') });
    }
  });
  it('a folder needs the Node entry', async () => {
    const bytes = have ? new Uint8Array(readFileSync(join(MODELS, 'mobilenet_v1_0.25_128_quant.tflite'))) : new Uint8Array(8);
    await expect(MobileNet.load(bytes, { packCache: '/tmp/x', wasm: { simd: readFileSync('build/mobilenet-q8-simd.wasm') } })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
  it('LIBRARY_VERSION is package.json\'s version (entries of another version are never read)', () => {
    expect(LIBRARY_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
  it.skipIf(!have)('a folder: the entry is a file there, the next load reads it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnw-pack-'));
    try {
      const path = join(MODELS, 'mobilenet_v1_0.25_128_quant.tflite');
      const first = await loadModel(path, { packCache: join(dir, 'packed') });
      const names = readdirSync(join(dir, 'packed'));
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(/\.mnwpack$/);
      const second = await loadModel(path, { packCache: join(dir, 'packed') });
      expect(outputs(second)).toEqual(outputs(first));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * What the packers and the kernels' scratch needs were when PACK_FORMAT last changed. An entry
 * replays recorded scratch sizes and packed bytes, so if packing or a kernel's scratch changes
 * while PACK_FORMAT does not, an old entry would be trusted with the wrong layout. This pins the
 * entries of three random-weight models (no ../shared needed): when it fails, bump PACK_FORMAT in
 * src/runtime/pack-cache.ts and set the new digests here.
 */
describe('packed-model cache: the entry format is pinned to PACK_FORMAT', () => {
  const PINNED: Record<number, Record<string, string>> = {
    2: { float32: 'a4f334e5ff7063f6', uint8: '4f37d4cde2619c2a', int8: 'ad34fed475a3df6d' },
  };
  it(`entries of random 0.25/128 models match the digests pinned for PACK_FORMAT ${PACK_FORMAT}`, async () => {
    const got: Record<string, string> = {};
    for (const precision of ['float32', 'uint8', 'int8'] as const) {
      const model = writeTflite(buildMobileNetV1({ alpha: 0.25, resolution: 128, precision, seed: 3 }));
      const { store, entries } = memoryStore();
      (await loadModel(model, { kernels: 'simd', packCache: store })).dispose();
      expect(entries.size).toBe(1);
      const [, entry] = [...entries][0];
      got[precision] = createHash('sha256').update(entry).digest('hex').slice(0, 16);
    }
    expect(got, 'packing or scratch changed: bump PACK_FORMAT and pin the new digests').toEqual(PINNED[PACK_FORMAT]);
  });
});
