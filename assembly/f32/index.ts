// float32 kernels, NHWC, batch 1. Every pointer is a byte offset into memory; the host packs
// weights (src/ops/f32) and owns all buffers. actMin/actMax give the fused activation:
// none = -Inf/+Inf, relu = 0/+Inf, relu6 = 0/6, relu_n1_to_1 = -1/1.
export { f32_gemm } from "./gemm";
export { f32_dwconv } from "./dwconv";
export { f32_avgpool } from "./avgpool";
export { f32_softmax } from "./softmax";
export { f32_dwpw } from "./fused";
export { f32_convgemm } from "./im2col";
export { f32_add, f32_add_const, f32_mul, f32_mul_const, f32_logistic } from "./elementwise";
export { f32_mean_hw } from "./mean";
