// The float build: the float32 kernels, the dtype-agnostic pad4d (it lives with the q8 kernels
// but copies elements of any size) and heap_base. See assembly/entry/q8.ts.
export * from "../f32/index";
export { pad4d } from "../q8/pad";
export { heap_base } from "../heap";
