/**
 * Node entry: the portable API plus file access. Finds the kernel builds next to the package
 * (build/mobilenet-*.wasm), compiles each once per process, and reads models from paths.
 */
import { readFileSync, existsSync, constants as fsConstants } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { MobileNet, type LoadOptions, type ModelSource } from './mobilenet.js';
import { MobileNetError } from './errors.js';
import { recordRelaxedBaseline, type Flavour } from './runtime/kernels.js';
import { loadTfjsLayers } from './formats/tfjs.js';
import type { WasmModule } from './wasm-types.js';
import { fetchModelFileWith, loadWith, type LoadEnvironment } from './weights/load.js';
import { fileCacheStore, filePackStore, userCacheDir } from './weights/node-cache.js';
import type { PackCacheStore } from './runtime/pack-cache.js';
import type { FetchedModel, ModelFetchOptions, WeightsLoadOptions } from './weights/types.js';
import { decodeImage } from './image/decode-node.js';
import { readImage as readImageCore } from './index.js';
import { sourceKind, type BlobLike, type ImageSource } from './image/sources.js';
import type { RawImage } from './image/types.js';
import { guardAsync } from './runtime/guard.js';

export * from './index.js';
export * from './metadata.js';

const here = dirname(fileURLToPath(import.meta.url));
/** build/ beside dist/ (installed package) or beside src/ (tests run from source) */
export const WASM_DIR = join(here, '..', 'build');

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/**
 * The compiled kernel build of a flavour, read from build/ once per process: `file` is the
 * build a model needs (mobilenet-q8-simd.wasm for a uint8 model on SIMD; the loader passes
 * it), the combined mobilenet-<flavour>.wasm when omitted.
 */
export function nodeKernelModule(flavour: Flavour, file = `mobilenet-${flavour}.wasm`): Promise<WasmModule> {
  let m = compiled.get(file);
  if (!m) {
    // only this package's builds: a file name, never a path
    if (!/^mobilenet-[a-z0-9-]+\.wasm$/.test(file)) throw new MobileNetError('INVALID_OPTION', `not a kernel build of this package: ${JSON.stringify(file)}`);
    const path = join(WASM_DIR, file);
    if (!existsSync(path)) throw new MobileNetError('IO', `${path} is missing: run \`npm run build\``);
    m = WebAssembly.compile(readFileSync(path));
    compiled.set(file, m);
    // a failed compile (relaxed asked for before its flag was set) must not stick for the process
    m.catch(() => compiled.delete(file));
  }
  return m;
}

/**
 * Node 20 keeps relaxed SIMD behind a V8 flag; it must be set before the module is compiled.
 * The flag is process-wide, so whether the engine validated relaxed SIMD without it is
 * recorded first: 'auto' keeps that meaning for every load (see LoadOptions.kernels), and only
 * loads asking for kernels: 'relaxed' run the relaxed build.
 */
export function enableRelaxedSimd(): void {
  recordRelaxedBaseline();
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

export interface NodeLoadOptions extends LoadOptions {
  /**
   * refuse a model file (or a TF.js model's weight files together) larger than this, before
   * reading it (default 512 MiB; MobileNet v1 1.0/224 float is 17 MB)
   */
  maxModelBytes?: number;
}

export const DEFAULT_MAX_MODEL_BYTES = 512 * 2 ** 20;
/** model.json holds the topology and the manifest: a few hundred KB for MobileNets */
const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

/**
 * Load a model from a path (.tflite file, or a TF.js model.json or its folder), bytes, or a
 * graph, with the kernel builds from this package.
 */
export async function loadModel(model: string | ModelSource, options: NodeLoadOptions = {}): Promise<MobileNet> {
  const opts = withNodeKernels(options);
  if (typeof model === 'string') model = await readModelFile(model, { maxModelBytes: options.maxModelBytes });
  return MobileNet.load(model, opts);
}

/** The options with this package's kernel builds as the default `wasm` (and the relaxed flag set when asked for). */
function withNodeKernels<T extends LoadOptions>(options: T): T {
  if (options === null || typeof options !== 'object') throw new MobileNetError('INVALID_OPTION', `load options must be an object, got ${options === null ? 'null' : typeof options}`);
  if (options.kernels === 'relaxed') enableRelaxedSimd();
  return { ...options, wasm: options.wasm ?? nodeKernelModule, packCache: nodePackStore(options.packCache) };
}

/** LoadOptions.packCache as a store: true is the user cache folder's packed/, a string a folder */
function nodePackStore(option: LoadOptions['packCache']): PackCacheStore | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return filePackStore(join(userCacheDir(), 'packed'));
  if (typeof option === 'string') {
    if (option === '') throw new MobileNetError('INVALID_OPTION', 'packCache folder must not be empty');
    return filePackStore(option);
  }
  return option; // MobileNet.load checks it is a store
}

/** Models by name in Node: downloads are cached in userCacheDir(); $MOBILENET_WASM_FETCH_BASE is the default archiveBase. */
const NODE_WEIGHTS: LoadEnvironment = { defaultCache: () => fileCacheStore(userCacheDir()) };
const withMirror = <T extends ModelFetchOptions>(o: T): T =>
  o !== null && typeof o === 'object' && o.archiveBase === undefined && process.env.MOBILENET_WASM_FETCH_BASE ? { ...o, archiveBase: process.env.MOBILENET_WASM_FETCH_BASE } : o;

/**
 * Load a registry model by name (`listModels()`), e.g. `load({ model: 'mobilenet_v1_1.0_224_quant' })`,
 * with this package's kernels. A verified copy in the user cache folder (userCacheDir()) is used
 * when there; else the file is downloaded, checked and stored there. See ModelFetchOptions.
 */
export function load(options: WeightsLoadOptions & NodeLoadOptions): Promise<MobileNet> {
  return loadWith(withMirror(withNodeKernels(options)), NODE_WEIGHTS);
}

/** The verified .tflite bytes of a registry model, from the user cache folder or downloaded into it. */
export function fetchModelFile(options: ModelFetchOptions): Promise<FetchedModel> {
  return fetchModelFileWith(withMirror(options), NODE_WEIGHTS);
}
export { userCacheDir };

const reason = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code ?? String((e as Error)?.message ?? e);
};

/**
 * Reads a regular file of at most `maxBytes` bytes: the size is taken from the open file
 * (fstat), so a device (/dev/zero), a FIFO or a file that grows cannot make the read unbounded.
 */
async function readBounded(path: string, maxBytes: number, what: string, limit = '(option maxModelBytes)'): Promise<Uint8Array> {
  let fh: FileHandle;
  try {
    // non-blocking, so opening a FIFO does not wait for a writer (fstat refuses it next)
    fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    throw new MobileNetError('IO', `cannot read ${what} ${path}: ${reason(e)}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new MobileNetError('IO', `${what} ${path} is not a regular file`);
    if (st.size > maxBytes) {
      throw new MobileNetError('INVALID_MODEL', `${what} ${path} is ${st.size} bytes, more than the limit of ${maxBytes} ${limit}`);
    }
    const bytes = new Uint8Array(st.size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await fh.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    if (at !== bytes.length) throw new MobileNetError('IO', `${what} ${path} changed while it was read (${at} of ${bytes.length} bytes)`);
    return bytes;
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    throw new MobileNetError('IO', `cannot read ${what} ${path}: ${reason(e)}`);
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * Reads a model from a path: a .tflite file, a TF.js model.json, or a folder holding one.
 * A TF.js model's weight files must lie inside its folder: the manifest's paths are checked
 * (src/formats/tfjs.ts), and each file's real path (symlinks resolved) must be inside the
 * folder's real path too. Each file's size is checked against what its group may still hold
 * before it is read.
 */
export async function readModelFile(path: string, options: { maxModelBytes?: number } = {}): Promise<ModelSource> {
  if (typeof path !== 'string' || path === '') throw new MobileNetError('INVALID_OPTION', 'model path must be a non-empty string');
  const maxModelBytes = options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
  if (!(typeof maxModelBytes === 'number' && maxModelBytes > 0)) {
    throw new MobileNetError('INVALID_OPTION', `maxModelBytes must be a positive number, got ${String(maxModelBytes)}`);
  }
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new MobileNetError('IO', `cannot read model ${path}: ${reason(e)}`);
  }
  if (st.isDirectory()) path = join(path, 'model.json');
  if (!path.endsWith('.json')) return readBounded(path, maxModelBytes, 'model file');
  const text = new TextDecoder().decode(await readBounded(path, MAX_MODEL_JSON_BYTES, 'TF.js model.json', 'for a model.json'));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new MobileNetError('INVALID_MODEL', `${path}: not a TF.js model.json (${(e as Error).message})`);
  }
  let dir: string;
  try {
    dir = await realpath(dirname(path));
  } catch (e) {
    throw new MobileNetError('IO', `cannot read model folder ${dirname(path)}: ${reason(e)}`);
  }
  return loadTfjsLayers(
    json,
    async (p, { maxBytes }) => {
      const file = resolve(dir, p);
      let real: string;
      try {
        real = await realpath(file);
      } catch (e) {
        throw new MobileNetError('IO', `${path}: cannot read weight file ${p}: ${reason(e)}`);
      }
      const rel = relative(dir, real);
      if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
        throw new MobileNetError('INVALID_MODEL', `${path}: weight file ${p} resolves to ${real}, outside the model's folder ${dir}`);
      }
      return readBounded(real, maxBytes, `${path}: weight file`, 'its weight group has left in the manifest');
    },
    { maxModelBytes },
  );
}
export { decodeImage, decodeImageFile, minDecodedSizeFor } from './image/decode-node.js';

/** a Blob larger than this is refused before it is read (a 50 MP 32-bit BMP is about 200 MB) */
const MAX_BLOB_BYTES = 512 * 2 ** 20;

/**
 * readImage of the core, plus Blobs and Files decoded by this entry's decoders (JPEG, PNG, BMP,
 * GIF; Node has no createImageBitmap) under decodeImage's default limits.
 */
export function readImage(source: ImageSource): Promise<RawImage> {
  if (sourceKind(source) !== 'blob') return readImageCore(source);
  return guardAsync('INVALID_IMAGE', 'readImage', async () => {
    const blob = source as BlobLike;
    if (!(typeof blob.size === 'number' && blob.size <= MAX_BLOB_BYTES)) {
      throw new MobileNetError('INVALID_IMAGE', `the Blob is ${String(blob.size)} bytes, more than the limit of ${MAX_BLOB_BYTES}`);
    }
    return decodeImage(new Uint8Array(await blob.arrayBuffer()), { name: 'the Blob' });
  });
}
export { MobileNetPool, defaultJobs } from './worker/pool.js';
export type { PoolOptions, PoolClassifyOptions, PoolResult } from './worker/pool.js';
