/**
 * `classify --input-range LO,HI` (issue 10): a float model trained on [0,1] pixels gets [0,1]
 * inputs from the CLI too, in one thread and in the pool, as the API's inputRange option does.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadModel, decodeImageFile, minDecodedSizeFor } from '../../src/node.js';
import { MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';

const BIN = join(__dirname, '..', '..', 'bin', 'mobilenet-wasm.js');

describe.skipIf(!MODELS_DIR)('classify --input-range', () => {
  it('gives the API\'s [0,1] scores, differs from the default [-1,1], and refuses bad ranges', async () => {
    const model = join(MODELS_DIR!, 'vww_96_float.tflite');
    const photo = join(SHARED_DIR!, 'images', 'samples', 'grace_hopper.bmp');
    const net = await loadModel(model, { kernels: 'simd' }); // the same build as the CLI below (float results differ in the last bits between builds)
    const image = await decodeImageFile(photo, { minDecodedSize: minDecodedSizeFor(net.info.resolution) });
    const want = net.classify(image, { topK: 2, inputRange: [0, 1] }).map((r) => r.score);
    const dflt = net.classify(image, { topK: 2 }).map((r) => r.score);
    net.dispose();
    expect(want).not.toEqual(dflt);
    const run = (...extra: string[]) => spawnSync('node', [BIN, 'classify', '--json', '--top', '2', '--model', model, ...extra, photo, photo], { encoding: 'utf8' });
    for (const jobs of ['1', '2']) {
      const r = run('--input-range', '0,1', '--jobs', jobs);
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      for (const line of lines) expect(line.top.map((t: { score: number }) => t.score)).toEqual(want);
    }
    for (const bad of ['1,0', '0', 'a,b', '0,1,2']) {
      const r = run('--input-range', bad);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--input-range must be LOW,HIGH/);
    }
  });
});
