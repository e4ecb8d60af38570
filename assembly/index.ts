// One source, three builds (targets in asconfig.json, built by scripts/build-wasm.mjs): scalar, simd, relaxed.
// Kernels are grouped by datatype; each group re-exports its kernels from its own index.
export * from "./f32/index";
export * from "./q8/index";

// End of static data: the host starts its arena above it, so a kernel that gains static
// data (e.g. a lookup table) can never be overwritten by weights.
export function heap_base(): usize {
  return __heap_base;
}
