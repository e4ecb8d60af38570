/**
 * Issue 11 item 4, memory: for every shared model, the packed constants are at most 1.15x the
 * file's constant bytes (every constant tensor the ops read: filters, biases, constant operands),
 * and the loaded model's wasm memory is at most the packed constants + 2x the largest activation
 * + 1 MiB.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/node.js';
import { readTflite } from '../../src/formats/tflite.js';
import { opInputs, type Graph } from '../../src/model/ir.js';
import { MODELS_DIR, SHARED_MISSING } from '../helpers/kernels.js';

const MAX_PACKED_OVER_FILE = 1.15;
const MiB = 2 ** 20;

/** bytes of the file's constants the ops read, each tensor once */
function fileConstantBytes(graph: Graph): number {
  const seen = new Set<ArrayBufferView>();
  const add = (v: ArrayBufferView | undefined) => v && seen.add(v);
  for (const op of graph.ops) {
    if ('filter' in op) add(op.filter.data);
    if ('bias' in op) add(op.bias);
    for (const t of opInputs(op)) add(t.constant);
  }
  let bytes = 0;
  for (const v of seen) bytes += v.byteLength;
  return bytes;
}

const models = MODELS_DIR ? readdirSync(MODELS_DIR).filter((f) => f.endsWith('.tflite')).sort() : [];

describe('memory of every shared model', () => {
  it.skipIf(!!MODELS_DIR)(SHARED_MISSING, () => {});

  it.skipIf(!MODELS_DIR)('finds the shared models', () => {
    expect(models.length).toBeGreaterThan(0);
  });

  for (const file of models) {
    it(`${file}: packed constants <= ${MAX_PACKED_OVER_FILE}x the file's, wasm memory <= constants + 2 x largest activation + 1 MiB`, async () => {
      const bytes = readFileSync(join(MODELS_DIR!, file));
      const fileBytes = fileConstantBytes(readTflite(new Uint8Array(bytes)));
      expect(fileBytes).toBeGreaterThan(0);
      const net = await loadModel(new Uint8Array(bytes), { kernels: 'simd' });
      try {
        const { weightBytes, maxActivationBytes, memoryBytes } = net.info;
        expect(weightBytes / fileBytes, `${file}: packed ${weightBytes} bytes, file constants ${fileBytes}`).toBeLessThanOrEqual(MAX_PACKED_OVER_FILE);
        expect(memoryBytes, `${file}: wasm memory`).toBeLessThanOrEqual(weightBytes + 2 * maxActivationBytes + MiB);
      } finally {
        net.dispose();
      }
    });
  }
});
