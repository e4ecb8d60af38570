/** QUANTIZE (float -> int8/uint8, and int -> int requantization such as uint8 <-> int8) and DEQUANTIZE. */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { sizeOf, type DequantizeOp, type QuantizeOp } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { dtypeRange, multiplyByQuantizedMultiplier } from '../../quant/fixedpoint.js';
import { checkedMultiplier, tensorQuant } from '../q8-common.js';

export function prepareQuantize(op: QuantizeOp): PreparedOp {
  const outQ = tensorQuant(op.output, 'output');
  const n = sizeOf(op.input.shape);
  if (sizeOf(op.output.shape) !== n) throw invalidModel('quantize output size differs from its input');
  const { qmin, qmax } = dtypeRange(outQ.dtype);
  const outShift = outQ.dtype === 'uint8' ? 128 : 0;
  if (op.input.dtype === 'float32') {
    const scale = Math.fround(outQ.scale);
    return {
      kernel: 'q8_quantize_f32',
      constants: [],
      scratchBytes: 0,
      macs: n,
      run(kx: KernelExports, p: RunPointers) {
        // q = clamp(round_half_away(x / scale) + zero point) in storage form (assembly/q8/quantize.ts)
        kx.q8_quantize_f32(p.input, p.output, n, scale, outQ.zeroPoint, qmin, qmax, outShift);
      },
    };
  }
  const inQ = tensorQuant(op.input, 'input');
  const inShift = inQ.dtype === 'uint8' ? 128 : 0;
  const mq = checkedMultiplier(Math.fround(inQ.scale) / Math.fround(outQ.scale), 'requantize');
  // An 8-bit input has 256 values: TFLite's requantization of each, computed once at prepare,
  // is a table the q8_lut kernel applies (indexed by the stored byte, unsigned) -- the same
  // bytes as the per-element arithmetic, without it (6.9 ms -> a table lookup on v2's input)
  const table = new Int8Array(256);
  for (let byte = 0; byte < 256; byte++) {
    const stored = byte >= 128 ? byte - 256 : byte;
    const x = stored + inShift - inQ.zeroPoint;
    const v = multiplyByQuantizedMultiplier(x, mq.multiplier, mq.shift) + outQ.zeroPoint;
    table[byte] = Math.min(qmax, Math.max(qmin, v)) - outShift;
  }
  return {
    kernel: 'q8_lut',
    constants: [new Uint8Array(table.buffer)],
    scratchBytes: 0,
    macs: n,
    run(kx: KernelExports, p: RunPointers) {
      kx.q8_lut(p.input, p.output, n, p.constants[0]);
    },
  };
}

export function prepareDequantize(op: DequantizeOp): PreparedOp {
  const inQ = tensorQuant(op.input, 'input');
  if (op.output.dtype !== 'float32') throw unsupportedModel(`dequantize to ${op.output.dtype}`);
  const n = sizeOf(op.input.shape);
  if (sizeOf(op.output.shape) !== n) throw invalidModel('dequantize output size differs from its input');
  const inShift = inQ.dtype === 'uint8' ? 128 : 0;
  const scale = Math.fround(inQ.scale);
  return {
    kernel: 'dequantize',
    constants: [],
    scratchBytes: 0,
    macs: n,
    run(kx: KernelExports, p: RunPointers) {
      const src = new Int8Array(kx.memory.buffer, p.input, n);
      const dst = new Float32Array(kx.memory.buffer, p.output, n);
      for (let i = 0; i < n; i++) dst[i] = scale * (src[i] + inShift - inQ.zeroPoint);
    },
  };
}
