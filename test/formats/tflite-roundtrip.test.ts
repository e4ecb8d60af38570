/**
 * writeTflite: what it writes reads back to the same IR (real models and small chains in
 * every precision), and it writes what TFLite expects (identifier, empty buffer 0, both
 * operator code fields, op versions, int32 bias quantization).
 */
import { describe, expect, it } from 'vitest';
import { readTflite } from '../../src/formats/tflite.js';
import { encodeTflite, graphToTfliteSpec, writeTflite } from '../../src/formats/tflite-writer.js';
import { FlatBufferReader } from '../../src/formats/flatbuffer.js';
import { BuiltinOperator, F, TensorType } from '../../src/formats/tflite-schema.js';
import type { Graph } from '../../src/model/ir.js';
import { MODELS_DIR, SHARED_MISSING } from '../helpers/kernels.js';
import { SHARED_TFLITE, firstDifference, quantizeChain, sharedModel, tinyChain } from '../helpers/tflite-fixtures.js';

const asTflite = (g: Graph): Graph => ({ ...g, source: 'tflite' });

describe.skipIf(!MODELS_DIR)('round trip of the shared models', () => {
  for (const name of SHARED_TFLITE) {
    it(`${name}: readTflite(writeTflite(readTflite(x))) equals readTflite(x)`, () => {
      const g = readTflite(sharedModel(name)!);
      const again = readTflite(writeTflite(g));
      expect(firstDifference(again, g)).toBeNull();
    });
  }
});
it.skipIf(!!MODELS_DIR)('round trip of the shared models', () => console.warn(SHARED_MISSING));

describe('round trip of small chains', () => {
  for (const dtype of ['float32', 'uint8', 'int8'] as const) {
    it(`${dtype} conv/depthwise/pool/reshape/softmax chain`, () => {
      const g = tinyChain({ dtype });
      expect(firstDifference(readTflite(writeTflite(g)), asTflite(g))).toBeNull();
    });
  }

  it('QUANTIZE -> int8 FULLY_CONNECTED -> DEQUANTIZE', () => {
    const g = quantizeChain();
    expect(firstDifference(readTflite(writeTflite(g)), asTflite(g))).toBeNull();
  });

  it('a difference in one weight byte is detected (the comparison is not vacuous)', () => {
    const g = tinyChain({ dtype: 'int8' });
    const bytes = writeTflite(g);
    const back = readTflite(bytes);
    const conv = back.ops[2];
    if (conv.op !== 'conv2d') throw new Error('fixture changed');
    (conv.filter.data as Int8Array)[5] ^= 1;
    expect(firstDifference(back, asTflite(g))).toMatch(/ops\[2\]\.filter\.data: byte 5/);
  });

  it('reads constant data stored after the flatbuffer (Buffer.offset/size, schema 3c)', () => {
    const g = tinyChain({ dtype: 'float32' });
    const bytes = encodeTflite(graphToTfliteSpec(g), { externalBuffers: true });
    expect(firstDifference(readTflite(bytes), asTflite(g))).toBeNull();
  });
});

describe('what the writer emits', () => {
  it('has the TFL3 identifier, schema version 3, an empty buffer 0 and both operator code fields', () => {
    const bytes = writeTflite(tinyChain({ dtype: 'uint8' }));
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe('TFL3');
    const model = new FlatBufferReader(bytes).root();
    expect(model.u32(F.Model.version, 'version')).toBe(3);
    const buffers = model.tables(F.Model.buffers, 'buffers');
    expect(buffers.get(0).vector(F.Buffer.data, 'data', 1)).toBeNull();
    const codes = model.tables(F.Model.operator_codes, 'operator_codes');
    const seen: number[] = [];
    for (let i = 0; i < codes.length; i++) {
      const c = codes.get(i);
      expect(c.has(F.OperatorCode.deprecated_builtin_code)).toBe(true);
      expect(c.has(F.OperatorCode.builtin_code)).toBe(true);
      expect(c.i8(F.OperatorCode.deprecated_builtin_code, 'd')).toBe(c.i32(F.OperatorCode.builtin_code, 'b'));
      seen.push(c.i32(F.OperatorCode.builtin_code, 'b'));
    }
    expect(seen.sort((a, b) => a - b)).toEqual(
      [BuiltinOperator.AVERAGE_POOL_2D, BuiltinOperator.CONV_2D, BuiltinOperator.DEPTHWISE_CONV_2D, BuiltinOperator.RESHAPE, BuiltinOperator.SOFTMAX].sort(
        (a, b) => a - b,
      ),
    );
  });

  it('uses op versions TFLite accepts: v1 for float/uint8, int8 conv v3, pool v2, FC v4, softmax v2, dequantize v2', () => {
    const versions = (g: Graph) => {
      const spec = graphToTfliteSpec(g);
      return Object.fromEntries(spec.operatorCodes.map((c) => [c.builtinCode, c.version]));
    };
    const u8 = versions(tinyChain({ dtype: 'uint8' }));
    expect(Object.values(u8).every((v) => v === 1)).toBe(true);
    const i8 = versions(tinyChain({ dtype: 'int8' }));
    expect(i8[BuiltinOperator.CONV_2D]).toBe(3);
    expect(i8[BuiltinOperator.DEPTHWISE_CONV_2D]).toBe(3);
    expect(i8[BuiltinOperator.AVERAGE_POOL_2D]).toBe(2);
    expect(i8[BuiltinOperator.SOFTMAX]).toBe(2);
    const q = versions(quantizeChain());
    expect(q[BuiltinOperator.QUANTIZE]).toBe(1);
    expect(q[BuiltinOperator.FULLY_CONNECTED]).toBe(4);
    expect(q[BuiltinOperator.DEQUANTIZE]).toBe(2);
  });

  it('quantizes int32 biases with input_scale * filter_scale per channel, zero point 0', () => {
    const g = tinyChain({ dtype: 'int8' });
    const spec = graphToTfliteSpec(g);
    const conv = g.ops[0];
    if (conv.op !== 'conv2d') throw new Error('fixture changed');
    const biasTensor = spec.tensors[spec.operators[0].inputs[2]];
    expect(biasTensor.type).toBe(TensorType.INT32);
    const inScale = conv.input.quant!.scale[0];
    expect(biasTensor.quantization!.scale).toEqual(conv.filter.quant!.scale.map((s) => inScale * s));
    expect(biasTensor.quantization!.zeroPoint).toEqual(conv.filter.quant!.scale.map(() => 0));
    expect(biasTensor.quantization!.quantizedDimension).toBe(0);
  });

  it('aligns every constant buffer to 16 bytes in the file', () => {
    const bytes = writeTflite(tinyChain({ dtype: 'float32' }));
    const buffers = new FlatBufferReader(bytes).root().tables(F.Model.buffers, 'buffers');
    let checked = 0;
    for (let i = 1; i < buffers.length; i++) {
      const v = buffers.get(i).vector(F.Buffer.data, 'data', 1);
      if (v) {
        expect(v.start % 16).toBe(0);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('refuses a graph whose ops do not chain', () => {
    const g = tinyChain({ dtype: 'float32' });
    g.ops[2] = { ...g.ops[2], input: g.ops[0].input };
    expect(() => writeTflite(g)).toThrow(/op 2 \(conv2d\) reads float32 \[1,8,8,3\] but the previous tensor is float32 \[1,4,4,4\]/);
  });
});
