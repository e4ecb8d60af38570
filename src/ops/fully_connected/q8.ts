/** FULLY_CONNECTED as a q8 GEMM. */
import { invalidModel } from '../../errors.js';
import { sizeOf, type FullyConnectedOp } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { gemmScratchBytes, packGemmRows, packInt32, packRequantFor, roundUp } from '../../quant/pack.js';
import { checkBias, filterInfo, foldInputZeroPointRows, requantEpilogue, quantizedInOut } from '../q8-common.js';

export function prepareFullyConnected(op: FullyConnectedOp): PreparedOp {
  const { inQ, outQ } = quantizedInOut(op);
  if (op.filter.shape.length !== 2) throw invalidModel(`fully connected weights shape [${op.filter.shape}] must be [O, I]`);
  const [n, k] = op.filter.shape;
  const total = sizeOf(op.input.shape);
  if (!(n > 0 && k > 0) || total % k !== 0) throw invalidModel(`input of ${total} values does not split into rows of ${k}`);
  const m = total / k;
  if (sizeOf(op.output.shape) !== m * n) throw invalidModel(`output has ${sizeOf(op.output.shape)} values, expected ${m} x ${n}`);
  const f = filterInfo(op.filter, inQ, outQ, n, 0, true);
  const bias = checkBias(op.bias, n);
  const { act, xzp, yzp, mode } = requantEpilogue(op, inQ, outQ, f.multipliers);
  const np = roundUp(n, 4);
  const rowSums = new Int32Array(n);
  const weights = packGemmRows(f.stored, n, k, rowSums);
  const constants = [weights, packInt32(foldInputZeroPointRows(bias, rowSums, xzp), np), packRequantFor(f.multipliers, np, mode)];
  return {
    kernel: 'q8_gemm',
    constants,
    scratchBytes: gemmScratchBytes(k),
    macs: m * n * k,
    run(kx: KernelExports, p: RunPointers) {
      kx.q8_gemm(p.input, m, k, p.constants[0], f.stored.zp, n, p.constants[1], p.constants[2], mode, yzp, act.min, act.max, p.output, p.scratch);
    },
  };
}
