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
import { utf8Decode, utf8Encode } from '../runtime/text.js';

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
    // two 32-bit halves: BigInt would be several times slower on per-channel zero points
    const lo = this.view.getUint32(pos, true);
    const hi = this.view.getInt32(pos + 4, true);
    if (hi >= 0x200000 || hi < -0x200000) throw invalidModel(`.tflite field ${what} holds a 64-bit value beyond what this reader accepts`);
    return hi * 4294967296 + lo;
  }
  u64(pos: number, what: string): number {
    this.check(pos, 8, what);
    const lo = this.view.getUint32(pos, true);
    const hi = this.view.getUint32(pos + 4, true);
    if (hi >= 0x200000) throw invalidModel(`.tflite field ${what} holds a 64-bit value beyond what this reader accepts`);
    return hi * 4294967296 + lo;
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

  /** absolute byte position of field `slot`, or 0 when absent (tests use it to patch bytes) */
  fieldPosition(slot: number): number {
    return this.field(slot, 0, `field ${slot}`);
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
    const dv = this.fb.view;
    for (let i = 0; i < v.length; i++) {
      // bounds already checked by vector(); only the range of each value remains
      const lo = dv.getUint32(v.start + 8 * i, true);
      const hi = dv.getInt32(v.start + 8 * i + 4, true);
      if (hi >= 0x200000 || hi < -0x200000) {
        throw invalidModel(`.tflite field ${this.path}.${name}[${i}] holds a 64-bit value beyond what this reader accepts`);
      }
      out[i] = hi * 4294967296 + lo;
    }
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
    // flatbuffer strings are NUL-terminated; a missing terminator means damage (or a cut file)
    if (v.start + v.length >= this.fb.length || this.fb.view.getUint8(v.start + v.length) !== 0) {
      throw invalidModel(`.tflite is truncated or corrupt: string ${this.path}.${name} has no NUL terminator within the file`);
    }
    return utf8Decode(this.fb.bytes.subarray(v.start, v.start + v.length));
  }
}

// ---- writing ------------------------------------------------------------------------------
//
// A minimal flatbuffer builder for the writer. It lays objects out front to back in
// breadth-first order, so every referenced object lands after the field that points to it
// (flatbuffer offsets are unsigned, pointing forward). Each vtable sits just before its
// table. Scalars are aligned to their size, vectors' elements to max(4, size) or the
// requested alignment (16 for TFLite buffer data).

export type FbScalarKind = 'u8' | 'i8' | 'bool' | 'i32' | 'u32' | 'f32' | 'i64' | 'u64';

export interface FbScalar {
  t: 'scalar';
  kind: FbScalarKind;
  value: number;
}
export interface FbTable {
  t: 'table';
  /** fields by slot; undefined = absent (reader uses the default) */
  fields: (FbField | undefined)[];
}
export interface FbScalarVector {
  t: 'vector';
  kind: FbScalarKind;
  values: ArrayLike<number>;
}
export interface FbBytes {
  t: 'bytes';
  data: Uint8Array;
  align: number;
}
export interface FbTableVector {
  t: 'tables';
  items: FbTable[];
}
export interface FbString {
  t: 'string';
  value: string;
}
export type FbRef = FbTable | FbScalarVector | FbBytes | FbTableVector | FbString;
export type FbField = FbScalar | FbRef;

/** constructors, so writer code reads like the schema */
export const fb = {
  scalar: (kind: FbScalarKind, value: number | boolean): FbScalar => ({ t: 'scalar', kind, value: Number(value) }),
  table: (fields: Record<number, FbField | undefined>): FbTable => {
    const arr: (FbField | undefined)[] = [];
    for (const [slot, f] of Object.entries(fields)) arr[Number(slot)] = f;
    return { t: 'table', fields: arr };
  },
  vector: (kind: FbScalarKind, values: ArrayLike<number>): FbScalarVector => ({ t: 'vector', kind, values }),
  bytes: (data: Uint8Array, align = 16): FbBytes => ({ t: 'bytes', data, align }),
  tables: (items: FbTable[]): FbTableVector => ({ t: 'tables', items }),
  string: (value: string): FbString => ({ t: 'string', value }),
};

const SCALAR_SIZE: Record<FbScalarKind, number> = { u8: 1, i8: 1, bool: 1, i32: 4, u32: 4, f32: 4, i64: 8, u64: 8 };

class ByteSink {
  buf = new Uint8Array(1 << 16);
  dv = new DataView(this.buf.buffer);
  pos = 0;

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  /** advance so that (pos + extra) is a multiple of `align` (zero padding) */
  pad(align: number, extra = 0): void {
    const p = (align - ((this.pos + extra) % align)) % align;
    this.reserve(p);
    this.pos += p;
  }
  scalar(at: number, kind: FbScalarKind, v: number): void {
    const dv = this.dv;
    switch (kind) {
      case 'u8':
      case 'bool':
        dv.setUint8(at, v);
        break;
      case 'i8':
        dv.setInt8(at, v);
        break;
      case 'i32':
        dv.setInt32(at, v, true);
        break;
      case 'u32':
        dv.setUint32(at, v, true);
        break;
      case 'f32':
        dv.setFloat32(at, v, true);
        break;
      case 'i64':
        dv.setBigInt64(at, BigInt(v), true);
        break;
      case 'u64':
        dv.setBigUint64(at, BigInt(v), true);
        break;
    }
  }
}

/** Serialize `root` with a 4-character file identifier. */
export function buildFlatBuffer(root: FbTable, fileIdentifier: string): Uint8Array {
  if (fileIdentifier.length !== 4) throw new Error('file identifier must be 4 characters');
  const out = new ByteSink();
  out.reserve(8);
  for (let i = 0; i < 4; i++) out.buf[4 + i] = fileIdentifier.charCodeAt(i);
  out.pos = 8;
  // (position of a uint32 offset slot, object it must point to), processed in order
  const queue: { at: number; ref: FbRef }[] = [{ at: 0, ref: root }];
  for (let qi = 0; qi < queue.length; qi++) {
    const { at, ref } = queue[qi];
    const pos = writeObject(out, ref, queue);
    out.dv.setUint32(at, pos - at, true);
  }
  return out.buf.slice(0, out.pos);
}

function writeObject(out: ByteSink, ref: FbRef, queue: { at: number; ref: FbRef }[]): number {
  switch (ref.t) {
    case 'table': {
      const n = ref.fields.length;
      // inline layout: soffset, then fields largest first so each is naturally aligned
      const present: { slot: number; f: FbField; size: number }[] = [];
      for (let s = 0; s < n; s++) {
        const f = ref.fields[s];
        if (f) present.push({ slot: s, f, size: f.t === 'scalar' ? SCALAR_SIZE[f.kind] : 4 });
      }
      present.sort((a, b) => b.size - a.size || a.slot - b.slot);
      const align = present.some((p) => p.size === 8) ? 8 : 4;
      const offsets = new Array<number>(n).fill(0);
      let cur = 4;
      for (const p of present) {
        cur = Math.ceil(cur / p.size) * p.size;
        offsets[p.slot] = cur;
        cur += p.size;
      }
      const inlineSize = Math.ceil(cur / 4) * 4;
      const vtableSize = 4 + 2 * n;
      out.pad(2);
      const vtable = out.pos;
      out.reserve(vtableSize);
      out.pos += vtableSize;
      out.pad(align);
      const table = out.pos;
      out.reserve(inlineSize);
      out.pos += inlineSize;
      out.dv.setUint16(vtable, vtableSize, true);
      out.dv.setUint16(vtable + 2, inlineSize, true);
      for (let s = 0; s < n; s++) out.dv.setUint16(vtable + 4 + 2 * s, offsets[s], true);
      out.dv.setInt32(table, table - vtable, true);
      for (const p of present) {
        const at = table + offsets[p.slot];
        if (p.f.t === 'scalar') out.scalar(at, p.f.kind, p.f.value);
        else queue.push({ at, ref: p.f });
      }
      return table;
    }
    case 'vector': {
      const size = SCALAR_SIZE[ref.kind];
      out.pad(Math.max(4, size), 4);
      const start = out.pos;
      out.reserve(4 + size * ref.values.length);
      out.dv.setUint32(start, ref.values.length, true);
      for (let i = 0; i < ref.values.length; i++) out.scalar(start + 4 + size * i, ref.kind, ref.values[i]);
      out.pos += 4 + size * ref.values.length;
      return start;
    }
    case 'bytes': {
      out.pad(Math.max(4, ref.align), 4);
      const start = out.pos;
      out.reserve(4 + ref.data.length);
      out.dv.setUint32(start, ref.data.length, true);
      out.buf.set(ref.data, start + 4);
      out.pos += 4 + ref.data.length;
      return start;
    }
    case 'tables': {
      out.pad(4);
      const start = out.pos;
      out.reserve(4 + 4 * ref.items.length);
      out.dv.setUint32(start, ref.items.length, true);
      out.pos += 4 + 4 * ref.items.length;
      ref.items.forEach((item, i) => queue.push({ at: start + 4 + 4 * i, ref: item }));
      return start;
    }
    case 'string': {
      const data = utf8Encode(ref.value);
      out.pad(4);
      const start = out.pos;
      out.reserve(4 + data.length + 1);
      out.dv.setUint32(start, data.length, true);
      out.buf.set(data, start + 4);
      out.buf[start + 4 + data.length] = 0;
      out.pos += 4 + data.length + 1;
      return start;
    }
  }
}
