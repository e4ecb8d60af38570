/**
 * The detector in a worker thread: MobileNetWorker.detect and runAll give what the model gives
 * in-process (issue 10's API, off the main thread as pages and servers run it).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const models = join(root, '..', 'shared', 'models');
const ssd = join(models, 'ssd_mobilenet_v1_coco_quant.tflite');
const built = existsSync(join(root, 'dist', 'worker', 'node.js'));
const skip = !built ? 'dist/ missing: run npm run build:ts' : !existsSync(ssd) ? '../shared missing: the SSD model is needed' : undefined;
if (skip) console.warn(`[family worker] ${skip}`);

describe.skipIf(!!skip)('SSD in MobileNetWorker', () => {
  it('detect and runAll equal the in-process results', async () => {
    const api = (await import(join(root, 'dist', 'node.js'))) as typeof import('../../src/node.js');
    const { MobileNetWorker } = (await import(join(root, 'dist', 'worker', 'node.js'))) as typeof import('../../src/worker/node.js');
    const labels = readFileSync(join(models, '..', 'labels', 'coco_labelmap.txt'), 'utf8').trimEnd().split('\n');
    const image = await api.decodeImageFile(join(models, '..', 'images', 'samples', 'pets.jpg'));
    const local = await api.loadModel(ssd, { labels });
    const remote = await MobileNetWorker.load(readFileSync(ssd), { labels });
    expect(remote.info.task).toBe('detector');
    const want = local.detect(image, { minScore: 0.3 });
    expect(want.length).toBeGreaterThan(0);
    expect(await remote.detect(image, { minScore: 0.3 })).toEqual(want);
    const input = new Uint8Array(300 * 300 * 3).map((_, i) => (i * 7) & 255);
    expect(await remote.runAll([input])).toEqual(local.runAll([input]));
    await expect(remote.runAll('x' as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    remote.dispose();
    local.dispose();
  });
});
