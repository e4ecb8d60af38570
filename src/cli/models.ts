/**
 * Where the CLI finds models and labels: `--model` (a path, or a known name), else the folder
 * named by MOBILENET_WASM_MODELS, else weights/models/ (filled by `mobilenet-wasm fetch`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MobileNetError } from '../errors.js';
import { parseLabels } from '../labels.js';
import { ioError, ioSync } from './common.js';

const here = dirname(fileURLToPath(import.meta.url));
/** weights/ of the package (beside dist/ or src/) */
export const WEIGHTS_DIR = join(here, '..', '..', 'weights');
export const FETCHED_DIR = join(WEIGHTS_DIR, 'models');

export interface KnownModel {
  name: string;
  precision: 'float32' | 'uint8';
  alpha: number;
  resolution: number;
  url: string;
  file: string;
  sha256: string | null;
  size: number | null;
  labels: string;
}

export interface Registry {
  default: string;
  labels: Record<string, string>;
  models: KnownModel[];
}

let registry: Registry | undefined;
export function knownModels(): Registry {
  if (!registry) {
    const file = join(WEIGHTS_DIR, 'models.json');
    const text = ioSync('read', file, () => readFileSync(file, 'utf8'), 'the model registry');
    try {
      registry = JSON.parse(text) as Registry;
    } catch (e) {
      throw new MobileNetError('IO', `the model registry ${file} is not JSON (a damaged install?): ${(e as Error).message}`);
    }
  }
  return registry;
}

/** Folders searched for a model given by name, in order. */
export function modelFolders(): string[] {
  const dirs: string[] = [];
  if (process.env.MOBILENET_WASM_MODELS) dirs.push(resolve(process.env.MOBILENET_WASM_MODELS));
  dirs.push(FETCHED_DIR);
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
    if (existsSync(p)) return p;
    tried.push(p);
  }
  const known = knownModels().models.some((m) => m.name === name);
  throw new MobileNetError(
    'IO',
    `model '${name}' not found (looked in ${tried.join(', ')}); ` +
      (known ? `run \`mobilenet-wasm fetch ${name}\`, set MOBILENET_WASM_MODELS to a folder holding it, or pass --model PATH` : 'pass --model PATH'),
  );
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
