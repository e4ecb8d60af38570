/**
 * A classifier body without its head (the graph cut at the global average pool, as Coral's
 * embedding extractors are) is refused by classify, which would otherwise rank feature channels
 * as classes, and served by embed (issue 10).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTflite } from '../../src/formats/tflite.js';
import { writeTflite } from '../../src/index.js';
import { loadModel, decodeImageFile } from '../../src/node.js';
import { MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';

describe.skipIf(!MODELS_DIR)('a body-only model', () => {
  it('classify refuses it (UNSUPPORTED_MODEL naming embed), embed gives the full model\'s features', async () => {
    const file = join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite');
    const graph = readTflite(new Uint8Array(readFileSync(file)));
    const pool = graph.ops.findIndex((o) => o.op === 'average_pool2d');
    expect(pool).toBeGreaterThan(0);
    const body = { ...graph, ops: graph.ops.slice(0, pool + 1), output: graph.ops[pool].output };
    const bodyNet = await loadModel(writeTflite(body));
    expect(bodyNet.info.output.shape).toEqual([1, 1, 1, 256]);
    const image = await decodeImageFile(join(SHARED_DIR!, 'images', 'samples', 'grace_hopper.bmp'));
    expect(() => bodyNet.classify(image)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/global average pool.*embed\(\)/) }));
    const full = await loadModel(file);
    expect(Array.from(bodyNet.embed(image))).toEqual(Array.from(full.embed(image)));
    expect(full.classify(image, { topK: 1 })[0].label).toBeDefined();
    bodyNet.dispose();
    full.dispose();
  });
});
