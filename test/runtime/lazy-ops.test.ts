/**
 * Ops beyond MobileNet v1's are dynamic imports (src/ops/index.ts), so a v1 page's bundle leaves
 * them out. Planning a graph with one before it is imported is an internal error; MobileNet.load
 * imports what the model has, so v2 (ADD) and SSD (concatenation, post-processing) load and run.
 */
import { describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR, SHARED_MISSING } from '../helpers/kernels.js';

describe.skipIf(!MODELS_DIR)('lazily imported ops', () => {
  it('planning v2 needs its ADD imported first; loadOpPreparers(graph.ops) imports it', async () => {
    vi.resetModules();
    const { planGraph } = await import('../../src/runtime/plan.js');
    const { loadOpPreparers } = await import('../../src/ops/index.js');
    const { readTflite } = await import('../../src/formats/tflite.js');
    const graph = readTflite(new Uint8Array(readFileSync(join(MODELS_DIR!, 'mobilenet_v2_1.0_224_quant.tflite'))));
    expect(() => planGraph(graph)).toThrow(/the prepare of 'add' is not imported/);
    await loadOpPreparers(graph.ops);
    expect(planGraph(graph).steps.some((s) => s.op.op === 'add')).toBe(true);
  });

  it('MobileNet.load imports them itself: SSD runs in a fresh module graph', async () => {
    vi.resetModules();
    const { loadModel } = await import('../../src/node.js');
    const net = await loadModel(join(MODELS_DIR!, 'ssd_mobilenet_v1_coco_quant.tflite'), { kernels: 'simd' });
    const outputs = net.runAll([new Uint8Array(300 * 300 * 3).fill(90)]);
    expect(outputs).toHaveLength(4);
    net.dispose();
  });

  it('hand-built graphs with odd ops are left for validation to name', async () => {
    const { loadOpPreparers } = await import('../../src/ops/index.js');
    await expect(loadOpPreparers([{ op: 'toString' } as never, null as never, { op: 42 } as never])).resolves.toBeUndefined();
    await expect(loadOpPreparers({} as never)).resolves.toBeUndefined();
  });
});

describe.skipIf(!!MODELS_DIR)('lazily imported ops', () => {
  it.skip(SHARED_MISSING, () => {});
});
