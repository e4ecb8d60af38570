/**
 * LOGISTIC (sigmoid). float32: 1 / (1 + e^-x) in wasm (assembly/f32/elementwise.ts).
 *
 * uint8 / int8: TFLite's kReference and its default kGenericOptimized kernels both evaluate
 * 8-bit LOGISTIC through a 256-entry table built at Prepare (activations.cc SigmoidPrepare ->
 * PopulateLookupTable / LUTPopulate): dequantize in float32, 1.0f / (1.0f + expf(-x)),
 * round(y * 256) half away from zero, + output zero point, clamp. We build the same table over
 * the int8 storage bytes and run one lookup per element (q8_lut). Only kFixedPointOptimized
 * (not registered by default) uses the gemmlowp fixed-point sigmoid, which can differ by one.
 * TFLite requires the output scale 1/256 and zero point 0 (uint8) / -128 (int8).
 */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { sizeOf, type LogisticOp } from '../../model/ir.js';
import { dtypeRange, roundHalfAway } from '../../quant/fixedpoint.js';
import type { PreparedOp } from '../types.js';
import { elementQuant, isQuantized, toStoredValue } from './../add/quant.js';

const OUTPUT_SCALE = 1 / 256;
const OUTPUT_ZERO_POINT = { uint8: 0, int8: -128 } as const;
const TABLE_SIZE = 256;

/** float32 sigmoid as TFLite's table builder computes it: every operation rounded to float32 */
function sigmoidF32(x: number): number {
  const e = Math.fround(Math.exp(-x));
  return Math.fround(1 / Math.fround(1 + e));
}

/**
 * The 256-entry table, indexed by the input's storage byte (int8 as an unsigned byte), holding
 * the output's storage byte.
 */
export function logisticTable(dtype: 'uint8' | 'int8', inputScale: number, inputZeroPoint: number, outputZeroPoint: number): Int8Array {
  const { qmin, qmax } = dtypeRange(dtype);
  const inverseScale = Math.fround(1 / Math.fround(OUTPUT_SCALE));
  const scale = Math.fround(inputScale);
  const table = new Int8Array(TABLE_SIZE);
  for (let v = qmin; v <= qmax; v++) {
    const dequantized = Math.fround(scale * (v - inputZeroPoint));
    const rescaled = roundHalfAway(Math.fround(sigmoidF32(dequantized) * inverseScale));
    const quantized = Math.min(Math.max(rescaled + outputZeroPoint, qmin), qmax);
    table[toStoredValue(dtype, v) & 0xff] = toStoredValue(dtype, quantized);
  }
  return table;
}

export function prepareLogistic(op: LogisticOp): PreparedOp {
  const what = `LOGISTIC '${op.output?.name}'`;
  const { input, output } = op;
  if (input.dtype !== output.dtype) throw unsupportedModel(`${what}: input '${input.name}' is ${input.dtype} but the output is ${output.dtype}`);
  for (const t of [input, output]) {
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d <= 0)) throw invalidModel(`${what}: tensor '${t.name}' has shape [${t.shape}], expected positive integer dimensions`);
  }
  const n = sizeOf(input.shape);
  if (sizeOf(output.shape) !== n) throw invalidModel(`${what}: output shape [${output.shape}] does not match the input's [${input.shape}]`);
  if (input.constant) throw unsupportedModel(`${what}: a constant input is not supported`);

  if (input.dtype === 'float32') {
    return {
      kernel: 'f32_logistic',
      constants: [],
      scratchBytes: 0,
      macs: n,
      run(k, p) {
        k.f32_logistic(p.input, p.output, n);
      },
    };
  }
  if (!isQuantized(input.dtype)) throw unsupportedModel(`${what}: dtype ${input.dtype} is not supported`);
  const qi = elementQuant(input, `${what} input`);
  const qo = elementQuant(output, `${what} output`);
  const zp = OUTPUT_ZERO_POINT[qo.dtype];
  if (qo.scale !== OUTPUT_SCALE || qo.zeroPoint !== zp) {
    throw unsupportedModel(`${what}: ${qo.dtype} output '${output.name}' has scale ${output.quant!.scale[0]} and zero point ${qo.zeroPoint}; TFLite requires scale 1/256 and zero point ${zp}`);
  }
  const table = logisticTable(qi.dtype, qi.scale, qi.zeroPoint, zp);
  return {
    kernel: 'q8_lut',
    constants: [new Uint8Array(table.buffer)],
    scratchBytes: 0,
    macs: n,
    run(k, p) {
      k.q8_lut(p.input, p.output, n, p.constants[0]);
    },
  };
}
