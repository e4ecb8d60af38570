/**
 * Instantiates one of the three kernel builds (scalar / simd / relaxed) from a precompiled
 * WebAssembly.Module (Cloudflare Workers and other hosts that forbid compiling at run time)
 * or from bytes. No Node built-ins here: this file is part of the portable core.
 */
import { instantiate } from '@assemblyscript/loader';
import { MobileNetError, invalidOption } from '../errors.js';
import { anyBytes, describeValue } from './typed.js';

export type Flavour = 'scalar' | 'simd' | 'relaxed';
export type KernelChoice = 'auto' | Flavour;
export type KernelSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView;

/** The exported kernel functions; all pointers are byte offsets into `memory`. */
export type KernelExports = Record<string, (...args: number[]) => number> & { memory: WebAssembly.Memory };

export interface Kernels {
  flavour: Flavour;
  exports: KernelExports;
  memory: WebAssembly.Memory;
}

// Smallest modules that use an instruction of each feature, to ask the engine.
// (module (func (result v128) (v128.const i32x4 0 0 0 0)))
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 11,
]);
// (module (func (result v128) (f32x4.relaxed_madd (v128.const ..) (v128.const ..) (v128.const ..))))
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 253, 133, 2, 11,
]);

export function engineSupports(feature: 'simd' | 'relaxed'): boolean {
  try {
    return WebAssembly.validate(feature === 'simd' ? SIMD_PROBE : RELAXED_PROBE);
  } catch {
    return false;
  }
}

/**
 * 'auto' picks the fastest build the engine validates: relaxed SIMD (fused multiply-add in the
 * float GEMM), else SIMD, else scalar. Integer kernels give identical results on all three.
 */
export function chooseFlavour(choice: KernelChoice = 'auto'): Flavour {
  if (choice === 'auto') {
    if (engineSupports('relaxed')) return 'relaxed';
    return engineSupports('simd') ? 'simd' : 'scalar';
  }
  if (choice !== 'scalar' && choice !== 'simd' && choice !== 'relaxed') {
    throw invalidOption(`kernels must be 'auto', 'simd', 'scalar' or 'relaxed', got ${describeValue(choice)}`);
  }
  if (choice !== 'scalar' && !engineSupports(choice)) {
    throw invalidOption(`kernels '${choice}' requested but this engine does not support ${choice === 'simd' ? 'WebAssembly SIMD' : 'relaxed SIMD'}`);
  }
  return choice;
}

export async function instantiateKernels(source: KernelSource, flavour: Flavour): Promise<Kernels> {
  let result;
  try {
    const imports = {
      env: {
        abort(msg: number, file: number, line: number, col: number) {
          // the loader replaces this with a decoded message when it can
          throw new MobileNetError('INVALID_INPUT', `kernel abort at ${line}:${col}`);
        },
      },
    };
    const src = source instanceof WebAssembly.Module ? source : toBytes(source);
    result = await instantiate<Record<string, unknown>>(src as never, imports);
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    throw invalidOption(`cannot instantiate the ${flavour} kernels: ${(e as Error).message}`);
  }
  const exports = result.exports as unknown as KernelExports;
  return { flavour, exports, memory: exports.memory };
}

function toBytes(src: ArrayBuffer | ArrayBufferView): Uint8Array {
  const bytes = anyBytes(src);
  if (bytes) return bytes;
  throw invalidOption(`kernel source must be a WebAssembly.Module, an ArrayBuffer or a typed array, got ${describeValue(src)}`);
}
