import type { DetectionOptions } from '../../../src/model/ir.js';

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
