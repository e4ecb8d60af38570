/**
 * Start V8's optimising tier for the hot kernels before a model's weights are packed.
 *
 * V8 compiles a wasm function lazily with its baseline compiler (Liftoff) on its first call and
 * moves it to the optimising tier (TurboFan, on a background thread) only once the function has
 * run enough code. Liftoff's SIMD code is 5-10x slower than TurboFan's here (a 196x256x256
 * q8_gemm16: 7.2 ms on its first call, 0.75 ms once tiered), so a cold start's first inference
 * ran its stem and classifier mostly in Liftoff: 1.0/224 uint8's first run took about twice a
 * warm one (bench/STARTUP.md). A few calls of each hot kernel on small zero-filled problems use
 * up the tier-up budget in a couple of milliseconds; TurboFan then compiles them while the load
 * packs the weights in JavaScript, and the first inference finds optimised code. A library cannot
 * set V8 flags, so this is the lever it has. The kernels compute nothing the model keeps: the
 * region they use lies where the arena will be and is zeroed again afterwards.
 */
import type { Kernels } from './kernels.js';
import { kernelSetsOf } from './kernel-sets.js';
import type { Op } from '../model/ir.js';
import type { KernelExports } from './kernel-abi.js';
import { arenaBase, reserve } from './arena.js';
import { RequantMode } from '../quant/pack.js';

/** bytes of each operand slot of the warm-up calls (every call's operands fit in one) */
const SLOT = 64 * 1024;
/** operand slots: input, weights, bias, requantization, output, scratch (scratch two slots) */
const SLOTS = 7;
export const WARM_UP_BYTES = SLOT * SLOTS;
/** calls per kernel: enough for V8 11's tier-up budget at these sizes (measured) */
const CALLS = 3;

interface Slots {
  a: number;
  w: number;
  bias: number;
  rq: number;
  out: number;
  scratch: number;
}

type WarmCall = (k: KernelExports, s: Slots) => void;

/**
 * The kernels whose Liftoff code a MobileNet's first run spent its time in: the stem (im2col +
 * gemm16), the fused depthwise + pointwise steps (dwconv16 + gemm16), the classifier (gemm); the
 * float stem, fused steps and classifier. Pooling and softmax run once for microseconds and are
 * left to Liftoff. Each TurboFan compile costs 1-12 ms of a background thread, so only the gemm16
 * entry the model's quantization points at is warmed: one weight scale per tensor (uint8 files)
 * gives a shared right shift (q8_gemm16_rs), per-channel scales (int8 files) short per-channel
 * shifts (q8_gemm16_rl). A wrong guess costs that compile, never a result. Sizes: the smallest
 * that tier up within three calls (measured), about 3-7 ms of Liftoff time for the q8 set.
 */
function warmCalls(ops: readonly Op[]): WarmCall[] {
  const sets = kernelSetsOf(ops);
  const calls: WarmCall[] = [];
  if (sets.includes('q8')) {
    const perChannel = ops.some((o) => 'filter' in o && (o.filter.quant?.scale.length ?? 1) > 1);
    calls.push(
      (k, s) => k.q8_im2col16(s.a, 8, 8, 3, 3, 3, 2, 2, 0, 0, 3, 0, 3, 0, s.out),
      (k, s) => k.q8_dwconv16(s.a, 8, 8, 32, s.w, 0, s.bias, s.rq, RequantMode.GENERAL, 3, 3, 1, 1, 1, 1, 8, 8, 0, 0, -128, 127, s.out, 0, 8, 0, s.scratch),
      perChannel
        ? (k, s) => k.q8_gemm16_rl(s.a, 64, 64, s.w, 0, 32, s.bias, s.rq, RequantMode.PER_CHANNEL_SHORT_RIGHT_SHIFTS, 0, -128, 127, s.out, s.scratch)
        : (k, s) => k.q8_gemm16_rs(s.a, 64, 64, s.w, 0, 32, s.bias, s.rq, 8, 0, -128, 127, s.out, s.scratch),
      (k, s) => k.q8_gemm(s.a, 4, 256, s.w, 0, 32, s.bias, s.rq, perChannel ? RequantMode.PER_CHANNEL_SHORT_RIGHT_SHIFTS : 8, 0, -128, 127, s.out, s.scratch),
    );
  }
  if (sets.includes('f32')) {
    calls.push(
      (k, s) => k.f32_convgemm(s.a, s.w, s.bias, s.out, s.scratch, 16, 16, 3, 8, 8, 32, 3, 3, 2, 2, 0, 0, 0, 6, 65),
      (k, s) => k.f32_dwpw(s.a, s.w, s.bias, s.rq, s.bias, s.out, s.scratch, 8, 8, 32, 8, 8, 1, 1, 1, 1, 0, 6, 32, 0, 6, 65),
      (k, s) => k.f32_gemm(s.a, s.w, s.bias, s.out, 16, 256, 32, 0, 6),
    );
  }
  return calls;
}

/**
 * Below this many multiply-adds the warm-up costs more than it saves: 0.25/128 uint8 (14 M) ran its
 * first inference in 13.6 CPU ms without it and 9.1 with it, but the warm-up and its compiles
 * added 9 ms to the load (bench/STARTUP.md); 1.0/224 (569 M) saved 10-15 ms of first run.
 */
export const WARM_UP_MIN_MACS = 100e6;

/** multiply-adds of the weighted ops, from shapes alone (the ops are not validated yet: odd shapes count as 0) */
export function roughMacs(ops: readonly Op[]): number {
  let macs = 0;
  for (const op of ops) {
    if (!('filter' in op) || !('output' in op)) continue;
    const out = op.output?.shape, f = op.filter?.shape;
    if (!Array.isArray(out) || !Array.isArray(f) || f.length < 2) continue;
    const perOutput = f.reduce((a, b) => a * b, 1) / (op.op === 'depthwise_conv2d' ? f[f.length - 1] : f[0]);
    const m = out.reduce((a, b) => a * b, 1) * perOutput;
    if (Number.isFinite(m)) macs += m;
  }
  return macs;
}

/**
 * Calls the hot kernels `ops` will run a few times on zeros, in a region at the bottom of the arena
 * (grown if the memory is smaller), and zeroes it again; nothing for a model of fewer than
 * WARM_UP_MIN_MACS multiply-adds. Never fails a load: a kernel missing
 * from the build or trapping is skipped. Returns the names of the calls that threw (tests).
 */
export function warmKernels(kernels: Kernels, ops: readonly Op[], maxMemoryBytes: number, minMacs = WARM_UP_MIN_MACS): string[] {
  if (roughMacs(ops) < minMacs) return [];
  const failed: string[] = [];
  const base = arenaBase(kernels.exports.heap_base());
  try {
    // the arena starts here and is at least this large for any MobileNet; a smaller limit skips the warm-up
    reserve(kernels.memory, base + WARM_UP_BYTES, maxMemoryBytes);
  } catch {
    return ['reserve'];
  }
  const s: Slots = { a: base, w: base + SLOT, bias: base + 2 * SLOT, rq: base + 3 * SLOT, out: base + 4 * SLOT, scratch: base + 5 * SLOT };
  for (const call of warmCalls(ops)) {
    try {
      for (let i = 0; i < CALLS; i++) call(kernels.exports, s);
    } catch (e) {
      failed.push(`${String(call).slice(0, 60)}: ${(e as Error)?.message}`);
    }
  }
  new Uint8Array(kernels.memory.buffer, base, WARM_UP_BYTES).fill(0);
  return failed;
}
