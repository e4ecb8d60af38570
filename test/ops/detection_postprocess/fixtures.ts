import type { DetectionOptions } from '../../../src/model/ir.js';
import type { FlexValue } from '../../../src/formats/flexbuffer.js';

/** the options of SSD MobileNet v1 COCO's TFLite_Detection_PostProcess (its flexbuffer, with TFLite's defaults for the optional keys) */
export const SSD_OPTIONS: DetectionOptions = {
  maxDetections: 10,
  maxClassesPerDetection: 1,
  detectionsPerClass: 100,
  useRegularNms: false,
  nmsScoreThreshold: Math.fround(1e-8),
  nmsIouThreshold: Math.fround(0.6),
  numClasses: 90,
  yScale: 10,
  xScale: 10,
  hScale: 5,
  wScale: 5,
};

/** the same options as the model's flexbuffer map holds them (its keys, the file's values) */
export const SSD_FLEX_OPTIONS: Record<string, FlexValue> = {
  _output_quantized: true,
  h_scale: 5,
  w_scale: 5,
  x_scale: 10,
  y_scale: 10,
  max_classes_per_detection: 1,
  max_detections: 10,
  nms_iou_threshold: Math.fround(0.6),
  nms_score_threshold: Math.fround(1e-8),
  num_classes: 90,
};
