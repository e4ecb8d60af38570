/** AVERAGE_POOL_2D, quantized (q8_avgpool, TFLite's rounding). */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { type AveragePool2DOp } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import { PoolRounding } from '../../quant/pack.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { geometry, storedActivationRange, quantizedInOut } from '../q8-common.js';

export function prepareAveragePool(op: AveragePool2DOp): PreparedOp {
  const { inQ, outQ } = quantizedInOut(op, 4);
  if (Math.fround(inQ.scale) !== Math.fround(outQ.scale) || inQ.zeroPoint !== outQ.zeroPoint) {
    throw unsupportedModel('average pool with different input and output quantization (TFLite requires them equal)');
  }
  const [kh, kw] = op.filterSize;
  if (![kh, kw].every((x) => Number.isInteger(x) && x > 0)) throw invalidModel(`pool size [${op.filterSize}] must be positive integers`);
  const c = op.input.shape[3];
  if (op.output.shape[3] !== c) throw invalidModel(`output has ${op.output.shape[3]} channels, expected ${c}`);
  const g = geometry(op, kh, kw);
  const act = storedActivationRange(op, outQ);
  const mode = inQ.dtype === 'uint8' ? PoolRounding.UINT8_HALF_UP : PoolRounding.INT8_HALF_AWAY;
  return {
    kernel: 'q8_avgpool',
    constants: [],
    scratchBytes: 0,
    macs: g.oh * g.ow * c * kh * kw,
    run(kx: KernelExports, p: RunPointers) {
      kx.q8_avgpool(p.input, g.h, g.w, c, kh, kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow, act.min, act.max, mode, p.output);
    },
  };
}
