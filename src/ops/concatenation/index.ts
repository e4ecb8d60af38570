/**
 * CONCATENATION along one axis (TFLite concatenation.cc). For every index of the dimensions
 * before `axis`, each input contributes one contiguous block of dims(axis) * inner elements,
 * in input order.
 *   - float32, and int8 (TFLite's Prepare requires every int8 input to share the output's scale
 *     and zero point): byte copies;
 *   - uint8: reference_ops::ConcatenationWithScaling -- an input whose zero point and float32
 *     scale equal the output's is copied, any other is requantized in float32 arithmetic:
 *       inv = 1.f / out_scale; scale = in_scale * inv; bias = -in_zp * scale;
 *       out = clamp(int(round(q * scale + bias)) + out_zp, 0, 255)
 *     (round half away from zero; each operation rounded to float32, no fused multiply-add).
 *     A uint8 input has 256 possible values, so that map is a 256-entry table built here
 *     (a constant) and applied by the q8_lut kernel (assembly/q8/add.ts).
 * Copies are native copyWithin over kernel memory, one per input per outer index. A constant
 * input travels as a constant blob; RunPointers.inputs holds the activation inputs only.
 */
import { invalidModel, unsupportedModel } from '../../errors.js';
import { bytesPerElement, sizeOf, type ConcatenationOp, type TensorInfo } from '../../model/ir.js';
import type { KernelExports } from '../../runtime/kernels.js';
import { roundHalfAway } from '../../quant/fixedpoint.js';
import type { PreparedOp, RunPointers } from '../types.js';
import { tensorQuant, type TensorQuant } from '../q8-common.js';

/** the same float32 scale and the same zero point: ConcatenationWithScaling's copy test */
const sameQuant = (a: TensorQuant, b: TensorQuant) => Math.fround(a.scale) === Math.fround(b.scale) && a.zeroPoint === b.zeroPoint;

const UINT8_MAX = 255;
/** byte offset of a raw uint8 value in its int8 storage */
const UINT8_STORAGE_SHIFT = 128;

/**
 * The requantization table of one uint8 input: entry (stored byte & 0xff) -> stored output
 * byte, computed exactly as ConcatenationWithScaling does on raw values.
 */
export function concatRequantTable(inQ: TensorQuant, outQ: TensorQuant): Int8Array {
  const f = Math.fround;
  const inverseOutputScale = f(1 / f(outQ.scale));
  const scale = f(f(inQ.scale) * inverseOutputScale);
  const bias = f(-inQ.zeroPoint * scale);
  const table = new Int8Array(256);
  for (let raw = 0; raw <= UINT8_MAX; raw++) {
    const v = roundHalfAway(f(f(raw * scale) + bias)) + outQ.zeroPoint;
    const clamped = v < 0 ? 0 : v > UINT8_MAX ? UINT8_MAX : v;
    // indexed by the stored byte (raw - 128) read as unsigned, i.e. raw ^ 0x80
    table[raw ^ 0x80] = clamped - UINT8_STORAGE_SHIFT;
  }
  return table;
}

interface InputPlan {
  /** elements of this input per outer index */
  block: number;
  /** null: copy bytes; else the stored-byte map */
  table: Int8Array | null;
}

/** what run() needs per input: block bytes, and the constant index of its table or -1 (copy) */
interface InputStep {
  blockBytes: number;
  /** bytes before this input's block within one output block */
  offsetBytes: number;
  tableConstant: number;
  /** index in RunPointers.inputs (activations), or -1 when the input is a constant */
  activation: number;
  /** index of the input's own bytes in `constants` when it is a constant, else -1 */
  dataConstant: number;
}

/** a constant input's values as arena bytes (uint8 shifted to int8 storage) */
function constantBytes(t: TensorInfo, what: string): Uint8Array {
  const data = t.constant!;
  const expected = t.dtype === 'float32' ? Float32Array : t.dtype === 'uint8' ? Uint8Array : Int8Array;
  if (!(data instanceof expected)) throw invalidModel(`${what} '${t.name}' is a ${t.dtype} constant holding a ${data.constructor.name}`);
  if (data.length !== sizeOf(t.shape)) throw invalidModel(`${what} '${t.name}' has ${data.length} constant values, shape [${t.shape}] needs ${sizeOf(t.shape)}`);
  if (t.dtype === 'uint8') return Uint8Array.from(data as Uint8Array, (v) => v ^ 0x80);
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function checkRank(t: TensorInfo, rank: number, what: string): void {
  if (t.shape.length !== rank) throw invalidModel(`${what} '${t.name}' has rank ${t.shape.length}, the output has ${rank}`);
  if (t.shape.some((d) => !Number.isInteger(d) || d <= 0)) throw invalidModel(`${what} '${t.name}' has shape [${t.shape}], expected positive dimensions`);
}

export function prepareConcatenation(op: ConcatenationOp): PreparedOp {
  const { inputs, output, axis } = op;
  const what = `concatenation into '${output.name}'`;
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalidModel(`${what} has no inputs`);
  const rank = output.shape.length;
  checkRank(output, rank, `${what}: output`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) throw invalidModel(`${what}: axis ${axis} is out of range for rank ${rank}`);
  if (op.activation !== 'none') throw unsupportedModel(`${what}: fused activation '${op.activation}' (TFLite supports none)`);
  const dtype = output.dtype;
  let axisTotal = 0;
  inputs.forEach((t, i) => {
    checkRank(t, rank, `${what}: input ${i}`);
    if (t.dtype !== dtype) throw unsupportedModel(`${what}: input ${i} '${t.name}' is ${t.dtype}, the output ${dtype}`);
    for (let d = 0; d < rank; d++) {
      if (d !== axis && t.shape[d] !== output.shape[d]) {
        throw invalidModel(`${what}: input ${i} '${t.name}' has shape [${t.shape}], which differs from the output [${output.shape}] outside axis ${axis}`);
      }
    }
    axisTotal += t.shape[axis];
  });
  if (axisTotal !== output.shape[axis]) throw invalidModel(`${what}: inputs sum to ${axisTotal} along axis ${axis}, the output has ${output.shape[axis]}`);

  const outer = sizeOf(output.shape.slice(0, axis));
  const inner = sizeOf(output.shape.slice(axis + 1));
  const elemBytes = bytesPerElement(dtype);
  let plans: InputPlan[];
  if (dtype === 'float32') {
    plans = inputs.map((t) => ({ block: t.shape[axis] * inner, table: null }));
  } else {
    const outQ = tensorQuant(output, `${what}: output`);
    plans = inputs.map((t, i) => {
      const inQ = tensorQuant(t, `${what}: input ${i}`);
      if (sameQuant(inQ, outQ)) return { block: t.shape[axis] * inner, table: null };
      if (dtype === 'int8') {
        throw unsupportedModel(`${what}: int8 input ${i} '${t.name}' (scale ${inQ.scale}, zero point ${inQ.zeroPoint}) differs from the output (scale ${outQ.scale}, zero point ${outQ.zeroPoint}); TFLite requires them equal`);
      }
      return { block: t.shape[axis] * inner, table: concatRequantTable(inQ, outQ) };
    });
  }
  const outBlockBytes = output.shape[axis] * inner * elemBytes;
  const constants: Uint8Array[] = [];
  let offsetBytes = 0;
  let activations = 0;
  const steps: InputStep[] = plans.map(({ block, table }, i) => {
    const t = inputs[i];
    const dataConstant = t.constant ? constants.push(constantBytes(t, `${what}: input ${i}`)) - 1 : -1;
    const tableConstant = table ? constants.push(new Uint8Array(table.buffer)) - 1 : -1;
    const step = { blockBytes: block * elemBytes, offsetBytes, tableConstant, activation: t.constant ? -1 : activations++, dataConstant };
    offsetBytes += block * elemBytes;
    return step;
  });
  return {
    kernel: steps.some((s) => s.tableConstant >= 0) ? 'concatenation+q8_lut' : 'concatenation',
    constants,
    scratchBytes: 0,
    macs: sizeOf(output.shape),
    run(k: KernelExports, p: RunPointers) {
      const bytes = new Uint8Array(k.memory.buffer);
      for (let i = 0; i < steps.length; i++) {
        const { blockBytes, tableConstant, activation, dataConstant } = steps[i];
        let src = activation >= 0 ? p.inputs[activation] : p.constants[dataConstant];
        let dst = p.output + steps[i].offsetBytes;
        for (let o = 0; o < outer; o++, src += blockBytes, dst += outBlockBytes) {
          if (tableConstant < 0) bytes.copyWithin(dst, src, src + blockBytes);
          else k.q8_lut(src, dst, blockBytes, p.constants[tableConstant]);
        }
      }
    },
  };
}
