/**
 * The options of TFLite_Detection_PostProcess, from its flexbuffer custom options, validated:
 * TFLite's own checks (IoU threshold in (0, 1], positive counts) give INVALID_MODEL, and our
 * caps (which TFLite does not have, but a hostile file must not make us allocate gigabytes)
 * give UNSUPPORTED_MODEL. Floats are rounded to float32 as TFLite's AsFloat() does.
 */
import { invalidModel, unsupportedModel } from '../../errors.js';
import type { DetectionOptions } from '../../model/ir.js';
import type { FlexValue } from '../../formats/flexbuffer.js';

/** TFLite's default for detections_per_class (kNumDetectionsPerClass) */
export const DEFAULT_DETECTIONS_PER_CLASS = 100;

/** caps: far above any published detector (SSD: 10 or 100 detections, 90 classes) */
export const MAX_DETECTIONS_LIMIT = 10_000;
export const MAX_CLASSES_LIMIT = 100_000;
export const MAX_CLASSES_PER_DETECTION_LIMIT = 1_000;
export const MAX_DETECTIONS_PER_CLASS_LIMIT = 100_000;
/** output slots = max_detections * max_classes_per_detection */
export const MAX_OUTPUT_SLOTS = 100_000;

function describe(v: FlexValue | undefined): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

export function detectionOptions(map: Map<string, FlexValue>, what: string): DetectionOptions {
  const bad = (key: string, why: string) => invalidModel(`${what}: option ${key} = ${describe(map.get(key))} ${why}`);

  const required = (key: string): FlexValue => {
    const v = map.get(key);
    if (v === undefined) throw invalidModel(`${what}: required option ${key} is missing from the custom options`);
    return v;
  };

  /** an integer option (TFLite: AsInt32), within [min, max]; above `limit` is our cap */
  const int = (key: string, v: FlexValue, min: number, limit: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(key, 'is not an integer');
    if (v < min) throw bad(key, `must be >= ${min}`);
    if (v > limit) throw unsupportedModel(`${what}: option ${key} = ${v} is above the supported maximum ${limit}`);
    return v;
  };

  /** a float option (TFLite: AsFloat), finite in float32 */
  const float = (key: string): number => {
    const v = required(key);
    if (typeof v !== 'number') throw bad(key, 'is not a number');
    const f = Math.fround(v);
    if (!Number.isFinite(f)) throw bad(key, 'is not finite in float32');
    return f;
  };

  const scale = (key: string): number => {
    const f = float(key);
    // the box decoding divides by it
    if (f === 0) throw bad(key, 'must not be zero');
    return f;
  };

  const maxDetections = int('max_detections', required('max_detections'), 1, MAX_DETECTIONS_LIMIT);
  const maxClassesPerDetection = int('max_classes_per_detection', required('max_classes_per_detection'), 1, MAX_CLASSES_PER_DETECTION_LIMIT);
  const numClasses = int('num_classes', required('num_classes'), 1, MAX_CLASSES_LIMIT);
  if (maxDetections * maxClassesPerDetection > MAX_OUTPUT_SLOTS) {
    throw unsupportedModel(
      `${what}: max_detections ${maxDetections} x max_classes_per_detection ${maxClassesPerDetection} output slots is above the supported maximum ${MAX_OUTPUT_SLOTS}`,
    );
  }

  const regular = map.get('use_regular_nms');
  let useRegularNms = false;
  if (regular !== undefined) {
    // TFLite's AsBool(): a bool, or a number compared with zero
    if (typeof regular === 'boolean') useRegularNms = regular;
    else if (typeof regular === 'number' && Number.isFinite(regular)) useRegularNms = regular !== 0;
    else throw bad('use_regular_nms', 'is not a boolean');
  }

  const perClass = map.get('detections_per_class');
  // only the regular NMS reads it (and TFLite requires it > 0 there)
  const detectionsPerClass =
    perClass === undefined ? DEFAULT_DETECTIONS_PER_CLASS : int('detections_per_class', perClass, useRegularNms ? 1 : 0, MAX_DETECTIONS_PER_CLASS_LIMIT);

  const nmsScoreThreshold = float('nms_score_threshold');
  const nmsIouThreshold = float('nms_iou_threshold');
  if (!(nmsIouThreshold > 0 && nmsIouThreshold <= 1)) throw bad('nms_iou_threshold', 'must be in (0, 1]');

  return {
    maxDetections,
    maxClassesPerDetection,
    detectionsPerClass,
    useRegularNms,
    nmsScoreThreshold,
    nmsIouThreshold,
    numClasses,
    yScale: scale('y_scale'),
    xScale: scale('x_scale'),
    hScale: scale('h_scale'),
    wScale: scale('w_scale'),
  };
}

/** The output shapes TFLite's Prepare gives the op (the file usually stores them empty). */
export function detectionOutputShapes(o: DetectionOptions): [number[], number[], number[], number[]] {
  const slots = o.maxDetections * o.maxClassesPerDetection;
  return [[1, slots, 4], [1, slots], [1, slots], [1]];
}
