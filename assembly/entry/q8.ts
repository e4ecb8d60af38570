// The integer build: the quantized kernels (uint8 and int8 models, QUANTIZE of a float input
// included), pad4d among them, and heap_base. src/runtime/kernel-abi.ts says which set each
// kernel belongs to; test/runtime/kernel-abi.test.ts checks this build exports exactly that set.
export * from "../q8/index";
export { heap_base } from "../heap";
