/**
 * The zip archive TFLite metadata appends to a .tflite (tflite-support's metadata writer packs
 * the associated files, such as the label file, as a zip after the flatbuffer; TFLite ignores
 * trailing bytes). fflate writes and unpacks the archive (stored or deflated entries); this file
 * only finds where the archive starts, which fflate assumes is byte 0. No Node built-ins.
 */
import { unzipSync, zipSync } from 'fflate';
import { invalidModel } from '../errors.js';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** the end record is 22 bytes plus a comment of at most 65535 */
const MAX_END_RECORD_SEARCH = 22 + 0xffff;
/** a packed label file is text, one name a line: bounds what a hostile entry may make us allocate */
export const MAX_PACKED_FILE_BYTES = 16 << 20;
/** zip's DOS timestamps start in 1980; a fixed one keeps our files byte-identical run to run */
const FIXED_MTIME = new Date(1980, 0, 1);

/** A zip of stored (uncompressed) files, offsets relative to the archive's first byte. */
export function storedZip(files: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  return zipSync(Object.fromEntries(files.map((f) => [f.name, [f.data, { level: 0 }]])), { mtime: FIXED_MTIME });
}

/**
 * The bytes of file `name` in the zip at the end of `bytes` (a .tflite with packed associated
 * files), or undefined when there is no zip or no such file. Offsets may be relative to the
 * archive or to the whole file (both exist: Python's zipfile appending to the model writes the
 * latter): the end record's position tells which. A damaged archive or an entry larger than
 * MAX_PACKED_FILE_BYTES is INVALID_MODEL.
 */
export function zipEntry(bytes: Uint8Array, name: string): { data: Uint8Array } | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - MAX_END_RECORD_SEARCH); p--) {
    if (dv.getUint32(p, true) === END_OF_CENTRAL_DIRECTORY) {
      end = p;
      break;
    }
  }
  if (end < 0) return undefined;
  const centralSize = dv.getUint32(end + 12, true);
  const centralOffset = dv.getUint32(end + 16, true);
  // bytes before the archive (the flatbuffer) when the offsets are archive-relative
  const base = end - centralSize - centralOffset;
  if (end - centralSize < 0 || base < 0) throw invalidModel(`the packed files' zip directory (${centralSize} bytes at ${centralOffset}) does not fit before its end record at byte ${end}`);
  let tooLarge: number | undefined;
  let declared = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes.subarray(base), {
      filter: (file) => {
        if (file.name !== name) return false;
        if (file.originalSize > MAX_PACKED_FILE_BYTES) tooLarge = file.originalSize;
        declared = file.originalSize;
        return tooLarge === undefined;
      },
    });
  } catch (e) {
    throw invalidModel(`the packed files' zip is damaged (${e instanceof Error ? e.message : String(e)})`);
  }
  if (tooLarge !== undefined) throw invalidModel(`the packed file ${name} claims ${tooLarge} bytes, more than the ${MAX_PACKED_FILE_BYTES} a packed file may have`);
  const data = files[name];
  if (!data) return undefined;
  // fflate slices a stored entry without checking it: a header pointing past the end comes back short
  if (data.length !== declared) throw invalidModel(`the packed file ${name} has ${data.length} of the ${declared} bytes its zip directory declares`);
  return { data };
}
