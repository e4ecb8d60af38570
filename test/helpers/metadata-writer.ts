/**
 * Test helper: builds a TFLite ModelMetadata flatbuffer (tflite-support metadata_schema.fbs,
 * identifier "M001") with the project's flatbuffer builder and attaches it to a .tflite as
 * the "TFLITE_METADATA" entry of Model.metadata, as tflite-support's MetadataPopulator does.
 *
 * The project's writer (encodeTflite) has no Model.metadata field, so attaching works on any
 * .tflite's bytes: flatbuffer offsets only point forward, so a new root Model table is put in
 * front of the old file (its fields re-pointed at the old objects, shifted by the header
 * size, a multiple of 16 so buffer data keeps its alignment), with a buffers vector and a
 * metadata vector that add one entry each; the new Buffer and Metadata tables go after the
 * old bytes. Models whose buffers live outside the flatbuffer (Buffer.offset) are refused.
 */
import { buildFlatBuffer, fb, FlatBufferReader, type FbTable } from '../../src/formats/flatbuffer.js';
import { F, TFLITE_FILE_IDENTIFIER } from '../../src/formats/tflite-schema.js';
import {
  AssociatedFileType,
  ColorSpaceType,
  ContentPropertiesType,
  METADATA_FILE_IDENTIFIER,
  MF,
  ProcessUnitOptionsType,
  TFLITE_METADATA_NAME,
} from '../../src/formats/tflite-metadata.js';

export interface TensorMetadataSpec {
  name?: string;
  description?: string;
  normalization?: { mean: number[]; std: number[] };
  stats?: { min?: number[]; max?: number[] };
  colorSpace?: 'rgb' | 'grayscale';
  files?: { name: string; type: keyof typeof AssociatedFileType; description?: string; locale?: string }[];
  /** extra process units before the normalization: type ids with an empty options table */
  otherUnits?: number[];
}

export interface ModelMetadataSpec {
  name?: string;
  description?: string;
  version?: string;
  author?: string;
  license?: string;
  minParserVersion?: string;
  inputs?: TensorMetadataSpec[];
  outputs?: TensorMetadataSpec[];
}

const str = (s: string | undefined) => (s === undefined ? undefined : fb.string(s));

function fileTable(f: NonNullable<TensorMetadataSpec['files']>[number]): FbTable {
  const A = MF.AssociatedFile;
  return fb.table({
    [A.name]: fb.string(f.name),
    [A.description]: str(f.description),
    [A.type]: fb.scalar('i8', AssociatedFileType[f.type]),
    [A.locale]: str(f.locale),
  });
}

function tensorTable(t: TensorMetadataSpec): FbTable {
  const T = MF.TensorMetadata;
  const units: FbTable[] = (t.otherUnits ?? []).map((type) =>
    fb.table({ [MF.ProcessUnit.options_type]: fb.scalar('u8', type), [MF.ProcessUnit.options]: fb.table({}) }),
  );
  if (t.normalization) {
    units.push(
      fb.table({
        [MF.ProcessUnit.options_type]: fb.scalar('u8', ProcessUnitOptionsType.NormalizationOptions),
        [MF.ProcessUnit.options]: fb.table({
          [MF.NormalizationOptions.mean]: fb.vector('f32', t.normalization.mean),
          [MF.NormalizationOptions.std]: fb.vector('f32', t.normalization.std),
        }),
      }),
    );
  }
  const content = t.colorSpace
    ? fb.table({
        [MF.Content.content_properties_type]: fb.scalar('u8', ContentPropertiesType.ImageProperties),
        [MF.Content.content_properties]: fb.table({
          [MF.ImageProperties.color_space]: fb.scalar('i8', t.colorSpace === 'rgb' ? ColorSpaceType.RGB : ColorSpaceType.GRAYSCALE),
        }),
      })
    : undefined;
  const stats = t.stats
    ? fb.table({
        [MF.Stats.min]: t.stats.min ? fb.vector('f32', t.stats.min) : undefined,
        [MF.Stats.max]: t.stats.max ? fb.vector('f32', t.stats.max) : undefined,
      })
    : undefined;
  return fb.table({
    [T.name]: str(t.name),
    [T.description]: str(t.description),
    [T.content]: content,
    [T.process_units]: units.length ? fb.tables(units) : undefined,
    [T.stats]: stats,
    [T.associated_files]: t.files ? fb.tables(t.files.map(fileTable)) : undefined,
  });
}

/** A ModelMetadata flatbuffer ("M001") from a plain description. */
export function buildModelMetadata(spec: ModelMetadataSpec): Uint8Array {
  const M = MF.ModelMetadata;
  const S = MF.SubGraphMetadata;
  const subgraph = fb.table({
    [S.input_tensor_metadata]: fb.tables((spec.inputs ?? []).map(tensorTable)),
    [S.output_tensor_metadata]: fb.tables((spec.outputs ?? []).map(tensorTable)),
  });
  return buildFlatBuffer(
    fb.table({
      [M.name]: str(spec.name),
      [M.description]: str(spec.description),
      [M.version]: str(spec.version),
      [M.subgraph_metadata]: fb.tables([subgraph]),
      [M.author]: str(spec.author),
      [M.license]: str(spec.license),
      [M.min_parser_version]: str(spec.minParserVersion),
    }),
    METADATA_FILE_IDENTIFIER,
  );
}

const MODEL_SLOTS = 8; // schema.fbs Model: version .. signature_defs
const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** `model` with `metadata` attached as Model.metadata entry `name` (default TFLITE_METADATA) in a new buffer. */
export function attachMetadata(model: Uint8Array, metadata: Uint8Array, name = TFLITE_METADATA_NAME): Uint8Array {
  const reader = new FlatBufferReader(model);
  if (reader.fileIdentifier() !== TFLITE_FILE_IDENTIFIER) throw new Error('attachMetadata needs a .tflite');
  const root = reader.root('model');
  const dv = reader.view;
  const target = (at: number) => at + dv.getUint32(at, true);
  // absolute positions of the old model's fields, and of the old vectors' element offsets
  const oldField = Array.from({ length: MODEL_SLOTS }, (_, s) => root.fieldPosition(s));
  const vectorEntries = (slot: number): number[] => {
    if (!oldField[slot]) return [];
    const v = target(oldField[slot]);
    return Array.from({ length: dv.getUint32(v, true) }, (_, i) => v + 4 + 4 * i);
  };
  const oldBuffers = vectorEntries(F.Model.buffers);
  const oldMetadata = vectorEntries(F.Model.metadata);
  for (const e of oldBuffers) {
    const buf = target(e);
    const vt = buf - dv.getInt32(buf, true);
    if (dv.getUint16(vt, true) >= 4 + 2 * F.Buffer.offset + 2 && dv.getUint16(vt + 4 + 2 * F.Buffer.offset, true) !== 0) {
      throw new Error('attachMetadata: models with external buffers (Buffer.offset) are not supported');
    }
  }

  // header: [root uoffset][ident][vtable][model table][buffers vector][metadata vector]
  const vtable = 8;
  const vtableSize = 4 + 2 * MODEL_SLOTS;
  const table = align(vtable + vtableSize, 4);
  const inlineSize = 4 + 4 * MODEL_SLOTS;
  const buffersVec = table + inlineSize;
  const metadataVec = buffersVec + 4 + 4 * (oldBuffers.length + 1);
  const header = align(metadataVec + 4 + 4 * (oldMetadata.length + 1), 16);
  // tail after the old bytes: Buffer table, its data, Metadata table, name string
  const tail = align(header + model.length, 16);
  const bufVt = tail;
  const bufTable = bufVt + 8; // vtable [6, 8, 4] padded to 8
  const dataVec = align(bufTable + 8 + 4, 16) - 4; // element 0 16-aligned
  const metaVt = align(dataVec + 4 + metadata.length, 4);
  const metaTable = metaVt + 8; // vtable [8, 12, 4, 8]
  const nameBytes = new TextEncoder().encode(name);
  const nameStr = metaTable + 12;
  const total = align(nameStr + 4 + nameBytes.length + 1, 4);

  const out = new Uint8Array(total);
  const o = new DataView(out.buffer);
  out.set(model, header);
  o.setUint32(0, table, true);
  for (let i = 0; i < 4; i++) out[4 + i] = TFLITE_FILE_IDENTIFIER.charCodeAt(i);
  o.setUint16(vtable, vtableSize, true);
  o.setUint16(vtable + 2, inlineSize, true);
  o.setInt32(table, table - vtable, true);
  const point = (at: number, to: number) => o.setUint32(at, to - at, true);
  for (let s = 0; s < MODEL_SLOTS; s++) {
    const at = table + 4 + 4 * s;
    if (s === F.Model.buffers || s === F.Model.metadata) {
      o.setUint16(vtable + 4 + 2 * s, at - table, true);
      point(at, s === F.Model.buffers ? buffersVec : metadataVec);
    } else if (oldField[s]) {
      o.setUint16(vtable + 4 + 2 * s, at - table, true);
      if (s === F.Model.version) o.setUint32(at, dv.getUint32(oldField[s], true), true);
      else point(at, header + target(oldField[s]));
    }
  }
  const fillVector = (vec: number, oldEntries: number[], added: number) => {
    o.setUint32(vec, oldEntries.length + 1, true);
    oldEntries.forEach((e, i) => point(vec + 4 + 4 * i, header + target(e)));
    point(vec + 4 + 4 * oldEntries.length, added);
  };
  fillVector(buffersVec, oldBuffers, bufTable);
  fillVector(metadataVec, oldMetadata, metaTable);

  // Buffer { data: [ubyte] }
  o.setUint16(bufVt, 6, true);
  o.setUint16(bufVt + 2, 8, true);
  o.setUint16(bufVt + 4, 4, true);
  o.setInt32(bufTable, bufTable - bufVt, true);
  point(bufTable + 4, dataVec);
  o.setUint32(dataVec, metadata.length, true);
  out.set(metadata, dataVec + 4);
  // Metadata { name: string; buffer: uint }
  o.setUint16(metaVt, 8, true);
  o.setUint16(metaVt + 2, 12, true);
  o.setUint16(metaVt + 4 + 2 * MF.Metadata.name, 4, true);
  o.setUint16(metaVt + 4 + 2 * MF.Metadata.buffer, 8, true);
  o.setInt32(metaTable, metaTable - metaVt, true);
  point(metaTable + 4, nameStr);
  o.setUint32(metaTable + 8, oldBuffers.length, true);
  o.setUint32(nameStr, nameBytes.length, true);
  out.set(nameBytes, nameStr + 4);
  return out;
}

/** Positions inside a model made by attachMetadata, for tests that damage the metadata. */
export function metadataLocation(withMetadata: Uint8Array): { start: number; length: number } {
  const reader = new FlatBufferReader(withMetadata);
  const root = reader.root('model');
  const buffers = root.tables(F.Model.buffers, 'buffers');
  const data = buffers.get(buffers.length - 1).vector(F.Buffer.data, 'data', 1)!;
  return data;
}

/** Convenience: a description's metadata attached to `model`. */
export function withMetadata(model: Uint8Array, spec: ModelMetadataSpec): Uint8Array {
  return attachMetadata(model, buildModelMetadata(spec));
}

/** The inputs of a typical image classifier's metadata (as the shared MobileNet v2 models carry). */
export const CLASSIFIER_METADATA: ModelMetadataSpec = {
  name: 'ImageClassifier',
  description: 'Identify the most prominent object in the image from a known set of categories.',
  minParserVersion: '1.0.0',
  inputs: [{ name: 'image', colorSpace: 'rgb', normalization: { mean: [127.5], std: [127.5] }, stats: { min: [0], max: [255] } }],
  outputs: [{ name: 'probability', files: [{ name: 'labels.txt', type: 'TENSOR_AXIS_LABELS' }] }],
};
