/** QUANTIZE and DEQUANTIZE (float <-> uint8/int8, and uint8 <-> int8 requantization). */
export { prepareQuantize, prepareDequantize } from './q8.js';
