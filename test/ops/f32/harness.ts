/**
 * Shared test plumbing for the f32 kernels: random IR ops, and a runner that prepares the op
 * with prepareF32 (so the packers are tested too), stages everything in wasm memory, runs it
 * and checks the result against test/reference/f32.ts and that nothing was written past the output.
 */
import { expect } from 'vitest';
import type { Activation, Op, Padding, TensorInfo } from '../../../src/model/ir.js';
import { convGeometry, sizeOf } from '../../../src/model/ir.js';
import { prepareOp as prepareF32 } from '../../../src/ops/index.js';
import { TestHeap, type rng } from '../../helpers/kernels.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import { refF32 } from '../../reference/f32.js';

export const CHANNELS = [1, 3, 5, 8, 11, 13, 22, 33];
export const SIZES = [1, 2, 3, 7, 15];
export const ACTIVATIONS: Activation[] = ['none', 'relu', 'relu6', 'relu_n1_to_1'];
export const PADDINGS: Padding[] = ['same', 'valid'];

type Rand = ReturnType<typeof rng>;
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
export const uniform = (r: Rand, n: number, scale: number): Float32Array => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
};
export const f32 = (name: string, shape: number[]): TensorInfo => ({ name, shape, dtype: 'float32' });

/** input/output tensors, or null when VALID leaves no output */
export function spatialOut(inH: number, inW: number, kh: number, kw: number, strides: [number, number], padding: Padding) {
  const oh = convGeometry(inH, kh, strides[0], padding).out;
  const ow = convGeometry(inW, kw, strides[1], padding).out;
  return oh > 0 && ow > 0 ? [oh, ow] : null;
}

const SENTINEL = 0xa5;
const SLACK = 64;

/** Runs op on input through prepareF32 + kernels; asserts closeness to the reference and an intact sentinel. */
export function checkOp(k: Kernels, op: Op, input: Float32Array, label: string): void {
  const prepared = prepareF32(op);
  const heap = new TestHeap(k);
  const inPtr = heap.put(input);
  const constPtrs = prepared.constants.map((c) => heap.put(c));
  const scratch = heap.alloc(prepared.scratchBytes);
  const outLen = sizeOf(op.output.shape);
  const outPtr = heap.alloc(outLen * 4);
  const mem = () => new Uint8Array(k.memory.buffer);
  mem().fill(0xff, outPtr, outPtr + outLen * 4); // NaN: an output never written fails the comparison
  mem().fill(SENTINEL, outPtr + outLen * 4, outPtr + outLen * 4 + SLACK);
  prepared.run(k.exports, { input: inPtr, output: outPtr, constants: constPtrs, scratch });
  const got = heap.f32(outPtr, outLen);
  const after = heap.u8(outPtr + outLen * 4, SLACK);
  const want = refF32(op, input);
  let worst = -1;
  for (let i = 0; i < outLen; i++) {
    const ok = Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i]));
    if (!ok) {
      worst = i;
      break;
    }
  }
  if (worst >= 0) {
    expect.fail(`${label}: output[${worst}] = ${got[worst]}, reference ${want[worst]}`);
  }
  expect(after.every((b) => b === SENTINEL), `${label}: wrote past the output`).toBe(true);
}
