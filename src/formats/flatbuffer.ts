/**
 * A small flatbuffer reader that checks every offset, vtable, vector length and string
 * against the buffer before use, so truncated or hostile bytes give a MobileNetError
 * (INVALID_MODEL) naming the field, never a RangeError, a hang or a huge allocation.
 * The `flatbuffers` npm runtime trusts its input (it has no verifier), hence our own.
 *
 * Layout reminders (flatbuffers binary format, little-endian):
 * - a table starts with an int32 soffset; its vtable is at table - soffset;
 * - a vtable is [u16 vtable bytes, u16 table inline bytes, u16 field offsets...];
 *   offset 0 (or a slot past the vtable's end) means "field absent, use the default";
 * - reference fields (table, vector, string) hold a uint32 offset relative to the field itself;
 * - vectors and strings are a uint32 count followed by the elements (strings NUL-terminated).
 * Every object is given a `path` such as "subgraphs[0].tensors[12].shape" for error messages.
 */
import { invalidModel } from '../errors.js';

export class FlatBufferReader {
  readonly view: DataView;
  readonly length: number;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
  }

  /** throw unless [pos, pos + size) lies inside the buffer */
  check(pos: number, size: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || size < 0 || pos > this.length - size) {
      throw invalidModel(
        `.tflite is truncated or corrupt: ${what} at byte ${pos} (${size} bytes) lies outside the ${this.length}-byte file`,
      );
    }
  }

  u8(pos: number, what: string): number {
    this.check(pos, 1, what);
    return this.view.getUint8(pos);
  }
  i8(pos: number, what: string): number {
    this.check(pos, 1, what);
    return this.view.getInt8(pos);
  }
  u16(pos: number, what: string): number {
    this.check(pos, 2, what);
    return this.view.getUint16(pos, true);
  }
  i32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getInt32(pos, true);
  }
  u32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getUint32(pos, true);
  }
  f32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getFloat32(pos, true);
  }
  /** 64-bit integer as a JS number; values beyond 2^53 are rejected rather than rounded */
  i64(pos: number, what: string): number {
    this.check(pos, 8, what);
    const v = this.view.getBigInt64(pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw invalidModel(`.tflite field ${what} holds ${v}, beyond what this reader accepts`);
    }
    return Number(v);
  }
  u64(pos: number, what: string): number {
    this.check(pos, 8, what);
    const v = this.view.getBigUint64(pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw invalidModel(`.tflite field ${what} holds ${v}, beyond what this reader accepts`);
    }
    return Number(v);
  }

  /** follow the uint32 offset stored at `pos` (relative to `pos`) */
  deref(pos: number, what: string): number {
    const target = pos + this.u32(pos, what);
    this.check(target, 4, what);
    return target;
  }

  /** the root table: a uint32 offset at byte 0 */
  root(path = 'model'): Table {
    return new Table(this, this.deref(0, `${path} root offset`), path);
  }

  /** 4-character file identifier at bytes 4..7, or null when the file is too short */
  fileIdentifier(): string | null {
    if (this.length < 8) return null;
    return String.fromCharCode(...this.bytes.subarray(4, 8));
  }
}

/** Position and element count of a vector whose elements are known to lie inside the buffer. */
export interface VectorRef {
  /** byte position of element 0 */
  start: number;
  length: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class Table {
  private readonly vtable: number;
  private readonly vtableSize: number;
  private readonly inlineSize: number;

  constructor(
    readonly fb: FlatBufferReader,
    readonly pos: number,
    readonly path: string,
  ) {
    const vtable = pos - fb.i32(pos, `${path} vtable offset`);
    this.vtable = vtable;
    this.vtableSize = fb.u16(vtable, `${path} vtable`);
    this.inlineSize = fb.u16(vtable + 2, `${path} vtable`);
    if (this.vtableSize < 4 || this.vtableSize % 2 !== 0) {
      throw invalidModel(`.tflite is corrupt: ${path} has a vtable of ${this.vtableSize} bytes`);
    }
    if (this.inlineSize < 4) {
      throw invalidModel(`.tflite is corrupt: ${path} claims an inline size of ${this.inlineSize} bytes`);
    }
    fb.check(vtable, this.vtableSize, `${path} vtable`);
    fb.check(pos, this.inlineSize, path);
  }

  /** byte position of field `slot` (0-based field id), or 0 when absent; checks it fits in the table */
  private field(slot: number, size: number, name: string): number {
    const entry = 4 + 2 * slot;
    if (entry + 2 > this.vtableSize) return 0;
    const off = this.fb.view.getUint16(this.vtable + entry, true);
    if (off === 0) return 0;
    if (off < 4 || off + size > this.inlineSize) {
      throw invalidModel(`.tflite is corrupt: ${this.path}.${name} lies outside its table`);
    }
    return this.pos + off;
  }

  has(slot: number): boolean {
    const entry = 4 + 2 * slot;
    return entry + 2 <= this.vtableSize && this.fb.view.getUint16(this.vtable + entry, true) !== 0;
  }

  u8(slot: number, name: string, def = 0): number {
    const p = this.field(slot, 1, name);
    return p ? this.fb.view.getUint8(p) : def;
  }
  i8(slot: number, name: string, def = 0): number {
    const p = this.field(slot, 1, name);
    return p ? this.fb.view.getInt8(p) : def;
  }
  bool(slot: number, name: string, def = false): boolean {
    const p = this.field(slot, 1, name);
    return p ? this.fb.view.getUint8(p) !== 0 : def;
  }
  i32(slot: number, name: string, def = 0): number {
    const p = this.field(slot, 4, name);
    return p ? this.fb.view.getInt32(p, true) : def;
  }
  u32(slot: number, name: string, def = 0): number {
    const p = this.field(slot, 4, name);
    return p ? this.fb.view.getUint32(p, true) : def;
  }
  f32(slot: number, name: string, def = 0): number {
    const p = this.field(slot, 4, name);
    return p ? this.fb.view.getFloat32(p, true) : def;
  }
  u64(slot: number, name: string, def = 0): number {
    const p = this.field(slot, 8, name);
    return p ? this.fb.u64(p, `${this.path}.${name}`) : def;
  }

  /** sub-table, or null when absent */
  table(slot: number, name: string): Table | null {
    const p = this.field(slot, 4, name);
    if (!p) return null;
    const what = `${this.path}.${name}`;
    return new Table(this.fb, this.fb.deref(p, what), what);
  }

  /**
   * Vector of fixed-size elements, or null when absent. The claimed length is checked
   * against the bytes left in the file before anything loops over it.
   */
  vector(slot: number, name: string, elemSize: number): VectorRef | null {
    const p = this.field(slot, 4, name);
    if (!p) return null;
    const what = `${this.path}.${name}`;
    const at = this.fb.deref(p, what);
    const length = this.fb.view.getUint32(at, true);
    const start = at + 4;
    if (length > Math.floor((this.fb.length - start) / elemSize)) {
      throw invalidModel(
        `.tflite is truncated or corrupt: ${what} claims ${length} elements of ${elemSize} bytes but only ${this.fb.length - start} bytes remain`,
      );
    }
    return { start, length };
  }

  /** vector of int32 as a plain array (absent -> empty) */
  i32Array(slot: number, name: string): number[] {
    const v = this.vector(slot, name, 4);
    if (!v) return [];
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.fb.view.getInt32(v.start + 4 * i, true);
    return out;
  }
  f32Array(slot: number, name: string): number[] {
    const v = this.vector(slot, name, 4);
    if (!v) return [];
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.fb.view.getFloat32(v.start + 4 * i, true);
    return out;
  }
  i64Array(slot: number, name: string): number[] {
    const v = this.vector(slot, name, 8);
    if (!v) return [];
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.fb.i64(v.start + 8 * i, `${this.path}.${name}[${i}]`);
    return out;
  }

  /** vector of tables: its length and an accessor that checks each element on demand */
  tables(slot: number, name: string): { length: number; get(i: number): Table } {
    const v = this.vector(slot, name, 4);
    const fb = this.fb;
    const path = `${this.path}.${name}`;
    return {
      length: v ? v.length : 0,
      get(i: number): Table {
        if (!v || i < 0 || i >= v.length) throw invalidModel(`.tflite is corrupt: ${path}[${i}] does not exist`);
        const what = `${path}[${i}]`;
        return new Table(fb, fb.deref(v.start + 4 * i, what), what);
      },
    };
  }

  /** UTF-8 string, or `def` when absent */
  string(slot: number, name: string, def = ''): string {
    const v = this.vector(slot, name, 1);
    if (!v) return def;
    return utf8.decode(this.fb.bytes.subarray(v.start, v.start + v.length));
  }
}
