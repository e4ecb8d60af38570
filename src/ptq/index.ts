/**
 * 'mobilenet-wasm/quantize': post-training quantization of a float MobileNet into TFLite's
 * full-integer int8 layout, in the library (TFLite's converter and ONNX Runtime's quantizer
 * are Python-only). No Node built-ins: the caller reads the model and the calibration images.
 *
 *   const cal = await Calibrator.create(floatGraph, loadOptions);
 *   for (const image of images) cal.addImage(image);
 *   const bytes = quantizeToTflite(floatGraph, cal.stats, { method: 'mse' });
 */
import { encodeTflite, graphToTfliteSpec } from '../formats/tflite-writer.js';
import type { Graph } from '../model/ir.js';
import type { CalibrationStats } from './calibrate.js';
import { quantizeGraph, type QuantizeOptions } from './quantize-graph.js';

export { Calibrator } from './calibrate.js';
export type { CalibrationStats } from './calibrate.js';
export { quantizeGraph, checkQuantizable, QUANTIZED_IOS } from './quantize-graph.js';
export type { QuantizeOptions, QuantizedIo } from './quantize-graph.js';
export { TensorStats, asymmetricParams, CALIBRATION_METHODS, DEFAULT_PERCENTILE } from './stats.js';
export type { CalibrationMethod, Range } from './stats.js';

/** The quantized model of a float chain as .tflite bytes (see quantizeGraph). */
export function quantizeToTflite(graph: Graph, stats: CalibrationStats, options?: QuantizeOptions): Uint8Array {
  return encodeTflite(graphToTfliteSpec(quantizeGraph(graph, stats, options)));
}
