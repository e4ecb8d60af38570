/**
 * TFLite model metadata: the "TFLITE_METADATA" entry of Model.metadata, a ModelMetadata
 * flatbuffer (tensorflow/tflite-support, tensorflow_lite_support/metadata/metadata_schema.fbs,
 * file identifier "M001") kept in one of the model's buffers. It says how inputs are
 * normalized ((x - mean) / std per channel), the inputs' expected value range, the colour space
 * of image inputs and which packed file holds the labels.
 *
 * Read with the bounded FlatBufferReader: hostile bytes give INVALID_MODEL naming the field
 * (e.g. "TFLITE_METADATA.subgraph_metadata[0].input_tensor_metadata[0].process_units[0]..."),
 * never a RangeError, a hang or a huge allocation. No Node built-ins.
 */
import { invalidModel } from '../errors.js';
import { bufferBytes, plainView } from '../runtime/typed.js';
import { FlatBufferReader, type Table } from './flatbuffer.js';
import { F, TFLITE_FILE_IDENTIFIER } from './tflite-schema.js';

/** Name of the Model.metadata entry whose buffer holds the ModelMetadata flatbuffer. */
export const TFLITE_METADATA_NAME = 'TFLITE_METADATA';
/** metadata_schema.fbs `file_identifier` */
export const METADATA_FILE_IDENTIFIER = 'M001';

/**
 * Field slots of metadata_schema.fbs (a field's slot is its declaration index; a union takes
 * two slots, `_type` then the value). Only the tables we read.
 */
export const MF = {
  /** schema.fbs `table Metadata { name: string; buffer: uint; }` (in the .tflite itself) */
  Metadata: { name: 0, buffer: 1 },
  ModelMetadata: { name: 0, description: 1, version: 2, subgraph_metadata: 3, author: 4, license: 5, associated_files: 6, min_parser_version: 7 },
  SubGraphMetadata: {
    name: 0,
    description: 1,
    input_tensor_metadata: 2,
    output_tensor_metadata: 3,
    associated_files: 4,
    input_process_units: 5,
    output_process_units: 6,
  },
  TensorMetadata: { name: 0, description: 1, dimension_names: 2, content: 3, process_units: 4, stats: 5, associated_files: 6 },
  Content: { content_properties_type: 0, content_properties: 1, range: 2 },
  ImageProperties: { color_space: 0, default_size: 1 },
  ProcessUnit: { options_type: 0, options: 1 },
  NormalizationOptions: { mean: 0, std: 1 },
  Stats: { max: 0, min: 1 },
  AssociatedFile: { name: 0, description: 1, type: 2, locale: 3 },
} as const;

/** union ProcessUnitOptions type ids (0 = NONE) */
export const ProcessUnitOptionsType = {
  NormalizationOptions: 1,
  ScoreCalibrationOptions: 2,
  ScoreThresholdingOptions: 3,
  BertTokenizerOptions: 4,
  SentencePieceTokenizerOptions: 5,
} as const;

/** union ContentProperties type ids (0 = NONE) */
export const ContentPropertiesType = { FeatureProperties: 1, ImageProperties: 2, BoundingBoxProperties: 3 } as const;

/** enum ColorSpaceType */
export const ColorSpaceType = { UNKNOWN: 0, RGB: 1, GRAYSCALE: 2 } as const;

/** enum AssociatedFileType */
export const AssociatedFileType = {
  UNKNOWN: 0,
  DESCRIPTIONS: 1,
  TENSOR_AXIS_LABELS: 2,
  TENSOR_VALUE_LABELS: 3,
  TENSOR_AXIS_SCORE_CALIBRATION: 4,
  VOCABULARY: 5,
} as const;

/**
 * Sanity limits: a real model has a handful of tensors, units and channels; far larger counts
 * are damage, and refusing them keeps a hostile file from making us loop for long.
 */
const MAX_TENSORS = 1024;
const MAX_PROCESS_UNITS = 64;
const MAX_CHANNELS = 4096;
const MAX_FILES = 1024;

/** (x - mean) / std, per channel; one value applies to every channel. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export interface MetadataFile {
  name: string;
  description?: string;
  /** AssociatedFileType name ('TENSOR_AXIS_LABELS', ...), or 'type N' for a value we do not know */
  type: string;
  locale?: string;
}

export interface TensorMetadataInfo {
  name?: string;
  description?: string;
  /** the first NormalizationOptions process unit */
  normalization?: Normalization;
  /** Stats: per-channel min / max of the tensor's values (one value = all channels) */
  range?: { min: number[]; max: number[] };
  /** ImageProperties.color_space, when the content is an image and says */
  colorSpace?: 'rgb' | 'grayscale';
  associatedFiles: MetadataFile[];
}

export interface TfliteMetadata {
  name?: string;
  description?: string;
  version?: string;
  author?: string;
  license?: string;
  minParserVersion?: string;
  /** subgraph 0's input_tensor_metadata, in SubGraph.inputs order */
  inputs: TensorMetadataInfo[];
  outputs: TensorMetadataInfo[];
  /**
   * Name of the label file (packed into the .tflite as a zip): the first TENSOR_AXIS_LABELS
   * file of output 0, else of subgraph 0, else of the model.
   */
  labelFile?: string;
}

const ASSOCIATED_FILE_TYPE_NAMES = Object.fromEntries(Object.entries(AssociatedFileType).map(([k, v]) => [v, k])) as Record<number, string>;

/**
 * The model's TFLite metadata, or undefined when it has no "TFLITE_METADATA" entry.
 * Throws INVALID_MODEL naming the field when the entry or its flatbuffer is damaged.
 * The model bytes themselves are not validated beyond what this reads (readTflite does that).
 */
export function readTfliteMetadata(model: Uint8Array): TfliteMetadata | undefined {
  const bytes = plainView(model, 'Uint8Array') ?? bufferBytes(model);
  if (!bytes) throw invalidModel('readTfliteMetadata expects the model bytes as a Uint8Array (or an ArrayBuffer)');
  const raw = metadataBytes(bytes);
  return raw === undefined ? undefined : parseModelMetadata(raw);
}

/** the bytes of the TFLITE_METADATA buffer, or undefined when the model has none */
export function metadataBytes(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length < 8) throw invalidModel(`.tflite is ${bytes.length} bytes: too short to be a TensorFlow Lite model`);
  const reader = new FlatBufferReader(bytes);
  if (reader.fileIdentifier() !== TFLITE_FILE_IDENTIFIER) {
    throw invalidModel(`not a TensorFlow Lite model: the file identifier (bytes 4..7) is not "${TFLITE_FILE_IDENTIFIER}"`);
  }
  const model = reader.root('model');
  const entries = model.tables(F.Model.metadata, 'metadata');
  if (entries.length > MAX_FILES) throw invalidModel(`.tflite model.metadata has ${entries.length} entries; at most ${MAX_FILES} are accepted`);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries.get(i);
    if (entry.string(MF.Metadata.name, 'name') !== TFLITE_METADATA_NAME) continue;
    const index = entry.u32(MF.Metadata.buffer, 'buffer');
    const buffers = model.tables(F.Model.buffers, 'buffers');
    if (index >= buffers.length) {
      throw invalidModel(`.tflite model.metadata[${i}] (${TFLITE_METADATA_NAME}) refers to buffer ${index}, but the model has ${buffers.length} buffers`);
    }
    const buffer = buffers.get(index);
    const data = buffer.vector(F.Buffer.data, 'data', 1);
    if (data && data.length > 0) return bytes.subarray(data.start, data.start + data.length);
    // models over 2 GB (schema 3c) keep buffer data after the flatbuffer, at an offset from the file start
    const offset = buffer.u64(F.Buffer.offset, 'offset');
    const size = buffer.u64(F.Buffer.size, 'size');
    if (offset > 1 && size > 0) {
      if (offset + size > bytes.length) {
        throw invalidModel(`.tflite ${TFLITE_METADATA_NAME} buffer ${index} claims ${size} bytes at offset ${offset}, past the end of the ${bytes.length}-byte file`);
      }
      return bytes.subarray(offset, offset + size);
    }
    throw invalidModel(`.tflite ${TFLITE_METADATA_NAME} buffer ${index} is empty`);
  }
  return undefined;
}

/** Parse a ModelMetadata flatbuffer (the TFLITE_METADATA buffer's bytes). */
export function parseModelMetadata(raw: Uint8Array): TfliteMetadata {
  if (raw.length < 8) throw invalidModel(`${TFLITE_METADATA_NAME} is ${raw.length} bytes: too short to be a ModelMetadata flatbuffer`);
  const reader = new FlatBufferReader(raw);
  const id = reader.fileIdentifier();
  if (id !== METADATA_FILE_IDENTIFIER) {
    const shown = JSON.stringify((id ?? '').replace(/[^\x20-\x7e]/g, '?'));
    throw invalidModel(`${TFLITE_METADATA_NAME} is not a ModelMetadata flatbuffer: its file identifier is ${shown}, expected "${METADATA_FILE_IDENTIFIER}"`);
  }
  const root = reader.root(TFLITE_METADATA_NAME);
  const M = MF.ModelMetadata;
  const out: TfliteMetadata = { inputs: [], outputs: [] };
  setString(out, 'name', root, M.name, 'name');
  setString(out, 'description', root, M.description, 'description');
  setString(out, 'version', root, M.version, 'version');
  setString(out, 'author', root, M.author, 'author');
  setString(out, 'license', root, M.license, 'license');
  setString(out, 'minParserVersion', root, M.min_parser_version, 'min_parser_version');
  const modelFiles = readFiles(root, M.associated_files);
  const subgraphs = root.tables(M.subgraph_metadata, 'subgraph_metadata');
  let subgraphFiles: MetadataFile[] = [];
  if (subgraphs.length > 0) {
    const sg = subgraphs.get(0);
    const S = MF.SubGraphMetadata;
    out.inputs = readTensors(sg, S.input_tensor_metadata, 'input_tensor_metadata');
    out.outputs = readTensors(sg, S.output_tensor_metadata, 'output_tensor_metadata');
    subgraphFiles = readFiles(sg, S.associated_files);
  }
  const isLabels = (f: MetadataFile) => f.type === 'TENSOR_AXIS_LABELS';
  const labels = (out.outputs[0]?.associatedFiles ?? []).find(isLabels) ?? subgraphFiles.find(isLabels) ?? modelFiles.find(isLabels);
  if (labels) out.labelFile = labels.name;
  return out;
}

function setString<K extends 'name' | 'description' | 'version' | 'author' | 'license' | 'minParserVersion'>(
  out: TfliteMetadata,
  key: K,
  t: Table,
  slot: number,
  field: string,
): void {
  if (t.has(slot)) out[key] = t.string(slot, field);
}

function readTensors(sg: Table, slot: number, field: string): TensorMetadataInfo[] {
  const vec = sg.tables(slot, field);
  if (vec.length > MAX_TENSORS) throw invalidModel(`${sg.path}.${field} lists ${vec.length} tensors; at most ${MAX_TENSORS} are accepted`);
  const out: TensorMetadataInfo[] = [];
  for (let i = 0; i < vec.length; i++) out.push(readTensor(vec.get(i)));
  return out;
}

function readTensor(t: Table): TensorMetadataInfo {
  const T = MF.TensorMetadata;
  const info: TensorMetadataInfo = { associatedFiles: readFiles(t, T.associated_files) };
  if (t.has(T.name)) info.name = t.string(T.name, 'name');
  if (t.has(T.description)) info.description = t.string(T.description, 'description');

  const content = t.table(T.content, 'content');
  if (content && content.u8(MF.Content.content_properties_type, 'content_properties_type') === ContentPropertiesType.ImageProperties) {
    const image = content.table(MF.Content.content_properties, 'content_properties');
    const space = image ? image.i8(MF.ImageProperties.color_space, 'color_space') : ColorSpaceType.UNKNOWN;
    if (space === ColorSpaceType.RGB) info.colorSpace = 'rgb';
    else if (space === ColorSpaceType.GRAYSCALE) info.colorSpace = 'grayscale';
  }

  const units = t.tables(T.process_units, 'process_units');
  if (units.length > MAX_PROCESS_UNITS) throw invalidModel(`${t.path}.process_units lists ${units.length} units; at most ${MAX_PROCESS_UNITS} are accepted`);
  for (let i = 0; i < units.length && !info.normalization; i++) {
    const unit = units.get(i);
    if (unit.u8(MF.ProcessUnit.options_type, 'options_type') !== ProcessUnitOptionsType.NormalizationOptions) continue;
    const opts = unit.table(MF.ProcessUnit.options, 'options');
    if (!opts) throw invalidModel(`${unit.path} says NormalizationOptions but has no options table`);
    info.normalization = readNormalization(opts);
  }

  const stats = t.table(T.stats, 'stats');
  if (stats && (stats.has(MF.Stats.min) || stats.has(MF.Stats.max))) {
    const min = floats(stats, MF.Stats.min, 'min');
    const max = floats(stats, MF.Stats.max, 'max');
    // an absent or NaN bound means "not stated"; only a pair that contradicts itself is damage
    for (let c = 0; c < Math.min(min.length, max.length); c++) {
      if (min[c] > max[c]) throw invalidModel(`${stats.path}: min[${c}] = ${min[c]} exceeds max[${c}] = ${max[c]}`);
    }
    info.range = { min, max };
  }
  return info;
}

function readNormalization(opts: Table): Normalization {
  const N = MF.NormalizationOptions;
  const mean = floats(opts, N.mean, 'mean');
  const std = floats(opts, N.std, 'std');
  const where = opts.path;
  if (mean.length === 0 || std.length === 0) throw invalidModel(`${where}: NormalizationOptions needs mean and std, got ${mean.length} mean and ${std.length} std values`);
  // metadata_schema.fbs: "If there is only one value in mean or std, we'll propagate the value to all channels"
  if (mean.length !== std.length && mean.length !== 1 && std.length !== 1) {
    throw invalidModel(`${where}: NormalizationOptions has ${mean.length} mean but ${std.length} std values; they must match, or one must be a single value`);
  }
  mean.forEach((m, c) => {
    if (!Number.isFinite(m)) throw invalidModel(`${where}.mean[${c}] is ${m}; a normalization mean must be finite`);
  });
  std.forEach((s, c) => {
    if (!Number.isFinite(s) || s === 0) throw invalidModel(`${where}.std[${c}] is ${s}; a normalization std must be finite and non-zero`);
  });
  return { mean, std };
}

function floats(t: Table, slot: number, field: string): number[] {
  const v = t.vector(slot, field, 4);
  if (v && v.length > MAX_CHANNELS) throw invalidModel(`${t.path}.${field} has ${v.length} values; at most ${MAX_CHANNELS} (one per channel) are accepted`);
  return t.f32Array(slot, field);
}

function readFiles(t: Table, slot: number): MetadataFile[] {
  const vec = t.tables(slot, 'associated_files');
  if (vec.length > MAX_FILES) throw invalidModel(`${t.path}.associated_files lists ${vec.length} files; at most ${MAX_FILES} are accepted`);
  const out: MetadataFile[] = [];
  const A = MF.AssociatedFile;
  for (let i = 0; i < vec.length; i++) {
    const f = vec.get(i);
    const type = f.i8(A.type, 'type');
    const file: MetadataFile = { name: f.string(A.name, 'name'), type: ASSOCIATED_FILE_TYPE_NAMES[type] ?? `type ${type}` };
    if (f.has(A.description)) file.description = f.string(A.description, 'description');
    if (f.has(A.locale)) file.locale = f.string(A.locale, 'locale');
    out.push(file);
  }
  return out;
}

/**
 * The [low, high] input range a normalization gives pixels 0 and 255, when it is the same on
 * every channel (mean 127.5, std 127.5 -> [-1, 1]); undefined when channels differ or std < 0.
 */
export function inputRangeFromNormalization(n: Normalization): [number, number] | undefined {
  const means = new Set(n.mean);
  const stds = new Set(n.std);
  if (means.size !== 1 || stds.size !== 1) return undefined;
  const mean = n.mean[0];
  const std = n.std[0];
  // a negative std maps pixel 0 above pixel 255, which [low, high] cannot say
  if (!(std > 0)) return undefined;
  return [(0 - mean) / std, (255 - mean) / std];
}

/**
 * The normalization the metadata gives model input `index` (default 0) with `channels`
 * channels, ready to pass as preprocess's `normalization` option; undefined when the model
 * has no metadata or the input no NormalizationOptions. A normalization that cannot apply to
 * the input (not 1 or `channels` values) is the model's fault: INVALID_MODEL naming it, rather
 * than the INVALID_OPTION preprocess would give for the same values passed by a caller.
 */
export function inputNormalization(md: TfliteMetadata | undefined, channels: number, index = 0): Normalization | undefined {
  const n = md?.inputs[index]?.normalization;
  if (!n) return undefined;
  for (const [key, values] of [['mean', n.mean], ['std', n.std]] as const) {
    if (values.length !== 1 && values.length !== channels) {
      throw invalidModel(
        `${TFLITE_METADATA_NAME} input ${index} normalization has ${values.length} ${key} values, but the input has ${channels} channel${channels === 1 ? '' : 's'} (1 value or one per channel)`,
      );
    }
  }
  return { mean: n.mean.slice(), std: n.std.slice() };
}
