/**
 * Every core of a server (issue 9): MobileNetPool and `classify --jobs N`. Results must be the
 * same, byte for byte, as one thread's, in input order, with a bad image reported alone.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { loadModel, decodeImageFile, minDecodedSizeFor } from '../../src/node.js';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from '../helpers/kernels.js';

const BIN = join(__dirname, '..', '..', 'bin', 'mobilenet-wasm.js');
// the pool starts its threads from the compiled script next to it, so it is tested from dist/
// (npm run build:ts), as the CLI and the package use it
const { MobileNetPool } = await import(join(__dirname, '..', '..', 'dist', 'worker', 'pool.js'));
const isTyped = (e: unknown, code: string) => (e as Error)?.name === 'MobileNetError' && (e as { code: string }).code === code;

describe.skipIf(!MODELS_DIR)('MobileNetPool and classify --jobs', () => {
  if (!MODELS_DIR) console.warn(SHARED_MISSING);
  let photos: string[];
  let bad: string;
  beforeAll(() => {
    const dir = join(SHARED_DIR!, 'images', 'photos');
    photos = readdirSync(dir).filter((f) => f.endsWith('.jpeg')).sort().slice(0, 12).map((f) => join(dir, f));
    bad = join(SHARED_DIR!, 'PROVENANCE.md');
  });

  it('two threads give the in-process results in input order, and a bad image is its own error', async () => {
    const model = join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite');
    const net = await loadModel(model);
    const want = [];
    // the pool decodes a large JPEG at reduced scale by default, as the CLI does
    for (const p of photos) want.push(net.classify(await decodeImageFile(p, { name: p, minDecodedSize: minDecodedSizeFor(net.info.resolution) }), { topK: 3 }));
    net.dispose();
    const pool = await MobileNetPool.load(model, { jobs: 2 });
    expect(pool.jobs).toBe(2);
    const seen: number[] = [];
    const inputs = [...photos.slice(0, 6), bad, ...photos.slice(6)];
    const results: { image: string; top?: unknown; error?: unknown }[] = await pool.classifyFiles(inputs, { topK: 3, onProgress: (done) => seen.push(done) });
    await pool.dispose();
    expect(results.map((r) => r.image)).toEqual(inputs);
    expect(seen).toEqual(inputs.map((_, i) => i + 1));
    const errors = results.filter((r) => r.error);
    expect(errors).toHaveLength(1);
    expect(errors[0].image).toBe(bad);
    expect(isTyped(errors[0].error, 'INVALID_IMAGE')).toBe(true);
    expect(results.filter((r) => !r.error).map((r) => r.top)).toEqual(JSON.parse(JSON.stringify(want)));
  });

  it('outstanding calls after dispose are rejected as DISPOSED; bad options are typed', async () => {
    const pool = await MobileNetPool.load(join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'), { jobs: 1 });
    const pending = expect(pool.classify(photos[0])).rejects.toMatchObject({ code: 'DISPOSED' });
    await pool.dispose();
    await pending;
    await expect(pool.classify(photos[0])).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(MobileNetPool.load(join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'), { jobs: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(MobileNetPool.load(join(SHARED_DIR!, 'PROVENANCE.md'), { jobs: 2 })).rejects.toMatchObject({ name: 'MobileNetError' });
  });

  it('classify --jobs 2 prints what --jobs 1 prints, in input order, and still reports the bad image', () => {
    const env = { ...process.env, MOBILENET_WASM_MODELS: MODELS_DIR! };
    const args = ['classify', '--json', '--model', join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'), ...photos.slice(0, 4), bad, ...photos.slice(4, 8)];
    const one = spawnSync('node', [BIN, ...args, '--jobs', '1'], { env, encoding: 'utf8' });
    const two = spawnSync('node', [BIN, ...args, '--jobs', '2'], { env, encoding: 'utf8' });
    expect(one.status).toBe(1);
    expect(two.status).toBe(1);
    expect(two.stdout).toBe(one.stdout);
    expect(two.stdout.trim().split('\n')).toHaveLength(8);
    expect(two.stderr).toMatch(/PROVENANCE\.md.*INVALID_IMAGE|INVALID_IMAGE.*PROVENANCE\.md/);
    expect(two.stderr).toMatch(/1 of 9 images could not be classified/);
    const bad0 = spawnSync('node', [BIN, 'classify', '--jobs', '0', photos[0]], { env, encoding: 'utf8' });
    expect(bad0.status).toBe(2);
    expect(bad0.stderr).toMatch(/--jobs must be an integer from 1 to 256/);
  });
});
