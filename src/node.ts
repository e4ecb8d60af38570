/**
 * Node entry: the portable API plus file access. Finds the kernel builds next to the package
 * (build/mobilenet-*.wasm), compiles each once per process, and reads models from paths.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { MobileNet, type LoadOptions, type ModelSource } from './mobilenet.js';
import { MobileNetError } from './errors.js';
import type { Flavour } from './runtime/kernels.js';
import { loadTfjsLayers } from './formats/tfjs.js';

export * from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** build/ beside dist/ (installed package) or beside src/ (tests run from source) */
export const WASM_DIR = join(here, '..', 'build');

const compiled = new Map<Flavour, Promise<WebAssembly.Module>>();

/** The compiled kernel build of a flavour, read from build/ once per process. */
export function nodeKernelModule(flavour: Flavour): Promise<WebAssembly.Module> {
  let m = compiled.get(flavour);
  if (!m) {
    const file = join(WASM_DIR, `mobilenet-${flavour}.wasm`);
    if (!existsSync(file)) throw new MobileNetError('IO', `${file} is missing: run \`npm run build\``);
    m = WebAssembly.compile(readFileSync(file));
    compiled.set(flavour, m);
  }
  return m;
}

/** Node 20 keeps relaxed SIMD behind a V8 flag; it must be set before the module is compiled. */
export function enableRelaxedSimd(): void {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/**
 * Load a model from a path (.tflite file, or a TF.js model.json), bytes, or a graph, with the
 * kernel builds from this package.
 */
export async function loadModel(model: string | ModelSource, options: LoadOptions = {}): Promise<MobileNet> {
  if (options.kernels === 'relaxed') enableRelaxedSimd();
  const opts: LoadOptions = { ...options, wasm: options.wasm ?? nodeKernelModule };
  if (typeof model === 'string') model = await readModelFile(model);
  return MobileNet.load(model, opts);
}

export async function readModelFile(path: string): Promise<ModelSource> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new MobileNetError('IO', `model file not found: ${path}`);
  }
  if (st.isDirectory()) path = join(path, 'model.json');
  if (path.endsWith('.json')) {
    const dir = dirname(path);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (e) {
      throw new MobileNetError('INVALID_MODEL', `${path}: not a TF.js model.json (${(e as Error).message})`);
    }
    return loadTfjsLayers(json, async (p) => {
      try {
        return new Uint8Array(await readFile(join(dir, p)));
      } catch {
        throw new MobileNetError('IO', `${path}: weight file ${p} not found`);
      }
    });
  }
  return new Uint8Array(await readFile(path));
}
export { decodeImage, decodeImageFile } from './image/decode-node.js';
