// One source, three builds (scripts/build-wasm.mjs): scalar, simd, relaxed.
// Kernels are grouped by datatype; each group re-exports its kernels from its own index.
export * from "./f32/index";
export * from "./q8/index";
