/**
 * `mobilenet-wasm stats --model` and `info --model` as a user calls them: per-op tables for
 * v2, SSD and the person detector, the load report with the TFLite metadata, typed errors.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODELS_DIR, SHARED_MISSING } from '../helpers/kernels.js';

const BIN = join(__dirname, '..', '..', 'bin', 'mobilenet-wasm.js');
const built = existsSync(join(__dirname, '..', '..', 'dist', 'cli', 'main.js'));
const tmp = mkdtempSync(join(tmpdir(), 'mnw-stats-model-'));
// names resolve in MOBILENET_WASM_MODELS, never in the user's cache
const env = { ...process.env, MOBILENET_WASM_MODELS: MODELS_DIR ?? tmp, MOBILENET_WASM_CACHE: join(tmp, 'cache') };
const cli = (...args: string[]) => spawnSync('node', [BIN, ...args], { encoding: 'utf8', env });
const model = (file: string) => join(MODELS_DIR!, file);
const ONE_LINE = /^mobilenet-wasm: error: [A-Z_]+: [^\n]+\n$/;

/** a successful run's stdout, without its final newline */
function ok(...args: string[]): string {
  const r = cli(...args);
  expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout.endsWith('\n')).toBe(true);
  return r.stdout.slice(0, -1);
}

/** a failed run: its status and its one error line */
function fails(...args: string[]): { status: number | null; line: string } {
  const r = cli(...args);
  expect(r.stderr, args.join(' ')).toMatch(ONE_LINE);
  expect(r.stdout).toBe('');
  return { status: r.status, line: r.stderr };
}

/** the table's rows: [#, layer, op, output, mult-adds, params] split on runs of 2+ spaces */
const rowsOf = (text: string) =>
  text
    .split('\n')
    .filter((l) => /^\s*\d+ {2}/.test(l))
    .map((l) => l.trim().split(/ {2,}/));

describe.skipIf(!MODELS_DIR || !built)('stats --model', () => {
  it('MobileNet v2: one row per op, residual ADDs at 0, totals 300.78 M and 3.49 M', () => {
    const text = ok('stats', '--model', model('mobilenet_v2_1.0_224_quant.tflite'));
    const rows = rowsOf(text);
    expect(rows).toHaveLength(66);
    expect(rows[0]).toEqual(['0', 'MobilenetV2/Conv/Relu6', 'conv2d', '1x112x112x32', '10,838,016', '896']);
    expect(rows.filter((r) => r[2] === 'add')).toHaveLength(10);
    expect(rows.filter((r) => r[2] === 'add').every((r) => r[4] === '0' && r[5] === '0')).toBe(true);
    expect(rows.at(-1)).toEqual(['65', 'MobilenetV2/Predictions/Softmax', 'softmax', '1x1001', '0', '0']);
    expect(text.split('\n').at(-1)).toMatch(/^\s+total\s+300\.78 M\s+3\.49 M$/);
    expect(text.split('\n')[0]).toMatch(/66 ops \(tflite\); input uint8\[1,224,224,3\]; output uint8\[1,1001\]$/);
  });

  it('MobileNet v2 as JSON, by registry name from MOBILENET_WASM_MODELS', () => {
    const j = JSON.parse(ok('stats', '--model', 'mobilenet_v2_1.0_224_quant', '--json'));
    expect(j).toMatchObject({ source: 'tflite', macs: 300_775_552, params: 3_489_097 });
    expect(j.model).toBe(model('mobilenet_v2_1.0_224_quant.tflite'));
    expect(j.layers).toHaveLength(66);
    expect(j.macs).toBe(j.layers.reduce((s: number, l: { macs: number }) => s + l.macs, 0));
    // the JSON keeps the converter's whole fused name (the table shows its first part)
    expect(j.layers[0]).toMatchObject({ index: 0, op: 'conv2d', outputShape: [1, 112, 112, 32], macs: 10_838_016, params: 896 });
    expect(j.layers[0].name).toMatch(/^MobilenetV2\/Conv\/Relu6;.*BatchNorm_Fold/);
    expect(j.inputs).toEqual([{ name: 'input', dtype: 'uint8', shape: [1, 224, 224, 3] }]);
  });

  it('SSD: the box predictors, concatenations, logistic and the post-processing with its four outputs', () => {
    const text = ok('stats', '--model', model('ssd_mobilenet_v1_coco_quant.tflite'));
    const rows = rowsOf(text);
    expect(rows).toHaveLength(64);
    expect(rows.at(-1)).toEqual(['63', 'TFLite_Detection_PostProcess', 'detection_postprocess', '1x10x4', '0', '0']);
    expect(rows.find((r) => r[1] === 'convert_scores')).toEqual(['62', 'convert_scores', 'logistic', '1x1917x91', '0', '0']);
    expect(text.split('\n')[0]).toMatch(/outputs float32\[1,10,4\], float32\[1,10\], float32\[1,10\], float32\[1\]$/);
    expect(text.split('\n').at(-1)).toMatch(/^\s+total\s+728\.04 M\s+4\.10 M$/);
  });

  it('the person detector: 96x96 grayscale int8, 2 classes', () => {
    const text = ok('stats', '--model', model('person_detect_int8.tflite'));
    expect(rowsOf(text)).toHaveLength(31);
    expect(text.split('\n')[0]).toMatch(/input int8\[1,96,96,1\]; output int8\[1,2\]$/);
    expect(text.split('\n').at(-1)).toMatch(/^\s+total\s+7\.16 M\s+0\.21 M$/);
  });

  it('v1 1.0/224 from its file gives what the architecture form gives for 1001 classes', () => {
    const j = JSON.parse(ok('stats', '--model', model('mobilenet_v1_1.0_224_quant.tflite'), '--json'));
    expect([j.macs, j.params]).toEqual([568_741_376, 4_222_057]);
  });

  it.skipIf(!existsSync(join(MODELS_DIR ?? tmp, 'tfjs', 'mobilenet_v1_0.25_224', 'model.json')))('a TF.js layers model folder', () => {
    const j = JSON.parse(ok('stats', '--model', model('tfjs/mobilenet_v1_0.25_224'), '--json'));
    expect(j.source).toBe('tfjs');
    expect(j.layers.at(-1).op).toBe('softmax');
    expect(j.macs).toBeGreaterThan(40e6);
  });

  it('the architecture form is unchanged', () => {
    expect(ok('stats', '--alpha', '1', '--resolution', '224').split('\n').at(-1)).toMatch(/^total\s+568\.74 M\s+4\.22 M$/);
  });
});

describe.skipIf(!MODELS_DIR || !built)('info --model', () => {
  it('MobileNet v2: the load report and its TFLite metadata', () => {
    const text = ok('info', '--model', model('mobilenet_v2_1.0_224_quant.tflite'), '--kernels', 'scalar');
    expect(text).toMatch(/^task: classifier \(1001 classes\)$/m);
    expect(text).toMatch(/^format: tflite, precision uint8, kernels scalar$/m);
    expect(text).toMatch(/^input 0: input uint8\[1,224,224,3\], scale 0\.0078125, zero point 128$/m);
    expect(text).toMatch(/^mult-adds: 300\.78 M .*params: 3\.49 M$/m);
    expect(text).toMatch(/^ {2}name: ImageClassifier$/m);
    expect(text).toMatch(/^ {4}normalization: \(x - mean 127\.5\) \/ std 127\.5$/m);
    expect(text).toMatch(/^ {2}labels file: imagenet_labels\.txt$/m);

    const j = JSON.parse(ok('info', '--model', model('mobilenet_v2_1.0_224_quant.tflite'), '--json'));
    expect(j.info).toMatchObject({ task: 'classifier', classes: 1001, precision: 'uint8', resolution: 224, source: 'tflite' });
    expect(j.info.outputs).toEqual([{ name: 'MobilenetV2/Predictions/Softmax', shape: [1, 1001], dtype: 'uint8', quant: { scale: 0.00390625, zeroPoint: 0 } }]);
    for (const key of ['macs', 'weightBytes', 'activationBytes', 'memoryBytes']) expect(j.info[key], key).toBeGreaterThan(0);
    expect([j.multAdds, j.params]).toEqual([300_775_552, 3_489_097]);
    expect(j.metadata.name).toBe('ImageClassifier');
    expect(j.metadata.inputs[0].normalization).toEqual({ mean: [127.5], std: [127.5] });
  });

  it('SSD: a detector with four float outputs and no metadata', () => {
    const text = ok('info', '--model', model('ssd_mobilenet_v1_coco_quant.tflite'));
    expect(text).toMatch(/^task: detector \(90 classes\)$/m);
    expect(text).toMatch(/^output 3: TFLite_Detection_PostProcess:3 float32\[1\]$/m);
    expect(text.split('\n').at(-1)).toBe('metadata: none');
    const j = JSON.parse(ok('info', '--model', model('ssd_mobilenet_v1_coco_quant.tflite'), '--json'));
    expect(j.info.outputs).toHaveLength(4);
    expect(j.metadata).toBeNull();
  });

  it('the person detector: an int8 classifier of 2 classes on a grayscale input', () => {
    const j = JSON.parse(ok('info', '--model', model('person_detect_int8.tflite'), '--json'));
    expect(j.info).toMatchObject({ task: 'classifier', classes: 2, precision: 'int8' });
    expect(j.info.input).toMatchObject({ dtype: 'int8', shape: [1, 96, 96, 1] });
    expect([j.multAdds, j.params]).toEqual([7_157_888, 210_706]);
  });
});

describe.skipIf(!built)('stats --model and info: errors', () => {
  it('a missing file is IO (exit 1), naming the path', () => {
    for (const cmd of ['stats', 'info']) {
      const { status, line } = fails(cmd, '--model', join(tmp, 'nope.tflite'));
      expect(status).toBe(1);
      expect(line).toMatch(/error: IO: .*nope\.tflite/);
    }
  });

  it('an unknown model name is IO (exit 1)', () => {
    const { status, line } = fails('info', '--model', 'no_such_model_anywhere');
    expect(status).toBe(1);
    expect(line).toMatch(/error: IO: model 'no_such_model_anywhere' not found/);
  });

  it('a file that is not a model is INVALID_MODEL (exit 1)', () => {
    const junk = join(tmp, 'junk.tflite');
    writeFileSync(junk, 'this is a text file, not a TensorFlow Lite flatbuffer at all');
    for (const cmd of ['stats', 'info']) {
      const { status, line } = fails(cmd, '--model', junk);
      expect(status).toBe(1);
      expect(line).toMatch(/error: INVALID_MODEL: .*TensorFlow Lite/);
    }
  });

  it('usage errors exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['stats', '--model', 'x.tflite', '--alpha', '1'], /stats takes --model, or --alpha and --resolution .*not both/],
      [['stats', '--model', 'x.tflite', '--resolution', '224'], /not both/],
      [['stats', '--model'], /--model needs a value/],
      [['stats'], /stats needs --model M\.tflite\|NAME, or --alpha A and --resolution R/],
      [['stats', '--json'], /stats needs --model/],
      [['info'], /--model is required/],
      [['info', '--model', 'x.tflite', '--bogus'], /unknown option '--bogus'/],
      [['info', '--model', 'x.tflite', 'extra'], /unexpected argument 'extra'/],
      [['info', '--model', 'x.tflite', '--kernels', 'gpu'], /--kernels/],
    ];
    for (const [args, re] of cases) {
      const { status, line } = fails(...args);
      expect(status, args.join(' ')).toBe(2);
      expect(line, args.join(' ')).toMatch(/error: USAGE: /);
      expect(line, args.join(' ')).toMatch(re);
    }
  });

  it('--help lists both forms of stats and info', () => {
    const r = cli('info', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}stats --model M\.tflite\|NAME \[--json\]$/m);
    expect(r.stdout).toMatch(/^ {2}info {2}--model M\.tflite\|NAME \[--json\] \[--kernels K\]$/m);
  });
});

it.skipIf(!!MODELS_DIR)('stats --model / info on the shared models', () => console.warn(SHARED_MISSING));
it.skipIf(built)('stats --model / info CLI tests', () => console.warn('skipped: dist/ not built; run npm run build:ts'));
