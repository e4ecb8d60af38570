// Portable core: no Node built-ins. Browsers, workers and edge runtimes import this entry
// (`mobilenet-wasm/core`) and pass the kernel .wasm themselves (options.wasm).
export { MobileNet } from './mobilenet.js';
export type { LoadOptions, ModelInfo, ModelSource, Tensor, LayerProfile, WasmSources } from './mobilenet.js';
export { MobileNetError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { readTflite } from './formats/tflite.js';
export { writeTflite } from './formats/tflite-writer.js';
export { readTfjsLayers, loadTfjsLayers } from './formats/tfjs.js';
export { buildMobileNetV1, mobilenetV1Layers } from './arch/mobilenet.js';
export { engineSupports, chooseFlavour } from './runtime/kernels.js';
export type { Flavour, KernelChoice, KernelSource } from './runtime/kernels.js';
export type { Graph, Op, TensorInfo, DType } from './model/ir.js';
export type { ClassifyOptions, Classification } from './mobilenet.js';
export { preprocess, preprocessInto, inputMapping, centralCropBox } from './image/preprocess.js';
export type { PreprocessOptions } from './image/preprocess.js';
export type { RawImage } from './image/types.js';
export { readImageHeader } from './image/header.js';
export { parseLabels, alignLabels, topK } from './labels.js';
