/**
 * Where the CLI finds models and labels: `--model` (a path, or a known name), else the folder
 * named by MOBILENET_WASM_MODELS, else the user cache folder (filled by `mobilenet-wasm fetch`
 * and by load({ model }); see src/weights/node-cache.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MobileNetError } from '../errors.js';
import { parseLabels } from '../labels.js';
import { DEFAULT_MODEL, LABEL_FILES, MODELS } from '../weights/registry.js';
import { userCacheDir } from '../weights/node-cache.js';
import type { ModelEntry } from '../weights/types.js';
import { ioError, ioSync } from './common.js';

const here = dirname(fileURLToPath(import.meta.url));
/** weights/ of the package (beside dist/ or src/) */
export const WEIGHTS_DIR = join(here, '..', '..', 'weights');

export type KnownModel = ModelEntry;

export interface Registry {
  default: string;
  labels: Readonly<Record<string, string>>;
  models: readonly KnownModel[];
}

/** The registry (weights/models.json, compiled into src/weights/registry.ts). */
export function knownModels(): Registry {
  return { default: DEFAULT_MODEL, labels: LABEL_FILES, models: MODELS };
}

/** Folders searched for a model given by name, in order. */
export function modelFolders(): string[] {
  const dirs: string[] = [];
  if (process.env.MOBILENET_WASM_MODELS) dirs.push(resolve(process.env.MOBILENET_WASM_MODELS));
  dirs.push(resolve(userCacheDir()));
  return dirs;
}

/** Resolve `--model` (path or name; undefined = the registry's default model) to a file path. */
export function resolveModel(model: string | undefined): string {
  if (model && (existsSync(model) || model.includes('/') || model.includes('\\'))) {
    if (!existsSync(model)) throw new MobileNetError('IO', `model file not found: ${model}`);
    return model;
  }
  const name = (model ?? knownModels().default).replace(/\.tflite$/, '');
  const tried: string[] = [];
  for (const dir of modelFolders()) {
    const p = join(dir, `${name}.tflite`);
    if (existsSync(p)) return checkedAgainstSidecar(p, name);
    tried.push(p);
  }
  const known = knownModels().models.some((m) => m.name === name);
  throw new MobileNetError(
    'IO',
    `model '${name}' not found (looked in ${tried.join(', ')}); ` +
      (known ? `run \`mobilenet-wasm fetch ${name}\`, set MOBILENET_WASM_MODELS to a folder holding it, or pass --model PATH` : 'pass --model PATH'),
  );
}

/**
 * A file fetched into the cache has its sha256 beside it (src/weights/node-cache.ts): a file that
 * no longer matches it is damaged, and classifying with it would give wrong answers silently.
 */
function checkedAgainstSidecar(path: string, name: string): string {
  const sidecar = `${path}.sha256`;
  if (!existsSync(sidecar)) return path;
  const recorded = ioSync('read', sidecar, () => readFileSync(sidecar, 'utf8'), 'checksum file').split(/\s/)[0];
  const actual = createHash('sha256')
    .update(ioSync('read', path, () => readFileSync(path), 'model file'))
    .digest('hex');
  if (actual !== recorded) {
    throw new MobileNetError('INVALID_MODEL', `${path} does not match its sha256 in ${sidecar} (damaged?): run \`mobilenet-wasm fetch ${name} --force\``);
  }
  return path;
}

/** Labels from `--labels`, else the ImageNet list shipped in weights/labels when the model has 1000 or 1001 classes. */
export function resolveLabels(path: string | undefined, classes: number): string[] | undefined {
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw ioError(e, 'read', path, 'labels file');
    }
    return parseLabels(text);
  }
  if (classes === 1000 || classes === 1001) {
    const file = join(WEIGHTS_DIR, knownModels().labels.imagenet_1001);
    return parseLabels(ioSync('read', file, () => readFileSync(file, 'utf8'), 'labels file'));
  }
  return undefined;
}
