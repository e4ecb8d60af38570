/**
 * The ADD / MUL / LOGISTIC ops of the shared models (v2 uint8 and int8 residual ADDs, the SSD
 * head's LOGISTIC), with their real parameters, prepared and run on every build with random
 * inputs, byte-equal to the reference. Skips when the models are absent.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readTflite } from '../../../src/formats/tflite.js';
import { prepareBinary } from '../../../src/ops/add/index.js';
import { prepareLogistic } from '../../../src/ops/logistic/index.js';
import { sizeOf, type BinaryOp, type LogisticOp, type TensorInfo } from '../../../src/model/ir.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import { FLAVOURS, loadKernels, MODELS_DIR, rng } from '../../helpers/kernels.js';
import { refBinary, refLogistic, type Raw } from '../../reference/elementwise.js';
import { raw, runOp, stored } from './run.js';

const kernels: Kernels[] = [];
beforeAll(async () => {
  for (const f of FLAVOURS) kernels.push(await loadKernels(f));
});

const MODELS = [
  ['tf2_mobilenet_v2_1.0_224_ptq.tflite', 10],
  ['mobilenet_v2_1.0_224_quant.tflite', 10],
  ['ssd_mobilenet_v1_coco_quant.tflite', 1],
] as const;

function randomRaw(r: () => number, t: TensorInfo): Raw {
  const n = sizeOf(t.shape);
  if (t.dtype === 'uint8') return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  if (t.dtype === 'int8') return Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
  return Float32Array.from({ length: n }, () => r() * 16 - 8);
}

describe('ADD / MUL / LOGISTIC of the shared models', () => {
  for (const [file, count] of MODELS) {
    const path = MODELS_DIR && join(MODELS_DIR, file);
    it.skipIf(!path || !existsSync(path))(`${file}: ${count} ops exact on every build`, () => {
      const graph = readTflite(new Uint8Array(readFileSync(path!)));
      const ops = graph.ops.filter((o): o is BinaryOp | LogisticOp => o.op === 'add' || o.op === 'mul' || o.op === 'logistic');
      expect(ops.length).toBe(count);
      const r = rng(21);
      for (const op of ops) {
        const activations = op.op === 'logistic' ? [op.input] : op.inputs.filter((t) => !t.constant);
        const values = activations.map((t) => randomRaw(r, t));
        let expected: Raw | Float64Array;
        if (op.op === 'logistic') expected = refLogistic(op, values[0]);
        else {
          const it = values[Symbol.iterator]();
          const [a, b] = op.inputs.map((t) => (t.constant ? undefined : it.next().value));
          expected = refBinary(op, a, b);
        }
        const prepared = op.op === 'logistic' ? prepareLogistic(op) : prepareBinary(op);
        const dtype = op.output.dtype;
        for (const k of kernels) {
          const { out, overrun } = runOp(k, prepared, values.map((v, i) => stored(v, activations[i].dtype)), expected.length * (dtype === 'float32' ? 4 : 1));
          expect(overrun).toBe(false);
          const got = raw(out, dtype);
          for (let i = 0; i < expected.length; i++) {
            if (got[i] !== expected[i]) expect.fail(`${k.flavour} ${op.op} '${op.output.name}': element ${i} is ${got[i]}, expected ${expected[i]}`);
          }
        }
      }
    });
  }
});
