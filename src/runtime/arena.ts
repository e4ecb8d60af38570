/**
 * One arena per model in wasm linear memory, reserved once at load (wasm memory never shrinks):
 *
 *   [0, base)            static data of the kernels, and at least 1024 unused bytes
 *   constants            packed weights, biases, multipliers; each 16-byte aligned
 *   activations          every activation tensor at its planned offset (src/runtime/plan.ts:
 *                        by lifetime, each with slack for SIMD over-read)
 *   scratch              per-op scratch, shared by all ops
 */
import { MobileNetError } from '../errors.js';
import { ACTIVATION_SLACK } from '../ops/types.js';
import type { WasmMemory } from '../wasm-types.js';

export const PAGE = 65536;
export const DEFAULT_MAX_MEMORY = 1024 * 1024 * 1024; // 1 GiB: well under wasm32's 4 GiB and any sane MobileNet

const align16 = (n: number) => (n + 15) & ~15;

export interface ArenaLayout {
  constantOffsets: number[][]; // per step, per constant
  /** start of the activation region; a tensor lives at activations + plan.offsets.get(id) */
  activations: number;
  activationBytes: number;
  scratch: number;
  scratchBytes: number;
  end: number;
  constantBytes: number;
}

/** where the constants start: above the module's static data, and never at 0 (a null pointer bug reads zeros, never weights) */
export const arenaBase = (heapBase: number) => align16(Math.max(1024, heapBase));

export function layoutArena(constants: Uint8Array[][], activationBytes: number, scratchBytes: number, heapBase = 0): ArenaLayout {
  const base = arenaBase(heapBase);
  let top = base;
  const constantOffsets = constants.map((list) =>
    list.map((c) => {
      const at = align16(top);
      top = at + c.byteLength;
      return at;
    }),
  );
  const constantBytes = top - base;
  const activations = align16(top);
  const scratch = activations + align16(activationBytes);
  const end = scratch + align16(scratchBytes + ACTIVATION_SLACK);
  return { constantOffsets, activations, activationBytes, scratch, scratchBytes, end, constantBytes };
}

/** Grow `memory` once so that it holds `bytes`; refuses (typed error) beyond `limit`. */
export function reserve(memory: WasmMemory, bytes: number, limit = DEFAULT_MAX_MEMORY): void {
  if (!(bytes <= limit)) {
    throw new MobileNetError(
      'OUT_OF_MEMORY',
      `model needs ${(bytes / 2 ** 20).toFixed(1)} MiB of wasm memory, over the limit of ${(limit / 2 ** 20).toFixed(0)} MiB (option maxMemoryBytes)`,
    );
  }
  const have = memory.buffer.byteLength;
  if (bytes <= have) return;
  try {
    memory.grow(Math.ceil((bytes - have) / PAGE));
  } catch (e) {
    throw new MobileNetError('OUT_OF_MEMORY', `cannot grow wasm memory to ${(bytes / 2 ** 20).toFixed(1)} MiB: ${(e as Error).message}`);
  }
}
