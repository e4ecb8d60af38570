/**
 * PAD / PADV2 (TFLite pad.cc): the input surrounded by a constant, for any rank the IR can hold.
 * Float pads with 0 (PAD) or PADV2's value; quantized pads with the output zero point (PAD) or
 * PADV2's raw value. TFLite copies input bytes unchanged, so it needs input and output to share
 * their quantization (the converter guarantees it); we check it rather than assume it.
 *
 * The shape is folded into the 4-D [n, h, w, c] the kernel (assembly/q8/pad.ts, one byte mover
 * for every dtype) takes: adjacent dimensions merge when the inner one is not padded, unpadded
 * size-1 dimensions drop, and missing leading dimensions are 1.
 */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { bytesPerElement, sizeOf, type PadOp } from '../../model/ir.js';
import { MAX_TENSOR_ELEMENTS } from '../../model/validate.js';
import type { KernelExports } from '../../runtime/kernels.js';
import { dtypeRange } from '../../quant/fixedpoint.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { storedZp, tensorQuant, type TensorQuant } from '../q8-common.js';

/** the same float32 scale and the same zero point */
const sameQuant = (a: TensorQuant, b: TensorQuant) => Math.fround(a.scale) === Math.fround(b.scale) && a.zeroPoint === b.zeroPoint;

/** the kernel's rank */
const KERNEL_RANK = 4;

interface PaddedDim {
  size: number;
  before: number;
  after: number;
}

/** dims (outermost first) folded to exactly KERNEL_RANK, or null when that is impossible */
export function foldPaddedDims(dims: PaddedDim[]): PaddedDim[] | null {
  // unpadded size-1 dimensions carry nothing
  let ds = dims.filter((d) => d.size !== 1 || d.before !== 0 || d.after !== 0).map((d) => ({ ...d }));
  // an outer dimension merges into an unpadded inner one: element (i, j) sits at i * inner + j in
  // both input and output, so the pair is one dimension whose padding scales by `inner`
  for (let i = ds.length - 2; i >= 0; i--) {
    const inner = ds[i + 1];
    if (inner.before === 0 && inner.after === 0) {
      const outer = ds[i];
      ds.splice(i, 2, { size: outer.size * inner.size, before: outer.before * inner.size, after: outer.after * inner.size });
    }
  }
  if (ds.length > KERNEL_RANK) return null;
  while (ds.length < KERNEL_RANK) ds = [{ size: 1, before: 0, after: 0 }, ...ds];
  return ds;
}

/** the fill value's bit pattern as the kernel writes it (int8 storage byte, or float32 bits) */
function fillBits(op: PadOp): number {
  const { input, output } = op;
  if (input.dtype === 'float32') {
    const v = op.value ?? 0;
    if (typeof v !== 'number') throw invalidModel(`pad value ${String(v)} is not a number`);
    return new Int32Array(new Float32Array([v]).buffer)[0];
  }
  const outQ = tensorQuant(output, 'pad output');
  if (op.value === undefined) return storedZp(outQ.dtype, outQ.zeroPoint);
  const { qmin, qmax } = dtypeRange(outQ.dtype);
  if (!Number.isInteger(op.value) || op.value < qmin || op.value > qmax) {
    throw invalidModel(`pad value ${op.value} of '${output.name}' is not a ${outQ.dtype} value`);
  }
  return storedZp(outQ.dtype, op.value);
}

export function preparePad(op: PadOp): PreparedOp {
  const { input, output, paddings } = op;
  if (input.dtype !== output.dtype) throw unsupportedModel(`pad with ${input.dtype} input '${input.name}' and ${output.dtype} output '${output.name}'`);
  if (input.dtype !== 'float32') {
    const inQ = tensorQuant(input, 'pad input');
    const outQ = tensorQuant(output, 'pad output');
    if (!sameQuant(inQ, outQ)) {
      throw unsupportedModel(`pad input '${input.name}' (scale ${inQ.scale}, zero point ${inQ.zeroPoint}) and output '${output.name}' (scale ${outQ.scale}, zero point ${outQ.zeroPoint}) differ: TFLite requires them equal`);
    }
  }
  const rank = input.shape.length;
  if (rank === 0) throw unsupportedModel(`pad of the scalar '${input.name}'`);
  if (!Array.isArray(paddings) || paddings.length !== rank) {
    throw invalidModel(`pad of '${input.name}' (rank ${rank}) has ${Array.isArray(paddings) ? paddings.length : 'no'} [before, after] paddings, expected ${rank}`);
  }
  const dims: PaddedDim[] = [];
  const expected: number[] = [];
  for (let d = 0; d < rank; d++) {
    const pair = paddings[d];
    const size = input.shape[d];
    if (!Number.isInteger(size) || size <= 0) throw invalidModel(`pad input '${input.name}' has shape [${input.shape}], expected positive dimensions`);
    if (!Array.isArray(pair) || pair.length !== 2) throw invalidModel(`pad of '${input.name}': paddings[${d}] is not a [before, after] pair`);
    const [before, after] = pair;
    if (!Number.isInteger(before) || !Number.isInteger(after) || before < 0 || after < 0) {
      throw invalidModel(`pad of '${input.name}': paddings[${d}] = [${before}, ${after}] must be non-negative integers`);
    }
    if (before > MAX_TENSOR_ELEMENTS || after > MAX_TENSOR_ELEMENTS) {
      throw invalidModel(`pad of '${input.name}': paddings[${d}] = [${before}, ${after}] exceeds ${MAX_TENSOR_ELEMENTS}`);
    }
    dims.push({ size, before, after });
    expected.push(size + before + after);
  }
  const outElements = sizeOf(expected);
  if (outElements > MAX_TENSOR_ELEMENTS) {
    throw invalidModel(`pad of '${input.name}' makes [${expected}] (${outElements} elements), more than the ${MAX_TENSOR_ELEMENTS} allowed`);
  }
  if (output.shape.length !== rank || output.shape.some((s, d) => s !== expected[d])) {
    throw invalidModel(`pad output '${output.name}' has shape [${output.shape}], the paddings give [${expected}]`);
  }
  const fill = fillBits(op);
  const folded = foldPaddedDims(dims);
  if (!folded) throw unsupportedModel(`pad of '${input.name}' pads more than ${KERNEL_RANK} separable dimensions (paddings [${paddings.map((p) => `[${p}]`).join(', ')}])`);
  const [n, h, w, c] = folded;
  const elemBytes = bytesPerElement(input.dtype);
  return {
    kernel: 'pad4d',
    constants: [],
    scratchBytes: 0,
    macs: outElements,
    run(k: KernelExports, p: RunPointers) {
      k.pad4d(p.input, n.size, h.size, w.size, c.size, elemBytes, n.before, n.after, h.before, h.after, w.before, w.after, c.before, c.after, fill, p.output);
    },
  };
}
