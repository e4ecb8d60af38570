import type { KernelExports } from '../runtime/kernels.js';

/**
 * An op made ready to run: its constants packed into the layout its kernel streams, and a
 * closure that issues the kernel call(s). Packed layouts are the same for every kernel
 * flavour (scalar / simd / relaxed), so one prepared model runs on any build.
 *
 * Activations live in the arena in the op's dtype, with one exception: quantized tensors are
 * always stored as int8. A uint8 tensor is stored shifted by -128 (byte XOR 0x80) and its zero
 * point is shifted the same way, which leaves every integer product and sum of TFLite's uint8
 * kernels unchanged, so one set of int8 kernels serves both.
 */
export interface PreparedOp {
  /** kernel name for profiles, e.g. 'f32_gemm' */
  kernel: string;
  /** constant blobs copied once into the arena; each placed at a 16-byte aligned offset */
  constants: Uint8Array[];
  /** bytes of scratch the op needs during run (shared by all ops) */
  scratchBytes: number;
  /** multiply-adds, for profiles */
  macs: number;
  /** issue the kernel call(s); pointers are byte offsets in kernel memory */
  run(k: KernelExports, p: RunPointers): void;
}

export interface RunPointers {
  /** the first of `inputs` */
  input: number;
  /** the first of `outputs` */
  output: number;
  /** every activation input of the op (constants excluded), in the op's input order */
  inputs: number[];
  /** every output of the op, in order */
  outputs: number[];
  /** offsets of `constants`, same order */
  constants: number[];
  scratch: number;
}

/** Bytes of slack after every activation buffer, so SIMD kernels may over-read 16 bytes. */
export const ACTIVATION_SLACK = 64;
