/**
 * The activation planner (src/runtime/plan.ts): no two tensors that are alive at the same step
 * share bytes (v2's residuals survive the block they skip, SSD's heads survive the body), and a
 * chain such as MobileNet v1 needs no more than the two ping-pong buffers it had before.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planGraph, tensorBytes, type Plan } from '../../src/runtime/plan.js';
import { readTflite } from '../../src/formats/tflite.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { opInputs, opOutputs, type TensorInfo } from '../../src/model/ir.js';
import { ACTIVATION_SLACK } from '../../src/ops/types.js';
import { loadOpPreparers } from '../../src/ops/index.js';
import { MODELS_DIR } from '../helpers/kernels.js';

const align16 = (n: number) => (n + 15) & ~15;

/** [first step written, last step read] of every activation tensor, with its bytes */
function lifetimes(plan: Plan) {
  const life = new Map<number, { first: number; last: number; bytes: number }>();
  const touch = (t: TensorInfo, at: number) => {
    if (t.constant) return;
    const l = life.get(t.id!) ?? { first: at, last: at, bytes: tensorBytes(t) };
    l.first = Math.min(l.first, at);
    l.last = Math.max(l.last, at);
    l.bytes = Math.max(l.bytes, tensorBytes(t));
    life.set(t.id!, l);
  };
  for (const t of plan.graph.inputs) touch(t, -1);
  plan.steps.forEach((s, i) => {
    // a fused step's intermediate is never stored
    const stored = new Set([...s.inputs, ...s.outputs]);
    for (const op of s.ops) for (const t of [...opInputs(op), ...opOutputs(op)]) if (stored.has(t.id!)) touch(t, i);
  });
  for (const t of plan.graph.outputs) touch(t, plan.steps.length);
  return life;
}

function overlaps(plan: Plan): string[] {
  // a reshape's output is its input's bytes (one storage): tensors joined that way may share
  const group = new Map<number, number>();
  const root = (id: number): number => (group.has(id) && group.get(id) !== id ? root(group.get(id)!) : id);
  for (const s of plan.steps) if (!s.prepared) group.set(s.outputs[0], root(s.inputs[0]));
  const life = [...lifetimes(plan)];
  const bad: string[] = [];
  for (let i = 0; i < life.length; i++) {
    for (let j = i + 1; j < life.length; j++) {
      const [a, la] = life[i];
      const [b, lb] = life[j];
      if (root(a) === root(b)) continue;
      const oa = plan.offsets.get(a)!, ob = plan.offsets.get(b)!;
      const alive = la.first <= lb.last && lb.first <= la.last;
      const shared = oa < ob + lb.bytes && ob < oa + la.bytes;
      if (alive && shared) bad.push(`tensors ${a} [${la.first}, ${la.last}] and ${b} [${lb.first}, ${lb.last}]`);
    }
  }
  return bad;
}

const file = (f: string) => join(MODELS_DIR ?? '', f);

describe('activation planner', () => {
  // v2's ADD and SSD's ops are dynamic imports (src/ops/index.ts); MobileNet.load does this itself
  beforeAll(() => loadOpPreparers());

  it('a v1 chain takes at most the two ping-pong buffers of before (random 1.0/224 and 0.25/128, every precision)', () => {
    for (const [alpha, resolution] of [[1, 224], [0.25, 128]] as const) {
      for (const precision of ['float32', 'uint8', 'int8'] as const) {
        const plan = planGraph(buildMobileNetV1({ alpha, resolution, precision, classes: 1001, seed: 1 }));
        expect(plan.activationBytes).toBeLessThanOrEqual(2 * align16(plan.maxActivationBytes + ACTIVATION_SLACK));
        expect(overlaps(plan)).toEqual([]);
      }
    }
  });

  for (const f of ['mobilenet_v1_1.0_224_quant.tflite', 'mobilenet_v2_1.0_224_quant.tflite', 'tf2_mobilenet_v2_1.0_224_ptq.tflite', 'ssd_mobilenet_v1_coco_quant.tflite', 'person_detect_int8.tflite']) {
    it.skipIf(!MODELS_DIR || !existsSync(file(f)))(`${f}: no two live tensors share bytes`, () => {
      const plan = planGraph(readTflite(new Uint8Array(readFileSync(file(f)))));
      expect(overlaps(plan)).toEqual([]);
      if (f.startsWith('mobilenet_v1')) expect(plan.activationBytes).toBeLessThanOrEqual(2 * align16(plan.maxActivationBytes + ACTIVATION_SLACK));
      // a residual block keeps its input alive across the block: more than one tensor's room
      if (f.includes('v2')) expect(plan.activationBytes).toBeGreaterThan(align16(plan.maxActivationBytes + ACTIVATION_SLACK));
    });
  }
});
