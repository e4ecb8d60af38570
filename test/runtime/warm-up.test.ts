/**
 * The load's kernel warm-up (src/runtime/warm-up.ts): its calls are valid on every build (none
 * traps, so each really runs and tiers up), it leaves its region zeroed, and it needs no more
 * memory than the smallest arena it runs before.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { instantiateKernels } from '../../src/runtime/kernels.js';
import { roughMacs, warmKernels, WARM_UP_BYTES, WARM_UP_MIN_MACS } from '../../src/runtime/warm-up.js';
import { arenaBase } from '../../src/runtime/arena.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { loadModel } from '../../src/node.js';
import { FLAVOURS, wasmPath } from '../helpers/kernels.js';
import type { KernelSet } from '../../src/runtime/kernel-sets.js';

const graphs = {
  uint8: buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'uint8', classes: 4, seed: 1 }),
  float32: buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'float32', classes: 4, seed: 1 }),
};
const setOf = { uint8: 'q8', float32: 'f32' } as const;

describe('kernel warm-up', () => {
  for (const flavour of FLAVOURS) {
    for (const [precision, graph] of Object.entries(graphs) as [keyof typeof graphs, (typeof graphs)['uint8']][]) {
      it(`${precision} on ${flavour}: every call runs and the region is zero afterwards`, async () => {
        const set: KernelSet = setOf[precision];
        const k = await instantiateKernels(readFileSync(wasmPath(flavour, set)), flavour, [set]);
        expect(warmKernels(k, graph.ops, 2 ** 30, 0)).toEqual([]);
        const base = arenaBase(k.exports.heap_base());
        expect(new Uint8Array(k.memory.buffer, base, WARM_UP_BYTES).every((b) => b === 0)).toBe(true);
      });
    }
  }
  it('a per-channel (int8) graph warms the short-shift gemm16 entry without trapping', async () => {
    const graph = buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'int8', classes: 4, seed: 1 });
    const k = await instantiateKernels(readFileSync(wasmPath('simd', 'q8')), 'simd', ['q8']);
    expect(warmKernels(k, graph.ops, 2 ** 30, 0)).toEqual([]);
  });
  it('counts multiply-adds from shapes, and leaves a small model alone (memory not grown)', async () => {
    const big = buildMobileNetV1({ alpha: 1, resolution: 224, precision: 'uint8', classes: 1001, seed: 1 });
    expect(roughMacs(big.ops) / 1e6).toBeCloseTo(568.7, 0);
    expect(roughMacs(graphs.uint8.ops)).toBeLessThan(WARM_UP_MIN_MACS);
    const k = await instantiateKernels(readFileSync(wasmPath('simd', 'q8')), 'simd', ['q8']);
    const bytes = k.memory.buffer.byteLength;
    expect(warmKernels(k, graphs.uint8.ops, 2 ** 30)).toEqual([]);
    expect(k.memory.buffer.byteLength).toBe(bytes);
  });
  it('a memory limit below the warm-up region skips it (the load still runs)', async () => {
    const k = await instantiateKernels(readFileSync(wasmPath('simd', 'q8')), 'simd', ['q8']);
    expect(warmKernels(k, graphs.uint8.ops, 65536, 0)).toEqual(['reserve']);
    const net = await loadModel(graphs.uint8, { kernels: 'simd' });
    expect(net.run(new Uint8Array(32 * 32 * 3))).toHaveLength(4);
  });
});
