/**
 * Is this the model the registry name promises? Recorded size and sha256 when known, then the
 * structure: our reader accepts the bytes, the input is [1, r, r, 3] of the entry's precision,
 * the stem is a conv2d of alpha*32 channels, and an ImageNet model has 1001 outputs.
 */
import { MobileNetError } from '../errors.js';
import { readTflite } from '../formats/tflite.js';
import { scaledDepth, STEM_CHANNELS } from '../arch/mobilenet.js';
import { sizeOf, type Graph } from '../model/ir.js';
import type { ModelEntry } from './types.js';

/** sha256 of `bytes` as lower-case hex, or undefined where the engine has no crypto.subtle (an insecure origin). */
export async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  const subtle = (globalThis as { crypto?: { subtle?: { digest(alg: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto?.subtle;
  if (!subtle) return undefined;
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

export interface CheckedModel {
  graph: Graph;
  sha256: string | undefined;
  /** 'matched' = equal to the sha256 and size the registry records */
  checksum: 'matched' | 'unrecorded';
}

/**
 * Checks bytes against the registry entry (INVALID_MODEL naming `source` and the mismatch).
 * `expectedSha256` is a digest recorded elsewhere (the cache's, taken when the file was stored).
 */
export async function checkModelBytes(entry: ModelEntry, bytes: Uint8Array, source: string, expectedSha256?: string): Promise<CheckedModel> {
  const what = `${entry.file} from ${source}`;
  if (entry.size !== null && bytes.length !== entry.size) {
    throw new MobileNetError('INVALID_MODEL', `${what} is ${bytes.length} bytes, weights/models.json records ${entry.size}`);
  }
  const sha256 = await sha256Hex(bytes);
  const recorded = entry.sha256?.toLowerCase();
  if (recorded && sha256 === undefined) {
    throw new MobileNetError('IO', `${what}: cannot verify its recorded sha256 here (no crypto.subtle: an insecure http:// page?)`);
  }
  if (recorded && sha256 !== recorded) {
    throw new MobileNetError('INVALID_MODEL', `${what} has sha256 ${sha256}, weights/models.json records ${recorded}`);
  }
  if (expectedSha256 !== undefined && sha256 !== undefined && sha256 !== expectedSha256.toLowerCase()) {
    throw new MobileNetError('INVALID_MODEL', `${what} has sha256 ${sha256}, but ${expectedSha256} when it was stored`);
  }
  return { graph: checkStructure(entry, bytes, what), sha256, checksum: recorded ? 'matched' : 'unrecorded' };
}

function checkStructure(entry: ModelEntry, bytes: Uint8Array, what: string): Graph {
  let graph: Graph;
  try {
    graph = readTflite(bytes);
  } catch (e) {
    const msg = e instanceof MobileNetError ? e.message : String(e);
    throw new MobileNetError('INVALID_MODEL', `${what} is not a model we can read: ${msg}`);
  }
  const r = entry.resolution;
  const shape = graph.input.shape;
  if (shape.length !== 4 || shape[1] !== r || shape[2] !== r || shape[3] !== 3) {
    throw new MobileNetError('INVALID_MODEL', `${what} takes input [${shape.join(',')}], expected [1,${r},${r},3] for ${entry.name}`);
  }
  if (graph.input.dtype !== entry.precision) {
    throw new MobileNetError('INVALID_MODEL', `${what} takes ${graph.input.dtype} input, expected ${entry.precision} for ${entry.name}`);
  }
  const stem = graph.ops[0];
  const stemChannels = scaledDepth(STEM_CHANNELS, entry.alpha);
  if (stem?.op !== 'conv2d' || stem.output.shape[3] !== stemChannels) {
    const got = stem?.op === 'conv2d' ? `${stem.output.shape[3]} channels` : `a ${stem?.op ?? 'missing'} op`;
    throw new MobileNetError('INVALID_MODEL', `${what} starts with ${got}, expected a conv2d with ${stemChannels} channels (alpha ${entry.alpha})`);
  }
  const classes = sizeOf(graph.output.shape);
  if (entry.labels === 'imagenet_1001' && classes !== 1001) {
    throw new MobileNetError('INVALID_MODEL', `${what} has ${classes} outputs, expected the 1001 ImageNet classes`);
  }
  return graph;
}
