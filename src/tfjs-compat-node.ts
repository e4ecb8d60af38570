/**
 * `mobilenet-wasm/tfjs-compat` in Node: the same API as src/tfjs-compat.ts, with this package's
 * kernel builds, the user cache folder for registry models, model paths (or file: URLs) as
 * modelUrl, and Blobs decoded by the Node entry's decoders.
 */
import { fileURLToPath } from 'node:url';
import { enableRelaxedSimd, fetchModelFile, nodeKernelModule, readImage, readModelFile } from './node.js';
import { downloadModelUrl, loadWithHost, type CompatHost, type CompatMobileNet, type ModelConfig } from './tfjs-compat.js';
import { invalidModel } from './errors.js';
import { anyBytes } from './runtime/typed.js';

export { registryName } from './tfjs-compat.js';
export type { ClassResult, CompatMobileNet, ModelConfig, MobileNetAlpha, MobileNetVersion } from './tfjs-compat.js';

const NODE_HOST: CompatHost = {
  readImage,
  async readModelUrl(url, config) {
    const href = typeof url === 'string' ? url : url.href;
    if (/^https?:/i.test(href)) return downloadModelUrl(href, config);
    const bytes = anyBytes(await readModelFile(/^file:/i.test(href) ? fileURLToPath(href) : href));
    if (!bytes) throw invalidModel(`${href} is a TF.js model folder or model.json: tfjs-compat reads .tflite files`);
    return bytes;
  },
  fetchModelFile,
  defaultWasm: nodeKernelModule,
  beforeKernels: (kernels) => {
    if (kernels === 'relaxed') enableRelaxedSimd();
  },
};

/** load() of src/tfjs-compat.ts, with this package's kernels and Node's file access. */
export function load(config?: ModelConfig): Promise<CompatMobileNet> {
  return loadWithHost(config, NODE_HOST);
}
