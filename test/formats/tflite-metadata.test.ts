import { describe, expect, it } from 'vitest';
import { MobileNetError } from '../../src/errors.js';
import { FlatBufferReader } from '../../src/formats/flatbuffer.js';
import {
  inputNormalization,
  inputRangeFromNormalization,
  MF,
  parseModelMetadata,
  ProcessUnitOptionsType,
  readTfliteMetadata,
} from '../../src/formats/tflite-metadata.js';
import { readTflite } from '../../src/formats/tflite.js';
import { writeTflite } from '../../src/formats/tflite-writer.js';
import { F } from '../../src/formats/tflite-schema.js';
import { rng, SHARED_MISSING } from '../helpers/kernels.js';
import { expectModelError, sharedModel, tinyChain } from '../helpers/tflite-fixtures.js';
import { attachMetadata, buildModelMetadata, CLASSIFIER_METADATA, metadataLocation, withMetadata, type ModelMetadataSpec } from '../helpers/metadata-writer.js';

const tiny = () => writeTflite(tinyChain({ dtype: 'float32' }));

describe('TFLITE_METADATA of the shared models', () => {
  // what the two MobileNet v2 classifiers from TF Hub / the TFLite model zoo carry
  for (const name of ['mobilenet_v2_1.0_224_quant.tflite', 'tf2_mobilenet_v2_1.0_224_ptq.tflite']) {
    const bytes = sharedModel(name);
    it.skipIf(!bytes)(`${name}: an RGB image input normalized by mean 127.5 std 127.5, labels in imagenet_labels.txt`, () => {
      const md = readTfliteMetadata(bytes!)!;
      expect(md).toBeDefined();
      expect(md).toMatchObject({
        name: 'ImageClassifier',
        description: 'Identify the most prominent object in the image from a known set of categories.',
        minParserVersion: '1.0.0',
        labelFile: 'imagenet_labels.txt',
      });
      expect(md.version).toBeUndefined();
      expect(md.inputs).toEqual([
        {
          name: 'image',
          description: 'Input image to be classified.',
          colorSpace: 'rgb',
          normalization: { mean: [127.5], std: [127.5] },
          range: { min: [0], max: [255] },
          associatedFiles: [],
        },
      ]);
      expect(md.outputs).toHaveLength(1);
      expect(md.outputs[0]).toMatchObject({ name: 'probability', description: 'Probabilities of the labels respectively.' });
      expect(md.outputs[0].associatedFiles).toEqual([
        { name: 'imagenet_labels.txt', type: 'TENSOR_AXIS_LABELS', description: 'Labels for categories that the model can recognize.' },
      ]);
      expect(inputRangeFromNormalization(md.inputs[0].normalization!)).toEqual([-1, 1]);
    });
  }

  for (const name of ['mobilenet_v1_1.0_224_quant.tflite', 'vww_96_float.tflite', 'person_detect_int8.tflite']) {
    const bytes = sharedModel(name);
    it.skipIf(!bytes)(`${name} has none: undefined`, () => {
      expect(readTfliteMetadata(bytes!)).toBeUndefined();
    });
  }
  it.skipIf(!!sharedModel('vww_96_float.tflite'))(SHARED_MISSING, () => {});
});

describe('metadata written by the test helper', () => {
  it('round-trips every field we read, and leaves the model itself readable and unchanged', () => {
    const model = tiny();
    const spec: ModelMetadataSpec = {
      name: 'Gray',
      description: 'd',
      version: 'v3',
      author: 'someone',
      license: 'Apache-2.0',
      minParserVersion: '1.1.0',
      inputs: [
        { name: 'a', colorSpace: 'grayscale', normalization: { mean: [0.5, 1.5, 2.5], std: [2, 4, 8] }, stats: { min: [-1, -2, -3], max: [1, 2, 3] } },
        { name: 'b', otherUnits: [ProcessUnitOptionsType.ScoreThresholdingOptions], normalization: { mean: [1], std: [-0.25] } },
      ],
      outputs: [{ name: 'out', files: [{ name: 'readme.txt', type: 'DESCRIPTIONS' }, { name: 'fr.txt', type: 'TENSOR_AXIS_LABELS', locale: 'fr' }] }],
    };
    const withMd = withMetadata(model, spec);
    const md = readTfliteMetadata(withMd)!;
    expect(md).toEqual({
      name: 'Gray',
      description: 'd',
      version: 'v3',
      author: 'someone',
      license: 'Apache-2.0',
      minParserVersion: '1.1.0',
      inputs: [
        { name: 'a', colorSpace: 'grayscale', normalization: { mean: [0.5, 1.5, 2.5], std: [2, 4, 8] }, range: { min: [-1, -2, -3], max: [1, 2, 3] }, associatedFiles: [] },
        { name: 'b', normalization: { mean: [1], std: [-0.25] }, associatedFiles: [] },
      ],
      outputs: [
        {
          name: 'out',
          associatedFiles: [
            { name: 'readme.txt', type: 'DESCRIPTIONS' },
            { name: 'fr.txt', type: 'TENSOR_AXIS_LABELS', locale: 'fr' },
          ],
        },
      ],
      labelFile: 'fr.txt',
    });
    expect(readTflite(withMd)).toEqual(readTflite(model));
    expect(readTfliteMetadata(model)).toBeUndefined();
  });

  it('finds the TFLITE_METADATA entry among others and ignores other names', () => {
    const other = attachMetadata(tiny(), buildModelMetadata({ name: 'not me' }), 'min_runtime_version');
    expect(readTfliteMetadata(other)).toBeUndefined();
    const both = attachMetadata(other, buildModelMetadata(CLASSIFIER_METADATA));
    expect(readTfliteMetadata(both)?.name).toBe('ImageClassifier');
    expect(readTfliteMetadata(both.buffer as ArrayBuffer)?.labelFile).toBe('labels.txt');
  });

  it('an empty ModelMetadata gives no inputs and no outputs', () => {
    expect(parseModelMetadata(buildModelMetadata({}))).toEqual({ inputs: [], outputs: [] });
  });
});

describe('inputNormalization', () => {
  it('gives the input normalization when it fits the channel count, INVALID_MODEL when it cannot', () => {
    const md = readTfliteMetadata(withMetadata(tiny(), {
      inputs: [{ normalization: { mean: [1, 2, 3], std: [4] } }, {}, { normalization: { mean: [5], std: [6] } }],
    }))!;
    expect(inputNormalization(md, 3)).toEqual({ mean: [1, 2, 3], std: [4] });
    expect(inputNormalization(md, 3, 1)).toBeUndefined();
    expect(inputNormalization(md, 1, 2)).toEqual({ mean: [5], std: [6] });
    expect(inputNormalization(md, 3, 7)).toBeUndefined();
    expect(inputNormalization(undefined, 3)).toBeUndefined();
    expectModelError(() => inputNormalization(md, 1), 'INVALID_MODEL', /TFLITE_METADATA input 0 normalization has 3 mean values, but the input has 1 channel/);
  });
});

describe('inputRangeFromNormalization', () => {
  it('maps pixels 0 and 255 when every channel agrees, else undefined', () => {
    expect(inputRangeFromNormalization({ mean: [127.5], std: [127.5] })).toEqual([-1, 1]);
    expect(inputRangeFromNormalization({ mean: [0], std: [255] })).toEqual([0, 1]);
    expect(inputRangeFromNormalization({ mean: [0, 0, 0], std: [1] })).toEqual([0, 255]);
    expect(inputRangeFromNormalization({ mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] })).toBeUndefined();
    expect(inputRangeFromNormalization({ mean: [0], std: [-1] })).toBeUndefined();
  });
});

// ---- hostile metadata -----------------------------------------------------------------------

/** the metadata flatbuffer's bytes inside `model`, to patch */
function metadataView(model: Uint8Array): { bytes: Uint8Array; reader: FlatBufferReader } {
  const { start, length } = metadataLocation(model);
  const bytes = model.subarray(start, start + length);
  return { bytes, reader: new FlatBufferReader(bytes) };
}

/** absolute position (in the metadata bytes) of input 0's first NormalizationOptions vectors */
function normalizationVectors(reader: FlatBufferReader): { mean: number; std: number } {
  const root = reader.root('m');
  const input = root.tables(MF.ModelMetadata.subgraph_metadata, 's').get(0).tables(MF.SubGraphMetadata.input_tensor_metadata, 'i').get(0);
  const opts = input.tables(MF.TensorMetadata.process_units, 'p').get(0).table(MF.ProcessUnit.options, 'o')!;
  return { mean: opts.vector(MF.NormalizationOptions.mean, 'mean', 4)!.start, std: opts.vector(MF.NormalizationOptions.std, 'std', 4)!.start };
}

describe('hostile metadata gives INVALID_MODEL naming the field', () => {
  const base = () => withMetadata(tiny(), CLASSIFIER_METADATA);

  it('a zero or non-finite std, or a non-finite mean', () => {
    for (const [field, value, pattern] of [
      ['std', 0, /input_tensor_metadata\[0\]\.process_units\[0\]\.options\.std\[0\] is 0/],
      ['std', Infinity, /std\[0\] is Infinity; a normalization std must be finite and non-zero/],
      ['mean', NaN, /options\.mean\[0\] is NaN; a normalization mean must be finite/],
    ] as const) {
      const model = base();
      const { bytes, reader } = metadataView(model);
      new DataView(bytes.buffer, bytes.byteOffset).setFloat32(normalizationVectors(reader)[field], value, true);
      expectModelError(() => readTfliteMetadata(model), 'INVALID_MODEL', pattern);
    }
  });

  it('mean and std of different lengths, neither one value', () => {
    const model = withMetadata(tiny(), { inputs: [{ normalization: { mean: [1, 2], std: [1, 2, 3] } }] });
    expectModelError(() => readTfliteMetadata(model), 'INVALID_MODEL', /NormalizationOptions has 2 mean but 3 std values/);
    const empty = withMetadata(tiny(), { inputs: [{ normalization: { mean: [], std: [1] } }] });
    expectModelError(() => readTfliteMetadata(empty), 'INVALID_MODEL', /needs mean and std, got 0 mean/);
  });

  it('stats whose min exceeds max', () => {
    const model = withMetadata(tiny(), { inputs: [{ stats: { min: [0, 5], max: [1, 4] } }] });
    expectModelError(() => readTfliteMetadata(model), 'INVALID_MODEL', /input_tensor_metadata\[0\]\.stats: min\[1\] = 5 exceeds max\[1\] = 4/);
  });

  it('a NormalizationOptions unit without its options table', () => {
    // an unknown unit type first (skipped), then the type id patched to NormalizationOptions
    const model = withMetadata(tiny(), { inputs: [{ otherUnits: [ProcessUnitOptionsType.ScoreCalibrationOptions] }] });
    const { bytes, reader } = metadataView(model);
    const unit = reader.root('m').tables(MF.ModelMetadata.subgraph_metadata, 's').get(0)
      .tables(MF.SubGraphMetadata.input_tensor_metadata, 'i').get(0).tables(MF.TensorMetadata.process_units, 'p').get(0);
    expect(readTfliteMetadata(model)!.inputs[0].normalization).toBeUndefined();
    bytes[unit.fieldPosition(MF.ProcessUnit.options_type)] = ProcessUnitOptionsType.NormalizationOptions;
    // the (empty) options table now reads as NormalizationOptions without mean and std
    expectModelError(() => readTfliteMetadata(model), 'INVALID_MODEL', /process_units\[0\]\.options: NormalizationOptions needs mean and std/);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    // drop the options field from the unit's vtable
    const vtable = unit.pos - dv.getInt32(unit.pos, true);
    dv.setUint16(vtable + 4 + 2 * MF.ProcessUnit.options, 0, true);
    expectModelError(() => readTfliteMetadata(model), 'INVALID_MODEL', /process_units\[0\] says NormalizationOptions but has no options table/);
  });

  it('a metadata buffer that is not a ModelMetadata flatbuffer', () => {
    const model = base();
    const { bytes } = metadataView(model);
    bytes.set([0x58, 0x58, 0x58, 0x58], 4);
    expectModelError(() => readTfliteMetadata(model), 'INVALID_MODEL', /TFLITE_METADATA is not a ModelMetadata flatbuffer: its file identifier is "XXXX", expected "M001"/);
    const short = attachMetadata(tiny(), new Uint8Array([1, 2, 3]));
    expectModelError(() => readTfliteMetadata(short), 'INVALID_MODEL', /TFLITE_METADATA is 3 bytes/);
    const empty = attachMetadata(tiny(), new Uint8Array(0));
    expectModelError(() => readTfliteMetadata(empty), 'INVALID_MODEL', /TFLITE_METADATA buffer \d+ is empty/);
  });

  it('a metadata entry pointing past the buffers', () => {
    const model = base();
    const root = new FlatBufferReader(model).root('model');
    const entry = root.tables(F.Model.metadata, 'metadata').get(0);
    new DataView(model.buffer).setUint32(entry.fieldPosition(MF.Metadata.buffer), 999, true);
    expectModelError(() => readTfliteMetadata(model), 'INVALID_MODEL', /model\.metadata\[0\] \(TFLITE_METADATA\) refers to buffer 999, but the model has \d+ buffers/);
  });

  it('vector lengths beyond the buffer, and absurd counts', () => {
    const model = base();
    const { bytes, reader } = metadataView(model);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    dv.setUint32(normalizationVectors(reader).mean - 4, 0x7fffffff, true);
    expectModelError(() => readTfliteMetadata(model), 'INVALID_MODEL', /options\.mean claims 2147483647 elements/);

    const many = withMetadata(tiny(), { inputs: Array.from({ length: 1025 }, () => ({})) });
    expectModelError(() => readTfliteMetadata(many), 'INVALID_MODEL', /input_tensor_metadata lists 1025 tensors; at most 1024/);
    const wide = withMetadata(tiny(), { inputs: [{ normalization: { mean: new Array(5000).fill(0), std: [1] } }] });
    expectModelError(() => readTfliteMetadata(wide), 'INVALID_MODEL', /options\.mean has 5000 values/);
  });

  it('not a model at all', () => {
    expectModelError(() => readTfliteMetadata(new Uint8Array(4)), 'INVALID_MODEL', /too short/);
    expectModelError(() => readTfliteMetadata(new Uint8Array(64)), 'INVALID_MODEL', /not a TensorFlow Lite model/);
    expectModelError(() => readTfliteMetadata('x' as never), 'INVALID_MODEL', /expects the model bytes/);
  });

  it('random damage to the metadata bytes: a result or INVALID_MODEL, never another error', () => {
    const r = rng(2024);
    const pristine = base();
    const { start, length } = metadataLocation(pristine);
    let failures = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const model = pristine.slice();
      const flips = 1 + Math.floor(r() * 4);
      for (let k = 0; k < flips; k++) model[start + Math.floor(r() * length)] = Math.floor(r() * 256);
      try {
        const md = readTfliteMetadata(model);
        // whatever was read is well formed
        for (const t of md?.inputs ?? []) {
          if (t.normalization) {
            expect(t.normalization.std.every((s) => Number.isFinite(s) && s !== 0)).toBe(true);
            expect(t.normalization.mean.every(Number.isFinite)).toBe(true);
          }
        }
      } catch (e) {
        expect(e).toBeInstanceOf(MobileNetError);
        expect((e as MobileNetError).code).toBe('INVALID_MODEL');
        failures++;
      }
    }
    // the damage must have been noticed sometimes, or the test proves nothing
    expect(failures).toBeGreaterThan(100);
  });
});
