/**
 * Hostile callers: every public function and method, given arguments of the wrong type,
 * null options, malformed graphs, typed-array subclasses with a lying `length`, Proxies or
 * throwing getters, must throw a MobileNetError with the right code and a message naming the
 * problem, never a raw TypeError / RangeError.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, nodeKernelModule } from '../../src/node.js';
import {
  MobileNet, MobileNetError, buildMobileNetV1, mobilenetV1Layers, chooseFlavour, preprocess, preprocessInto, inputMapping,
  centralCropBox, parseLabels, alignLabels, topK, readTflite, writeTflite, readTfjsLayers, loadTfjsLayers, readImageHeader,
} from '../../src/index.js';
import type { Graph, TensorInfo } from '../../src/model/ir.js';
import { MODELS_DIR } from '../helpers/kernels.js';

const RES = 32;
const N = RES * RES * 3;

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectError(err: unknown, code: string, re: RegExp): void {
  expect(err, 'expected a MobileNetError').toBeInstanceOf(MobileNetError);
  expect((err as MobileNetError).code, (err as Error).message).toBe(code);
  expect((err as Error).message).toMatch(re);
}

const expectThrows = (f: () => unknown, code: string, re: RegExp) => expectError(caught(f), code, re);

async function expectRejects(p: () => Promise<unknown>, code: string, re: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p();
  } catch (e) {
    err = e;
  }
  expectError(err, code, re);
}

/** a Float32Array / Uint8Array subclass whose length getter lies */
class LyingF32 extends Float32Array {
  claimed = 0;
  override get length() {
    return this.claimed;
  }
}
class LyingU8 extends Uint8Array {
  claimed = 0;
  override get length() {
    return this.claimed;
  }
}
const lyingF32 = (real: number, claimed: number) => Object.assign(new LyingF32(real), { claimed });
const lyingU8 = (real: number, claimed: number) => Object.assign(new LyingU8(real), { claimed });

const graph = (precision: 'float32' | 'uint8' | 'int8' = 'float32') => buildMobileNetV1({ alpha: 0.25, resolution: RES, precision, classes: 4, seed: 2 });
const image = () => ({ data: new Uint8Array(RES * RES * 3).fill(100), width: RES, height: RES });
const wasm = { scalar: nodeKernelModule('scalar') };

describe('MobileNet.load: options and malformed graphs', () => {
  const t = (name: string, shape: unknown = [1, 4], dtype: unknown = 'float32') => ({ name, shape, dtype }) as unknown as TensorInfo;
  const fc = (over: Record<string, unknown> = {}) => ({
    op: 'fully_connected',
    input: t('x'),
    output: t('y'),
    filter: { data: new Float32Array(16), shape: [4, 4], dtype: 'float32' },
    bias: new Float32Array(4),
    activation: 'none',
    ...over,
  });
  const g = (ops: unknown[], input: unknown = t('x'), output: unknown = t('y')) => ({ ops, input, output, source: 'random' }) as unknown as Graph;

  const modelCases: Array<[string, () => unknown, string, RegExp]> = [
    ['{}', () => ({}), 'INVALID_MODEL', /model must be \.tflite bytes .* got an object/],
    ['null', () => null, 'INVALID_MODEL', /got null/],
    ['a string', () => 'model.tflite', 'INVALID_MODEL', /got "model\.tflite"/],
    ['a Proxy of bytes', () => new Proxy(new Uint8Array(64), {}), 'INVALID_MODEL', /posing as a typed array/],
    ['ops not an array', () => ({ ops: 'conv' }), 'INVALID_MODEL', /ops must be an array, got "conv"/],
    ['{ ops: [{}] }', () => ({ ops: [{}] }), 'INVALID_MODEL', /model input must be a tensor/],
    ['an op without a name', () => g([{}]), 'INVALID_MODEL', /op 0 has no op name/],
    ['an op that is not an object', () => g([42]), 'INVALID_MODEL', /op 0 must be an object, got 42/],
    ['an unknown op', () => g([{ op: 'gelu', input: t('x'), output: t('y') }]), 'UNSUPPORTED_MODEL', /op 0 is 'gelu'/],
    ['a tensor without a shape', () => g([fc({ input: { name: 'x', dtype: 'float32' } })]), 'INVALID_MODEL', /input of op 0 \(fully_connected\) 'x' shape must be an array of numbers, got undefined/],
    ['a negative dimension', () => g([fc()], t('x', [1, -4])), 'INVALID_MODEL', /model input 'x' shape \[1,-4\]: dimension 1 must be a positive integer/],
    ['a string dimension', () => g([fc()], t('x', [1, '4'])), 'INVALID_MODEL', /shape\[1\] must be a number, got "4"/],
    ['a huge tensor', () => g([fc()], t('x', [1, 2 ** 20, 2 ** 20])), 'INVALID_MODEL', /more than the \d+ allowed/],
    ['an unknown dtype', () => g([fc()], t('x', [1, 4], 'float16')), 'INVALID_MODEL', /dtype must be 'float32', 'uint8' or 'int8', got "float16"/],
    ['missing filter', () => g([fc({ filter: undefined })]), 'INVALID_MODEL', /filter of op 0 \(fully_connected\) must be weights/],
    ['filter data a Proxy', () => g([fc({ filter: { data: new Proxy(new Float32Array(16), {}), shape: [4, 4], dtype: 'float32' } })]), 'INVALID_MODEL', /data must be a Float32Array \(dtype float32\), got an object posing/],
    ['filter data of the wrong type', () => g([fc({ filter: { data: new Uint8Array(16), shape: [4, 4], dtype: 'float32' } })]), 'INVALID_MODEL', /data must be a Float32Array .* got a Uint8Array/],
    ['filter data of the wrong length', () => g([fc({ filter: { data: new Float32Array(5), shape: [4, 4], dtype: 'float32' } })]), 'INVALID_MODEL', /has 5 values but its shape \[4,4\] needs 16/],
    ['filter data lying about its length', () => g([fc({ filter: { data: lyingF32(5, 16), shape: [4, 4], dtype: 'float32' } })]), 'INVALID_MODEL', /has 5 values but its shape \[4,4\] needs 16/],
    ['bias an array', () => g([fc({ bias: [0, 0, 0, 0] })]), 'INVALID_MODEL', /bias must be a Float32Array \(float ops\) or an Int32Array/],
    ['strides a string', () => g([{ ...fc(), op: 'conv2d', filter: { data: new Float32Array(16), shape: [4, 1, 1, 4], dtype: 'float32' }, strides: 'x', padding: 'same' }], t('x', [1, 1, 1, 4]), t('y', [1, 1, 1, 4])), 'INVALID_MODEL', /op 0 \(conv2d\) strides must be an array of numbers/],
    ['softmax beta missing', () => g([{ op: 'softmax', input: t('x'), output: t('y') }]), 'INVALID_MODEL', /op 0 \(softmax\) beta must be a number, got undefined/],
    ['a throwing getter', () => ({ get ops() { throw new Error('boom'); } }), 'INVALID_MODEL', /boom/],
  ];
  for (const [what, model, code, re] of modelCases) {
    it(`model ${what}: ${code}`, async () => {
      await expectRejects(() => MobileNet.load(model() as never, { wasm }), code, re);
    });
  }

  it('a filter whose subclass lies about a larger length loads and runs on its real values', async () => {
    const w = lyingF32(16, 1e9);
    w.fill(0.25);
    const net = await MobileNet.load(g([fc({ filter: { data: w, shape: [4, 4], dtype: 'float32' } })]), { wasm, kernels: 'scalar' });
    expect([...(net.run(new Float32Array([1, 1, 1, 1])) as Float32Array)]).toEqual([1, 1, 1, 1]);
  });

  const optionCases: Array<[string, unknown, RegExp]> = [
    ['null', null, /load options must be an object, got null/],
    ['a number', 5, /load options must be an object, got 5/],
    ['kernels a bigint', { kernels: 1n }, /kernels must be .* got 1n/],
    ['kernels a symbol', { kernels: Symbol('k') }, /kernels must be .* got Symbol\(k\)/],
    ['maxMemoryBytes a string', { maxMemoryBytes: '1e9' }, /maxMemoryBytes must be a positive number, got "1e9"/],
    ['wasm a number', { wasm: 5 }, /wasm must be an object .* got 5/],
    ['wasm a function that throws', { wasm: () => { throw new TypeError('no file'); } }, /could not give the '\w+' build: TypeError: no file/],
    ['labels a string', { labels: 'cat\ndog' }, /labels must be an array of strings, got "cat\\ndog"/],
    ['labels with a number', { labels: ['a', 'b', 3, 'd'] }, /labels\[2\] must be a string, got 3/],
    ['allowNonFinite a string', { allowNonFinite: 'true' }, /allowNonFinite must be true or false/],
  ];
  for (const [what, options, re] of optionCases) {
    it(`options ${what}: INVALID_OPTION`, async () => {
      const opts = options !== null && typeof options === 'object' && !('wasm' in options) ? { kernels: 'scalar', ...options, wasm } : options;
      await expectRejects(() => MobileNet.load(graph(), opts as never), 'INVALID_OPTION', re);
    });
  }

  it.skipIf(!MODELS_DIR)('.tflite bytes may come as a DataView or an ArrayBuffer', async () => {
    const bytes = new Uint8Array(readFileSync(join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite')));
    const a = await MobileNet.load(new DataView(bytes.buffer) as never, { wasm, kernels: 'scalar' });
    const b = await MobileNet.load(bytes.buffer, { wasm, kernels: 'scalar' });
    expect(a.info.classes).toBe(1001);
    expect(b.info.classes).toBe(1001);
  });
});

describe('MobileNet methods', () => {
  let net: MobileNet;
  let q: MobileNet;
  beforeAll(async () => {
    net = await loadModel(graph('float32'), { kernels: 'scalar' });
    q = await loadModel(graph('uint8'), { kernels: 'scalar' });
  });

  const bad = (f: (n: MobileNet) => unknown, code: string, re: RegExp) => () => expectThrows(() => f(net), code, re);
  const table: Array<[string, (n: MobileNet) => unknown, string, RegExp]> = [
    ['run(null)', (n) => n.run(null as never), 'INVALID_INPUT', /input must be a Float32Array .* got null/],
    ['run(a string)', (n) => n.run('x' as never), 'INVALID_INPUT', /got "x"/],
    ['run(an Array)', (n) => n.run(new Array(N).fill(0) as never), 'INVALID_INPUT', /must be a Float32Array .* got an array of 3072/],
    ['run(a Proxy of a Float32Array)', (n) => n.run(new Proxy(new Float32Array(N), {}) as never), 'INVALID_INPUT', /must be a Float32Array .* posing as a typed array/],
    ['run(a subclass claiming the right length)', (n) => n.run(lyingF32(3, N)), 'INVALID_INPUT', /input has 3 elements but the model input float32\[1,32,32,3\] needs 3072/],
    ['run(a Float64Array)', (n) => n.run(new Float64Array(N) as never), 'INVALID_INPUT', /must be a Float32Array .* got a Float64Array/],
    ['profile(x, -1)', (n) => n.profile(new Float32Array(N), -1), 'INVALID_OPTION', /runs must be an integer from 0 to 100000, got -1/],
    ['profile(x, 1e9)', (n) => n.profile(new Float32Array(N), 1e9), 'INVALID_OPTION', /got 1000000000/],
    ['profile(x, "3")', (n) => n.profile(new Float32Array(N), '3' as never), 'INVALID_OPTION', /got "3"/],
    ['profile(a Proxy)', (n) => n.profile(new Proxy(new Float32Array(N), {}) as never), 'INVALID_INPUT', /posing as a typed array/],
    ['classify(img, null)', (n) => n.classify(image(), null as never), 'INVALID_OPTION', /classify options must be an object, got null/],
    ['classify(img, 5)', (n) => n.classify(image(), 5 as never), 'INVALID_OPTION', /classify options must be an object, got 5/],
    ['classify([img], null)', (n) => n.classify([image()], null as never), 'INVALID_OPTION', /classify options must be an object/],
    ['classify topK 0', (n) => n.classify(image(), { topK: 0 }), 'INVALID_OPTION', /topK must be a positive integer, got 0/],
    ['classify topK "3"', (n) => n.classify(image(), { topK: '3' as never }), 'INVALID_OPTION', /topK must be a positive integer, got "3"/],
    ['classify with a throwing option getter', (n) => n.classify(image(), { get topK(): number { throw new Error('getter boom'); } }), 'INVALID_INPUT', /getter boom/],
    ['classify crop "x"', (n) => n.classify(image(), { crop: 'x' as never }), 'INVALID_OPTION', /crop must be 'central' or 'none', got "x"/],
    ['classify inputRange [0, Infinity]', (n) => n.classify(image(), { inputRange: [0, Infinity] }), 'INVALID_OPTION', /inputRange must be \[low, high\]/],
    ['classify inputRange [-1e300, 1e300]', (n) => n.classify(image(), { inputRange: [-1e300, 1e300] }), 'INVALID_OPTION', /at most 1e38 in magnitude/],
    ['classify(null)', (n) => n.classify(null as never), 'INVALID_IMAGE', /image must be an object/],
    ['classify(image with Proxy data)', (n) => n.classify({ ...image(), data: new Proxy(new Uint8Array(N), {}) as never }), 'INVALID_IMAGE', /Uint8Array or Uint8ClampedArray, got an object posing/],
    ['classify(image with lying data)', (n) => n.classify({ ...image(), data: lyingU8(10, N) }), 'INVALID_IMAGE', /10 bytes for 32 x 32 pixels/],
    ['classify(image 2^53 wide)', (n) => n.classify({ ...image(), width: 2 ** 53 }), 'INVALID_IMAGE', /positive integers, got 9007199254740992 x 32/],
    ['classify(image of width 32.5)', (n) => n.classify({ ...image(), width: 32.5 }), 'INVALID_IMAGE', /positive integers/],
    ['embed(img, null)', (n) => n.embed(image(), null as never), 'INVALID_OPTION', /embed options must be an object/],
    ['probabilities(img, "x")', (n) => n.probabilities(image(), 'x' as never), 'INVALID_OPTION', /probabilities options must be an object/],
    ['setLabels(null)', (n) => n.setLabels(null as never), 'INVALID_OPTION', /labels must be an array of strings, got null/],
    ['setLabels([1, 2, 3, 4])', (n) => n.setLabels([1, 2, 3, 4] as never), 'INVALID_OPTION', /labels\[0\] must be a string, got 1/],
    ['setLabels(too few)', (n) => n.setLabels(['a']), 'INVALID_OPTION', /labels have 1 entries but the model has 4 classes/],
  ];
  for (const [what, f, code, re] of table) it(`${what}: ${code}`, bad(f, code, re));

  it('a subclass that under-reports its length still runs on all its values', () => {
    const x = lyingF32(N, 3);
    x.fill(0.5);
    expect(net.run(x)).toEqual(net.run(new Float32Array(N).fill(0.5)));
    const u = lyingU8(N, 3);
    expect(q.run(u)).toEqual(q.run(new Uint8Array(N)));
    expectThrows(() => q.run(new Proxy(new Uint8Array(N), {}) as never), 'INVALID_INPUT', /must be a Uint8Array/);
  });

  it('info cannot be used to change the model', () => {
    net.info.input.shape[1] = 5;
    expect(() => net.run(new Float32Array(N))).not.toThrow();
  });

  it('after dispose every method says DISPOSED, and dispose is idempotent', async () => {
    const d = await loadModel(graph('float32'), { kernels: 'scalar' });
    d.dispose();
    d.dispose();
    expectThrows(() => d.run(new Float32Array(N)), 'DISPOSED', /disposed/);
    expectThrows(() => d.classify(image()), 'DISPOSED', /disposed/);
    expectThrows(() => d.embed(image()), 'DISPOSED', /disposed/);
    expectThrows(() => d.profile(new Float32Array(N), 1), 'DISPOSED', /disposed/);
  });
});

describe('exported helpers', () => {
  const input = graph('float32').input;
  const table: Array<[string, () => unknown, string, RegExp]> = [
    ['parseLabels(5)', () => parseLabels(5 as never), 'INVALID_OPTION', /labels must be text/],
    ['alignLabels(null, 3)', () => alignLabels(null as never, 3), 'INVALID_OPTION', /labels must be an array of strings, got null/],
    ['alignLabels(["a", 1], 2)', () => alignLabels(['a', 1] as never, 2), 'INVALID_OPTION', /labels\[1\] must be a string/],
    ['alignLabels(["a"], NaN)', () => alignLabels(['a'], NaN), 'INVALID_OPTION', /numClasses must be a positive integer, got NaN/],
    ['alignLabels(a Proxy that throws)', () => alignLabels(new Proxy(['a'], { get() { throw new Error('trap'); } }), 1), 'INVALID_OPTION', /trap/],
    ['topK(null, 1)', () => topK(null as never, 1), 'INVALID_OPTION', /topK needs an array of scores/],
    ['topK({ length: 1e12 }, 20)', () => topK({ length: 1e12 } as never, 20), 'INVALID_OPTION', /topK needs an array of scores .* got an object/],
    ['topK(a Proxy of a Float32Array, 1)', () => topK(new Proxy(new Float32Array(3), {}) as never, 1), 'INVALID_OPTION', /posing as a typed array/],
    ['topK([1, "a"], 1)', () => topK([1, 'a'] as never, 1), 'INVALID_OPTION', /scores\[1\] must be a number, got "a"/],
    ['topK([1], 1n)', () => topK([1], 1n as never), 'INVALID_OPTION', /k must be a non-negative integer, got 1n/],
    ['preprocess(img, null)', () => preprocess(image(), null as never), 'INVALID_INPUT', /model input TensorInfo/],
    ['preprocess(img, { shape: "x" })', () => preprocess(image(), { shape: 'x' } as never), 'INVALID_INPUT', /model input TensorInfo/],
    ['preprocess(img, input, null)', () => preprocess(image(), input, null as never), 'INVALID_OPTION', /preprocess options must be an object, got null/],
    ['preprocessInto(a Proxy out)', () => preprocessInto(image(), input, new Proxy(new Float32Array(N), {}) as never), 'INVALID_INPUT', /needs a Float32Array to write into, got an object posing/],
    ['preprocessInto(a lying out)', () => preprocessInto(image(), input, lyingF32(3, N)), 'INVALID_INPUT', /output array has 3 elements; input input needs 3072/],
    ['inputMapping(null)', () => inputMapping(null as never), 'INVALID_INPUT', /model input TensorInfo/],
    ['inputMapping(input, 5)', () => inputMapping(input, 5 as never), 'INVALID_OPTION', /options must be an object, got 5/],
    ['centralCropBox(NaN, 3)', () => centralCropBox(NaN, 3), 'INVALID_INPUT', /positive integer width and height, got NaN x 3/],
    ['centralCropBox(10, 10, 2)', () => centralCropBox(10, 10, 2), 'INVALID_OPTION', /cropFraction must be a number in \(0, 1\], got 2/],
    ['buildMobileNetV1(null)', () => buildMobileNetV1(null as never), 'INVALID_OPTION', /needs an options object .* got null/],
    ['buildMobileNetV1({})', () => buildMobileNetV1({} as never), 'INVALID_OPTION', /precision must be/],
    ['buildMobileNetV1(alpha 1e6)', () => buildMobileNetV1({ alpha: 1e6, resolution: 32, precision: 'float32' }), 'INVALID_OPTION', /parameters, more than the \d+ the builder makes/],
    ['buildMobileNetV1(alpha "1")', () => buildMobileNetV1({ alpha: '1' as never, resolution: 32, precision: 'float32' }), 'INVALID_OPTION', /alpha must be a positive finite number, got "1"/],
    ['buildMobileNetV1(seed 1.5)', () => buildMobileNetV1({ alpha: 0.25, resolution: 32, precision: 'float32', seed: 1.5 }), 'INVALID_OPTION', /seed must be an integer, got 1\.5/],
    ['mobilenetV1Layers(1n, 3)', () => mobilenetV1Layers(1n as never, 3), 'INVALID_OPTION', /alpha must be a positive finite number, got 1n/],
    ['chooseFlavour(1n)', () => chooseFlavour(1n as never), 'INVALID_OPTION', /kernels must be .* got 1n/],
    ['readTflite(5)', () => readTflite(5 as never), 'INVALID_MODEL', /expects the model bytes/],
    ['readTflite(a Proxy)', () => readTflite(new Proxy(new Uint8Array(64), {}) as never), 'INVALID_MODEL', /expects the model bytes/],
    ['writeTflite({})', () => writeTflite({} as never), 'INVALID_MODEL', /ops must be an array/],
    ['writeTflite({ ops: [{}] })', () => writeTflite({ ops: [{}] } as never), 'INVALID_MODEL', /model input must be a tensor/],
    ['readTfjsLayers(null, bytes)', () => readTfjsLayers(null, new Uint8Array(0)), 'INVALID_MODEL', /TF\.js model: model\.json must be a JSON object/],
    ['readTfjsLayers({}, a Proxy)', () => readTfjsLayers({}, new Proxy(new Uint8Array(0), {}) as never), 'INVALID_MODEL', /weight data must be a Uint8Array/],
    ['readTfjsLayers(malformed topology)', () => readTfjsLayers({ modelTopology: { model_config: { class_name: 'Sequential', config: { layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, 4, 4, 3] } }, { class_name: 'Conv2D', config: { filters: 2, kernel_size: null } }] } } }, weightsManifest: [{ paths: [], weights: [] }] }, new Uint8Array(0)), 'INVALID_MODEL', /kernel_size null/],
    ['readImageHeader(a Proxy)', () => readImageHeader(new Proxy(new Uint8Array(16), {}) as never), 'INVALID_IMAGE', /./],
  ];
  for (const [what, f, code, re] of table) it(`${what}: ${code}`, () => expectThrows(f, code, re));

  it('loadTfjsLayers: a bad fetcher or JSON gives a typed error', async () => {
    await expectRejects(() => loadTfjsLayers({}, null as never), 'INVALID_OPTION', /needs a function that fetches weight files/);
    await expectRejects(() => loadTfjsLayers(5, async () => new Uint8Array(0)), 'INVALID_MODEL', /model\.json must be a JSON object/);
    const dir = MODELS_DIR && join(MODELS_DIR, 'tfjs', 'mobilenet_v1_0.25_224');
    if (!dir || !existsSync(dir)) return;
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    await expectRejects(() => loadTfjsLayers(json, () => { throw new RangeError('disk on fire'); }), 'IO', /disk on fire/);
    await expectRejects(() => loadTfjsLayers(json, async () => new Proxy(new Uint8Array(4), {}) as never), 'INVALID_MODEL', /did not load as bytes/);
  });

  it('topK reads a lying typed array by its real length (no unbounded allocation)', () => {
    const s = lyingF32(3, 1e9);
    s.set([0.1, 0.7, 0.2]);
    expect(topK(s as never, 20).map((x) => x.index)).toEqual([1, 2, 0]);
  });
});
