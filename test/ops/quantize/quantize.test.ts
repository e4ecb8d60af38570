/**
 * QUANTIZE float32 -> uint8 / int8 in wasm (q8_quantize_f32) against the plain-loop reference
 * (test/reference/q8.ts: TFLite's round_half_away(x / scale) + zero point, clamped), on every
 * build: random values, exact halves, values next to halves, huge, infinite and NaN inputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareOp } from '../../../src/ops/index.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import type { Op } from '../../../src/model/ir.js';
import { refQ8 } from '../../reference/q8.js';
import { FLAVOURS, loadKernels, rng } from '../../helpers/kernels.js';
import { runOp } from '../../helpers/run-op.js';

const kernels: Partial<Record<(typeof FLAVOURS)[number], Kernels>> = {};
beforeAll(async () => {
  for (const f of FLAVOURS) kernels[f] = await loadKernels(f);
});

function inputs(scale: number, seed: number): Float32Array {
  const r = rng(seed);
  // NaN first: TFLite's result is undefined there; ours is qmin (checked apart from the reference)
  const xs: number[] = [NaN, Infinity, -Infinity, 0, -0, 3e38, -3e38, 1e-45];
  for (let k = -300; k <= 300; k++) {
    const half = Math.fround((k + 0.5) * scale);
    xs.push(half, Math.fround(half * (1 + 2 ** -23)), Math.fround(half * (1 - 2 ** -23)));
  }
  for (let i = 0; i < 4000; i++) xs.push((r() * 2 - 1) * scale * 300);
  return Float32Array.from(xs);
}

describe('QUANTIZE float32 -> 8-bit (q8_quantize_f32)', () => {
  for (const dtype of ['uint8', 'int8'] as const) {
    it(`${dtype}: every build equals the reference, edge values included`, () => {
      const r = rng(dtype === 'uint8' ? 5 : 6);
      for (let t = 0; t < 12; t++) {
        const scale = Math.fround(2 ** (r() * 16 - 12));
        const zp = dtype === 'uint8' ? Math.floor(r() * 256) : Math.floor(r() * 256) - 128;
        const x = inputs(scale, t);
        const op: Op = {
          op: 'quantize',
          input: { name: 'x', shape: [1, x.length], dtype: 'float32' },
          output: { name: 'q', shape: [1, x.length], dtype, quant: { scale: [scale], zeroPoint: [zp], axis: 0 } },
        };
        const want = refQ8(op, x) as Uint8Array | Int8Array;
        const prepared = prepareOp(op);
        expect(prepared.kernel).toBe('q8_quantize_f32');
        for (const f of FLAVOURS) {
          const { out, overrun } = runOp(kernels[f]!, prepared, [x], x.length);
          expect(overrun).toBe(false);
          const got = dtype === 'uint8' ? Uint8Array.from(out, (b) => (b ^ 0x80)) : new Int8Array(out.buffer, out.byteOffset, out.length);
          expect(got[0], 'NaN goes to qmin').toBe(dtype === 'uint8' ? 0 : -128);
          const diff = got.findIndex((v, i) => i > 0 && v !== want[i]);
          expect(diff, `${f} scale ${scale} zp ${zp}: index ${diff} x=${x[diff]} got ${got[diff]} want ${want[diff]}`).toBe(-1);
        }
      }
    });
  }
});
