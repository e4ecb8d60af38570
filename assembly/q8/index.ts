// Quantized kernels (int8 storage; uint8 tensors arrive shifted by -128). One file per operator.
export { q8_gemm } from "./gemm";
export { q8_dwconv, q8_dwconv16 } from "./dwconv";
export { q8_conv } from "./conv";
export { q8_avgpool } from "./avgpool";
export { q8_softmax } from "./softmax";
export { q8_gemm16, q8_gemm16_rs, q8_gemm16_rl } from "./gemm16";
export { q8_im2col16 } from "./im2col";
export { pad4d } from "./pad";
export { q8_add, q8_add_const, q8_mul, q8_mul_const, q8_lut } from "./add";
export { q8_mean_hw } from "./mean";
export { q8_quantize_f32 } from "./quantize";
