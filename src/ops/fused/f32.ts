/**
 * Depthwise 3x3 + pointwise (1x1) float32 pair as one f32_dwpw call: the depthwise output of a
 * block of pixels goes to scratch (packed for the GEMM) and is consumed while still in cache.
 */
import type { Op } from '../../model/ir.js';
import { convGeometry, sizeOf } from '../../model/ir.js';
import type { PreparedOp } from '../types.js';
import { activationRange, gemmBlockPixels } from '../f32-common.js';
import { prepareFloatOp } from '../index.js';

/**
 * Fuse only when the depthwise output is at least this big, or has at least FUSE_MIN_CHANNELS
 * channels. Measured on this project's machine (same-process A/B of the kernels): fused is
 * 5-15% faster on every MobileNet 1.0/224 pair (intermediates 100 KB - 1.6 MB, the smallest
 * with 512 channels, where the long GEMM tiles amortise the fused kernel's overheads), but
 * 5-15% slower on the small maps of 0.25/128 (intermediates <= 128 KB, <= 256 channels),
 * where the intermediate stays in cache anyway and per-tile and per-pixel overheads dominate.
 */
export const FUSE_MIN_INTERMEDIATE_BYTES = 192 * 1024;

export const FUSE_MIN_CHANNELS = 512;

export interface FusedOptions {
  /** pixels per block instead of the default (tests use small blocks) */
  blockPixels?: number;
  /** fuse regardless of size (tests) */
  always?: boolean;
}

/** The fused step when `first` is a float 3x3 depthwise conv and `second` a 1x1 stride-1 conv on its output; else null. */
export function prepareFusedF32(first: Op, second: Op, options: FusedOptions = {}): PreparedOp | null {
  if (first.op !== 'depthwise_conv2d' || second.op !== 'conv2d') return null;
  if (first.input.dtype !== 'float32' || second.input.dtype !== 'float32') return null;
  const fs = first.filter?.shape, ss = second.filter?.shape;
  if (!fs || fs.length !== 4 || fs[1] !== 3 || fs[2] !== 3) return null;
  if (!ss || ss.length !== 4 || ss[1] !== 1 || ss[2] !== 1) return null;
  if (second.strides?.[0] !== 1 || second.strides?.[1] !== 1) return null;
  if (first.output.shape.join() !== second.input.shape.join()) return null;
  const large = sizeOf(first.output.shape) * 4 >= FUSE_MIN_INTERMEDIATE_BYTES || first.output.shape[3] >= FUSE_MIN_CHANNELS;
  if (!options.always && !large) return null;
  // validation and packing as for the separate ops (throws the same typed errors)
  const dw = prepareFloatOp(first);
  const pw = prepareFloatOp(second);
  if (dw.kernel !== 'f32_dwconv' || pw.kernel !== 'f32_gemm') return null;
  const [, inH, inW, C] = first.input.shape;
  const [, outH, outW] = first.output.shape;
  const N = second.output.shape[3];
  const [sH, sW] = first.strides;
  const padTop = convGeometry(inH, 3, sH, first.padding).padBefore;
  const padLeft = convGeometry(inW, 3, sW, first.padding).padBefore;
  const [dwMin, dwMax] = activationRange(first.activation);
  const [pwMin, pwMax] = activationRange(second.activation);
  // (tests pass a small block to cover several blocks and ragged pixel groups)
  const block = options.blockPixels ?? gemmBlockPixels(C);
  const pixels = outH * outW;
  const blockPixels = Math.min(block, Math.ceil(pixels / 5) * 5);
  return {
    kernel: 'f32_dwpw',
    constants: [...dw.constants, ...pw.constants],
    scratchBytes: Math.ceil(blockPixels / 5) * 5 * C * 4,
    macs: dw.macs + pw.macs,
    run(k, p) {
      const c = p.constants;
      k.f32_dwpw(p.input, c[0], c[1], c[2], c[3], p.output, p.scratch, inH, inW, C, outH, outW, sH, sW,
        padTop, padLeft, dwMin, dwMax, N, pwMin, pwMax, blockPixels);
    },
  };
}
