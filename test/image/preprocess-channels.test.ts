/**
 * preprocess: per-channel normalization ((x - mean) / std) and one-channel (grayscale) inputs,
 * against a plain float64 reference written here from the conventions (TF-slim central crop,
 * TF1 bilinear resize with float32 coordinates, BT.601 luma 0.299 R + 0.587 G + 0.114 B),
 * independent of the fast loops.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MobileNetError } from '../../src/errors.js';
import { FlatBufferReader } from '../../src/formats/flatbuffer.js';
import { F } from '../../src/formats/tflite-schema.js';
import { decodeImageFile } from '../../src/image/decode-node.js';
import { inputMapping, preprocess, preprocessInto, type PreprocessOptions } from '../../src/image/preprocess.js';
import type { RawImage } from '../../src/image/types.js';
import type { DType, TensorInfo } from '../../src/model/ir.js';
import { rng, SHARED_DIR } from '../helpers/kernels.js';
import { sharedModel } from '../helpers/tflite-fixtures.js';

const tensor = (h: number, w: number, c: number, dtype: DType, scale?: number, zeroPoint?: number): TensorInfo => ({
  name: 'input',
  shape: [1, h, w, c],
  dtype,
  quant: scale === undefined ? undefined : { scale: [scale], zeroPoint: [zeroPoint ?? 0], axis: 0 },
});

function randomImage(width: number, height: number, channels: 1 | 2 | 3 | 4, seed: number): RawImage {
  const r = rng(seed);
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { data, width, height, channels };
}

/** Interpolated source values, HWC with 3 channels (a gray source repeats its channel). */
function interpolate(image: RawImage, outH: number, outW: number, fraction: number | null): Float64Array {
  const { width, height } = image;
  const channels = image.channels ?? image.data.length / (width * height);
  const ox = fraction === null ? 0 : Math.trunc((width - width * fraction) / 2);
  const oy = fraction === null ? 0 : Math.trunc((height - height * fraction) / 2);
  const cw = width - 2 * ox, ch = height - 2 * oy;
  const px = (x: number, y: number, c: number) => image.data[((oy + y) * width + ox + x) * channels + (channels >= 3 ? c : 0)];
  const out = new Float64Array(outH * outW * 3);
  for (let y = 0; y < outH; y++) {
    const sy = Math.fround(y * Math.fround(ch / outH));
    const y0 = Math.floor(sy), y1 = Math.min(y0 + 1, ch - 1), wy = Math.fround(sy - y0);
    for (let x = 0; x < outW; x++) {
      const sx = Math.fround(x * Math.fround(cw / outW));
      const x0 = Math.floor(sx), x1 = Math.min(x0 + 1, cw - 1), wx = Math.fround(sx - x0);
      for (let c = 0; c < 3; c++) {
        const top = px(x0, y0, c) + (px(x1, y0, c) - px(x0, y0, c)) * wx;
        const bottom = px(x0, y1, c) + (px(x1, y1, c) - px(x0, y1, c)) * wx;
        out[(y * outW + x) * 3 + c] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}

/** BT.601 luma per pixel of an interpolated HWC-3 array; a gray source's own value */
function luma(rgb: Float64Array, gray: boolean): Float64Array {
  const out = new Float64Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) {
    out[i] = gray ? rgb[3 * i] : 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
  }
  return out;
}

const isTie = (t: number) => Math.abs(Math.abs(t % 1) - 0.5) < 1e-9;
const roundHalfAway = (t: number) => Math.sign(t) * Math.floor(Math.abs(t) + 0.5);

/** |a - b| within 1e-5 of max(1, |b|) everywhere */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  expect(worst).toBeLessThan(1e-5);
}

describe('per-channel normalization (x - mean) / std', () => {
  const cases: Array<{ mean: number[]; std: number[] }> = [
    { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] }, // the usual ImageNet statistics on [0, 255]
    { mean: [127.5], std: [127.5] },
    { mean: [0], std: [1] },
    { mean: [10, 20, 30], std: [-2] }, // a negative std is allowed: it flips the axis
    { mean: [255], std: [0.001, 3, 1e6] },
  ];
  for (const [k, n] of cases.entries()) {
    it(`float input, mean [${n.mean}] std [${n.std}]: within 1e-5 of the float64 reference`, () => {
      for (const crop of ['central', 'none'] as const) {
        const img = randomImage(29 + k, 17, k % 2 ? 4 : 3, 100 + k);
        const ref = interpolate(img, 13, 11, crop === 'central' ? 0.875 : null);
        const out = preprocess(img, tensor(13, 11, 3, 'float32'), { crop, normalization: n });
        const want = Array.from(ref, (v, i) => {
          const c = i % 3;
          return (v - n.mean[n.mean.length === 1 ? 0 : c]) / n.std[n.std.length === 1 ? 0 : c];
        });
        expectClose(out, want);
      }
    });
  }

  it('mean 127.5 std 127.5 is the default [-1, 1] mapping, to float32 rounding, and the same bytes on integer inputs', () => {
    const img = randomImage(40, 30, 3, 5);
    const f = preprocess(img, tensor(16, 16, 3, 'float32'));
    const g = preprocess(img, tensor(16, 16, 3, 'float32'), { normalization: { mean: [127.5], std: [127.5] } });
    expectClose(g, f);
    for (const input of [tensor(16, 16, 3, 'uint8', 0.0078125, 128), tensor(16, 16, 3, 'int8', 0.0079, 3), tensor(16, 16, 3, 'uint8', 0.007843137718737125, 127)]) {
      const byRange = preprocess(img, input, { inputRange: [-1, 1] });
      const byNorm = preprocess(img, input, { normalization: { mean: [127.5, 127.5, 127.5], std: [127.5] } });
      expect(byNorm).toEqual(byRange);
      expect(inputMapping(input, { normalization: { mean: [127.5], std: [127.5] } })).toEqual(inputMapping(input, { inputRange: [-1, 1] }));
    }
  });

  it('integer inputs quantize each channel with its own normalization (round half away from zero)', () => {
    const img = randomImage(33, 21, 3, 9);
    const ref = interpolate(img, 12, 12, 0.875);
    const n = { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] };
    for (const input of [tensor(12, 12, 3, 'int8', 0.0187, 5), tensor(12, 12, 3, 'uint8', 0.02, 110)]) {
      const out = preprocess(img, input, { normalization: n });
      const m = inputMapping(input, { normalization: n });
      expect(m.mode).toBe('quantize');
      const scale = input.quant!.scale[0], zp = input.quant!.zeroPoint[0];
      const [qmin, qmax] = input.dtype === 'uint8' ? [0, 255] : [-128, 127];
      let checked = 0;
      for (let i = 0; i < ref.length; i++) {
        const c = i % 3;
        const t = (ref[i] - n.mean[c]) / n.std[c] / scale;
        if (isTie(t)) continue;
        expect(out[i]).toBe(Math.min(qmax, Math.max(qmin, roundHalfAway(t) + zp)));
        checked++;
      }
      expect(checked).toBeGreaterThan(ref.length * 0.99);
      // uint8 into the arena's storage form: the same values shifted by -128
      if (input.dtype === 'uint8') {
        const stored = new Int8Array(ref.length);
        preprocessInto(img, input, stored, { normalization: n });
        expect(Array.from(stored)).toEqual(Array.from(out, (q) => q - 128));
      }
    }
  });

  it('invalid normalization options give INVALID_OPTION naming the problem', () => {
    const f3 = tensor(8, 8, 3, 'float32');
    const f1 = tensor(8, 8, 1, 'float32');
    const img = randomImage(10, 10, 3, 1);
    const bad: Array<[TensorInfo, unknown, RegExp]> = [
      [f3, { mean: [0], std: [0] }, /normalization\.std\[0\] must be a finite number, not 0/],
      [f3, { mean: [NaN], std: [1] }, /normalization\.mean\[0\] must be a finite number.*NaN/],
      [f3, { mean: [0], std: [Infinity] }, /normalization\.std\[0\]/],
      [f3, { mean: [0, 1], std: [1] }, /normalization\.mean has 2 values but input "input" has 3 channels; give 1 value or 3/],
      [f1, { mean: [0, 1, 2], std: [1] }, /normalization\.mean has 3 values but input "input" has 1 channel; give 1 value or 1/],
      [f3, { mean: [], std: [1] }, /normalization\.mean must hold 1 value/],
      [f3, { mean: [1, 2, 3, 4], std: [1] }, /normalization\.mean must hold 1 value/],
      [f3, { mean: ['1'], std: [1] }, /normalization\.mean\[0\] must be a finite number/],
      [f3, { mean: 1, std: 1 }, /normalization must be \{ mean: number\[\], std: number\[\] \}/],
      [f3, null, /normalization must be/],
      [f3, { mean: [0], std: [1e-300] }, /beyond 1e38/],
    ];
    for (const [input, normalization, pattern] of bad) {
      for (const call of [() => preprocess(img, input, { normalization } as PreprocessOptions), () => inputMapping(input, { normalization } as PreprocessOptions)]) {
        let err: unknown;
        try {
          call();
        } catch (e) {
          err = e;
        }
        expect(err, `${JSON.stringify(normalization)} was accepted`).toBeInstanceOf(MobileNetError);
        expect((err as MobileNetError).code).toBe('INVALID_OPTION');
        expect((err as MobileNetError).message).toMatch(pattern);
      }
    }
    expect(() => preprocess(img, f3, { inputRange: [0, 1], normalization: { mean: [0], std: [1] } })).toThrow(/inputRange or normalization, not both/);
  });

  it('reads the option arrays once: later changes do not reach a call in progress', () => {
    const img = randomImage(10, 10, 3, 2);
    let reads = 0;
    const mean = new Proxy([0], { get: (t, k, r) => (k === '0' && reads++ > 0 ? NaN : Reflect.get(t, k, r)) });
    const out = preprocess(img, tensor(4, 4, 3, 'float32'), { normalization: { mean, std: [1] } });
    expect(Array.from(out).every(Number.isFinite)).toBe(true);
  });
});

describe('one-channel (grayscale) inputs', () => {
  const shapes: Array<[number, number, number, number]> = [
    [37, 23, 16, 16],
    [9, 13, 20, 11],
    [200, 120, 24, 24],
    [16, 16, 16, 16],
  ];
  for (const [w, h, oh, ow] of shapes) {
    for (const channels of [3, 4, 1, 2] as const) {
      it(`${w}x${h} ${channels}-channel source -> ${ow}x${oh}x1: luma exact on raw bytes, float within 1e-5`, () => {
        const img = randomImage(w, h, channels, w * 7 + channels);
        const y = luma(interpolate(img, oh, ow, 0.875), channels < 3);

        const f = preprocess(img, tensor(oh, ow, 1, 'float32'));
        expect(f.length).toBe(oh * ow);
        expectClose(f, Array.from(y, (v) => v / 127.5 - 1));

        const norm = preprocess(img, tensor(oh, ow, 1, 'float32'), { normalization: { mean: [100], std: [50] } });
        expectClose(norm, Array.from(y, (v) => (v - 100) / 50));

        // raw bytes: the luma rounded to the nearest byte (half up), then shifted by qmin
        const u = preprocess(img, tensor(oh, ow, 1, 'uint8', 1 / 128, 128));
        const s = preprocess(img, tensor(oh, ow, 1, 'int8', 0.003921568859368563, -128));
        // a gray source's value is the same float64 sum here and there, ties included; RGB luma
        // ties may round either way after the weighted sum
        let checked = 0;
        for (let i = 0; i < y.length; i++) {
          if (channels >= 3 && isTie(y[i])) continue;
          expect(u[i]).toBe(Math.floor(y[i] + 0.5));
          expect(s[i]).toBe(Math.floor(y[i] + 0.5) - 128);
          checked++;
        }
        expect(checked).toBeGreaterThan(y.length * 0.99);

        // quantized: q = clamp(round_half_away(real / scale) + zp)
        const q = preprocess(img, tensor(oh, ow, 1, 'int8', 0.0123, -7), { inputRange: [-1, 1] });
        for (let i = 0; i < y.length; i++) {
          const t = (y[i] / 127.5 - 1) / 0.0123;
          if (!isTie(t)) expect(q[i]).toBe(Math.min(127, Math.max(-128, roundHalfAway(t) - 7)));
        }
      });
    }
  }

  it('a gray source passes through to a one-channel input exactly (no luma weights applied)', () => {
    // identity size: each output is a source byte
    const img = randomImage(12, 9, 1, 77);
    const out = preprocess(img, tensor(9, 12, 1, 'uint8', 1 / 128, 128), { crop: 'none' });
    expect(Array.from(out)).toEqual(Array.from(img.data));
    const f = preprocess(img, tensor(9, 12, 1, 'float32'), { crop: 'none', inputRange: [0, 255] });
    expect(Array.from(f)).toEqual(Array.from(img.data));
  });

  it('an RGB pixel becomes its BT.601 luma: pure red, green, blue and white', () => {
    const px = (r: number, g: number, b: number) => preprocess({ data: new Uint8Array([r, g, b]), width: 1, height: 1 }, tensor(1, 1, 1, 'float32'), { inputRange: [0, 255] })[0];
    expect(px(255, 0, 0)).toBeCloseTo(76.245, 4);
    expect(px(0, 255, 0)).toBeCloseTo(149.685, 4);
    expect(px(0, 0, 255)).toBeCloseTo(29.07, 4);
    expect(px(255, 255, 255)).toBeCloseTo(255, 4);
    const byte = (r: number, g: number, b: number) => preprocess({ data: new Uint8Array([r, g, b]), width: 1, height: 1 }, tensor(1, 1, 1, 'uint8', 1 / 128, 128))[0];
    expect([byte(255, 0, 0), byte(0, 255, 0), byte(0, 0, 255), byte(200, 100, 50)]).toEqual([76, 150, 29, 124]); // 76.245, 149.685, 29.07, 124.2
  });

  it('a one-channel image into a three-channel input is replicated', () => {
    const gray = randomImage(21, 14, 1, 13);
    const rgb = new Uint8Array(21 * 14 * 3);
    gray.data.forEach((v, p) => rgb.fill(v, 3 * p, 3 * p + 3));
    for (const input of [tensor(10, 10, 3, 'float32'), tensor(10, 10, 3, 'uint8', 1 / 128, 128)]) {
      const out = preprocess(gray, input);
      expect(out).toEqual(preprocess({ data: rgb, width: 21, height: 14 }, input));
      for (let p = 0; p < 100; p++) expect(out[3 * p]).toBe(out[3 * p + 2]);
    }
  });

  it('other channel counts are refused as UNSUPPORTED_MODEL', () => {
    expect(() => preprocess(randomImage(4, 4, 3, 1), tensor(4, 4, 2, 'float32'))).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/\[1, height, width, 3\] or \[1, height, width, 1\]/) }),
    );
    expect(() => preprocess(randomImage(4, 4, 3, 1), tensor(4, 4, 4, 'float32'))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MODEL' }));
  });

  it('the output array must hold H*W values for one channel', () => {
    const input = tensor(8, 8, 1, 'int8', 0.007843137718737125, -1);
    expect(() => preprocessInto(randomImage(9, 9, 3, 1), input, new Int8Array(63))).toThrow(/has 63 elements; input input needs 64/);
    const out = new Int8Array(64 + 5).fill(99);
    preprocessInto(randomImage(9, 9, 3, 1), input, out);
    expect(Array.from(out.subarray(64))).toEqual([99, 99, 99, 99, 99]); // nothing written past H*W
  });
});

// ---- the person detector ------------------------------------------------------------------

/** person_detect_int8's input as stored in the .tflite (read directly: the op set is not ours to judge here) */
function personDetectInput(): TensorInfo | undefined {
  const bytes = sharedModel('person_detect_int8.tflite');
  if (!bytes) return undefined;
  const model = new FlatBufferReader(bytes).root('model');
  const sg = model.tables(F.Model.subgraphs, 'subgraphs').get(0);
  const t = sg.tables(F.SubGraph.tensors, 'tensors').get(sg.i32Array(F.SubGraph.inputs, 'inputs')[0]);
  const q = t.table(F.Tensor.quantization, 'quantization')!;
  return {
    name: t.string(F.Tensor.name, 'name'),
    shape: t.i32Array(F.Tensor.shape, 'shape'),
    dtype: t.i8(F.Tensor.type, 'type') === 9 ? 'int8' : 'float32',
    quant: { scale: q.f32Array(F.QuantizationParameters.scale, 'scale'), zeroPoint: q.i64Array(F.QuantizationParameters.zero_point, 'zero_point'), axis: 0 },
  };
}

describe('person_detect_int8 input: 96x96 gray, q = byte - 128', () => {
  const fromModel = personDetectInput();
  // the values the shared model holds (asserted below when it is present)
  const input: TensorInfo = fromModel ?? { name: 'input', shape: [1, 96, 96, 1], dtype: 'int8', quant: { scale: [0.007843137718737125], zeroPoint: [-1], axis: 0 } };

  it.skipIf(!fromModel)('the shared model: int8 [1, 96, 96, 1], scale 0.007843 (2/255 as float32), zero point -1', () => {
    expect(fromModel).toMatchObject({ shape: [1, 96, 96, 1], dtype: 'int8', quant: { scale: [0.007843137718737125], zeroPoint: [-1] } });
  });

  it('maps pixel bytes raw, q = p - 128 (as the TFLite Micro example turns camera bytes into int8)', () => {
    // scale 2/255 zero point -1 covers [-0.996, 1.004]: [-1, 1] on the pixel grid, half a step off
    expect(inputMapping(input)).toMatchObject({ mode: 'raw', channels: 1, range: [-1, 1], zeroPoint: -128, qmin: -128, qmax: 127 });
    // a gray image at the model's size: every byte p becomes p - 128
    const ramp = new Uint8Array(96 * 96).map((_, i) => i % 256);
    const q = preprocess({ data: ramp, width: 96, height: 96 }, input, { crop: 'none' });
    expect(Array.from(q)).toEqual(Array.from(ramp, (p) => p - 128));
  });

  const photo = SHARED_DIR ? join(SHARED_DIR, 'images', 'photos', 'image-0.jpeg') : '';
  it('a photo: central crop, bilinear resize, luma, rounded byte - 128, computed by hand', async () => {
    const img: RawImage = existsSync(photo) ? await decodeImageFile(photo) : randomImage(640, 480, 4, 31);
    const { width, height } = img;
    const channels = img.channels ?? img.data.length / (width * height);
    // tf.image.central_crop(0.875): start = int((d - 0.875 d) / 2), size = d - 2 start
    const x0 = Math.trunc((width - width * 0.875) / 2), y0 = Math.trunc((height - height * 0.875) / 2);
    const cw = width - 2 * x0, ch = height - 2 * y0;
    const at = (x: number, y: number, c: number) => img.data[((y0 + y) * width + x0 + x) * channels + c];
    const want = new Int8Array(96 * 96);
    for (let oy = 0; oy < 96; oy++) {
      const sy = Math.fround(oy * Math.fround(ch / 96));
      const ya = Math.floor(sy), yb = Math.min(ya + 1, ch - 1), fy = Math.fround(sy - ya);
      for (let ox = 0; ox < 96; ox++) {
        const sx = Math.fround(ox * Math.fround(cw / 96));
        const xa = Math.floor(sx), xb = Math.min(xa + 1, cw - 1), fx = Math.fround(sx - xa);
        const rgb = [0, 1, 2].map((c) => {
          const top = at(xa, ya, c) + (at(xb, ya, c) - at(xa, ya, c)) * fx;
          const bottom = at(xa, yb, c) + (at(xb, yb, c) - at(xa, yb, c)) * fx;
          return top + (bottom - top) * fy;
        });
        const y = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
        want[oy * 96 + ox] = Math.floor(y + 0.5) - 128;
      }
    }
    const got = new Int8Array(96 * 96);
    preprocessInto(img, input, got);
    expect(Array.from(got)).toEqual(Array.from(want));
    // and it is a picture, not a constant
    expect(new Set(got).size).toBeGreaterThan(50);
  });
});
