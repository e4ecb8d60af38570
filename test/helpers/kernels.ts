/**
 * Test access to the kernel builds. Loads the combined build/mobilenet-<flavour>.wasm, every
 * kernel of both precisions (or the folder in MNW_WASM_DIR, so a kernel can be developed against
 * its own partial build), and gives a bump allocator over the module's memory for staging
 * inputs, weights and outputs. The per-precision builds a model loads are
 * mobilenet-<set>-<flavour>.wasm (wasmPath(flavour, set)).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import v8 from 'node:v8';
import { instantiateKernels, type Flavour, type Kernels } from '../../src/runtime/kernels.js';
import { mulberry32 } from '../../src/arch/random.js';
import type { KernelSet } from '../../src/runtime/kernel-sets.js';

// Node 20 hides relaxed SIMD behind a flag; it must be set before anything is compiled.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

export const FLAVOURS: Flavour[] = ['scalar', 'simd', 'relaxed'];
export const WASM_DIR = process.env.MNW_WASM_DIR ?? join(__dirname, '..', '..', 'build');

/** the combined build of a flavour, or with `set` the build of that kernel set only */
export function wasmPath(flavour: Flavour, set?: KernelSet): string {
  return join(WASM_DIR, set ? `mobilenet-${set}-${flavour}.wasm` : `mobilenet-${flavour}.wasm`);
}

export async function loadKernels(flavour: Flavour): Promise<Kernels> {
  const p = wasmPath(flavour);
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`npm run build:wasm\` first`);
  return instantiateKernels(readFileSync(p), flavour);
}

/** Bump allocator for tests: every block 16-byte aligned, with 64 bytes of slack after it. */
export class TestHeap {
  private readonly base: number;
  private top: number;
  constructor(readonly k: Kernels) {
    // above the kernels' static data, and keep address 0 unused so a null pointer bug shows
    this.base = Math.max(1024, k.exports.heap_base());
    this.top = this.base;
  }

  reset(): void {
    this.top = this.base;
  }

  alloc(bytes: number): number {
    const ptr = (this.top + 15) & ~15;
    this.top = ptr + bytes + 64;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / 65536));
    return ptr;
  }

  /** copy a typed array in; returns its pointer */
  put(data: ArrayBufferView): number {
    const ptr = this.alloc(data.byteLength);
    new Uint8Array(this.k.memory.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return ptr;
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, n).slice();
  }
  i8(ptr: number, n: number): Int8Array {
    return new Int8Array(this.k.memory.buffer, ptr, n).slice();
  }
  u8(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.k.memory.buffer, ptr, n).slice();
  }
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, ptr, n).slice();
  }
}

/** Deterministic PRNG (the builder's mulberry32) so failures reproduce. */
export const rng = mulberry32;

/** where the shared models live; undefined when absent (tests then skip with a message) */
export const MODELS_DIR: string | undefined = (() => {
  // absolute, so tests may hand it to other folders (symlinks, child processes with another cwd)
  const d = resolve(process.env.MOBILENET_WASM_MODELS ?? join(__dirname, '..', '..', '..', 'shared', 'models'));
  return existsSync(d) ? d : undefined;
})();
export const SHARED_DIR: string | undefined = MODELS_DIR ? join(MODELS_DIR, '..') : undefined;
export const SHARED_MISSING = 'skipped: ../shared (models, golden tensors, images) not found; set MOBILENET_WASM_MODELS';
