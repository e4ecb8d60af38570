/**
 * What every float32 op shares: validation against the IR and the packed layouts the f32_*
 * kernels (assembly/f32) stream (same for the scalar, simd and relaxed builds):
 * - GEMM (1x1 conv, fully connected): B in panels of 8 output channels, panel j = K rows of
 *   8 floats (columns past N are 0); bias padded to a multiple of 8.
 * - depthwise: [ceil(C/4) channel groups][KH*KW taps][4]; bias padded to a multiple of 4.
 * - general conv (f32_convgemm): the OHWI filter as GEMM panels (row k = (ky*KW + kx)*inC + ic).
 */
import type { Activation, Op, TensorInfo, Weights } from '../model/ir.js';
import { convGeometry, opInputs, opOutputs, sizeOf } from '../model/ir.js';
import { unsupportedModel } from '../errors.js';
import type { PreparedOp } from './types.js';

/** actMin / actMax of TFLite's fused activations */
export function activationRange(act: Activation, where = 'op'): [number, number] {
  switch (act) {
    case 'none': return [-Infinity, Infinity];
    case 'relu': return [0, Infinity];
    case 'relu6': return [0, 6];
    case 'relu_n1_to_1': return [-1, 1];
    default: throw unsupportedModel(`${where}: unsupported fused activation ${JSON.stringify(act)}`);
  }
}

// ---------- validation helpers ----------

export function checkTensor(t: TensorInfo, role: string, where: string): void {
  if (!t || t.dtype !== 'float32') throw unsupportedModel(`${where}: ${role} must be float32, got ${t?.dtype}`);
  checkDims(t.shape, `${role} shape`, where);
}

export function checkDims(shape: readonly number[], what: string, where: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw unsupportedModel(`${where}: ${what} [${shape}] must be positive integers`);
  }
  // keeps every byte offset the kernels compute inside i32
  if (sizeOf(shape) * 4 > 0x7fffffff) throw unsupportedModel(`${where}: ${what} [${shape}] is too large`);
}

/** [1, H, W, C]; batch must be 1 */
export function nhwc(t: TensorInfo, role: string, where: string): [number, number, number] {
  if (t.shape.length !== 4 || t.shape[0] !== 1) {
    throw unsupportedModel(`${where}: ${role} shape [${t.shape}] must be [1, H, W, C]`);
  }
  return [t.shape[1], t.shape[2], t.shape[3]];
}

export function floatWeights(w: Weights, rank: number, where: string): Float32Array {
  if (!w || w.dtype !== 'float32' || !(w.data instanceof Float32Array)) {
    throw unsupportedModel(`${where}: filter must be float32, got ${w?.dtype}`);
  }
  if (w.shape.length !== rank) throw unsupportedModel(`${where}: filter shape [${w.shape}] must have ${rank} dimensions`);
  checkDims(w.shape, 'filter shape', where);
  if (w.data.length !== sizeOf(w.shape)) {
    throw unsupportedModel(`${where}: filter has ${w.data.length} values but shape [${w.shape}] needs ${sizeOf(w.shape)}`);
  }
  return w.data;
}

export function floatBias(bias: Float32Array | Int32Array, n: number, where: string): Float32Array {
  if (!(bias instanceof Float32Array)) throw unsupportedModel(`${where}: bias must be float32`);
  if (bias.length !== n) throw unsupportedModel(`${where}: bias has ${bias.length} values, expected ${n}`);
  return bias;
}

export function checkStrides(s: readonly number[], where: string): void {
  if (!Array.isArray(s) || s.length !== 2 || s.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw unsupportedModel(`${where}: strides [${s}] must be two positive integers`);
  }
}

/** The IR has no dilation field; a converter that carries one along must have it be 1. */
export function checkNoDilation(op: object, where: string): void {
  const d = (op as { dilations?: number[] }).dilations;
  if (d && d.some((v) => v !== 1)) throw unsupportedModel(`${where}: dilation [${d}] is not supported`);
}

export function geometry(
  inH: number, inW: number, kh: number, kw: number, strides: [number, number],
  padding: 'same' | 'valid', outH: number, outW: number, where: string,
): { padTop: number; padLeft: number } {
  if (padding !== 'same' && padding !== 'valid') throw unsupportedModel(`${where}: unknown padding ${JSON.stringify(padding)}`);
  const gy = convGeometry(inH, kh, strides[0], padding);
  const gx = convGeometry(inW, kw, strides[1], padding);
  if (gy.out !== outH || gx.out !== outW) {
    throw unsupportedModel(
      `${where}: output is ${outH}x${outW} but ${padding} padding of ${inH}x${inW} with a ${kh}x${kw} window, stride ${strides} gives ${gy.out}x${gx.out}`,
    );
  }
  return { padTop: gy.padBefore, padLeft: gx.padBefore };
}

export const bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

export function paddedBias(bias: Float32Array, multiple: number): Float32Array {
  const out = new Float32Array(roundUp(bias.length, multiple));
  out.set(bias);
  return out;
}

// ---------- packers ----------

/**
 * [N, K] row-major (OHWI with 1x1, or FC [out, in]) -> panels of 8 columns: [N/8][K][8].
 * Writes the destination in order, reading 8 source rows side by side (4.2M weights of
 * MobileNet 1.0 pack in tens of milliseconds).
 */
export function packGemmB(w: Float32Array, N: number, K: number): Float32Array {
  const packed = new Float32Array(roundUp(N, 8) * K);
  let i = 0;
  for (let n0 = 0; n0 < N; n0 += 8) {
    if (n0 + 8 <= N) {
      const s0 = n0 * K, s1 = s0 + K, s2 = s1 + K, s3 = s2 + K, s4 = s3 + K, s5 = s4 + K, s6 = s5 + K, s7 = s6 + K;
      for (let k = 0; k < K; k++, i += 8) {
        packed[i] = w[s0 + k]; packed[i + 1] = w[s1 + k]; packed[i + 2] = w[s2 + k]; packed[i + 3] = w[s3 + k];
        packed[i + 4] = w[s4 + k]; packed[i + 5] = w[s5 + k]; packed[i + 6] = w[s6 + k]; packed[i + 7] = w[s7 + k];
      }
    } else {
      // last, partial panel: the missing columns stay 0
      for (let k = 0; k < K; k++, i += 8) for (let j = 0; n0 + j < N; j++) packed[i + j] = w[(n0 + j) * K + k];
    }
  }
  return packed;
}

/** [1, KH, KW, C] -> [ceil(C/4)][KH*KW][4] */
export function packDepthwise(w: Float32Array, taps: number, C: number): Float32Array {
  const packed = new Float32Array(roundUp(C, 4) * taps);
  for (let t = 0; t < taps; t++) {
    const src = t * C;
    for (let c = 0; c < C; c++) packed[(c >> 2) * taps * 4 + t * 4 + (c & 3)] = w[src + c];
  }
  return packed;
}

// ---------- ops ----------

export function gemmOp(kernel: string, M: number, K: number, N: number, filter: Float32Array, bias: Float32Array, act: Activation, where: string): PreparedOp {
  const [lo, hi] = activationRange(act, where);
  const packed = packGemmB(filter, N, K);
  const b = paddedBias(bias, 8);
  return {
    kernel,
    constants: [bytes(packed), bytes(b)],
    scratchBytes: 0,
    macs: M * K * N,
    run(k, p) {
      k.f32_gemm(p.input, p.constants[0], p.constants[1], p.output, M, K, N, lo, hi);
    },
  };
}

/**
 * Pixels per block of the packed 5-row GEMM (f32_convgemm, f32_dwpw) for K inputs per pixel:
 * a multiple of 5 whose packed rows take about 48 KB, so the block stays in L2 while the
 * weight panels sweep over it.
 */
export function gemmBlockPixels(K: number): number {
  return Math.max(5, Math.floor((48 * 1024) / (K * 4) / 5) * 5);
}

/** the checks every float op starts with; returns the op's name for messages */
export function checkFloatOp(op: Op): string {
  const where = `${op.op} '${opOutputs(op)[0]?.name ?? '?'}'`;
  for (const t of opInputs(op)) checkTensor(t, 'input', where);
  for (const t of opOutputs(op)) checkTensor(t, 'output', where);
  return where;
}
