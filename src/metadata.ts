/**
 * mobilenet-wasm/metadata: the .tflite metadata reader (name, description, input normalization,
 * label file), apart from the core so a page that does not call it never downloads it. The Node
 * entry re-exports it too.
 */
export { readTfliteMetadata, inputNormalization } from './formats/tflite-metadata.js';
export type { TfliteMetadata, Normalization } from './formats/tflite-metadata.js';
