/**
 * Whole-model checks on the real quantized MobileNets: the raw-dtype reference chained over the
 * graph must reproduce AOSP's golden uint8 outputs bit for bit, and the kernels (every flavour)
 * must reproduce the reference layer by layer (uint8 models and the int8 per-channel VWW model).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FLAVOURS, loadKernels, MODELS_DIR, SHARED_DIR, SHARED_MISSING, rng } from '../../helpers/kernels.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import { readTflite } from '../../../src/formats/tflite.js';
import { sizeOf, type Graph } from '../../../src/model/ir.js';
import { prepareOp as prepareQ8 } from '../../../src/ops/index.js';
import { refQ8 } from '../../reference/q8.js';
import { fromStored, randomActivations, runPrepared, toStored, type QType } from './helpers.js';

const UINT8_MODELS: Array<[string, number]> = [
  ['0.25_128', 128],
  ['0.5_160', 160],
  ['0.75_192', 192],
];

const load = (name: string): Graph => readTflite(new Uint8Array(readFileSync(join(MODELS_DIR!, name))));

function referenceChain(g: Graph, input: Uint8Array | Int8Array): Array<Uint8Array | Int8Array | Float32Array> {
  const outs: Array<Uint8Array | Int8Array | Float32Array> = [];
  let x: Uint8Array | Int8Array | Float32Array = input;
  for (const op of g.ops) {
    x = refQ8(op, x);
    outs.push(x);
  }
  return outs;
}

/** runs each op on the kernels from the reference's input to that op; first mismatching layer or -1 */
function firstKernelMismatch(k: Kernels, g: Graph, input: Uint8Array | Int8Array, refOuts: Array<Uint8Array | Int8Array | Float32Array>): string | null {
  let x: Uint8Array | Int8Array | Float32Array = input;
  for (let i = 0; i < g.ops.length; i++) {
    const op = g.ops[i];
    if (op.op !== 'reshape') {
      const prepared = prepareQ8(op);
      const { out, overrun } = runPrepared(k, prepared, toStored(x, op.input.dtype), sizeOf(op.output.shape));
      if (overrun) return `op ${i} (${op.op}) wrote past its output`;
      const got = fromStored(new Int8Array(out.buffer), op.output.dtype as QType);
      const want = refOuts[i];
      for (let j = 0; j < want.length; j++) {
        if (got[j] !== want[j]) return `op ${i} (${op.op} ${prepared.kernel}) element ${j}: got ${got[j]}, want ${want[j]}`;
      }
    }
    x = refOuts[i];
  }
  return null;
}

describe.skipIf(!MODELS_DIR)('q8 on the real quantized MobileNets', () => {
  const kernels: Partial<Record<string, Kernels>> = {};
  beforeAll(async () => {
    for (const f of FLAVOURS) kernels[f] = await loadKernels(f);
  });

  for (const [model, res] of UINT8_MODELS) {
    it(`${model} uint8: reference matches the AOSP golden outputs, kernels match the reference`, () => {
      const g = load(`mobilenet_v1_${model}_quant.tflite`);
      for (const img of ['banana', 'cup']) {
        const input = new Uint8Array(readFileSync(join(SHARED_DIR!, 'golden', 'quant', `${img}_${res}.input`)));
        const gold = new Uint8Array(readFileSync(join(SHARED_DIR!, 'golden', 'quant', `${img}_${model}.output`)));
        const refOuts = referenceChain(g, input);
        expect(Array.from(refOuts[refOuts.length - 1])).toEqual(Array.from(gold));
        // kernels: one image per model is enough for every flavour
        if (img === 'banana') {
          for (const f of FLAVOURS) expect(firstKernelMismatch(kernels[f]!, g, input, refOuts), f).toBeNull();
        }
      }
    });
  }

  it.skipIf(!MODELS_DIR || !existsSync(join(MODELS_DIR ?? '', 'vww_96_int8.tflite')))('vww_96 int8 per-channel: kernels match the reference layer by layer', () => {
    const g = load('vww_96_int8.tflite');
    const first = g.ops[0];
    const r = rng(9);
    const input = first.input.dtype === 'float32' ? null : randomActivations(r, sizeOf(first.input.shape), first.input.dtype as QType);
    expect(input).not.toBeNull();
    const refOuts = referenceChain(g, input!);
    for (const f of FLAVOURS) expect(firstKernelMismatch(kernels[f]!, g, input!, refOuts), f).toBeNull();
  });
});

it.skipIf(!!MODELS_DIR)('q8 golden model tests', () => console.warn(SHARED_MISSING));
