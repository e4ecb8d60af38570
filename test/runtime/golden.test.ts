/**
 * End to end against the AOSP golden tensors: the uint8 models byte for byte, the float
 * model within 1e-5, on every kernel build; and integer outputs identical across builds on
 * every shared integer model.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/node.js';
import type { Tensor } from '../../src/mobilenet.js';
import { FLAVOURS, MODELS_DIR, SHARED_DIR, SHARED_MISSING, rng } from '../helpers/kernels.js';

const golden = (...p: string[]) => readFileSync(join(SHARED_DIR!, 'golden', ...p));

const QUANT = [
  { alpha: '0.25', res: 128 },
  { alpha: '0.5', res: 160 },
  { alpha: '0.75', res: 192 },
];

describe.skipIf(!MODELS_DIR)('AOSP golden outputs', () => {
  for (const flavour of FLAVOURS) {
    for (const { alpha, res } of QUANT) {
      it(`uint8 ${alpha}/${res} reproduces banana and cup byte for byte (${flavour})`, async () => {
        const net = await loadModel(join(MODELS_DIR!, `mobilenet_v1_${alpha}_${res}_quant.tflite`), { kernels: flavour });
        for (const img of ['banana', 'cup']) {
          const input = new Uint8Array(golden('quant', `${img}_${res}.input`));
          const want = new Uint8Array(golden('quant', `${img}_${alpha}_${res}.output`));
          const got = net.run(input);
          expect(got).toBeInstanceOf(Uint8Array);
          const diffs = [...got].map((v, i) => v - want[i]).filter((d) => d !== 0);
          expect(diffs, `${diffs.length} of ${want.length} outputs differ`).toEqual([]);
        }
        net.dispose();
      });
    }

    it(`float32 0.25/128 matches banana and cup within 1e-5 (${flavour})`, async () => {
      const net = await loadModel(join(MODELS_DIR!, 'mobilenet_v1_0.25_128.tflite'), { kernels: flavour });
      for (const img of ['banana', 'cup']) {
        const b = golden('float', `${img}_128.input`);
        const input = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
        const w = golden('float', `${img}_0.25_128.output`);
        const want = new Float32Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength));
        const got = net.run(input) as Float32Array;
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        expect(worst).toBeLessThanOrEqual(1e-5);
      }
      net.dispose();
    });
  }
});

describe.skipIf(!MODELS_DIR)('integer outputs are identical on every kernel build', () => {
  const models = [
    'mobilenet_v1_0.25_128_quant.tflite',
    'mobilenet_v1_0.5_160_quant.tflite',
    'mobilenet_v1_0.75_192_quant.tflite',
    'mobilenet_v1_1.0_224_quant.tflite',
    'vww_96_int8.tflite',
  ];
  for (const file of models) {
    it(file, async () => {
      const outs: Tensor[] = [];
      let input: Tensor | undefined;
      for (const flavour of FLAVOURS) {
        const net = await loadModel(join(MODELS_DIR!, file), { kernels: flavour });
        if (!input) {
          const r = rng(7);
          const n = net.info.input.shape.reduce((a, b) => a * b, 1);
          input = net.info.input.dtype === 'int8' ? Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128) : Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
        }
        outs.push(net.run(input));
        net.dispose();
      }
      expect(outs[1]).toEqual(outs[0]);
      expect(outs[2]).toEqual(outs[0]);
      // a real output, not all zeros: the softmax puts some mass somewhere
      expect([...outs[0]].some((v) => v !== outs[0][0])).toBe(true);
    });
  }
});

it.skipIf(!!MODELS_DIR)('golden tests', () => {
  console.warn(SHARED_MISSING);
});
