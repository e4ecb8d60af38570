import { SSD_OPTIONS } from './fixtures.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { DetectionOptions } from '../../../src/model/ir.js';
import { MobileNetError } from '../../../src/errors.js';
import { prepareDetectionPostprocess } from '../../../src/ops/detection_postprocess/index.js';
import { referenceDetection } from '../../reference/detection.js';
import { randInt, randomCase, runDetection, type CaseOptions, type DetectionCase, type Rand } from './helpers.js';

const kernels: Partial<Record<(typeof FLAVOURS)[number], Kernels>> = {};
beforeAll(async () => {
  for (const f of FLAVOURS) kernels[f] = await loadKernels(f);
});

const SSD: DetectionOptions = SSD_OPTIONS;

function randomOptions(r: Rand, numClasses: number, regular: boolean): DetectionOptions {
  return {
    maxDetections: randInt(r, 1, 25),
    maxClassesPerDetection: randInt(r, 1, 4),
    detectionsPerClass: randInt(r, 1, 12),
    useRegularNms: regular,
    nmsScoreThreshold: Math.fround(r() < 0.2 ? 0 : r() * 0.7),
    nmsIouThreshold: Math.fround(0.05 + r() * 0.95),
    numClasses,
    yScale: Math.fround(5 + r() * 10),
    xScale: Math.fround(5 + r() * 10),
    hScale: Math.fround(2 + r() * 5),
    wScale: Math.fround(2 + r() * 5),
  };
}

function check(c: DetectionCase, label: string): number {
  const ref = referenceDetection(c.encodings, c.scores, c.anchors, c.anchorCount, c.boxStride, c.classesWithBackground, c.op.options);
  const prepared = prepareDetectionPostprocess(c.op);
  for (const f of FLAVOURS) {
    const got = runDetection(kernels[f]!, prepared, c);
    const where = `${label} on ${f}`;
    expect(got.overrun, `${where}: wrote past an output`).toBe(false);
    expect(got.count, `${where}: count`).toBe(ref.count);
    expect(Array.from(got.classes), `${where}: classes`).toEqual(Array.from(ref.classes));
    // float32 results computed the same way: we hold them to equality, not just 1e-6
    expect(Array.from(got.scores), `${where}: scores`).toEqual(Array.from(ref.scores));
    expect(Array.from(got.boxes), `${where}: boxes`).toEqual(Array.from(ref.boxes));
  }
  return ref.count;
}

function caseOf(r: Rand, regular: boolean, over: Partial<CaseOptions> = {}): CaseOptions {
  const numClasses = over.numClasses ?? randInt(r, 1, 12);
  return {
    anchors: randInt(r, 1, 150),
    numClasses,
    background: r() < 0.5,
    boxStride: randInt(r, 4, 6),
    quantizedBoxes: r() < 0.5,
    quantizedScores: r() < 0.5,
    scoreLevels: r() < 0.5 ? randInt(r, 2, 6) : 100_000,
    options: randomOptions(r, numClasses, regular),
    ...over,
  };
}

describe('TFLite_Detection_PostProcess against the reference', () => {
  for (const regular of [false, true]) {
    it(`random cases, ${regular ? 'regular' : 'fast'} NMS (float and uint8 inputs, ties, background or not)`, () => {
      const r = rng(regular ? 4242 : 1717);
      let detections = 0;
      let empty = 0;
      for (let t = 0; t < 60; t++) {
        const c = caseOf(r, regular);
        const n = check(randomCase(r, c), `case ${t} ${JSON.stringify({ ...c, options: undefined })} ${JSON.stringify(c.options)}`);
        detections += n;
        if (n === 0) empty++;
      }
      // the cases must exercise something
      expect(detections).toBeGreaterThan(100);
      expect(empty).toBeLessThan(30);
    });
  }

  it('heavy ties: two score levels, more candidates than max_detections, both NMS modes', () => {
    const r = rng(99);
    for (let t = 0; t < 20; t++) {
      const c = caseOf(r, t % 2 === 0, { scoreLevels: 2, anchors: randInt(r, 50, 120) });
      c.options.nmsScoreThreshold = 0;
      const n = check(randomCase(r, c), `tie case ${t}`);
      expect(n).toBeGreaterThan(0);
    }
  });

  it('float inputs holding NaN and infinities decode and suppress as TFLite does (no crash, same slots)', () => {
    const r = rng(31);
    const specials = [NaN, Infinity, -Infinity, 1e30, -1e30];
    for (let t = 0; t < 30; t++) {
      const c = caseOf(r, t % 2 === 1, { quantizedBoxes: false, quantizedScores: false, anchors: randInt(r, 5, 60) });
      const dc = randomCase(r, c);
      for (let i = 0; i < dc.encodings.data.length; i++) if (r() < 0.05) dc.encodings.data[i] = specials[randInt(r, 0, 4)];
      for (let i = 0; i < dc.scores.data.length; i++) if (r() < 0.05) dc.scores.data[i] = specials[randInt(r, 0, 4)];
      check(dc, `special values ${t}`);
    }
  });

  it('all scores below the threshold: count 0 and every slot zero', () => {
    const r = rng(5);
    for (const regular of [false, true]) {
      const c = caseOf(r, regular, { anchors: 40 });
      c.options.nmsScoreThreshold = 1.5;
      const dc = randomCase(r, c);
      expect(check(dc, `below threshold ${regular}`)).toBe(0);
      const got = runDetection(kernels.scalar!, prepareDetectionPostprocess(dc.op), dc);
      expect(got.boxes.every((v) => v === 0) && got.scores.every((v) => v === 0) && got.classes.every((v) => v === 0)).toBe(true);
    }
  });

  it('SSD MobileNet v1 geometry: 1917 anchors x 91 classes, uint8, fast and regular NMS', () => {
    const r = rng(1917);
    for (const regular of [false, true]) {
      const c = caseOf(r, regular, {
        anchors: 1917,
        numClasses: 90,
        background: true,
        boxStride: 4,
        quantizedBoxes: true,
        quantizedScores: true,
        scoreLevels: 256,
        options: { ...SSD, useRegularNms: regular, nmsScoreThreshold: Math.fround(0.3) },
      });
      const n = check(randomCase(r, c), `ssd ${regular}`);
      expect(n).toBe(10);
    }
  });
});

describe('TFLite_Detection_PostProcess boundaries', () => {
  /** float case with zero encodings: boxes are the anchors themselves */
  function boundaryCase(anchorRows: number[][], scoreRows: number[][], o: Partial<DetectionOptions>): DetectionCase {
    const A = anchorRows.length;
    const C = scoreRows[0].length;
    const options: DetectionOptions = { ...SSD, numClasses: C, maxDetections: 20, ...o };
    const c = randomCase(rng(1), { anchors: A, numClasses: C, background: false, boxStride: 4, quantizedBoxes: false, quantizedScores: false, scoreLevels: 2, options });
    c.encodings.data.fill(0);
    c.anchors.data.set(anchorRows.flat());
    c.scores.data.set(scoreRows.flat());
    return c;
  }

  it('a score equal to nms_score_threshold is kept; an IoU equal to nms_iou_threshold does not suppress', () => {
    // anchor 1's box [0, 0, 1, 0.5] overlaps anchor 0's [0, 0, 1, 1] with IoU exactly 0.5
    const anchors = [[0.5, 0.5, 1, 1], [0.5, 0.25, 1, 0.5], [0.5, 0.5, 1, 1], [0.2, 0.2, 0.1, 0.1]];
    const scores = [[0.75], [0.5], [0.25], [0.5]];
    const c = boundaryCase(anchors, scores, { nmsScoreThreshold: 0.5, nmsIouThreshold: 0.5 });
    expect(check(c, 'boundary')).toBe(3);
    const got = runDetection(kernels.scalar!, prepareDetectionPostprocess(c.op), c);
    expect(Array.from(got.scores.subarray(0, 3))).toEqual([0.75, 0.5, 0.5]);
    expect(Array.from(got.boxes.subarray(0, 12))).toEqual([0, 0, 1, 1, 0, 0, 1, 0.5, 0.15000000596046448, 0.15000000596046448, 0.25, 0.25]);
  });

  it('identical boxes survive an IoU threshold of 1, and are suppressed below it', () => {
    const anchors = [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]];
    const scores = [[0.9], [0.8], [0.7]];
    expect(check(boundaryCase(anchors, scores, { nmsIouThreshold: 1 }), 'iou 1')).toBe(3);
    expect(check(boundaryCase(anchors, scores, { nmsIouThreshold: Math.fround(0.999) }), 'iou 0.999')).toBe(1);
  });
});

describe('TFLite_Detection_PostProcess validation', () => {
  const base = () => randomCase(rng(3), caseOf(rng(3), false, { anchors: 8, numClasses: 3, background: true, quantizedBoxes: true, quantizedScores: true, scoreLevels: 10 }));
  const fails = (mutate: (c: DetectionCase) => void, code: string, message: RegExp) => {
    const c = base();
    mutate(c);
    let err: unknown;
    try {
      prepareDetectionPostprocess(c.op);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MobileNetError);
    expect((err as MobileNetError).code).toBe(code);
    expect((err as Error).message).toMatch(message);
  };

  it('accepts the base case', () => {
    expect(() => prepareDetectionPostprocess(base().op)).not.toThrow();
  });
  it('rejects int8 inputs (TFLite runs uint8 and float32 only)', () => {
    fails((c) => (c.op.inputs[1].dtype = 'int8'), 'UNSUPPORTED_MODEL', /class scores.*int8/);
  });
  it('rejects mismatched anchor counts and shapes', () => {
    fails((c) => (c.op.inputs[1].shape = [1, 9, 4]), 'INVALID_MODEL', /class scores.*\[1,9,4\]/);
    fails((c) => (c.op.inputs[0].shape = [1, 8, 3]), 'INVALID_MODEL', /box encodings/);
    fails((c) => (c.op.inputs[2].shape = [8, 5]), 'INVALID_MODEL', /anchors.*\[8,5\]/);
  });
  it('rejects a class count that does not match num_classes', () => {
    fails((c) => (c.op.inputs[1].shape = [1, 8, 6]), 'INVALID_MODEL', /num_classes is 3/);
  });
  it('rejects non-constant anchors, anchors of another type than the boxes, negative anchor sizes', () => {
    fails((c) => delete c.op.inputs[2].constant, 'UNSUPPORTED_MODEL', /anchors.*not a constant/);
    fails((c) => {
      c.op.inputs[2] = { name: 'anchors', shape: [8, 4], dtype: 'float32', constant: new Float32Array(32) };
    }, 'UNSUPPORTED_MODEL', /anchors.*float32.*uint8/);
    fails((c) => {
      const data = new Float32Array(32).fill(0.1);
      data[4 * 5 + 2] = -0.1;
      c.op.inputs[0] = { ...c.op.inputs[0], dtype: 'float32', quant: undefined };
      c.op.inputs[2] = { name: 'anchors', shape: [8, 4], dtype: 'float32', constant: data };
    }, 'INVALID_MODEL', /anchor 5 has a negative height/);
  });
  it('rejects output shapes other than TFLite gives, missing quantization, bad zero points', () => {
    fails((c) => (c.op.outputs[0].shape = []), 'INVALID_MODEL', /output boxes.*expected \[1,/);
    fails((c) => (c.op.outputs[3].dtype = 'uint8'), 'INVALID_MODEL', /output count.*uint8/);
    fails((c) => (c.op.inputs[0].quant = undefined), 'INVALID_MODEL', /box encodings.*scale/);
    fails((c) => (c.op.inputs[0].quant = { scale: [0.1], zeroPoint: [300], axis: 0 }), 'INVALID_MODEL', /zero point 300/);
    fails((c) => (c.op.inputs[1].quant = { scale: [0], zeroPoint: [0], axis: 0 }), 'INVALID_MODEL', /class scores.*scale/);
  });
});
