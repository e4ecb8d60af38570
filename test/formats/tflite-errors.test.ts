/**
 * Bad .tflite input: every case must give a MobileNetError with the right code and a message
 * naming the problem; never a RangeError, a hang or a huge allocation. Models are crafted by
 * editing the writer's model description, or by patching bytes where the writer cannot
 * express the damage (offsets, vector lengths, truncation).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MobileNetError } from '../../src/errors.js';
import { readTflite } from '../../src/formats/tflite.js';
import { encodeTflite, graphToTfliteSpec, writeTflite, type TfliteModelSpec } from '../../src/formats/tflite-writer.js';
import { FlatBufferReader, fb } from '../../src/formats/flatbuffer.js';
import { BuiltinOperator, F, TensorType } from '../../src/formats/tflite-schema.js';
import type { DType } from '../../src/model/ir.js';
import { MODELS_DIR, SHARED_MISSING, rng } from '../helpers/kernels.js';
import { expectModelError, quantizeChain, sharedModel, tinyChain } from '../helpers/tflite-fixtures.js';

/** tiny chain -> description -> edit -> bytes */
function craft(edit: (spec: TfliteModelSpec) => void, dtype: DType = 'float32'): Uint8Array {
  const spec = graphToTfliteSpec(tinyChain({ dtype }));
  edit(spec);
  return encodeTflite(spec);
}

/** op index -> tensor index of its k-th input */
const inputOf = (spec: TfliteModelSpec, op: number, k: number) => spec.operators[op].inputs[k];

const setU32 = (bytes: Uint8Array, pos: number, v: number) => new DataView(bytes.buffer, bytes.byteOffset).setUint32(pos, v, true);
const setI32 = (bytes: Uint8Array, pos: number, v: number) => new DataView(bytes.buffer, bytes.byteOffset).setInt32(pos, v, true);

/** position of subgraph 0's `tensors` offset field, and of the vector it points to */
function tensorsField(bytes: Uint8Array): { field: number; vector: number } {
  const r = new FlatBufferReader(bytes);
  const sg = r.root().tables(F.Model.subgraphs, 'subgraphs').get(0);
  const field = sg.fieldPosition(F.SubGraph.tensors);
  return { field, vector: field + r.u32(field, 'tensors') };
}

/** Anything thrown must be a MobileNetError: this is what "never a RangeError" means. */
function readsOrFailsCleanly(bytes: Uint8Array): 'ok' | 'error' {
  try {
    readTflite(bytes);
    return 'ok';
  } catch (e) {
    if (!(e instanceof MobileNetError)) throw new Error(`non-MobileNetError thrown: ${(e as Error)?.stack ?? e}`);
    expect(['INVALID_MODEL', 'UNSUPPORTED_MODEL']).toContain(e.code);
    return 'error';
  }
}

describe('not a model', () => {
  it('empty bytes', () => {
    expectModelError(() => readTflite(new Uint8Array(0)), 'INVALID_MODEL', /0 bytes: too short/);
  });
  it('3 bytes', () => {
    expectModelError(() => readTflite(new Uint8Array([1, 2, 3])), 'INVALID_MODEL', /3 bytes: too short/);
  });
  it('not a Uint8Array', () => {
    expectModelError(() => readTflite('model.tflite' as unknown as Uint8Array), 'INVALID_MODEL', /Uint8Array/);
  });
  it('random bytes', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const bytes = Uint8Array.from({ length: 64 + seed * 97 }, () => Math.floor(rand() * 256));
      expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /file identifier \(bytes 4\.\.7\) is ".*", expected "TFL3"/);
    }
  });
  it('random bytes that happen to carry the TFL3 identifier', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = rng(seed);
      const bytes = Uint8Array.from({ length: 16 + seed * 13 }, () => Math.floor(rand() * 256));
      bytes.set([0x54, 0x46, 0x4c, 0x33], 4);
      expect(readsOrFailsCleanly(bytes)).toBe('error');
    }
  });
  it('wrong file identifier', () => {
    const bytes = writeTflite(tinyChain({ dtype: 'float32' }));
    bytes.set([0x54, 0x46, 0x4c, 0x32], 4); // "TFL2"
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /"TFL2", expected "TFL3"/);
  });
  it('schema version other than 3', () => {
    const bytes = craft((s) => (s.version = 2));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /schema version is 2/);
  });
});

describe('truncated and corrupt bytes', () => {
  it.skipIf(!MODELS_DIR)('a real model truncated at 10%, 50% and 99%', () => {
    const bytes = sharedModel('mobilenet_v1_0.25_128_quant.tflite')!;
    for (const frac of [0.1, 0.5, 0.99]) {
      const cut = bytes.slice(0, Math.floor(bytes.length * frac));
      expectModelError(() => readTflite(cut), 'INVALID_MODEL', /truncated or corrupt/, /outside|remain/);
    }
  });
  it.skipIf(!!MODELS_DIR)('a real model truncated', () => console.warn(SHARED_MISSING));

  it('a small model truncated at every length fails cleanly, never with a RangeError', () => {
    const bytes = writeTflite(tinyChain({ dtype: 'uint8' }));
    for (let n = 0; n < bytes.length; n += 3) expect(readsOrFailsCleanly(bytes.slice(0, n)), `cut at ${n}`).toBe('error');
  });

  it('random byte corruption fails cleanly or reads (fuzz, 400 cases)', () => {
    const base = writeTflite(tinyChain({ dtype: 'int8' }));
    const rand = rng(99);
    const outcomes = { ok: 0, error: 0 };
    for (let c = 0; c < 400; c++) {
      const bytes = base.slice();
      const flips = 1 + Math.floor(rand() * 8);
      for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      outcomes[readsOrFailsCleanly(bytes)]++;
    }
    // both outcomes occur: damage in weight bytes is invisible, damage in structure is caught
    expect(outcomes.error).toBeGreaterThan(0);
    expect(outcomes.ok).toBeGreaterThan(0);
  });

  it('root offset pointing outside the buffer', () => {
    const bytes = writeTflite(tinyChain({ dtype: 'float32' }));
    setU32(bytes, 0, 0x7ffffff0);
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /model root offset/, /outside the \d+-byte file/);
  });

  it('an inner offset (subgraph tensors) pointing outside the buffer', () => {
    const bytes = writeTflite(tinyChain({ dtype: 'float32' }));
    const { field } = tensorsField(bytes);
    setU32(bytes, field, 0xfffffff0);
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /subgraphs\[0\]\.tensors/, /outside/);
  });

  it('a vector length claiming 2^31 elements (checked before any loop or allocation)', () => {
    const bytes = writeTflite(tinyChain({ dtype: 'float32' }));
    setU32(bytes, tensorsField(bytes).vector, 2 ** 31);
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /subgraphs\[0\]\.tensors claims 2147483648 elements of 4 bytes but only \d+ bytes remain/);
  });

  it('a table whose vtable lies outside the buffer', () => {
    const bytes = writeTflite(tinyChain({ dtype: 'float32' }));
    const root = new DataView(bytes.buffer).getUint32(0, true);
    setI32(bytes, root, -0x10000000);
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /model vtable/, /outside/);
  });

  it('a buffer stored after the flatbuffer (schema 3c) that runs past the end', () => {
    const spec = graphToTfliteSpec(tinyChain({ dtype: 'float32' }));
    const bytes = encodeTflite(spec, { externalBuffers: true });
    const cut = bytes.slice(0, bytes.length - 40);
    expectModelError(() => readTflite(cut), 'INVALID_MODEL', /buffer \d+ claims \d+ bytes at offset \d+, past the end/);
  });
});

describe('inconsistent models', () => {
  it('a weight buffer shorter than its shape', () => {
    let label = '';
    const bytes = craft((s) => {
      const t = s.tensors[inputOf(s, 0, 1)];
      label = `tensor ${inputOf(s, 0, 1)} '${t.name}' buffer ${t.buffer}`;
      s.buffers[t.buffer] = s.buffers[t.buffer].slice(0, 100);
    });
    const e = expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /has 100 bytes but shape \[4,3,3,3\] float32 needs 432/);
    expect(e.message).toContain(label);
  });

  it('conv output channels that disagree with the filter', () => {
    const bytes = craft((s) => (s.tensors[s.operators[0].outputs[0]].shape = [1, 4, 4, 5]));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 0 \(CONV_2D\) output 'conv1\/Relu6' has shape \[1,4,4,5\], but .* gives \[1,4,4,4\]/);
  });

  it('a bias of the wrong length', () => {
    const bytes = craft((s) => {
      const t = s.tensors[inputOf(s, 0, 2)];
      t.shape = [3];
      s.buffers[t.buffer] = s.buffers[t.buffer].slice(0, 12);
    });
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /bias of op 0 \(CONV_2D\)\) has 3 values, expected 4/);
  });

  it('zero, huge and absurd dimensions', () => {
    for (const [shape, re] of [
      [[1, 0, 8, 3], /every dimension must be between 1 and 65536/],
      [[1, 100000, 8, 3], /every dimension must be between 1 and 65536/],
      [[1, 65536, 65536, 3], /elements is more than the 268435456 allowed/],
    ] as const) {
      const bytes = craft((s) => (s.tensors[s.inputs[0]].shape = [...shape]));
      expectModelError(() => readTflite(bytes), 'INVALID_MODEL', re);
    }
  });

  it('per-channel scales that do not match the filter', () => {
    const bytes = craft((s) => {
      const q = s.tensors[inputOf(s, 0, 1)].quantization!;
      q.scale = q.scale.slice(0, 3);
      q.zeroPoint = q.zeroPoint.slice(0, 3);
    }, 'int8');
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /3 per-channel scales along axis 0, which does not match its shape \[4,3,3,3\]/);
  });

  it('bad quantization values: zero scale, zero point out of range, missing parameters', () => {
    let bytes = craft((s) => (s.tensors[s.inputs[0]].quantization!.scale = [0]), 'uint8');
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /scale 0; scales must be positive and finite/);
    bytes = craft((s) => (s.tensors[s.inputs[0]].quantization!.zeroPoint = [300]), 'uint8');
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /is uint8 but has zero point 300, outside \[0, 255\]/);
    bytes = craft((s) => delete s.tensors[s.inputs[0]].quantization, 'int8');
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /'input' is int8 but has no quantization parameters/);
  });

  it('indices out of range: tensor, buffer, operator code', () => {
    let bytes = craft((s) => (s.operators[1].inputs[1] = 500));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 1 \(DEPTHWISE_CONV_2D\) refers to tensor 500, but subgraph 0 has \d+ tensors/);
    bytes = craft((s) => (s.tensors[inputOf(s, 1, 1)].buffer = 99));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /refers to buffer 99, but the model has \d+ buffers/);
    bytes = craft((s) => (s.operators[2].opcodeIndex = 42));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 2 uses operator code 42/);
  });

  it('a reshape whose target shape (tensor or new_shape) disagrees with its output', () => {
    let bytes = craft((s) => {
      const t = s.tensors[inputOf(s, 5, 1)];
      s.buffers[t.buffer] = new Uint8Array(Int32Array.from([5, 1]).buffer);
    });
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 5 \(RESHAPE\) target shape \[5,1\] disagrees with its output shape \[1,5\]/);
    bytes = craft((s) => {
      s.operators[5].inputs = [s.operators[5].inputs[0]];
      s.operators[5].options!.fields[F.ReshapeOptions.new_shape] = fb.vector('i32', [1, 1, 5]);
    });
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /new_shape \[1,1,5\] disagrees/);
    // -1 (inferred dimension) is fine
    bytes = craft((s) => {
      const t = s.tensors[inputOf(s, 5, 1)];
      s.buffers[t.buffer] = new Uint8Array(Int32Array.from([-1, 5]).buffer);
    });
    expect(readTflite(bytes).ops[5].output.shape).toEqual([1, 5]);
  });

  it('SQUEEZE reads as a reshape; squeezing a dimension that is not 1 is refused', () => {
    const squeeze = (dims: number[]) =>
      craft((s) => {
        s.operatorCodes.push({ builtinCode: BuiltinOperator.SQUEEZE, version: 1 });
        const op = s.operators[5];
        op.opcodeIndex = s.operatorCodes.length - 1;
        op.inputs = [op.inputs[0]];
        op.optionsType = 30; // SqueezeOptions
        op.options = fb.table({ [F.SqueezeOptions.squeeze_dims]: fb.vector('i32', dims) });
      });
    const g = readTflite(squeeze([1, 2]));
    expect(g.ops[5]).toMatchObject({ op: 'reshape', input: { shape: [1, 1, 1, 5] }, output: { shape: [1, 5] } });
    expectModelError(() => readTflite(squeeze([3])), 'INVALID_MODEL', /op 5 \(SQUEEZE\) squeezes dimension 3 of \[1,1,1,5\], which is not 1/);
  });

  it('bad option values: padding code, zero stride, missing options', () => {
    let bytes = craft((s) => (s.operators[0].options!.fields[F.Conv2DOptions.padding] = fb.scalar('i8', 5)));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 0 \(CONV_2D\) has padding code 5/);
    bytes = craft((s) => (s.operators[1].options!.fields[F.DepthwiseConv2DOptions.stride_w] = fb.scalar('i32', 0)));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 1 \(DEPTHWISE_CONV_2D\) has strides \[1, 0\]/);
    bytes = craft((s) => delete s.operators[3].options);
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 3 \(AVERAGE_POOL_2D\) has builtin options of union type 0; expected Pool2DOptions/);
  });
});

describe('valid models we do not run', () => {
  it('a MAX_POOL_2D op', () => {
    const bytes = craft((s) => {
      s.operatorCodes.push({ builtinCode: 17, version: 1 });
      s.operators[3].opcodeIndex = s.operatorCodes.length - 1;
    });
    expectModelError(
      () => readTflite(bytes),
      'UNSUPPORTED_MODEL',
      /^op 3 is MAX_POOL_2D, which mobilenet-wasm does not run; supported: CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, FULLY_CONNECTED, SOFTMAX, RESHAPE, SQUEEZE, QUANTIZE, DEQUANTIZE, ADD, MUL, PAD, PADV2, MEAN, CONCATENATION, LOGISTIC, CUSTOM 'TFLite_Detection_PostProcess'$/,
    );
  });

  it('an op whose code only fits in builtin_code (> 127) is named', () => {
    const bytes = craft((s) => {
      s.operatorCodes.push({ builtinCode: 150, version: 1 }); // written with deprecated_builtin_code 127
      s.operators[4].opcodeIndex = s.operatorCodes.length - 1;
    });
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /^op 4 is GELU, which/);
  });

  it('a custom op is named by its custom code', () => {
    const bytes = craft((s) => {
      s.operatorCodes.push({ builtinCode: BuiltinOperator.CUSTOM, version: 1, customCode: 'MyVendorOp' });
      s.operators[6].opcodeIndex = s.operatorCodes.length - 1;
    });
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /op 6 is CUSTOM 'MyVendorOp'/);
  });

  it('a TANH or SIGN_BIT fused activation', () => {
    for (const [code, name] of [[4, 'TANH'], [5, 'SIGN_BIT']] as const) {
      const bytes = craft((s) => (s.operators[0].options!.fields[F.Conv2DOptions.fused_activation_function] = fb.scalar('i8', code)));
      expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', new RegExp(`op 0 \\(CONV_2D\\) has fused activation ${name}; supported: NONE, RELU, RELU6, RELU_N1_TO_1`));
    }
    const bytes = craft((s) => (s.operators[0].options!.fields[F.Conv2DOptions.fused_activation_function] = fb.scalar('i8', 9)));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /fused activation code 9, which is not in the TFLite schema/);
  });

  it('a float16 tensor (weights or activations)', () => {
    let bytes = craft((s) => (s.tensors[inputOf(s, 2, 1)].type = TensorType.FLOAT16));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /weights' \(filter of op 2 \(CONV_2D\)\) has type FLOAT16; mobilenet-wasm supports FLOAT32 here/);
    bytes = craft((s) => (s.tensors[s.inputs[0]].type = TensorType.FLOAT16));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /tensor 0 'input' .* has type FLOAT16; mobilenet-wasm supports FLOAT32, UINT8, INT8 here/);
  });

  it('a batch-2 input', () => {
    const bytes = craft((s) => (s.tensors[s.inputs[0]].shape = [2, 8, 8, 3]));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /tensor 0 'input' has batch 2 \(shape \[2,8,8,3\]\); mobilenet-wasm runs batch 1/);
  });

  it('ops out of execution order: an op reading a tensor a later op writes', () => {
    const bytes = craft((s) => (s.operators[2].inputs[0] = s.operators[3].outputs[0]));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 2 \(CONV_2D\) reads tensor \d+ '[^']+', which is neither a model input nor written by an earlier op/);
  });

  it('a non-chain graph: weights computed by another op, extra inputs or outputs', () => {
    let bytes = craft((s) => (s.operators[2].inputs[1] = s.operators[0].outputs[0]));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /op 2 \(CONV_2D\) takes its filter from tensor 3 'conv1\/Relu6', which is not a constant/);
    bytes = craft((s) => (s.outputs = [inputOf(s, 2, 1)]));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /the model output is tensor \d+ '[^']+', which no op writes/);
    bytes = craft((s) => s.inputs.push(s.operators[0].outputs[0]));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 0 \(CONV_2D\) writes tensor 3 'conv1\/Relu6', which model input 1 already wrote/);
    bytes = craft((s) => (s.inputs = Array.from({ length: 17 }, () => s.inputs[0])));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /17 inputs and 1 outputs; mobilenet-wasm runs models with at most 16 of each/);
    bytes = craft((s) => (s.operators = []));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /no operators/);
  });

  it('dilation, depth multiplier 2, grouped conv, hybrid weights, shuffled FC weights, softmax beta 0', () => {
    let bytes = craft((s) => (s.operators[0].options!.fields[F.Conv2DOptions.dilation_h_factor] = fb.scalar('i32', 2)));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /op 0 \(CONV_2D\) has dilation \[2, 1\]; only 1 is supported/);

    bytes = craft((s) => {
      const f = s.tensors[inputOf(s, 1, 1)];
      f.shape = [1, 3, 3, 8];
      s.buffers[f.buffer] = new Uint8Array(9 * 8 * 4);
      s.tensors[s.operators[1].outputs[0]].shape = [1, 4, 4, 8];
      s.operators[1].options!.fields[F.DepthwiseConv2DOptions.depth_multiplier] = fb.scalar('i32', 2);
      const b = s.tensors[inputOf(s, 1, 2)];
      b.shape = [8];
      s.buffers[b.buffer] = new Uint8Array(8 * 4);
    });
    // depth multiplier 2 reads; the next conv then sees 8 channels where its filter has 4
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /op 2 \(CONV_2D\) filter has 4 input channels but input '[^']+' has 8/);

    bytes = craft((s) => {
      const f = s.tensors[inputOf(s, 1, 1)];
      f.shape = [1, 3, 3, 6];
      s.buffers[f.buffer] = new Uint8Array(9 * 6 * 4);
      s.tensors[s.operators[1].outputs[0]].shape = [1, 4, 4, 6];
      s.operators[1].options!.fields[F.DepthwiseConv2DOptions.depth_multiplier] = fb.scalar('i32', 0);
    });
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /op 1 \(DEPTHWISE_CONV_2D\) has 6 output channels for 4 input channels: not a whole depth multiplier/);

    bytes = craft((s) => (s.operators[1].options!.fields[F.DepthwiseConv2DOptions.depth_multiplier] = fb.scalar('i32', 3)));
    expectModelError(() => readTflite(bytes), 'INVALID_MODEL', /depth_multiplier 3, but its filter has 4 channels for 4 input channels/);

    bytes = craft((s) => {
      const f = s.tensors[inputOf(s, 2, 1)];
      f.shape = [6, 1, 1, 2];
      s.buffers[f.buffer] = new Uint8Array(12 * 4);
    });
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /filter has 2 input channels but input 'dw1\/Relu6' has 4; grouped convolution/);

    bytes = craft((s) => {
      const f = s.tensors[inputOf(s, 2, 1)];
      f.type = TensorType.INT8;
      f.quantization = { scale: [0.1], zeroPoint: [0], quantizedDimension: 0 };
      s.buffers[f.buffer] = new Uint8Array(24);
    });
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /op 2 \(CONV_2D\) is a hybrid op/);

    const spec = graphToTfliteSpec(quantizeChain());
    spec.operators[1].options!.fields[F.FullyConnectedOptions.weights_format] = fb.scalar('i8', 1);
    expectModelError(() => readTflite(encodeTflite(spec)), 'UNSUPPORTED_MODEL', /weights_format SHUFFLED4x16INT8; only DEFAULT/);

    bytes = craft((s) => (s.operators[6].options!.fields[F.SoftmaxOptions.beta] = fb.scalar('f32', 0)));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /op 6 \(SOFTMAX\) has beta 0/);
  });

  it('sparse or int16 tensors, quantized outputs of the wrong kind', () => {
    let bytes = craft((s) => (s.tensors[inputOf(s, 0, 1)].type = TensorType.INT16));
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /has type INT16/);
    // DEQUANTIZE must write float32
    const spec = graphToTfliteSpec(quantizeChain());
    spec.tensors[spec.outputs[0]] = { ...spec.tensors[spec.operators[1].outputs[0]], name: 'y' };
    bytes = encodeTflite(spec);
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /op 2 \(DEQUANTIZE\) converts int8 to int8/);
  });
});

describe('every unsupported op in one error (issue 10)', () => {
  it('lists each kind with its ops, custom ops by their code', () => {
    const bytes = craft((s) => {
      s.operatorCodes.push({ builtinCode: 17, version: 1 });
      s.operatorCodes.push({ builtinCode: BuiltinOperator.CUSTOM, version: 1, customCode: 'MyVendorOp' });
      s.operators[3].opcodeIndex = s.operatorCodes.length - 2;
      s.operators[5].opcodeIndex = s.operatorCodes.length - 2;
      s.operators[6].opcodeIndex = s.operatorCodes.length - 1;
    });
    expectModelError(() => readTflite(bytes), 'UNSUPPORTED_MODEL', /^2 ops are MAX_POOL_2D \(ops 3, 5\); op 6 is CUSTOM 'MyVendorOp', which mobilenet-wasm does not run \(all of them listed\)/);
  });
});

describe.skipIf(!MODELS_DIR)('the MobileNet family reads as graphs (issue 10)', () => {
  const read = (file: string) => readTflite(new Uint8Array(readFileSync(join(MODELS_DIR!, file))));
  it.skipIf(!existsSync(join(MODELS_DIR ?? '', 'ssd_mobilenet_v1_coco_quant.tflite')))('SSD: two heads concatenated, LOGISTIC, the post-processing with four outputs', () => {
    const g = read('ssd_mobilenet_v1_coco_quant.tflite');
    expect(g.inputs!.map((t) => t.shape)).toEqual([[1, 300, 300, 3]]);
    expect(g.outputs!.map((t) => t.shape)).toEqual([[1, 10, 4], [1, 10], [1, 10], [1]]);
    expect(g.ops.filter((o) => o.op === 'concatenation').map((o) => (o as { inputs: unknown[] }).inputs.length)).toEqual([6, 6]);
    const post = g.ops[g.ops.length - 1];
    expect(post.op).toBe('detection_postprocess');
    if (post.op !== 'detection_postprocess') return;
    expect(post.options).toMatchObject({ maxDetections: 10, numClasses: 90, useRegularNms: false });
  });
  it.skipIf(!existsSync(join(MODELS_DIR ?? '', 'tf2_mobilenet_v2_1.0_224_ptq.tflite')))('TF2 MobileNet v2: residual ADDs read tensors written earlier, MEAN over H and W', () => {
    const g = read('tf2_mobilenet_v2_1.0_224_ptq.tflite');
    const adds = g.ops.filter((o) => o.op === 'add');
    expect(adds).toHaveLength(10);
    const first = adds[0] as { inputs: { id?: number }[] };
    expect(first.inputs.map((t) => t.id)).toEqual([115, 118]);
    const mean = g.ops.find((o) => o.op === 'mean');
    expect(mean).toMatchObject({ axes: [1, 2], keepDims: true });
  });
});

