/**
 * `run` with several inputs and outputs (one --input per model input, one --output per output, in
 * the model's order), called in-process through main(). Needs the graph runtime's runAll and the
 * ADD / MUL ops for the two-input model, and the SSD detector's ops for the four-output one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../src/cli/main.js';
import { encodeTflite, type TfliteModelSpec } from '../../src/formats/tflite-writer.js';
import { BuiltinOperator, BuiltinOptionsType } from '../../src/formats/tflite-schema.js';
import { fb } from '../../src/formats/flatbuffer.js';
import { MODELS_DIR } from '../helpers/kernels.js';

const MUL_CODE = 18;
const FLOAT32 = 0;

/** a, b: float32 [1, 6] -> outputs [a + b, a * b] */
function twoByTwoModel(): Uint8Array {
  const noActivation = fb.table({ 0: fb.scalar('i8', 0) });
  const spec: TfliteModelSpec = {
    version: 3,
    description: 'two inputs, two outputs',
    operatorCodes: [
      { builtinCode: BuiltinOperator.ADD, version: 1 },
      { builtinCode: MUL_CODE, version: 1 },
    ],
    tensors: [
      { name: 'a', shape: [1, 6], type: FLOAT32, buffer: 0 },
      { name: 'b', shape: [1, 6], type: FLOAT32, buffer: 0 },
      { name: 'sum', shape: [1, 6], type: FLOAT32, buffer: 0 },
      { name: 'product', shape: [1, 6], type: FLOAT32, buffer: 0 },
    ],
    inputs: [0, 1],
    outputs: [2, 3],
    operators: [
      { opcodeIndex: 0, inputs: [0, 1], outputs: [2], optionsType: BuiltinOptionsType.AddOptions, options: noActivation },
      { opcodeIndex: 1, inputs: [0, 1], outputs: [3], optionsType: BuiltinOptionsType.MulOptions, options: noActivation },
    ],
    subgraphName: 'main',
    buffers: [new Uint8Array(0)],
  };
  return encodeTflite(spec);
}

let stdout: string;
let stderr: string;
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const f32bytes = (a: number[]) => new Uint8Array(new Float32Array(a).buffer);
/** a file of float32 values (copied out: small Buffers share a pool, at any offset) */
const readF32 = (path: string) => {
  const b = readFileSync(path);
  return Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
};

describe('run with several inputs and outputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnw-run-multi-'));
  const model = join(dir, 'two.tflite');
  writeFileSync(model, twoByTwoModel());
  const a = [1, -2, 0.5, 3.25, 100, -0.125];
  const b = [2, 4, -8, 0.5, 1e-3, 16];
  writeFileSync(join(dir, 'a.bin'), f32bytes(a));
  writeFileSync(join(dir, 'b.bin'), f32bytes(b));
  writeFileSync(join(dir, 'short.bin'), f32bytes([1, 2, 3]));

  it('writes one file per output, in the model order', async () => {
    const status = await main(['run', '--model', model, '--input', join(dir, 'a.bin'), '--input', join(dir, 'b.bin'), '--output', join(dir, 's.bin'), '--output', join(dir, 'p.bin')]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const read = (f: string) => readF32(join(dir, f));
    expect(read('s.bin')).toEqual(a.map((x, i) => Math.fround(Math.fround(x) + Math.fround(b[i]))));
    expect(read('p.bin')).toEqual(a.map((x, i) => Math.fround(Math.fround(x) * Math.fround(b[i]))));
  });

  it('refuses input / output counts other than the model has, naming both (INVALID_OPTION)', async () => {
    expect(await main(['run', '--model', model, '--input', join(dir, 'a.bin'), '--output', join(dir, 's.bin'), '--output', join(dir, 'p.bin')])).toBe(1);
    expect(stderr).toMatch(/INVALID_OPTION: the model has 2 inputs and 2 outputs, but 1 --input and 2 --outputs were given/);
    stderr = '';
    expect(await main(['run', '--model', model, '--input', join(dir, 'a.bin'), '--input', join(dir, 'b.bin'), '--output', join(dir, 's.bin')])).toBe(1);
    expect(stderr).toMatch(/INVALID_OPTION: the model has 2 inputs and 2 outputs, but 2 --inputs and 1 --output were given/);
  });

  it('names the input whose file has the wrong size (INVALID_INPUT)', async () => {
    expect(await main(['run', '--model', model, '--input', join(dir, 'a.bin'), '--input', join(dir, 'short.bin'), '--output', join(dir, 's.bin'), '--output', join(dir, 'p.bin')])).toBe(1);
    expect(stderr).toMatch(/INVALID_INPUT: .*short\.bin has 12 bytes but the model input 1 \('b'\) float32\[1,6\] needs 24/);
  });

  it('still needs --input and --output (usage errors)', async () => {
    expect(await main(['run', '--model', model, '--output', join(dir, 's.bin')])).toBe(2);
    expect(stderr).toMatch(/--input is required/);
    stderr = '';
    expect(await main(['run', '--model', model, '--input', join(dir, 'a.bin')])).toBe(2);
    expect(stderr).toMatch(/--output is required/);
  });
});

describe.skipIf(!MODELS_DIR)('run on the shared models', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnw-run-multi-'));

  it('a one-output classifier given two --output files: INVALID_OPTION', async () => {
    const model = join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite');
    writeFileSync(join(dir, 'in.bin'), new Uint8Array(128 * 128 * 3));
    expect(await main(['run', '--model', model, '--input', join(dir, 'in.bin'), '--output', join(dir, 'o1.bin'), '--output', join(dir, 'o2.bin')])).toBe(1);
    expect(stderr).toMatch(/INVALID_OPTION: the model has 1 input and 1 output, but 1 --input and 2 --outputs were given/);
  });

  it('the SSD detector: four float32 outputs (boxes, classes, scores, count)', async () => {
    const model = join(MODELS_DIR!, 'ssd_mobilenet_v1_coco_quant.tflite');
    if (!existsSync(model)) return;
    const input = new Uint8Array(300 * 300 * 3);
    for (let i = 0; i < input.length; i++) input[i] = (i * 37 + (i >> 7)) & 255;
    writeFileSync(join(dir, 'ssd.bin'), input);
    const outs = ['boxes', 'classes', 'scores', 'count'].map((n) => join(dir, `${n}.bin`));
    const status = await main(['run', '--model', model, '--input', join(dir, 'ssd.bin'), ...outs.flatMap((o) => ['--output', o])]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(outs.map((o) => readFileSync(o).length)).toEqual([160, 40, 40, 4]);
    const count = readF32(outs[3])[0];
    expect(Number.isInteger(count) && count >= 0 && count <= 10).toBe(true);
  });
});
