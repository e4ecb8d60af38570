/**
 * DEPTHWISE_CONV_2D, every dtype. A depth multiplier M > 1 (output channel c*M + m reads input
 * channel c: what the converter emits for a one-channel stem, e.g. TFLite Micro's person
 * detector) runs as the multiplier-1 kernel on the input with each channel repeated M times,
 * made in scratch: the same products and sums, so the same bytes.
 */
import type { DepthwiseConv2DOp } from '../../model/ir.js';
import { bytesPerElement } from '../../model/ir.js';
import { invalidModel } from '../../errors.js';
import type { PreparedOp } from '../types.js';
import { ACTIVATION_SLACK } from '../types.js';
import { checkFloatOp } from '../f32-common.js';
import { prepareDepthwise as prepareF32 } from './f32.js';
import { prepareDepthwise as prepareQ8 } from './q8.js';

const align16 = (n: number) => (n + 15) & ~15;

export function prepareDepthwiseConv2d(op: DepthwiseConv2DOp): PreparedOp {
  const multiplier = depthMultiplier(op);
  if (multiplier === 1) return prepareOne(op);
  const [n, h, w, c] = op.input.shape;
  const expanded: DepthwiseConv2DOp = { ...op, input: { ...op.input, shape: [n, h, w, c * multiplier] } };
  const inner = prepareOne(expanded);
  const elem = bytesPerElement(op.input.dtype);
  const pixels = h * w;
  const expandedBytes = align16(pixels * c * multiplier * elem + ACTIVATION_SLACK);
  return {
    kernel: `repeat_channels+${inner.kernel}`,
    constants: inner.constants,
    scratchBytes: expandedBytes + inner.scratchBytes,
    macs: inner.macs,
    run(k, p) {
      const dst = p.scratch;
      // element e = px * C + ch goes to px * C * M + ch * M + m for every m: one typed view per
      // dtype (float32 elements, or bytes), as plain element copies; bytes by whole words when M allows
      const n = pixels * c;
      if (elem === 1 && multiplier % 4 === 0 && (dst & 3) === 0) repeatBytesAsWords(k.memory.buffer, p.input, dst, n, multiplier);
      else {
        const from = elem === 4 ? new Float32Array(k.memory.buffer, p.input, n) : new Int8Array(k.memory.buffer, p.input, n);
        const to = elem === 4 ? new Float32Array(k.memory.buffer, dst, n * multiplier) : new Int8Array(k.memory.buffer, dst, n * multiplier);
        for (let e = 0, o = 0; e < n; e++) {
          const v = from[e];
          for (let m = 0; m < multiplier; m++) to[o++] = v;
        }
      }
      inner.run(k, { ...p, input: dst, inputs: [dst], scratch: dst + expandedBytes });
    },
  };
}

/**
 * Each byte repeated `multiplier` (a multiple of 4) times, written as 32-bit words of four copies:
 * byte stores made the person detector's stem (96x96 bytes x 8) 0.26 ms instead of 0.15 ms.
 * `dst` must be 4-byte aligned (scratch is 16-byte aligned; the caller checks).
 */
function repeatBytesAsWords(buffer: ArrayBuffer, src: number, dst: number, n: number, multiplier: number): void {
  const from = new Uint8Array(buffer, src, n);
  const to = new Uint32Array(buffer, dst, (n * multiplier) >> 2);
  const wordsPerByte = multiplier >> 2;
  for (let e = 0, o = 0; e < n; e++) {
    const word = Math.imul(from[e], 0x01010101);
    for (let m = 0; m < wordsPerByte; m++) to[o++] = word;
  }
}

function prepareOne(op: DepthwiseConv2DOp): PreparedOp {
  return op.input.dtype === 'float32' ? prepareF32(op, checkFloatOp(op)) : prepareQ8(op);
}

/** output channels / input channels, which the filter and output must agree on */
export function depthMultiplier(op: DepthwiseConv2DOp): number {
  const c = op.input.shape[op.input.shape.length - 1];
  const fc = op.filter.shape[op.filter.shape.length - 1];
  if (!(c > 0) || fc % c !== 0) throw invalidModel(`depthwise filter has ${fc} channels, not a multiple of the input's ${c} (depth multiplier must be a whole number)`);
  const oc = op.output.shape[op.output.shape.length - 1];
  if (oc !== fc) throw invalidModel(`depthwise output has ${oc} channels, the filter ${fc}`);
  return fc / c;
}
