/**
 * Typed arrays as the engine sees them, not as they describe themselves. A subclass can
 * override `length`, a Proxy makes every getter throw ("incompatible receiver"), and a plain
 * object can claim a Symbol.toStringTag. The intrinsic %TypedArray%.prototype getters read
 * the internal slots instead, so the helpers here give a fresh, ordinary view of the same
 * memory (no copy) or undefined, and never throw.
 */

const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (key: PropertyKey) => Object.getOwnPropertyDescriptor(TypedArrayProto, key)!.get!;
const tagOf = getter(Symbol.toStringTag);
const lengthOf = getter('length');
const bufferOf = getter('buffer');
const byteOffsetOf = getter('byteOffset');

export type TypedArrayName =
  | 'Int8Array' | 'Uint8Array' | 'Uint8ClampedArray' | 'Int16Array' | 'Uint16Array'
  | 'Int32Array' | 'Uint32Array' | 'Float32Array' | 'Float64Array' | 'BigInt64Array' | 'BigUint64Array';

const CTORS = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
} as const;

/** The element type of a real typed array (any realm, any subclass), else undefined (Proxy, plain object, ...). */
export function typedArrayName(x: unknown): TypedArrayName | undefined {
  if (x === null || (typeof x !== 'object' && typeof x !== 'function')) return undefined;
  try {
    return tagOf.call(x) as TypedArrayName | undefined;
  } catch {
    return undefined;
  }
}

/** Element count from the internal slot (0 for a detached buffer); undefined when x is not a typed array. */
export function typedArrayLength(x: unknown): number | undefined {
  if (typedArrayName(x) === undefined) return undefined;
  try {
    return lengthOf.call(x) as number;
  } catch {
    return undefined;
  }
}

type ViewOf<K extends TypedArrayName> = InstanceType<(typeof CTORS)[K]>;

/**
 * A fresh ordinary view (this realm's constructor, no subclass, no proxy) of the memory of
 * `x` when x is a real typed array of one of `kinds`; undefined otherwise (also when its
 * buffer is detached or out of bounds).
 */
export function plainView<K extends TypedArrayName>(x: unknown, ...kinds: K[]): ViewOf<K> | undefined {
  const name = typedArrayName(x);
  if (name === undefined || !(kinds as TypedArrayName[]).includes(name)) return undefined;
  try {
    const buffer = bufferOf.call(x) as ArrayBufferLike;
    const offset = byteOffsetOf.call(x) as number;
    const length = lengthOf.call(x) as number;
    return new (CTORS[name as K] as unknown as new (b: ArrayBufferLike, o: number, n: number) => ViewOf<K>)(buffer, offset, length);
  } catch {
    return undefined;
  }
}

/** Byte view of a real ArrayBuffer / SharedArrayBuffer (checked through the intrinsic byteLength getter), else undefined. */
export function bufferBytes(x: unknown): Uint8Array | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  for (const Ctor of [ArrayBuffer, typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : undefined]) {
    if (!Ctor) continue;
    const get = Object.getOwnPropertyDescriptor(Ctor.prototype, 'byteLength')?.get;
    if (!get) continue;
    try {
      get.call(x);
    } catch {
      continue;
    }
    try {
      return new Uint8Array(x as ArrayBuffer);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Bytes of any real typed array / DataView / ArrayBuffer, as a plain Uint8Array view; else undefined. */
export function anyBytes(x: unknown): Uint8Array | undefined {
  const direct = bufferBytes(x);
  if (direct) return direct;
  if (typedArrayName(x) !== undefined) {
    try {
      const buffer = bufferOf.call(x) as ArrayBufferLike;
      const offset = byteOffsetOf.call(x) as number;
      const length = lengthOf.call(x) as number;
      const per = (CTORS[typedArrayName(x)!] as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      return new Uint8Array(buffer, offset, length * per);
    } catch {
      return undefined;
    }
  }
  // DataView: its own intrinsic getters
  const dv = (key: string) => Object.getOwnPropertyDescriptor(DataView.prototype, key)!.get!;
  try {
    const buffer = dv('buffer').call(x) as ArrayBufferLike;
    return new Uint8Array(buffer, dv('byteOffset').call(x) as number, dv('byteLength').call(x) as number);
  } catch {
    return undefined;
  }
}

/** What a value is, for messages; never throws (symbols, bigints, hostile toString). */
export function describeValue(v: unknown): string {
  try {
    if (v === null) return 'null';
    if (v === undefined) return 'undefined';
    switch (typeof v) {
      case 'number':
      case 'boolean':
        return String(v);
      case 'bigint':
        return `${v.toString()}n`;
      case 'string':
        return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
      case 'symbol':
        return v.toString();
      case 'function':
        return 'a function';
    }
    const name = typedArrayName(v);
    if (name) return `a ${name}`;
    if (Array.isArray(v)) return `an array of ${v.length}`;
    if (v instanceof (TypedArrayProto.constructor as typeof Uint8Array)) return 'an object posing as a typed array (a Proxy or a foreign prototype)';
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    return tag === 'Object' ? 'an object' : `a ${tag}`;
  } catch {
    return 'an unreadable value';
  }
}
