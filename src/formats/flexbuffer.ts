/**
 * A small, bounded FlexBuffers reader for the custom options of TFLite ops (e.g. the
 * TFLite_Detection_PostProcess options): a root map of string keys to scalars. The bytes come
 * from untrusted model files, so every read is checked against the buffer and the walk has a
 * fixed depth (root -> map -> keys / values): a truncated buffer, an offset that points outside
 * it, or a self-referencing offset gives INVALID_MODEL naming `what`, never a RangeError or a
 * loop. (The `flatbuffers` npm runtime trusts its input, hence our own.)
 *
 * Layout reminders (FlexBuffers, little-endian):
 * - the last byte is the root's byte width, the byte before it the root's packed type, and the
 *   root value sits just before those, `root width` bytes wide;
 * - a packed type byte is (type << 2) | log2(byte width of the referenced data);
 * - scalars (null, int, uint, float, bool) are stored inline at the parent's width; everything
 *   else is an unsigned offset back from the field's own position (target = field - offset);
 * - a map at `data` with element width W: [keys offset][keys width][size] just before `data`
 *   (at data - 3W, - 2W, - W), then `size` values of W bytes, then `size` packed type bytes;
 *   the keys are a typed vector of offsets to NUL-terminated strings, sorted.
 */
import { invalidModel } from '../errors.js';
import { utf8Decode } from '../runtime/text.js';

/** FlexBuffers value types (flexbuffers.h `Type`), only those we read or name. */
const FBT_NULL = 0;
const FBT_INT = 1;
const FBT_UINT = 2;
const FBT_FLOAT = 3;
const FBT_KEY = 4;
const FBT_STRING = 5;
const FBT_INDIRECT_INT = 6;
const FBT_INDIRECT_UINT = 7;
const FBT_INDIRECT_FLOAT = 8;
const FBT_MAP = 9;
const FBT_BOOL = 26;

/** keys longer than this are not option names; bounds the NUL scan */
const MAX_KEY_BYTES = 256;

export type FlexValue = number | boolean | string;

class Bounded {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(msg: string): never {
    throw invalidModel(`${this.what}: flexbuffer of ${this.bytes.length} bytes is corrupt: ${msg}`);
  }

  check(pos: number, size: number, field: string): void {
    if (!Number.isInteger(pos) || pos < 0 || pos > this.bytes.length - size) {
      this.fail(`${field} at byte ${pos} (${size} bytes) lies outside the buffer`);
    }
  }

  uint(pos: number, width: number, field: string): number {
    this.check(pos, width, field);
    switch (width) {
      case 1:
        return this.view.getUint8(pos);
      case 2:
        return this.view.getUint16(pos, true);
      case 4:
        return this.view.getUint32(pos, true);
      default:
        // beyond 2^53 only an absurd offset or size: the range checks reject it
        return Number(this.view.getBigUint64(pos, true));
    }
  }

  int(pos: number, width: number, field: string): number {
    this.check(pos, width, field);
    switch (width) {
      case 1:
        return this.view.getInt8(pos);
      case 2:
        return this.view.getInt16(pos, true);
      case 4:
        return this.view.getInt32(pos, true);
      default:
        return Number(this.view.getBigInt64(pos, true));
    }
  }

  float(pos: number, width: number, field: string): number {
    this.check(pos, width, field);
    if (width === 4) return this.view.getFloat32(pos, true);
    if (width === 8) return this.view.getFloat64(pos, true);
    return this.fail(`${field} is a float of ${width} bytes (only 4 or 8 exist)`);
  }

  /** target of an offset field; offsets point strictly backwards, so no reference can loop */
  indirect(pos: number, width: number, field: string): number {
    const off = this.uint(pos, width, field);
    if (off === 0 || off > pos) this.fail(`${field} at byte ${pos} has offset ${off}, which does not point back inside the buffer`);
    return pos - off;
  }

  /** NUL-terminated key at `pos` */
  key(pos: number, field: string): string {
    this.check(pos, 1, field);
    const end = Math.min(this.bytes.length, pos + MAX_KEY_BYTES + 1);
    for (let i = pos; i < end; i++) {
      if (this.bytes[i] === 0) return utf8Decode(this.bytes.subarray(pos, i));
    }
    return this.fail(`${field} at byte ${pos} is not NUL-terminated within ${MAX_KEY_BYTES} bytes`);
  }
}

/** byte width of a packed type byte's low two bits */
const widthOf = (packed: number) => 1 << (packed & 3);

/**
 * Value of the reference at `pos` (stored `parentWidth` bytes wide, with packed type `packed`),
 * or undefined for types an options map has no use for (vectors, maps, blobs): those keys are
 * skipped rather than rejected, since TFLite only looks up the keys it knows.
 */
function readScalar(r: Bounded, pos: number, parentWidth: number, packed: number, field: string): FlexValue | undefined {
  const type = packed >> 2;
  const width = widthOf(packed);
  switch (type) {
    case FBT_NULL:
      return undefined;
    case FBT_INT:
      return r.int(pos, parentWidth, field);
    case FBT_UINT:
      return r.uint(pos, parentWidth, field);
    case FBT_FLOAT:
      return r.float(pos, parentWidth, field);
    case FBT_BOOL:
      return r.uint(pos, parentWidth, field) !== 0;
    case FBT_INDIRECT_INT:
      return r.int(r.indirect(pos, parentWidth, field), width, field);
    case FBT_INDIRECT_UINT:
      return r.uint(r.indirect(pos, parentWidth, field), width, field);
    case FBT_INDIRECT_FLOAT:
      return r.float(r.indirect(pos, parentWidth, field), width, field);
    case FBT_KEY:
      return r.key(r.indirect(pos, parentWidth, field), field);
    case FBT_STRING: {
      const at = r.indirect(pos, parentWidth, field);
      const size = r.uint(at - width, width, `${field} size`);
      r.check(at, size, field);
      return utf8Decode(r.bytes.subarray(at, at + size));
    }
    default:
      return undefined;
  }
}

/**
 * Reads a FlexBuffers buffer whose root is a map, returning its scalar entries (int and uint
 * as numbers, floats as numbers (float32 values widened exactly), bools, strings). Entries whose
 * values are vectors, maps or blobs are left out. INVALID_MODEL (naming `what`) for anything
 * malformed: truncation, out-of-range or non-backward offsets, a root that is not a map,
 * duplicate keys.
 */
export function readFlexbufferMap(bytes: Uint8Array, what: string): Map<string, FlexValue> {
  const r = new Bounded(bytes, what);
  if (bytes.length < 3) r.fail('shorter than the 3 bytes of the smallest root');
  const rootWidth = bytes[bytes.length - 1];
  if (rootWidth !== 1 && rootWidth !== 2 && rootWidth !== 4 && rootWidth !== 8) r.fail(`root byte width ${rootWidth} is not 1, 2, 4 or 8`);
  const rootPacked = bytes[bytes.length - 2];
  const rootPos = bytes.length - 2 - rootWidth;
  if (rootPos < 0) r.fail(`the root (${rootWidth} bytes) does not fit`);
  if (rootPacked >> 2 !== FBT_MAP) r.fail(`the root is of flexbuffer type ${rootPacked >> 2}, expected a map (${FBT_MAP})`);

  const data = r.indirect(rootPos, rootWidth, 'root map');
  const w = widthOf(rootPacked);
  const size = r.uint(data - w, w, 'map size');
  // values then one type byte each must fit between data and the end
  if (size > Math.floor((bytes.length - data) / (w + 1))) r.fail(`map claims ${size} entries of ${w} bytes, more than the buffer holds`);
  const keysPos = data - 3 * w;
  const keys = r.indirect(keysPos, w, 'map keys');
  const keysWidth = r.uint(data - 2 * w, w, 'map keys width');
  if (keysWidth !== 1 && keysWidth !== 2 && keysWidth !== 4 && keysWidth !== 8) r.fail(`map keys width ${keysWidth} is not 1, 2, 4 or 8`);
  const keyCount = r.uint(keys - keysWidth, keysWidth, 'map keys size');
  if (keyCount !== size) r.fail(`map has ${size} values but ${keyCount} keys`);
  r.check(keys, size * keysWidth, 'map keys');

  const out = new Map<string, FlexValue>();
  const seen = new Set<string>();
  for (let i = 0; i < size; i++) {
    const key = r.key(r.indirect(keys + i * keysWidth, keysWidth, `key ${i}`), `key ${i}`);
    if (seen.has(key)) r.fail(`key '${key}' appears twice`);
    seen.add(key);
    const packed = r.uint(data + size * w + i, 1, `type of '${key}'`);
    const value = readScalar(r, data + i * w, w, packed, `value of '${key}'`);
    if (value !== undefined) out.set(key, value);
  }
  return out;
}
