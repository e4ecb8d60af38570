import { SSD_FLEX_OPTIONS } from '../ops/detection_postprocess/fixtures.js';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MobileNetError } from '../../src/errors.js';
import { readFlexbufferMap, type FlexValue } from '../../src/formats/flexbuffer.js';
import { FlatBufferReader } from '../../src/formats/flatbuffer.js';
import { F } from '../../src/formats/tflite-schema.js';
import { MODELS_DIR, rng } from '../helpers/kernels.js';

/** FlexBuffers types used by the builder */
const T = { INT: 1, UINT: 2, FLOAT: 3, STRING: 5, INDIRECT_INT: 6, INDIRECT_UINT: 7, INDIRECT_FLOAT: 8, MAP: 9, VECTOR_INT: 11, BOOL: 26 } as const;
type Width = 1 | 2 | 4 | 8;
const log2 = (w: Width) => ({ 1: 0, 2: 1, 4: 2, 8: 3 })[w];

interface Entry {
  key: string;
  type: number;
  value: number | boolean | string | number[];
  /** width of indirect data / strings / vectors */
  width?: Width;
}

/**
 * A small FlexBuffers writer for tests: a root map with `mapWidth`-byte elements, keys vector of
 * `keysWidth`-byte offsets, root reference `rootWidth` bytes wide.
 */
function buildMap(entries: Entry[], mapWidth: Width = 4, keysWidth: Width = 1, rootWidth: Width = 1): Uint8Array {
  const bytes: number[] = [];
  const align = (w: number) => {
    while (bytes.length % w) bytes.push(0);
  };
  const put = (v: number | bigint, w: Width, kind: 'int' | 'uint' | 'float' = 'uint') => {
    const dv = new DataView(new ArrayBuffer(8));
    if (kind === 'float') (w === 4 ? dv.setFloat32(0, Number(v), true) : dv.setFloat64(0, Number(v), true));
    else dv.setBigInt64(0, BigInt(v), true);
    for (let i = 0; i < w; i++) bytes.push(dv.getUint8(i));
  };
  const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const keyPos = sorted.map((e) => {
    const p = bytes.length;
    for (const c of Buffer.from(e.key, 'utf8')) bytes.push(c);
    bytes.push(0);
    return p;
  });
  // out-of-line data (indirect scalars, strings, vectors)
  const dataPos = sorted.map((e) => {
    const w = e.width ?? 4;
    if (e.type === T.INDIRECT_INT || e.type === T.INDIRECT_UINT || e.type === T.INDIRECT_FLOAT) {
      align(w);
      const p = bytes.length;
      put(e.value as number, w, e.type === T.INDIRECT_FLOAT ? 'float' : e.type === T.INDIRECT_INT ? 'int' : 'uint');
      return p;
    }
    if (e.type === T.STRING) {
      const s = Buffer.from(e.value as string, 'utf8');
      align(w);
      put(s.length, w);
      const p = bytes.length;
      for (const c of s) bytes.push(c);
      bytes.push(0);
      return p;
    }
    if (e.type === T.VECTOR_INT) {
      const v = e.value as number[];
      align(w);
      put(v.length, w);
      const p = bytes.length;
      for (const x of v) put(x, w, 'int');
      return p;
    }
    return -1;
  });
  align(keysWidth);
  put(sorted.length, keysWidth);
  const keysData = bytes.length;
  sorted.forEach((_, i) => put(bytes.length - keyPos[i], keysWidth));
  align(mapWidth);
  put(bytes.length - keysData, mapWidth); // keys offset, relative to this field
  put(keysWidth, mapWidth);
  put(sorted.length, mapWidth);
  const mapData = bytes.length;
  const types: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i];
    if (dataPos[i] >= 0) {
      put(bytes.length - dataPos[i], mapWidth);
      types.push((e.type << 2) | log2(e.width ?? 4));
    } else if (e.type === T.FLOAT) {
      put(e.value as number, mapWidth, 'float');
      types.push((T.FLOAT << 2) | log2(mapWidth));
    } else {
      put(typeof e.value === 'boolean' ? Number(e.value) : (e.value as number), mapWidth, e.type === T.INT ? 'int' : 'uint');
      types.push((e.type << 2) | 0);
    }
  }
  bytes.push(...types);
  align(rootWidth);
  put(bytes.length - mapData, rootWidth);
  bytes.push((T.MAP << 2) | log2(mapWidth));
  bytes.push(rootWidth);
  return new Uint8Array(bytes);
}

const SAMPLE: Entry[] = [
  { key: 'max_detections', type: T.INT, value: 10 },
  { key: 'num_classes', type: T.UINT, value: 90 },
  { key: 'nms_iou_threshold', type: T.FLOAT, value: 0.5 },
  { key: 'y_scale', type: T.INDIRECT_FLOAT, value: 10, width: 4 },
  { key: 'h_scale', type: T.INDIRECT_FLOAT, value: 5.25, width: 8 },
  { key: 'neg', type: T.INDIRECT_INT, value: -7, width: 2 },
  { key: 'big', type: T.INDIRECT_UINT, value: 70000, width: 4 },
  { key: 'use_regular_nms', type: T.BOOL, value: true },
  { key: 'name', type: T.STRING, value: 'détection', width: 1 },
  { key: 'skipped_vector', type: T.VECTOR_INT, value: [1, 2, 3], width: 2 },
];
const EXPECTED: [string, FlexValue][] = [
  ['big', 70000],
  ['h_scale', 5.25],
  ['max_detections', 10],
  ['name', 'détection'],
  ['neg', -7],
  ['nms_iou_threshold', 0.5],
  ['num_classes', 90],
  ['use_regular_nms', true],
  ['y_scale', 10],
];

function invalid(bytes: Uint8Array, message?: RegExp): void {
  let err: unknown;
  try {
    readFlexbufferMap(bytes, 'op 7 (TFLite_Detection_PostProcess)');
  } catch (e) {
    err = e;
  }
  expect(err, 'should throw').toBeInstanceOf(MobileNetError);
  expect((err as MobileNetError).code).toBe('INVALID_MODEL');
  expect((err as Error).message).toMatch(/op 7 \(TFLite_Detection_PostProcess\)/);
  if (message) expect((err as Error).message).toMatch(message);
}

describe('readFlexbufferMap', () => {
  for (const mapWidth of [1, 2, 4, 8] as Width[]) {
    for (const keysWidth of [1, 2, 4, 8] as Width[]) {
      it(`reads scalars, indirect scalars and strings (map width ${mapWidth}, keys width ${keysWidth})`, () => {
        // width-1 maps cannot hold a float inline, nor offsets past 255 (our sample fits)
        const entries = mapWidth < 4 ? SAMPLE.filter((e) => e.type !== T.FLOAT) : SAMPLE;
        const got = readFlexbufferMap(buildMap(entries, mapWidth, keysWidth, mapWidth), 'x');
        const want = mapWidth < 4 ? EXPECTED.filter(([k]) => k !== 'nms_iou_threshold') : EXPECTED;
        expect([...got.entries()].sort()).toEqual(want);
      });
    }
  }

  it('reads the SSD MobileNet custom options (skips when ../shared is absent)', () => {
    const path = MODELS_DIR && join(MODELS_DIR, 'ssd_mobilenet_v1_coco_quant.tflite');
    if (!path || !existsSync(path)) return;
    const fb = new FlatBufferReader(new Uint8Array(readFileSync(path)));
    const ops = fb.root('model').tables(F.Model.subgraphs, 'subgraphs').get(0).tables(F.SubGraph.operators, 'operators');
    const v = ops.get(ops.length - 1).vector(F.Operator.custom_options, 'custom_options', 1)!;
    const got = readFlexbufferMap(fb.bytes.subarray(v.start, v.start + v.length), 'op 63');
    expect(Object.fromEntries(got)).toEqual(SSD_FLEX_OPTIONS);
  });

  it('rejects empty, truncated and non-map buffers', () => {
    invalid(new Uint8Array(0), /shorter/);
    invalid(new Uint8Array([1, 2]), /shorter/);
    invalid(new Uint8Array([0, 0, 3]), /root byte width 3/);
    invalid(new Uint8Array([5, (T.INT << 2) | 0, 1]), /expected a map/);
    invalid(new Uint8Array([0, 0, (T.MAP << 2) | 2, 8]), /does not fit/);
    const good = buildMap(SAMPLE);
    for (let n = 0; n < good.length; n++) {
      // every prefix is corrupt (the root moves); must fail cleanly, or (rarely) read as some map
      try {
        readFlexbufferMap(good.subarray(0, n), 'op 7 (TFLite_Detection_PostProcess)');
      } catch (e) {
        expect(e).toBeInstanceOf(MobileNetError);
        expect((e as MobileNetError).code).toBe('INVALID_MODEL');
      }
    }
  });

  it('rejects self-referencing, forward and out-of-range offsets', () => {
    const good = buildMap(SAMPLE);
    const rootAt = good.length - 3;
    const selfRef = good.slice();
    selfRef[rootAt] = 0; // root offset 0: the map would be the root field itself
    invalid(selfRef, /offset 0/);
    const tooFar = good.slice();
    tooFar[rootAt] = 255; // points before the buffer
    invalid(tooFar, /does not point back inside/);
    // a key offset of 0 (a key pointing at its own offset field)
    const keyCycle = buildMap([{ key: 'a', type: T.INT, value: 1 }]);
    // layout: 'a\0', keys size (1 byte) at 2, key offset at 3
    keyCycle[3] = 0;
    invalid(keyCycle, /key 0/);
  });

  it('rejects a map size larger than the buffer, mismatched key counts, duplicate keys', () => {
    const m = buildMap([{ key: 'a', type: T.INT, value: 1 }], 1, 1, 1);
    // layout: 'a\0' [keys size][key off] [keys off][keys width][size] [value][type] [root][type][width]
    const huge = m.slice();
    huge[6] = 200;
    invalid(huge, /claims 200 entries/);
    const two = buildMap([{ key: 'a', type: T.INT, value: 1 }, { key: 'b', type: T.INT, value: 2 }], 1, 1, 1);
    const dup = two.slice();
    dup[2] = 'a'.charCodeAt(0); // 'a\0a\0'
    invalid(dup, /'a' appears twice/);
    const keysShort = two.slice();
    keysShort[4] = 1; // keys vector claims 1 key, map 2 values
    invalid(keysShort, /2 values but 1 keys/);
  });

  it('rejects an unterminated key, a float of width 2, a string running past the end', () => {
    const long = buildMap([{ key: 'k'.repeat(300), type: T.INT, value: 1 }], 4, 2, 2);
    invalid(long, /not NUL-terminated/);
    const m = buildMap([{ key: 'f', type: T.INDIRECT_FLOAT, value: 1.5, width: 4 }], 1, 1, 1);
    const t = m.slice();
    t[t.length - 4] = (T.INDIRECT_FLOAT << 2) | 1; // width 2
    invalid(t, /float of 2 bytes/);
    const s = buildMap([{ key: 's', type: T.STRING, value: 'abc', width: 1 }], 1, 1, 1);
    const sp = s.slice();
    sp[2] = 250; // string size
    invalid(sp, /outside the buffer/);
  });

  it('random damage never escapes as anything but INVALID_MODEL', () => {
    const r = rng(77);
    const good = buildMap(SAMPLE, 4, 2, 2);
    let failures = 0;
    for (let t = 0; t < 3000; t++) {
      const b = good.slice();
      const hits = 1 + Math.floor(r() * 3);
      for (let h = 0; h < hits; h++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        readFlexbufferMap(b, 'x');
      } catch (e) {
        expect(e).toBeInstanceOf(MobileNetError);
        expect((e as MobileNetError).code).toBe('INVALID_MODEL');
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(100);
  });
});
