// The combined build (every kernel): for a model that needs both the float and the integer
// kernels, and for the op tests. A model of one precision loads its own smaller build instead
// (assembly/entry/q8.ts, assembly/entry/f32.ts). Targets in asconfig.json, built by
// scripts/build-wasm.mjs. Kernels are grouped by datatype; each group re-exports its kernels.
export * from "./f32/index";
export * from "./q8/index";
export { heap_base } from "./heap";
