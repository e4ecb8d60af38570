/**
 * readTflite on the real shared models: op sequence, shapes, dtypes and quantization checked
 * against what is known about these files (PROVENANCE.md and the models' own documentation).
 */
import { describe, expect, it } from 'vitest';
import { readTflite } from '../../src/formats/tflite.js';
import { FlatBufferReader } from '../../src/formats/flatbuffer.js';
import { F } from '../../src/formats/tflite-schema.js';
import type { Conv2DOp, DepthwiseConv2DOp, FullyConnectedOp, Graph, SoftmaxOp } from '../../src/model/ir.js';
import { MODELS_DIR, SHARED_MISSING } from '../helpers/kernels.js';
import { SHARED_TFLITE, sharedModel } from '../helpers/tflite-fixtures.js';

/** MobileNet v1 body: conv 3x3 s2, then 13 (depthwise 3x3, conv 1x1) pairs; stride 2 at these depthwise ops */
const STRIDE2_OPS = [0, 3, 7, 11, 23];

function checkMobileNetBody(g: Graph, alpha: number, res: number): void {
  const width = (c: number) => Math.round(c * alpha);
  const channels = [32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024].map(width);
  expect(g.ops[0].op).toBe('conv2d');
  expect((g.ops[0] as Conv2DOp).filter.shape).toEqual([channels[0], 3, 3, 3]);
  for (let i = 1; i <= 26; i++) expect(g.ops[i].op, `op ${i}`).toBe(i % 2 === 1 ? 'depthwise_conv2d' : 'conv2d');
  for (let i = 0; i <= 26; i++) {
    const op = g.ops[i] as Conv2DOp | DepthwiseConv2DOp;
    expect(op.strides, `op ${i} strides`).toEqual(STRIDE2_OPS.includes(i) ? [2, 2] : [1, 1]);
    expect(op.padding).toBe('same');
    expect(op.bias.length).toBe(op.output.shape[3]);
    // chain: each op reads the previous op's output
    if (i > 0) expect(op.input).toBe(g.ops[i - 1].output);
  }
  for (let k = 0; k < 13; k++) {
    const pw = g.ops[2 + 2 * k] as Conv2DOp;
    expect(pw.filter.shape, `pointwise ${k}`).toEqual([channels[k + 1], 1, 1, channels[k]]);
  }
  expect(g.input.shape).toEqual([1, res, res, 3]);
  const last = g.ops[26].output.shape;
  expect(last).toEqual([1, Math.ceil(res / 32), Math.ceil(res / 32), channels[13]]);
  expect(g.ops[27].op).toBe('average_pool2d');
  expect(g.ops[27].output.shape).toEqual([1, 1, 1, channels[13]]);
  const sm = g.ops[30] as SoftmaxOp;
  expect(sm.op).toBe('softmax');
  expect(sm.beta).toBe(1);
  expect(g.output).toBe(sm.output);
}

describe.skipIf(!MODELS_DIR)('readTflite on the shared models', () => {
  for (const name of SHARED_TFLITE) {
    it(`${name}: reads into a 31-op chain`, () => {
      const bytes = sharedModel(name)!;
      const g = readTflite(bytes);
      expect(g.source).toBe('tflite');
      expect(g.ops.length).toBe(31);
      expect(g.input).toBe(g.ops[0].input);
      for (let i = 1; i < g.ops.length; i++) expect(g.ops[i].input).toBe(g.ops[i - 1].output);
    });
  }

  const aosp = [
    ['mobilenet_v1_0.25_128_quant.tflite', 0.25, 128],
    ['mobilenet_v1_0.5_160_quant.tflite', 0.5, 160],
    ['mobilenet_v1_0.75_192_quant.tflite', 0.75, 192],
    ['mobilenet_v1_1.0_224_quant.tflite', 1.0, 224],
  ] as const;
  for (const [name, alpha, res] of aosp) {
    it(`${name}: uint8 MobileNet v1 ${alpha}/${res}, input 1/128 zp 128, 1001 outputs 1/256 zp 0`, () => {
      const g = readTflite(sharedModel(name)!);
      checkMobileNetBody(g, alpha, res);
      expect(g.input.dtype).toBe('uint8');
      expect(g.input.quant).toEqual({ scale: [0.0078125], zeroPoint: [128], axis: 0 });
      expect(g.output).toMatchObject({ dtype: 'uint8', shape: [1, 1001], quant: { scale: [1 / 256], zeroPoint: [0] } });
      // logits: 1x1 conv to 1001 classes, then reshape [1,1,1,1001] -> [1,1001]
      expect(g.ops[28].op).toBe('conv2d');
      expect((g.ops[28] as Conv2DOp).filter.shape[0]).toBe(1001);
      expect(g.ops[29]).toMatchObject({ op: 'reshape', output: { shape: [1, 1001] } });
      for (const op of g.ops.slice(0, 27) as (Conv2DOp | DepthwiseConv2DOp)[]) {
        expect(op.filter.dtype).toBe('uint8');
        expect(op.filter.quant!.scale.length).toBe(1);
        expect(op.bias).toBeInstanceOf(Int32Array);
        expect(op.output.quant!.scale.length).toBe(1);
      }
    });
  }

  it('the AOSP 2018 uint8 files fold ReLU6 into the output range (fused activation NONE); the Coral 1.0 file fuses RELU6', () => {
    const small = readTflite(sharedModel('mobilenet_v1_0.25_128_quant.tflite')!);
    expect((small.ops[0] as Conv2DOp).activation).toBe('none');
    const coral = readTflite(sharedModel('mobilenet_v1_1.0_224_quant.tflite')!);
    expect((coral.ops[0] as Conv2DOp).activation).toBe('relu6');
  });

  it('mobilenet_v1_0.25_128.tflite: float32, RELU6, float biases, 1001 classes', () => {
    const g = readTflite(sharedModel('mobilenet_v1_0.25_128.tflite')!);
    checkMobileNetBody(g, 0.25, 128);
    expect(g.input).toMatchObject({ dtype: 'float32', shape: [1, 128, 128, 3] });
    expect(g.input.quant).toBeUndefined();
    expect(g.output).toMatchObject({ dtype: 'float32', shape: [1, 1001] });
    const conv0 = g.ops[0] as Conv2DOp;
    expect(conv0.activation).toBe('relu6');
    expect(conv0.filter.data).toBeInstanceOf(Float32Array);
    expect(conv0.bias).toBeInstanceOf(Float32Array);
    // weights are real numbers, not garbage from a misread offset
    const w = conv0.filter.data as Float32Array;
    expect(w.every((v) => Number.isFinite(v) && Math.abs(v) < 100)).toBe(true);
    expect(w.some((v) => v !== 0)).toBe(true);
  });

  it('vww_96_int8.tflite: int8, per-channel conv weights on axis 0, depthwise on axis 3, per-tensor FC', () => {
    const g = readTflite(sharedModel('vww_96_int8.tflite')!);
    checkMobileNetBody(g, 0.25, 96);
    expect(g.input).toMatchObject({ dtype: 'int8', shape: [1, 96, 96, 3], quant: { zeroPoint: [-128] } });
    expect(g.input.quant!.scale[0]).toBeCloseTo(1 / 255, 9);
    expect(g.output).toMatchObject({ dtype: 'int8', shape: [1, 2], quant: { scale: [1 / 256], zeroPoint: [-128] } });
    const conv0 = g.ops[0] as Conv2DOp;
    expect(conv0.activation).toBe('relu');
    expect(conv0.filter.dtype).toBe('int8');
    expect(conv0.filter.quant!.axis).toBe(0);
    expect(conv0.filter.quant!.scale.length).toBe(8);
    expect(conv0.filter.quant!.zeroPoint).toEqual(new Array(8).fill(0));
    const dw = g.ops[1] as DepthwiseConv2DOp;
    expect(dw.filter.quant!.axis).toBe(3);
    expect(dw.filter.quant!.scale.length).toBe(8);
    expect(g.ops[27]).toMatchObject({ op: 'average_pool2d', filterSize: [3, 3], padding: 'valid' });
    expect(g.ops[28]).toMatchObject({ op: 'reshape', output: { shape: [1, 256] } });
    const fc = g.ops[29] as FullyConnectedOp;
    expect(fc.op).toBe('fully_connected');
    expect(fc.filter.shape).toEqual([2, 256]);
    expect(fc.filter.quant!.scale.length).toBe(1);
    expect(fc.bias).toBeInstanceOf(Int32Array);
    expect(fc.bias.length).toBe(2);
  });

  it('vww_96_float.tflite: float32 twin of the int8 model', () => {
    const g = readTflite(sharedModel('vww_96_float.tflite')!);
    checkMobileNetBody(g, 0.25, 96);
    expect(g.output).toMatchObject({ dtype: 'float32', shape: [1, 2] });
    expect((g.ops[29] as FullyConnectedOp).filter.shape).toEqual([2, 256]);
  });

  it('returns weights as views into the file bytes when aligned, copies when not', () => {
    const bytes = sharedModel('mobilenet_v1_0.25_128.tflite')!;
    const aligned = readTflite(bytes);
    const w = (aligned.ops[2] as Conv2DOp).filter.data;
    expect(w.buffer).toBe(bytes.buffer);
    // the same file at an odd byte offset: Float32Array views are impossible, so copies
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const misaligned = readTflite(shifted.subarray(1));
    const w2 = (misaligned.ops[2] as Conv2DOp).filter.data;
    expect(w2.buffer).not.toBe(shifted.buffer);
    expect(Array.from(w2)).toEqual(Array.from(w));
  });

  it('old models carry only deprecated_builtin_code, which the reader uses', () => {
    const bytes = sharedModel('mobilenet_v1_0.25_128_quant.tflite')!;
    const model = new FlatBufferReader(bytes).root();
    const codes = model.tables(F.Model.operator_codes, 'operator_codes');
    const deprecated = Array.from({ length: codes.length }, (_, i) =>
      codes.get(i).i8(F.OperatorCode.deprecated_builtin_code, 'deprecated_builtin_code'),
    );
    const builtin = Array.from({ length: codes.length }, (_, i) => codes.get(i).i32(F.OperatorCode.builtin_code, 'builtin_code'));
    expect(deprecated).toContain(4); // DEPTHWISE_CONV_2D
    expect(builtin.every((c) => c === 0)).toBe(true); // field absent (default ADD = 0)
  });
});

it.skipIf(!!MODELS_DIR)('shared .tflite models', () => console.warn(SHARED_MISSING));
