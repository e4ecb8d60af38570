/**
 * One build per precision (issue 11, item 5): a uint8 / int8 model instantiates only the
 * integer build (mobilenet-q8-<flavour>.wasm), a float32 model only the float build
 * (mobilenet-f32-<flavour>.wasm), chosen from the graph before anything is fetched
 * (src/runtime/kernel-sets.ts). Every shared model runs on its own build with outputs identical
 * to the combined build's, which also shows its ops call no kernel of the other set (such a call
 * would throw: the export is absent). A build lacking the model's kernels is INVALID_OPTION
 * naming the file to pass.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MobileNet, type Tensor } from '../../src/mobilenet.js';
import { MobileNetError } from '../../src/errors.js';
import { loadModel, nodeKernelModule } from '../../src/node.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { buildFileName, kernelSetsOf } from '../../src/runtime/kernel-sets.js';
import { FLAVOURS, MODELS_DIR, SHARED_MISSING, rng, wasmPath } from '../helpers/kernels.js';
import type { Flavour } from '../../src/runtime/kernels.js';

/** a `wasm` function that records which build files a load asked for */
function recording() {
  const asked: string[] = [];
  const wasm = (flavour: Flavour, file: string) => {
    asked.push(file);
    return nodeKernelModule(flavour, file);
  };
  return { asked, wasm };
}

/** a deterministic input for every model input */
function inputsOf(net: MobileNet): Tensor[] {
  return net.info.inputs.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const r = rng(7);
    if (t.dtype === 'float32') return Float32Array.from({ length: n }, () => r() * 2 - 1);
    if (t.dtype === 'int8') return Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
    return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  });
}

async function rejects(p: Promise<unknown>, msg: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MobileNetError);
    expect((e as MobileNetError).code).toBe('INVALID_OPTION');
    expect((e as Error).message).toMatch(msg);
    return;
  }
  throw new Error('expected a MobileNetError');
}

const small = (precision: 'float32' | 'uint8' | 'int8') => buildMobileNetV1({ alpha: 0.25, resolution: 32, precision, classes: 10, seed: 3 });

describe('the build a model loads', () => {
  it('names: one set per precision, the combined build for both', () => {
    expect(buildFileName('simd', ['q8'])).toBe('mobilenet-q8-simd.wasm');
    expect(buildFileName('relaxed', ['f32'])).toBe('mobilenet-f32-relaxed.wasm');
    expect(buildFileName('scalar', ['q8', 'f32'])).toBe('mobilenet-scalar.wasm');
    expect(kernelSetsOf(small('uint8').ops)).toEqual(['q8']);
    expect(kernelSetsOf(small('int8').ops)).toEqual(['q8']);
    expect(kernelSetsOf(small('float32').ops)).toEqual(['f32']);
  });

  for (const [precision, set] of [['uint8', 'q8'], ['int8', 'q8'], ['float32', 'f32']] as const) {
    for (const flavour of FLAVOURS) {
      it(`a ${precision} model on ${flavour} instantiates only mobilenet-${set}-${flavour}.wasm, outputs as with the combined build`, async () => {
        const { asked, wasm } = recording();
        const net = await MobileNet.load(small(precision), { wasm, kernels: flavour });
        expect(asked).toEqual([`mobilenet-${set}-${flavour}.wasm`]);
        const combined = await MobileNet.load(small(precision), { wasm: { [flavour]: readFileSync(wasmPath(flavour)) }, kernels: flavour });
        const input = inputsOf(net)[0];
        expect(net.run(input)).toEqual(combined.run(input));
        // and the build itself: exactly its set's kernels (the other set's are absent)
        const exported = WebAssembly.Module.exports(await wasm(flavour, `mobilenet-${set}-${flavour}.wasm`)).map((e) => e.name);
        expect(exported).toContain(set === 'q8' ? 'q8_gemm' : 'f32_gemm');
        expect(exported).not.toContain(set === 'q8' ? 'f32_gemm' : 'q8_gemm');
      });
    }
  }

  it("another precision's build given in options.wasm is INVALID_OPTION naming the file the model needs", async () => {
    const f32 = readFileSync(wasmPath('simd', 'f32'));
    await rejects(MobileNet.load(small('uint8'), { wasm: { simd: f32 } }), /has none of the q8_ kernels: this model runs the integer \(uint8 \/ int8\) kernels, so pass mobilenet-q8-simd\.wasm \(or the combined mobilenet-simd\.wasm\)/);
    const q8 = await WebAssembly.compile(readFileSync(wasmPath('scalar', 'q8')));
    await rejects(MobileNet.load(small('float32'), { wasm: { scalar: q8 } }), /float32 kernels, so pass mobilenet-f32-scalar\.wasm/);
  });

  it('the wasm2js scalar JavaScript per precision: the q8 one runs a uint8 model; the f32 one is refused naming mobilenet-q8-scalar.js', async () => {
    const dir = join(wasmPath('scalar'), '..');
    const q8js = await import(join(dir, 'mobilenet-q8-scalar.js'));
    const f32js = await import(join(dir, 'mobilenet-f32-scalar.js'));
    const wasmNet = await MobileNet.load(small('uint8'), { wasm: { scalar: readFileSync(wasmPath('scalar', 'q8')) } });
    const jsNet = await MobileNet.load(small('uint8'), { wasm: { scalar: q8js } });
    const input = inputsOf(jsNet)[0];
    expect(jsNet.run(input)).toEqual(wasmNet.run(input));
    await rejects(MobileNet.load(small('uint8'), { wasm: { scalar: f32js } }), /so pass mobilenet-q8-scalar\.js \(or the combined mobilenet-scalar\.js\)/);
  });
});

describe('every shared model loads only its precision\'s build', () => {
  const models = MODELS_DIR ? readdirSync(MODELS_DIR).filter((f) => f.endsWith('.tflite')).sort() : [];
  it.skipIf(!MODELS_DIR)(`found the shared models${MODELS_DIR ? '' : ` (${SHARED_MISSING})`}`, () => {
    expect(models.length).toBeGreaterThan(5);
  });
  for (const name of models) {
    it(name, async () => {
      const { asked, wasm } = recording();
      const net = await loadModel(join(MODELS_DIR!, name), { wasm, kernels: 'simd' });
      const set = net.info.precision === 'float32' ? 'f32' : 'q8';
      expect(asked).toEqual([`mobilenet-${set}-simd.wasm`]);
      const combined = await loadModel(join(MODELS_DIR!, name), { wasm: { simd: readFileSync(wasmPath('simd')) }, kernels: 'simd' });
      const inputs = inputsOf(net);
      expect(net.runAll(inputs)).toEqual(combined.runAll(inputs));
      net.dispose();
      combined.dispose();
    }, 60_000);
  }
  it.skipIf(!MODELS_DIR)('a TF.js float model (model.json) loads the float build', async () => {
    const { asked, wasm } = recording();
    const net = await loadModel(join(MODELS_DIR!, 'tfjs', 'mobilenet_v1_0.25_224'), { wasm, kernels: 'simd' });
    expect(asked).toEqual(['mobilenet-f32-simd.wasm']);
    net.dispose();
  });
});
