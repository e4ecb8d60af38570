import { SSD_FLEX_OPTIONS, SSD_OPTIONS } from './fixtures.js';
import { describe, expect, it } from 'vitest';
import { MobileNetError } from '../../../src/errors.js';
import type { FlexValue } from '../../../src/formats/flexbuffer.js';
import { detectionOptions, detectionOutputShapes } from '../../../src/ops/detection_postprocess/options.js';

const SSD: Record<string, FlexValue> = SSD_FLEX_OPTIONS;

const parse = (over: Record<string, FlexValue | undefined>) => {
  const m = new Map<string, FlexValue>(Object.entries(SSD));
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) m.delete(k);
    else m.set(k, v);
  }
  return detectionOptions(m, 'op 63 (TFLite_Detection_PostProcess)');
};

function fails(over: Record<string, FlexValue | undefined>, code: string, message: RegExp): void {
  let err: unknown;
  try {
    parse(over);
  } catch (e) {
    err = e;
  }
  expect(err, JSON.stringify(over)).toBeInstanceOf(MobileNetError);
  expect((err as MobileNetError).code).toBe(code);
  expect((err as Error).message).toMatch(/op 63/);
  expect((err as Error).message).toMatch(message);
}

describe('detectionOptions', () => {
  it('reads the SSD options with TFLite defaults for the optional keys', () => {
    const o = parse({});
    expect(o).toEqual(SSD_OPTIONS);
    expect(detectionOutputShapes(o)).toEqual([[1, 10, 4], [1, 10], [1, 10], [1]]);
    expect(detectionOutputShapes(parse({ max_classes_per_detection: 3 }))).toEqual([[1, 30, 4], [1, 30], [1, 30], [1]]);
  });

  it('reads the optional keys; bools from numbers as AsBool does; floats rounded to float32', () => {
    const o = parse({ use_regular_nms: 1, detections_per_class: 7, nms_iou_threshold: 0.1 });
    expect(o.useRegularNms).toBe(true);
    expect(o.detectionsPerClass).toBe(7);
    expect(o.nmsIouThreshold).toBe(Math.fround(0.1));
    expect(parse({ use_regular_nms: false }).useRegularNms).toBe(false);
  });

  for (const key of ['max_detections', 'max_classes_per_detection', 'num_classes', 'nms_score_threshold', 'nms_iou_threshold', 'y_scale', 'x_scale', 'h_scale', 'w_scale']) {
    it(`requires ${key}`, () => fails({ [key]: undefined }, 'INVALID_MODEL', new RegExp(`required option ${key} is missing`)));
  }

  it('rejects values TFLite rejects or cannot use', () => {
    fails({ max_detections: 0 }, 'INVALID_MODEL', /max_detections = 0 must be >= 1/);
    fails({ max_detections: -5 }, 'INVALID_MODEL', /max_detections = -5/);
    fails({ max_detections: 2.5 }, 'INVALID_MODEL', /max_detections = 2.5 is not an integer/);
    fails({ num_classes: 'ninety' }, 'INVALID_MODEL', /num_classes = 'ninety' is not an integer/);
    fails({ max_classes_per_detection: 0 }, 'INVALID_MODEL', /max_classes_per_detection/);
    fails({ use_regular_nms: true, detections_per_class: 0 }, 'INVALID_MODEL', /detections_per_class = 0/);
    fails({ nms_iou_threshold: 0 }, 'INVALID_MODEL', /nms_iou_threshold = 0 must be in \(0, 1\]/);
    fails({ nms_iou_threshold: 1.5 }, 'INVALID_MODEL', /nms_iou_threshold/);
    fails({ nms_iou_threshold: NaN }, 'INVALID_MODEL', /nms_iou_threshold = NaN is not finite/);
    fails({ nms_score_threshold: Infinity }, 'INVALID_MODEL', /nms_score_threshold/);
    fails({ nms_score_threshold: 1e300 }, 'INVALID_MODEL', /not finite in float32/);
    fails({ y_scale: 0 }, 'INVALID_MODEL', /y_scale = 0 must not be zero/);
    fails({ w_scale: true }, 'INVALID_MODEL', /w_scale = true is not a number/);
    fails({ use_regular_nms: 'yes' }, 'INVALID_MODEL', /use_regular_nms/);
  });

  it('caps what a hostile file can ask for (UNSUPPORTED_MODEL)', () => {
    fails({ max_detections: 1_000_000_000 }, 'UNSUPPORTED_MODEL', /max_detections = 1000000000 is above the supported maximum/);
    fails({ num_classes: 2 ** 31 }, 'UNSUPPORTED_MODEL', /num_classes/);
    fails({ max_detections: 5000, max_classes_per_detection: 500 }, 'UNSUPPORTED_MODEL', /output slots/);
    fails({ use_regular_nms: true, detections_per_class: 10 ** 9 }, 'UNSUPPORTED_MODEL', /detections_per_class/);
  });
});
