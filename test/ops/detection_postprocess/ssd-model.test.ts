/**
 * The SSD MobileNet v1 COCO model's own TFLite_Detection_PostProcess (op 63 of
 * ../shared/models/ssd_mobilenet_v1_coco_quant.tflite) as the .tflite reader gives it: its
 * flexbuffer options, its uint8 anchors, on random uint8 box encodings and (sigmoid-like) scores,
 * against the reference on every kernel build.
 */
import { SSD_OPTIONS } from './fixtures.js';
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTflite } from '../../../src/formats/tflite.js';
import type { DetectionPostprocessOp } from '../../../src/model/ir.js';
import { prepareDetectionPostprocess } from '../../../src/ops/detection_postprocess/index.js';
import { referenceDetection } from '../../reference/detection.js';
import { FLAVOURS, loadKernels, MODELS_DIR, rng } from '../../helpers/kernels.js';
import { runDetection, type DetectionCase } from './helpers.js';

const PATH = MODELS_DIR && join(MODELS_DIR, 'ssd_mobilenet_v1_coco_quant.tflite');

describe.skipIf(!PATH || !existsSync(PATH))('SSD MobileNet v1 COCO post-processing', () => {
  it('reads op 63 as TFLite does and runs it like the reference (fast and regular NMS)', async () => {
    const graph = readTflite(new Uint8Array(readFileSync(PATH!)));
    const op = graph.ops.find((o) => o.op === 'detection_postprocess') as DetectionPostprocessOp;
    expect(op.options).toEqual(SSD_OPTIONS);
    const [boxesT, scoresT, anchorsT] = op.inputs;
    expect([boxesT.shape, scoresT.shape, anchorsT.shape]).toEqual([[1, 1917, 4], [1, 1917, 91], [1917, 4]]);
    expect(op.outputs.map((t) => t.shape)).toEqual([[1, 10, 4], [1, 10], [1, 10], [1]]);
    const r = rng(63);
    const encodings = new Uint8Array(1917 * 4).map(() => Math.max(0, Math.min(255, Math.round(191 + (r() - 0.5) * 60))));
    // sigmoid outputs: mostly near 0, a few confident
    const scores = new Uint8Array(1917 * 91).map(() => (r() < 0.01 ? 128 + Math.floor(r() * 128) : Math.floor(r() * r() * 20)));
    const kernels = await Promise.all(FLAVOURS.map(loadKernels));
    for (const regular of [false, true]) {
      const o = { ...op, options: { ...op.options, useRegularNms: regular } };
      const q = (t: typeof boxesT) => ({ scale: t.quant!.scale[0], zeroPoint: t.quant!.zeroPoint[0] });
      const c: DetectionCase = {
        op: o,
        encodings: { data: encodings, ...q(boxesT) },
        scores: { data: scores, ...q(scoresT) },
        anchors: { data: anchorsT.constant as Uint8Array, ...q(anchorsT) },
        anchorCount: 1917,
        boxStride: 4,
        classesWithBackground: 91,
      };
      const ref = referenceDetection(c.encodings, c.scores, c.anchors, 1917, 4, 91, o.options);
      expect(ref.count).toBe(10);
      const prepared = prepareDetectionPostprocess(o);
      for (const k of kernels) {
        const got = runDetection(k, prepared, c);
        expect(got.overrun).toBe(false);
        expect(got.count).toBe(ref.count);
        expect(Array.from(got.classes)).toEqual(Array.from(ref.classes));
        expect(Array.from(got.scores)).toEqual(Array.from(ref.scores));
        expect(Array.from(got.boxes)).toEqual(Array.from(ref.boxes));
      }
    }
  });
});
