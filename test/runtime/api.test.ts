/** The API's contract: typed errors for bad input and options, info, dispose. */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadModel } from '../../src/node.js';
import { MobileNet } from '../../src/mobilenet.js';
import { MobileNetError } from '../../src/errors.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { MODELS_DIR } from '../helpers/kernels.js';

async function rejects(p: Promise<unknown> | (() => unknown), code: string, msg: RegExp) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(MobileNetError);
    expect((e as MobileNetError).code).toBe(code);
    expect((e as Error).message).toMatch(msg);
    return;
  }
  throw new Error('expected a MobileNetError');
}

describe('API contract (random-weight 0.25/96 models)', () => {
  const small = (precision: 'float32' | 'uint8' | 'int8') => buildMobileNetV1({ alpha: 0.25, resolution: 96, precision, classes: 10, seed: 1 });

  it('reports info', async () => {
    const net = await loadModel(small('uint8'), { kernels: 'scalar' });
    expect(net.info).toMatchObject({ alpha: 0.25, resolution: 96, precision: 'uint8', classes: 10, kernels: 'scalar', source: 'random' });
    expect(net.info.input).toMatchObject({ shape: [1, 96, 96, 3], dtype: 'uint8', quant: { scale: 1 / 128, zeroPoint: 128 } });
    expect(net.info.memoryBytes).toBeGreaterThan(net.info.weightBytes);
  });

  it('rejects inputs of the wrong dtype or length', async () => {
    const net = await loadModel(small('float32'));
    await rejects(() => net.run(new Uint8Array(96 * 96 * 3)), 'INVALID_INPUT', /must be a Float32Array/);
    await rejects(() => net.run(new Float32Array(10)), 'INVALID_INPUT', /has 10 elements .* needs 27648/);
    await rejects(() => net.run(null as never), 'INVALID_INPUT', /must be a Float32Array/);
    const q = await loadModel(small('int8'));
    await rejects(() => q.run(new Uint8Array(96 * 96 * 3)), 'INVALID_INPUT', /must be a Int8Array/);
  });

  it('rejects bad options and use after dispose', async () => {
    await rejects(loadModel(small('float32'), { kernels: 'gpu' as never }), 'INVALID_OPTION', /kernels must be/);
    await rejects(loadModel(small('float32'), { colour: 1 } as never), 'INVALID_OPTION', /unknown option 'colour'/);
    await rejects(loadModel(small('float32'), { maxMemoryBytes: 1000 }), 'OUT_OF_MEMORY', /over the limit/);
    await rejects(MobileNet.load(small('float32')), 'INVALID_OPTION', /no kernel .wasm given/);
    const net = await loadModel(small('float32'));
    net.dispose();
    await rejects(() => net.run(new Float32Array(96 * 96 * 3)), 'DISPOSED', /disposed/);
  });

  it('rejects bytes that are not a model', async () => {
    await rejects(loadModel(new Uint8Array(0)), 'INVALID_MODEL', /./);
    await rejects(loadModel(new Uint8Array(100).fill(7)), 'INVALID_MODEL', /./);
    await rejects(loadModel(42 as never), 'INVALID_MODEL', /must be .tflite bytes/);
  });

  it('runs the same model identically twice (arena reuse leaves no state behind)', async () => {
    const net = await loadModel(small('int8'));
    const x = Int8Array.from({ length: 96 * 96 * 3 }, (_, i) => ((i * 37) % 256) - 128);
    const a = net.run(x);
    net.run(new Int8Array(96 * 96 * 3));
    expect(net.run(x)).toEqual(a);
  });
});

describe.skipIf(!MODELS_DIR)('API on a shared model', () => {
  it('truncated model file gives INVALID_MODEL', async () => {
    const bytes = readFileSync(join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'));
    await rejects(loadModel(new Uint8Array(bytes.subarray(0, bytes.length >> 1))), 'INVALID_MODEL', /./);
  });
});
