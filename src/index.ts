// Portable core: no Node built-ins. Browsers, workers and edge runtimes import this entry
// (`mobilenet-wasm/core`) and pass the kernel .wasm themselves (options.wasm).
//
// Every function exported here throws only MobileNetError (src/errors.ts). The readers and
// writers that live in other modules are exported through thin wrappers that validate their
// arguments and turn anything unexpected into a typed error (src/runtime/guard.ts).
import { invalidModel } from './errors.js';
import type { Graph } from './model/ir.js';
import { validateGraph } from './model/validate.js';
import { guard, guardAsync } from './runtime/guard.js';
import { plainView, describeValue } from './runtime/typed.js';
import { writeTflite as writeTfliteRaw } from './formats/tflite-writer.js';
import { readTfjsLayers as readTfjsLayersRaw, loadTfjsLayers as loadTfjsLayersRaw, type ShardFetcher, type TfjsLoadOptions } from './formats/tfjs.js';
import { readImageHeader as readImageHeaderRaw, type ImageHeader } from './image/header.js';
import { readImage as readImageRaw, readImageSync as readImageSyncRaw, type ImageSource } from './image/sources.js';
import type { RawImage } from './image/types.js';
import { createJpegDecoder as createJpegDecoderRaw, type JpegDecoder } from './image/jpeg-decoder.js';
import type { WasmModule } from './wasm-types.js';

export { MobileNet } from './mobilenet.js';
export type { LoadOptions, ModelInfo, ModelSource, Tensor, LayerProfile, WasmSources } from './mobilenet.js';
export { MobileNetError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { readTflite } from './formats/tflite.js';
export { buildMobileNetV1, mobilenetV1Layers } from './arch/mobilenet.js';
export { engineSupports, chooseFlavour } from './runtime/kernels.js';
export type { Flavour, KernelChoice, KernelSource } from './runtime/kernels.js';
export type { KernelLocation, WasmUrlLike, WasmResponseLike } from './runtime/wasm-source.js';
export type { WasmModule, WasmMemory } from './wasm-types.js';
export type { Graph, Op, TensorInfo, DType, DetectionOptions } from './model/ir.js';
export type { ClassifyOptions, Classification, Detection, DetectOptions, TensorDescription } from './mobilenet.js';
// readTfliteMetadata / inputNormalization: from 'mobilenet-wasm/metadata' (src/metadata.ts) in a
// page. Re-exported here, esbuild kept the reader in every page's start chunk though load() only
// imports it dynamically, for float inputs (bench/size.mjs: 2.4 KB gzipped).
export type { TfliteMetadata, Normalization } from './formats/tflite-metadata.js';
export { graphStats } from './arch/graph-stats.js';
export { preprocess, preprocessInto, inputMapping, centralCropBox } from './image/preprocess.js';
export type { PreprocessOptions } from './image/preprocess.js';
export type { RawImage } from './image/types.js';
export type { ImageSource, ImageElementLike, VideoElementLike, CanvasLike, ImageBitmapLike, VideoFrameLike, BlobLike } from './image/sources.js';
export { parseLabels, alignLabels, topK } from './labels.js';
export { load, listModels, fetchModelFile } from './weights/load.js';
export { cacheApiPackStore } from './weights/cache-api.js';
export type { PackCacheStore } from './runtime/pack-cache.js';
export type { ModelEntry, ModelFetchOptions, WeightsLoadOptions, FetchedModel, ModelCacheStore, CachedModelFile, FetchLike, FetchResponseLike, AbortSignalLike } from './weights/types.js';

/** Serialises a graph as .tflite bytes; the graph is validated first (INVALID_MODEL naming what is wrong). */
export function writeTflite(graph: Graph): Uint8Array {
  return guard('INVALID_MODEL', 'writeTflite', () => writeTfliteRaw(validateGraph(graph)));
}

/** A TF.js layers model (parsed model.json and its concatenated weight bytes) as a graph. */
export function readTfjsLayers(modelJson: unknown, weightData: Uint8Array): Graph {
  return guard('INVALID_MODEL', 'TF.js model', () => {
    const bytes = plainView(weightData, 'Uint8Array');
    if (!bytes) throw invalidModel(`TF.js model: weight data must be a Uint8Array, got ${describeValue(weightData)}`);
    return readTfjsLayersRaw(modelJson, bytes);
  });
}

/**
 * A TF.js layers model from its parsed model.json, fetching the weight files through `fetchFile`
 * (src/formats/tfjs.ts checks the paths, the fetcher and what it returns).
 */
export function loadTfjsLayers(modelJson: unknown, fetchFile: ShardFetcher, options?: TfjsLoadOptions): Promise<Graph> {
  return guardAsync('INVALID_MODEL', 'TF.js model', () => loadTfjsLayersRaw(modelJson, fetchFile, options));
}
export type { ShardFetcher, TfjsLoadOptions } from './formats/tfjs.js';

/** Format and size of an encoded image from its first bytes (INVALID_IMAGE when unreadable). */
export function readImageHeader(bytes: Uint8Array, name?: string): ImageHeader {
  return guard('INVALID_IMAGE', 'readImageHeader', () => readImageHeaderRaw(plainView(bytes, 'Uint8Array') ?? bytes, typeof name === 'string' ? name : undefined));
}

/**
 * The pixels of an <img>, <canvas>, OffscreenCanvas, ImageBitmap, <video>, VideoFrame, ImageData
 * or RawImage, read unscaled; a Blob is refused (INVALID_IMAGE naming readImage). What classify
 * and embed do with a drawable, for callers that want the pixels themselves.
 */
export function readImageSync(source: ImageSource): RawImage {
  return guard('INVALID_IMAGE', 'readImageSync', () => readImageSyncRaw(source));
}

/**
 * Any ImageSource, Blobs and Files included (decoded with createImageBitmap), as a RawImage:
 * `net.classify(await readImage(file))`. An <img> that is still loading is waited for.
 */
export function readImage(source: ImageSource): Promise<RawImage> {
  return guardAsync('INVALID_IMAGE', 'readImage', () => readImageRaw(source));
}

/**
 * A JPEG decoder for runtimes without one (Workers, Deno): libjpeg-turbo in wasm, the module
 * compiled by the caller from @cwasm/jpeg-turbo/jpeg-turbo.wasm; decode() reads the header
 * first, applies the EXIF orientation and can scale down while decoding (minDecodedSize).
 */
export function createJpegDecoder(wasm: WasmModule): JpegDecoder {
  const decoder = guard('INVALID_OPTION', 'createJpegDecoder', () => createJpegDecoderRaw(wasm));
  return { decode: (bytes, options) => guard('INVALID_IMAGE', 'JPEG decoder', () => decoder.decode(bytes, options)) };
}
export type { JpegDecoder, JpegDecodeLimits } from './image/jpeg-decoder.js';
