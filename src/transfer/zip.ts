/**
 * The zip archive TFLite metadata appends to a .tflite (tflite-support's metadata writer packs
 * the associated files, such as the label file, as a zip after the flatbuffer; TFLite ignores
 * trailing bytes). Stored entries only (method 0): what we write, and enough to read our own
 * heads back; a deflated label file asks the caller for the labels instead. No Node built-ins.
 */
import { invalidModel } from '../errors.js';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** the end record is 22 bytes plus a comment of at most 65535 */
const MAX_END_RECORD_SEARCH = 22 + 0xffff;
const STORED = 0;

let crcTable: Uint32Array | undefined;

function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip of stored (uncompressed) files, offsets relative to the archive's first byte. */
export function storedZip(files: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  const enc = new TextEncoder();
  const entries = files.map((f) => ({ name: enc.encode(f.name), data: f.data, crc: crc32(f.data) }));
  const localSize = entries.reduce((n, e) => n + 30 + e.name.length + e.data.length, 0);
  const centralSize = entries.reduce((n, e) => n + 46 + e.name.length, 0);
  const out = new Uint8Array(localSize + centralSize + 22);
  const dv = new DataView(out.buffer);
  let pos = 0;
  const offsets: number[] = [];
  for (const e of entries) {
    offsets.push(pos);
    dv.setUint32(pos, LOCAL_HEADER, true);
    dv.setUint16(pos + 4, 10, true); // version needed: 1.0
    // +6 flags, +8 method (stored), +10 time, +12 date: zero
    dv.setUint32(pos + 14, e.crc, true);
    dv.setUint32(pos + 18, e.data.length, true);
    dv.setUint32(pos + 22, e.data.length, true);
    dv.setUint16(pos + 26, e.name.length, true);
    out.set(e.name, pos + 30);
    out.set(e.data, pos + 30 + e.name.length);
    pos += 30 + e.name.length + e.data.length;
  }
  const central = pos;
  entries.forEach((e, i) => {
    dv.setUint32(pos, CENTRAL_HEADER, true);
    dv.setUint16(pos + 4, 20, true); // made by
    dv.setUint16(pos + 6, 10, true); // needed
    dv.setUint32(pos + 16, e.crc, true);
    dv.setUint32(pos + 20, e.data.length, true);
    dv.setUint32(pos + 24, e.data.length, true);
    dv.setUint16(pos + 28, e.name.length, true);
    dv.setUint32(pos + 42, offsets[i], true);
    out.set(e.name, pos + 46);
    pos += 46 + e.name.length;
  });
  dv.setUint32(pos, END_OF_CENTRAL_DIRECTORY, true);
  dv.setUint16(pos + 8, entries.length, true);
  dv.setUint16(pos + 10, entries.length, true);
  dv.setUint32(pos + 12, pos - central, true);
  dv.setUint32(pos + 16, central, true);
  return out;
}

/**
 * The bytes of file `name` in the zip at the end of `bytes` (a .tflite with packed associated
 * files), or undefined when there is no zip or no such file. Offsets may be relative to the
 * archive or to the whole file (both exist): the end record's position tells which. A damaged
 * archive is INVALID_MODEL; a compressed entry is undefined (we only unpack stored ones).
 */
export function zipEntry(bytes: Uint8Array, name: string): { data: Uint8Array } | { compressed: true } | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - MAX_END_RECORD_SEARCH); p--) {
    if (dv.getUint32(p, true) === END_OF_CENTRAL_DIRECTORY) {
      end = p;
      break;
    }
  }
  if (end < 0) return undefined;
  const count = dv.getUint16(end + 10, true);
  const centralSize = dv.getUint32(end + 12, true);
  const centralOffset = dv.getUint32(end + 16, true);
  const central = end - centralSize;
  // bytes before the archive (the flatbuffer) when the offsets are archive-relative
  const base = central - centralOffset;
  if (central < 0 || base < 0) throw invalidModel(`the packed files' zip directory (${centralSize} bytes at ${centralOffset}) does not fit before its end record at byte ${end}`);
  const want = new TextEncoder().encode(name);
  let pos = central;
  for (let i = 0; i < count; i++) {
    if (pos + 46 > end || dv.getUint32(pos, true) !== CENTRAL_HEADER) throw invalidModel(`the packed files' zip directory entry ${i} is damaged`);
    const method = dv.getUint16(pos + 10, true);
    const size = dv.getUint32(pos + 20, true);
    const nameLength = dv.getUint16(pos + 28, true);
    const next = pos + 46 + nameLength + dv.getUint16(pos + 30, true) + dv.getUint16(pos + 32, true);
    const local = base + dv.getUint32(pos + 42, true);
    if (pos + 46 + nameLength > end) throw invalidModel(`the packed files' zip directory entry ${i} runs past the directory`);
    const entryName = bytes.subarray(pos + 46, pos + 46 + nameLength);
    if (entryName.length === want.length && entryName.every((b, j) => b === want[j])) {
      if (method !== STORED) return { compressed: true };
      if (local + 30 > bytes.length || dv.getUint32(local, true) !== LOCAL_HEADER) throw invalidModel(`the packed file ${name} has no local header at byte ${local}`);
      const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
      if (start + size > bytes.length) throw invalidModel(`the packed file ${name} (${size} bytes at ${start}) runs past the end of the file`);
      return { data: bytes.subarray(start, start + size) };
    }
    pos = next;
  }
  return undefined;
}
