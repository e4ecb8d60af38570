/**
 * The kernel module's interface, in one place: every function the .wasm exports (assembly/),
 * with its argument names and types. The host calls kernels only through `KernelExports`, so a
 * call with the wrong number of arguments does not compile; test/runtime/kernel-abi.test.ts
 * checks this table against every build's `WebAssembly.Module.exports` and the wasm type of
 * each function (names, arity, i32 / f32 per argument).
 *
 * Conventions: `Ptr` is a byte offset into the module's memory (an i32); `I32` an integer;
 * `F32` a float32. Quantized kernels read and write int8 storage (uint8 tensors shifted by
 * -128, src/ops/types.ts). `mode` arguments are a RequantMode (src/quant/pack.ts); `wZp` is the
 * stored (int8-storage) zero point of 8-bit packed weights, which the kernel subtracts;
 * `wScratch` the scratch the SIMD kernels widen those weights into (src/quant/pack.ts *ScratchBytes).
 */
import type { WasmMemory } from '../wasm-types.js';

type Ptr = number;
type I32 = number;
type F32 = number;

/** Argument kinds as wasm sees them */
export type AbiType = 'ptr' | 'i32' | 'f32';

const p = 'ptr' as const;
const i = 'i32' as const;
const f = 'f32' as const;

/** name -> [argument name, kind] in call order; the result is always void except heap_base */
export const KERNEL_ABI = {
  heap_base: [],
  // float32 (assembly/f32)
  f32_gemm: [['a', p], ['b', p], ['bias', p], ['c', p], ['M', i], ['K', i], ['N', i], ['actMin', f], ['actMax', f]],
  f32_dwconv: [['input', p], ['w', p], ['bias', p], ['output', p], ['inH', i], ['inW', i], ['C', i], ['outH', i], ['outW', i], ['KH', i], ['KW', i], ['strideH', i], ['strideW', i], ['padTop', i], ['padLeft', i], ['actMin', f], ['actMax', f]],
  f32_avgpool: [['input', p], ['output', p], ['inH', i], ['inW', i], ['C', i], ['outH', i], ['outW', i], ['KH', i], ['KW', i], ['strideH', i], ['strideW', i], ['padTop', i], ['padLeft', i], ['actMin', f], ['actMax', f]],
  f32_softmax: [['input', p], ['output', p], ['rows', i], ['n', i], ['beta', f]],
  f32_dwpw: [['input', p], ['dwW', p], ['dwBias', p], ['pwB', p], ['pwBias', p], ['output', p], ['scratch', p], ['inH', i], ['inW', i], ['C', i], ['outH', i], ['outW', i], ['strideH', i], ['strideW', i], ['padTop', i], ['padLeft', i], ['dwMin', f], ['dwMax', f], ['N', i], ['pwMin', f], ['pwMax', f], ['blockPixels', i]],
  f32_convgemm: [['input', p], ['w', p], ['bias', p], ['output', p], ['scratch', p], ['inH', i], ['inW', i], ['inC', i], ['outH', i], ['outW', i], ['outC', i], ['KH', i], ['KW', i], ['strideH', i], ['strideW', i], ['padTop', i], ['padLeft', i], ['actMin', f], ['actMax', f], ['blockPixels', i]],
  // quantized, int8 storage (assembly/q8)
  q8_gemm: [['a', p], ['m', i], ['k', i], ['w', p], ['wZp', i], ['n', i], ['bias', p], ['rq', p], ['mode', i], ['outZp', i], ['actMin', i], ['actMax', i], ['out', p], ['wScratch', p]],
  q8_gemm16: [['a', p], ['m', i], ['k', i], ['w', p], ['wZp', i], ['n', i], ['bias', p], ['rq', p], ['mode', i], ['outZp', i], ['actMin', i], ['actMax', i], ['out', p], ['wScratch', p]],
  q8_gemm16_rs: [['a', p], ['m', i], ['k', i], ['w', p], ['wZp', i], ['n', i], ['bias', p], ['rq', p], ['mode', i], ['outZp', i], ['actMin', i], ['actMax', i], ['out', p], ['wScratch', p]],
  q8_gemm16_rl: [['a', p], ['m', i], ['k', i], ['w', p], ['wZp', i], ['n', i], ['bias', p], ['rq', p], ['mode', i], ['outZp', i], ['actMin', i], ['actMax', i], ['out', p], ['wScratch', p]],
  q8_dwconv: [['inp', p], ['inH', i], ['inW', i], ['c', i], ['w', p], ['wZp', i], ['bias', p], ['rq', p], ['mode', i], ['kh', i], ['kw', i], ['sh', i], ['sw', i], ['padTop', i], ['padLeft', i], ['outH', i], ['outW', i], ['inZp', i], ['outZp', i], ['actMin', i], ['actMax', i], ['out', p], ['wScratch', p]],
  q8_dwconv16: [['inp', p], ['inH', i], ['inW', i], ['c', i], ['w', p], ['wZp', i], ['bias', p], ['rq', p], ['mode', i], ['kh', i], ['kw', i], ['sh', i], ['sw', i], ['padTop', i], ['padLeft', i], ['outH', i], ['outW', i], ['inZp', i], ['outZp', i], ['actMin', i], ['actMax', i], ['out', p], ['oy0', i], ['oy1', i], ['nextZp', i], ['wScratch', p]],
  q8_conv: [['inp', p], ['inH', i], ['inW', i], ['inC', i], ['w', p], ['wZp', i], ['bias', p], ['rq', p], ['mode', i], ['outC', i], ['kh', i], ['kw', i], ['sh', i], ['sw', i], ['padTop', i], ['padLeft', i], ['outH', i], ['outW', i], ['inZp', i], ['outZp', i], ['actMin', i], ['actMax', i], ['out', p]],
  q8_avgpool: [['inp', p], ['inH', i], ['inW', i], ['c', i], ['kh', i], ['kw', i], ['sh', i], ['sw', i], ['padTop', i], ['padLeft', i], ['outH', i], ['outW', i], ['actMin', i], ['actMax', i], ['roundMode', i], ['out', p]],
  q8_softmax: [['inp', p], ['n', i], ['inputMultiplier', i], ['inputLeftShift', i], ['diffMin', i], ['out', p]],
  q8_im2col16: [['inp', p], ['inH', i], ['inW', i], ['c', i], ['kh', i], ['kw', i], ['sh', i], ['sw', i], ['padTop', i], ['padLeft', i], ['outW', i], ['oy0', i], ['oy1', i], ['inZp', i], ['out', p]],
  // ops of the MobileNet family (added with their kernels)
  pad4d: [['inp', p], ['n', i], ['h', i], ['w', i], ['c', i], ['elemBytes', i], ['padN0', i], ['padN1', i], ['padH0', i], ['padH1', i], ['padW0', i], ['padW1', i], ['padC0', i], ['padC1', i], ['fill', i], ['out', p]],
  q8_mean_hw: [['inp', p], ['pixels', i], ['c', i], ['zpTimesCount', i], ['multiplier', i], ['shift', i], ['outZp', i], ['out', p]],
  f32_mean_hw: [['inp', p], ['pixels', i], ['c', i], ['out', p]],
  // ADD / MUL / LOGISTIC (assembly/q8/add.ts, assembly/f32/elementwise.ts); `params` is the i32 block of src/ops/add
  q8_add: [['a', p], ['b', p], ['out', p], ['rows', i], ['cols', i], ['params', p]],
  q8_add_const: [['a', p], ['out', p], ['n', i], ['bTerm', i], ['params', p]],
  q8_mul: [['a', p], ['b', p], ['out', p], ['rows', i], ['cols', i], ['params', p]],
  q8_mul_const: [['a', p], ['out', p], ['n', i], ['bCentered', i], ['params', p]],
  q8_lut: [['inp', p], ['out', p], ['n', i], ['table', p]],
  f32_add: [['a', p], ['b', p], ['out', p], ['rows', i], ['cols', i], ['actMin', f], ['actMax', f]],
  f32_add_const: [['a', p], ['out', p], ['n', i], ['k', f], ['actMin', f], ['actMax', f]],
  f32_mul: [['a', p], ['b', p], ['out', p], ['rows', i], ['cols', i], ['actMin', f], ['actMax', f]],
  f32_mul_const: [['a', p], ['out', p], ['n', i], ['k', f], ['actMin', f], ['actMax', f]],
  f32_logistic: [['inp', p], ['out', p], ['n', i]],
  // QUANTIZE float32 -> int8 storage (assembly/q8/quantize.ts)
  q8_quantize_f32: [['inp', p], ['out', p], ['n', i], ['scale', f], ['zeroPoint', i], ['qmin', i], ['qmax', i], ['storedShift', i]],
} as const;

export type KernelName = keyof typeof KERNEL_ABI;

type TsOf<K extends AbiType> = K extends 'f32' ? F32 : K extends 'ptr' ? Ptr : I32;
type ArgsOf<L> = { -readonly [J in keyof L]: L[J] extends readonly [string, infer K extends AbiType] ? TsOf<K> : never };

/** The exported kernel functions, typed by KERNEL_ABI (positional arguments in its order). */
export type KernelFunctions = {
  [N in KernelName]: N extends 'heap_base' ? () => number : (...args: ArgsOf<(typeof KERNEL_ABI)[N]>) => void;
};

export type KernelExports = KernelFunctions & { memory: WasmMemory };
