/**
 * Hostile models: non-finite or overflowing float weights, bad quantization parameters and
 * non-finite inputs must give a MobileNetError with the right code and a message naming the
 * tensor, never a model that loads and answers NaN. The fuzzed files in
 * ../shared/fixtures/defects/ are the regression cases (skipped with a message without ../shared).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/node.js';
import { MobileNetError } from '../../src/errors.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { loadTfjsLayers } from '../../src/index.js';
import { readTflite } from '../../src/formats/tflite.js';
import { encodeTflite, graphToTfliteSpec } from '../../src/formats/tflite-writer.js';
import { planGraph } from '../../src/runtime/plan.js';
import { FLOAT_ACCUMULATION_LIMIT, UNCLAMPED_ACTIVATION_BOUND } from '../../src/runtime/numerics.js';
import type { Graph, Op, TensorInfo } from '../../src/model/ir.js';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from '../helpers/kernels.js';
import { tinyChain } from '../helpers/tflite-fixtures.js';

const DEFECTS = SHARED_DIR ? join(SHARED_DIR, 'fixtures', 'defects') : undefined;
const HAVE_DEFECTS = !!DEFECTS && existsSync(DEFECTS);

async function expectError(p: Promise<unknown> | (() => unknown), code: string, ...patterns: RegExp[]): Promise<MobileNetError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a MobileNetError').toBeInstanceOf(MobileNetError);
  const m = err as MobileNetError;
  expect(m.code, m.message).toBe(code);
  for (const re of patterns) expect(m.message).toMatch(re);
  return m;
}

const small = (precision: 'float32' | 'uint8' | 'int8', seed = 1) => buildMobileNetV1({ alpha: 0.25, resolution: 32, precision, classes: 4, seed });
type Weighted = Extract<Op, { filter: unknown }>;
const weighted = (g: Graph, i: number) => g.ops[i] as Weighted;

describe.skipIf(!HAVE_DEFECTS)('fuzzed model files (../shared/fixtures/defects)', () => {
  it('vww_96_float_huge_weight.tflite (one weight 2.34e38) is refused at load, naming the op and filter', async () => {
    const file = join(DEFECTS!, 'vww_96_float_huge_weight.tflite');
    const m = await expectError(loadModel(file), 'INVALID_MODEL', /op 5 \(depthwise_conv2d\)/, /filter 'model\/batch_normalization_5/, /can overflow float32/, /2\.341e\+38 at index 125/);
    expect(m.message).not.toMatch(/NaN/);
  });

  it('vww_96_int8_subnormal_input_scale.tflite (input scale 1e-45) is refused at load, naming the input tensor', async () => {
    const file = join(DEFECTS!, 'vww_96_int8_subnormal_input_scale.tflite');
    await expectError(loadModel(file), 'INVALID_MODEL', /'input_1_int8' \(the model input\)/, /scale 1\.4\d*e-45/, /subnormal/);
    // the reader alone already refuses it
    await expectError(() => readTflite(new Uint8Array(readFileSync(file))), 'INVALID_MODEL', /'input_1_int8'/);
  });
});

describe.skipIf(!MODELS_DIR)('real float models pass the overflow rule', () => {
  for (const name of ['vww_96_float.tflite', 'mobilenet_v1_0.25_128.tflite']) {
    it(`${name} loads and runs to finite outputs`, async () => {
      const net = await loadModel(join(MODELS_DIR!, name), { kernels: 'scalar' });
      const out = net.run(new Float32Array(net.info.input.shape.reduce((a, b) => a * b, 1)).fill(0.5)) as Float32Array;
      expect(out.every(Number.isFinite)).toBe(true);
    });
  }

  it('a TF.js model whose weight shard holds a NaN or an Infinity is refused at load', async () => {
    const dir = join(MODELS_DIR!, 'tfjs', 'mobilenet_v1_0.25_224');
    if (!existsSync(dir)) return console.warn('skipped: no TF.js model in ../shared');
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    for (const bad of [NaN, Infinity]) {
      const fetch = async (p: string) => {
        const b = new Uint8Array(readFileSync(join(dir, p)));
        // the first shard holds the stem's kernel: poison its 4th float
        if (p === json.weightsManifest[0].paths[0]) new DataView(b.buffer).setFloat32(12, bad, true);
        return b;
      };
      const graph = await loadTfjsLayers(json, fetch);
      await expectError(loadModel(graph), 'INVALID_MODEL', /op \d+ \(\w+\)/, new RegExp(`non-finite value ${bad}`));
    }
  });
});

describe('float weights: finite and unable to overflow (random-weight and hand-made graphs)', () => {
  it('a NaN weight or an infinite bias is refused, naming the op, the tensor and the index', async () => {
    let g = small('float32');
    (weighted(g, 3).filter.data as Float32Array)[7] = NaN;
    await expectError(loadModel(g), 'INVALID_MODEL', /^op 3 \(depthwise_conv2d\): the filter has the non-finite value NaN at index 7/);
    g = small('float32');
    (weighted(g, 0).bias as Float32Array)[2] = -Infinity;
    await expectError(loadModel(g), 'INVALID_MODEL', /^op 0 \(conv2d\): the bias has the non-finite value -Infinity at index 2/);
  });

  it('a finite weight that can overflow float32 is refused (2.34e38 after a ReLU6 layer, 1e36 in the stem)', async () => {
    let g = small('float32');
    (weighted(g, 3).filter.data as Float32Array)[0] = 2.34e38;
    await expectError(loadModel(g), 'INVALID_MODEL', /op 3 \(depthwise_conv2d\)/, /inputs up to 6 \(the output of a ReLU6 layer\)/, /over the limit 2\^127/);
    g = small('float32');
    (weighted(g, 0).filter.data as Float32Array)[0] = 1e36; // * 255 (raw pixel input bound) > 2^127
    await expectError(loadModel(g), 'INVALID_MODEL', /op 0 \(conv2d\)/, /inputs up to 255 \(the model input/);
  });

  it('the bound is a sum over the fan-in, not a per-weight cap: many large weights add up', async () => {
    const g = small('float32');
    const w = weighted(g, 4).filter.data as Float32Array; // pointwise 16 -> 16 after ReLU6
    // each weight alone is harmless (6 * 4e36 < 2^127) but 8 of them in one row are not
    for (let i = 0; i < 8; i++) w[i] = 4e36;
    expect(6 * 4e36).toBeLessThan(FLOAT_ACCUMULATION_LIMIT);
    await expectError(loadModel(g), 'INVALID_MODEL', /op 4 \(conv2d\)/, /output channel 0 has sum \|w\| = 3\.200e\+37 over 16 inputs/);
  });

  it('large but safe weights still load (the rule refuses no plausible network)', async () => {
    const g = small('float32');
    (weighted(g, 3).filter.data as Float32Array)[0] = 1e30;
    await expect(loadModel(g)).resolves.toBeDefined();
  });
});

/** input -> FC(16 -> 16, none) -> FC(16 -> 4, none) -> softmax, float: no clamp anywhere */
function unclampedChain(w1: number, w2: number): Graph {
  const t = (name: string, shape: number[]): TensorInfo => ({ name, shape, dtype: 'float32' });
  const x = t('x', [1, 16]);
  const h = t('h', [1, 16]);
  const y = t('y', [1, 4]);
  const p = t('p', [1, 4]);
  return {
    source: 'random',
    input: x,
    output: p,
    ops: [
      { op: 'fully_connected', input: x, output: h, filter: { data: new Float32Array(256).fill(w1), shape: [16, 16], dtype: 'float32' }, bias: new Float32Array(16), activation: 'none' },
      { op: 'fully_connected', input: h, output: y, filter: { data: new Float32Array(64).fill(w2), shape: [4, 16], dtype: 'float32' }, bias: new Float32Array(4), activation: 'none' },
      { op: 'softmax', input: y, output: p, beta: 1 },
    ],
  };
}

describe('float outputs are checked at run time', () => {
  it('an overflow the load-time rule could not prove away throws instead of returning NaN', async () => {
    // FC1 can reach 255 * 16 * 1e4 = 4e7 > 65504: FC2 is judged with the float16 assumption
    // (65504 * 16 * 1e30 = 1e36 < 2^127) and loads, but input 255 really overflows.
    expect(UNCLAMPED_ACTIVATION_BOUND * 16 * 1e30).toBeLessThan(FLOAT_ACCUMULATION_LIMIT);
    const g = unclampedChain(1e4, 1e30);
    const net = await loadModel(g, { kernels: 'scalar' });
    await expectError(() => net.run(new Float32Array(16).fill(255)), 'INVALID_MODEL', /non-finite output \(NaN at index 0\)/, /allowNonFinite/);
    // within float16 range everything is fine
    expect([...(net.run(new Float32Array(16).fill(1e-3)) as Float32Array)].every(Number.isFinite)).toBe(true);
    // inputs far beyond the checked range blame the input
    const safe = await loadModel(unclampedChain(1, 1e20), { kernels: 'scalar' });
    await expectError(() => safe.run(new Float32Array(16).fill(3e38)), 'INVALID_INPUT', /non-finite output/, /input values up to 3\.0\d*e\+38/);
    // allowNonFinite hands the NaN over as asked
    const lax = await loadModel(g, { kernels: 'scalar', allowNonFinite: true });
    expect(Number.isNaN((lax.run(new Float32Array(16).fill(255)) as Float32Array)[0])).toBe(true);
  });
});

describe('non-finite float inputs', () => {
  it('run and profile refuse NaN / Infinity naming the first bad index; allowNonFinite lets them through', async () => {
    const g = small('float32');
    const net = await loadModel(g, { kernels: 'scalar' });
    const n = 32 * 32 * 3;
    for (const [bad, at] of [[NaN, 5], [Infinity, 0], [-Infinity, n - 1]] as const) {
      const x = new Float32Array(n);
      x[at] = bad;
      x[n - 1] = x[n - 1] || bad; // a later bad value must not be the one reported
      await expectError(() => net.run(x), 'INVALID_INPUT', new RegExp(`^input\\[${at}\\] is ${bad}`), /allowNonFinite/);
      await expectError(() => net.profile(x, 1), 'INVALID_INPUT', new RegExp(`input\\[${at}\\]`));
    }
    const lax = await loadModel(g, { kernels: 'scalar', allowNonFinite: true });
    const x = new Float32Array(n);
    x[5] = NaN;
    expect(() => lax.run(x)).not.toThrow();
    await expectError(loadModel(g, { allowNonFinite: 'yes' as never }), 'INVALID_OPTION', /allowNonFinite must be true or false/);
  });
});

describe('quantization parameters', () => {
  const cases: Array<[string, (g: Graph) => void, RegExp[]]> = [
    ['subnormal input scale', (g) => (g.input.quant!.scale = [1e-45]), [/model input 'input' quantization scale 1e-45 is subnormal in float32/]],
    ['zero scale', (g) => (g.ops[2].output.quant!.scale = [0]), [/'MobilenetV1\/Conv2d_1_pointwise\/Relu6' quantization scale 0 must be finite and > 0/]],
    ['NaN scale', (g) => (g.ops[2].output.quant!.scale = [NaN]), [/scale NaN must be finite and > 0/]],
    ['infinite scale', (g) => (g.ops[2].output.quant!.scale = [Infinity]), [/scale Infinity must be finite/]],
    ['scale beyond float32', (g) => (g.ops[2].output.quant!.scale = [1e39]), [/scale 1e\+39 is not representable in float32/]],
    ['per-channel subnormal filter scale', (g) => (weighted(g, 1).filter.quant!.scale[3] = 1e-40), [/filter of op 1 \(depthwise_conv2d\) \(channel 3\) quantization scale 1e-40 is subnormal/]],
    ['uint8 zero point 256', (g) => (g.input.quant!.zeroPoint = [256]), [/zero point 256 is outside the uint8 range \[0, 255\]/]],
    ['fractional zero point', (g) => (g.input.quant!.zeroPoint = [1.5]), [/zero point 1\.5 is outside/]],
    ['too few per-channel scales', (g) => {
      const q = weighted(g, 0).filter.quant!;
      q.scale = [0.1, 0.2, 0.3];
      q.zeroPoint = [0, 0, 0];
    }, [/3 per-channel scales along axis 0, but its shape \[8,3,3,3\] has 8 there/]],
    ['scales and zero points of different lengths', (g) => (weighted(g, 0).filter.quant!.zeroPoint = [0]), [/has 8 quantization scales but 1 zero points/]],
    ['a missing quantization', (g) => delete g.ops[2].output.quant, [/is (u)?int8 but has no quantization parameters/]],
  ];
  for (const [what, edit, patterns] of cases) {
    it(`${what}: INVALID_MODEL naming the tensor`, async () => {
      const g = small(what.includes('uint8') ? 'uint8' : what.includes('per-channel') || what.includes('zero points') ? 'int8' : 'uint8');
      edit(g);
      await expectError(() => planGraph(g), 'INVALID_MODEL', ...patterns);
    });
  }

  it('int8 zero point -129 and a scale product that underflows float32', async () => {
    let g = small('int8');
    g.ops[4].output.quant!.zeroPoint = [-129];
    await expectError(() => planGraph(g), 'INVALID_MODEL', /zero point -129 is outside the int8 range \[-128, 127\]/);
    // uint8 (per-tensor rule): input_scale * filter_scale in float32 = 1e-20 * 1e-20 -> a subnormal
    g = small('uint8');
    g.input.quant!.scale = [1e-20];
    weighted(g, 0).filter.quant!.scale = [1e-20];
    await expectError(() => planGraph(g), 'INVALID_MODEL', /op 0 \(conv2d\)/, /input scale 1e-20 x filter scale 1e-20 = 9\.9\d*e-41 in float32 is not a normal float32 number/);
  });

  it('a .tflite int32 bias with a non-zero zero point is refused by the reader', () => {
    const spec = graphToTfliteSpec(tinyChain({ dtype: 'uint8' }));
    const bias = spec.tensors[spec.operators[0].inputs[2]];
    bias.quantization = { ...bias.quantization!, zeroPoint: [3] };
    expect(() => readTflite(encodeTflite(spec))).toThrow(expect.objectContaining({ code: 'INVALID_MODEL', message: expect.stringMatching(/int32 bias with zero point 3; TFLite requires 0/) }));
  });

  it('quantized models are untouched: built models still plan', () => {
    for (const p of ['uint8', 'int8'] as const) expect(planGraph(small(p)).steps.length).toBeGreaterThan(0);
  });
});

it.skipIf(HAVE_DEFECTS && !!MODELS_DIR)('hostile model fixtures', () => {
  console.warn(SHARED_MISSING);
});
