import { describe, expect, it } from 'vitest';
import { buildMobileNetV1, mobilenetV1Layers, scaledDepth, type Precision } from '../../src/arch/mobilenet.js';
import { MobileNetError } from '../../src/errors.js';
import { sizeOf, type Graph, type Op, type TensorInfo } from '../../src/model/ir.js';
import { rng } from '../helpers/kernels.js';
import { refF32 } from '../reference/f32.js';
import { refQ8 } from '../reference/q8.js';

const M = 1e6;

describe('mobilenetV1Layers reproduces the paper', () => {
  // Howard et al. 2017, Table 6 (width multiplier at 224) and Table 7 (resolution at alpha 1)
  const table6: [number, number, number][] = [
    [1.0, 569, 4.2],
    [0.75, 325, 2.6],
    [0.5, 149, 1.3],
    [0.25, 41, 0.5],
  ];
  const table7: [number, number, number][] = [
    [224, 569, 4.2],
    [192, 418, 4.2],
    [160, 290, 4.2],
    [128, 186, 4.2],
  ];
  it.each(table6)('alpha %f at 224: %i M mult-adds, %f M params', (alpha, macs, params) => {
    const s = mobilenetV1Layers(alpha, 224);
    expect(Math.abs(s.macs / M - macs)).toBeLessThan(1);
    expect(Math.abs(s.params / M - params)).toBeLessThanOrEqual(0.05 + 1e-9);
  });
  it.each(table7)('alpha 1 at %i: %i M mult-adds, %f M params', (res, macs, params) => {
    const s = mobilenetV1Layers(1, res);
    expect(Math.abs(s.macs / M - macs)).toBeLessThan(1);
    expect(Math.abs(s.params / M - params)).toBeLessThanOrEqual(0.05 + 1e-9);
  });

  it('counts the classifier: without it 1.0/224 falls outside the paper figure', () => {
    const s = mobilenetV1Layers(1, 224);
    const fc = s.layers.find((l) => l.kind === 'classifier')!;
    expect(fc.macs).toBe(1024 * 1000);
    expect(Math.round((s.macs - fc.macs) / M)).not.toBe(569);
    expect(Math.round(s.macs / M)).toBe(569);
  });

  it('has TF-slim geometry at 1.0/224', () => {
    const s = mobilenetV1Layers(1, 224);
    expect(s.layers).toHaveLength(1 + 26 + 3);
    expect(s.layers[0]).toMatchObject({ name: 'Conv2d_0', kind: 'conv', inputShape: [1, 224, 224, 3], outputShape: [1, 112, 112, 32], macs: 112 * 112 * 27 * 32 });
    expect(s.layers[1]).toMatchObject({ name: 'Conv2d_1_depthwise', outputShape: [1, 112, 112, 32], params: 9 * 32 + 32 });
    expect(s.layers[2]).toMatchObject({ name: 'Conv2d_1_pointwise', outputShape: [1, 112, 112, 64], params: 32 * 64 + 64 });
    const pool = s.layers.find((l) => l.kind === 'avgpool')!;
    expect(pool.inputShape).toEqual([1, 7, 7, 1024]);
    expect(pool.kernel).toEqual([7, 7]);
    expect(s.layers.at(-1)!.outputShape).toEqual([1, 1000]);
    // every layer's input is the previous layer's output (up to the squeeze before softmax)
    for (let i = 1; i < s.layers.length; i++) expect(sizeOf(s.layers[i].inputShape)).toBe(sizeOf(s.layers[i - 1].outputShape));
  });

  it('uses SAME geometry for sizes that are not multiples of 32', () => {
    const s = mobilenetV1Layers(0.5, 225, 1001);
    expect(s.layers[0].outputShape).toEqual([1, 113, 113, 16]);
    expect(s.layers.find((l) => l.kind === 'avgpool')!.inputShape).toEqual([1, 8, 8, 512]);
    expect(s.layers.at(-1)!.outputShape).toEqual([1, 1001]);
  });

  it("follows TF-slim's depth rule max(8, floor(d * alpha)) at alpha 0.35", () => {
    const s = mobilenetV1Layers(0.35, 224);
    const convs = s.layers.filter((l) => l.kind === 'conv' || l.kind === 'pointwise').map((l) => l.outputShape[3]);
    expect(convs).toEqual([11, 22, 44, 44, 89, 89, 179, 179, 179, 179, 179, 179, 358, 358]);
    expect(scaledDepth(32, 0.1)).toBe(8); // min_depth
    expect(scaledDepth(1024, 0.75)).toBe(768);
  });

  it('rejects bad arguments with MobileNetError', () => {
    for (const [a, r] of [
      [0, 224],
      [-1, 224],
      [NaN, 224],
      [1, 0],
      [1, 223.5],
    ]) {
      expect(() => mobilenetV1Layers(a, r)).toThrow(MobileNetError);
    }
    expect(() => mobilenetV1Layers(1, 224, 0)).toThrow(/classes/);
  });
});

/** Checks a graph is a well-formed chain and every quantization parameter is in range. */
function checkGraph(g: Graph, precision: Precision): void {
  const sameTensor = (a: TensorInfo, b: TensorInfo) => {
    expect(a.shape).toEqual(b.shape);
    expect(a.dtype).toBe(b.dtype);
    expect(a.quant).toEqual(b.quant);
  };
  sameTensor(g.ops[0].input, g.input);
  sameTensor(g.ops.at(-1)!.output, g.output);
  const [zpLo, zpHi] = precision === 'uint8' ? [0, 255] : [-128, 127];
  const checkActQuant = (t: TensorInfo) => {
    expect(t.dtype).toBe(precision);
    if (precision === 'float32') return expect(t.quant).toBeUndefined();
    expect(t.quant!.scale).toHaveLength(1);
    expect(t.quant!.scale[0]).toBeGreaterThan(0);
    expect(Number.isFinite(t.quant!.scale[0])).toBe(true);
    expect(Number.isInteger(t.quant!.zeroPoint[0])).toBe(true);
    expect(t.quant!.zeroPoint[0]).toBeGreaterThanOrEqual(zpLo);
    expect(t.quant!.zeroPoint[0]).toBeLessThanOrEqual(zpHi);
  };
  checkActQuant(g.input);
  for (let i = 0; i < g.ops.length; i++) {
    const op: Op = g.ops[i];
    if (i > 0) sameTensor(op.input, g.ops[i - 1].output);
    checkActQuant(op.output);
    if (op.op === 'conv2d' || op.op === 'depthwise_conv2d' || op.op === 'fully_connected') {
      const f = op.filter;
      const dw = op.op === 'depthwise_conv2d';
      const outC = op.output.shape.at(-1)!;
      const inC = op.input.shape.at(-1)!;
      if (op.op === 'fully_connected') expect(f.shape).toEqual([outC, sizeOf(op.input.shape)]);
      else expect(f.shape).toEqual(dw ? [1, 3, 3, outC] : [outC, f.shape[1], f.shape[2], inC]);
      if (dw) expect(inC).toBe(outC);
      expect(f.data.length).toBe(sizeOf(f.shape));
      expect(op.bias.length).toBe(outC);
      expect(f.dtype).toBe(precision);
      if (precision === 'float32') {
        expect(f.data).toBeInstanceOf(Float32Array);
        expect(op.bias).toBeInstanceOf(Float32Array);
        expect(f.data.every((v) => Number.isFinite(v))).toBe(true);
        continue;
      }
      expect(op.bias).toBeInstanceOf(Int32Array);
      const q = f.quant!;
      if (precision === 'uint8') {
        expect(f.data).toBeInstanceOf(Uint8Array);
        expect(q.scale).toHaveLength(1);
        expect(q.zeroPoint[0]).toBeGreaterThanOrEqual(0);
        expect(q.zeroPoint[0]).toBeLessThanOrEqual(255);
        // both ends of the range are used: the quantizer spans the tensor's min and max
        const values = Array.from(f.data as Uint8Array);
        expect(values.reduce((m, v) => Math.min(m, v), 255)).toBe(0);
        expect(values.reduce((m, v) => Math.max(m, v), 0)).toBe(255);
      } else {
        expect(f.data).toBeInstanceOf(Int8Array);
        // per-channel along the output channels, except fully-connected (per-tensor, as TFLite writes it)
        const channels = op.op === 'fully_connected' ? 1 : outC;
        expect(q.axis).toBe(dw ? 3 : 0);
        expect(q.scale).toHaveLength(channels);
        expect(q.zeroPoint).toEqual(new Array(channels).fill(0));
        expect(f.data.every((v) => v >= -127 && v <= 127)).toBe(true);
        expect(q.scale.every((s) => s > 0 && Number.isFinite(s))).toBe(true);
      }
    }
    if (op.op === 'average_pool2d') {
      expect(op.filterSize).toEqual([op.input.shape[1], op.input.shape[2]]);
      expect(op.output.shape).toEqual([1, 1, 1, op.input.shape[3]]);
      expect(op.output.quant).toEqual(op.input.quant);
    }
    if (op.op === 'reshape') expect(sizeOf(op.input.shape)).toBe(sizeOf(op.output.shape));
  }
}

describe('buildMobileNetV1', () => {
  const precisions: Precision[] = ['float32', 'uint8', 'int8'];

  it.each(precisions)('%s graphs are valid chains in the TFLite op order', (precision) => {
    for (const head of ['conv', 'fc'] as const) {
      const g = buildMobileNetV1({ alpha: 0.25, resolution: 128, classes: 1001, precision, seed: 3, head });
      checkGraph(g, precision);
      expect(g.source).toBe('random');
      const kinds = g.ops.map((o) => o.op);
      expect(kinds[0]).toBe('conv2d');
      for (let i = 0; i < 13; i++) expect(kinds.slice(1 + 2 * i, 3 + 2 * i)).toEqual(['depthwise_conv2d', 'conv2d']);
      expect(kinds.slice(27)).toEqual(
        head === 'conv' ? ['average_pool2d', 'conv2d', 'reshape', 'softmax'] : ['average_pool2d', 'reshape', 'fully_connected', 'softmax'],
      );
      expect(g.output.shape).toEqual([1, 1001]);
      expect(g.ops.slice(0, 27).every((o) => 'activation' in o && o.activation === 'relu6')).toBe(true);
    }
  });

  it('uses the TFLite conventions for quantized inputs, ReLU6 outputs and softmax', () => {
    const u8 = buildMobileNetV1({ alpha: 0.25, resolution: 96, precision: 'uint8' });
    expect(u8.input.quant).toEqual({ scale: [1 / 128], zeroPoint: [128], axis: 0 });
    expect(u8.ops[0].output.quant).toEqual({ scale: [6 / 255], zeroPoint: [0], axis: 0 });
    expect(u8.output.quant).toEqual({ scale: [1 / 256], zeroPoint: [0], axis: 0 });
    // per-tensor weight zero points are not all the symmetric 128
    const zps = u8.ops.flatMap((o) => ('filter' in o ? o.filter.quant!.zeroPoint : []));
    expect(zps.some((z) => z !== 128)).toBe(true);
    const i8 = buildMobileNetV1({ alpha: 0.25, resolution: 96, precision: 'int8' });
    expect(i8.input.quant).toEqual({ scale: [1 / 128], zeroPoint: [0], axis: 0 });
    expect(i8.ops[0].output.quant).toEqual({ scale: [6 / 255], zeroPoint: [-128], axis: 0 });
    expect(i8.output.quant).toEqual({ scale: [1 / 256], zeroPoint: [-128], axis: 0 });
  });

  it('quantized biases sit at scale input_scale * filter_scale', () => {
    const f = buildMobileNetV1({ alpha: 0.25, resolution: 96, precision: 'float32', seed: 4 });
    for (const precision of ['uint8', 'int8'] as const) {
      const g = buildMobileNetV1({ alpha: 0.25, resolution: 96, precision, seed: 4 });
      const op = g.ops[3];
      const ref = f.ops[3];
      if (op.op !== 'depthwise_conv2d' || ref.op !== 'depthwise_conv2d') throw new Error('expected depthwise');
      const s = op.filter.quant!.scale;
      for (let c = 0; c < op.bias.length; c++) {
        const real = op.bias[c] * op.input.quant!.scale[0] * s[s.length === 1 ? 0 : c];
        expect(real).toBeCloseTo(ref.bias[c], 3);
      }
    }
  });

  it('the builder has as many parameters as the stats say (1.0/224)', () => {
    const g = buildMobileNetV1({ alpha: 1, resolution: 224, precision: 'float32' });
    const params = g.ops.reduce((s, o) => s + ('filter' in o ? o.filter.data.length + o.bias.length : 0), 0);
    expect(params).toBe(mobilenetV1Layers(1, 224).params);
    expect(params).toBe(4_221_032);
  });

  it('is deterministic for a seed and varies with it', () => {
    // bytes of every constant and the JSON of everything else
    const fingerprint = (g: Graph) => {
      const blobs: Buffer[] = [];
      const meta = JSON.stringify(g, (_k, v) => {
        if (ArrayBuffer.isView(v)) {
          blobs.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
          return `#${blobs.length - 1}`;
        }
        return v;
      });
      return { meta, bytes: Buffer.concat(blobs) };
    };
    for (const precision of precisions) {
      const a = fingerprint(buildMobileNetV1({ alpha: 0.5, resolution: 64, precision, seed: 42 }));
      const b = fingerprint(buildMobileNetV1({ alpha: 0.5, resolution: 64, precision, seed: 42 }));
      const c = fingerprint(buildMobileNetV1({ alpha: 0.5, resolution: 64, precision, seed: 43 }));
      expect(a.meta).toBe(b.meta);
      expect(a.bytes.equals(b.bytes)).toBe(true);
      expect(a.bytes.length).toBe(c.bytes.length);
      expect(a.bytes.equals(c.bytes)).toBe(false);
    }
  });

  it('rejects bad options with MobileNetError', () => {
    const bad: object[] = [
      { alpha: 1, resolution: 224, precision: 'float16' },
      { alpha: 0, resolution: 224, precision: 'float32' },
      { alpha: 1, resolution: 224, precision: 'int8', weights: 'imagenet' },
      { alpha: 1, resolution: 224, precision: 'int8', seed: 1.5 },
      { alpha: 1, resolution: 224, precision: 'int8', head: 'mlp' },
    ];
    for (const opts of bad) {
      expect(() => buildMobileNetV1(opts as never)).toThrow(MobileNetError);
    }
  });

  it('float activations stay healthy through all 27 conv layers (plain-loop reference, 0.25/64)', () => {
    const g = buildMobileNetV1({ alpha: 0.25, resolution: 64, precision: 'float32', seed: 11 });
    const next = rng(5);
    let v: Float32Array = Float32Array.from({ length: 64 * 64 * 3 }, () => next() * 2 - 1);
    for (let i = 0; i < 27; i++) {
      v = refF32(g.ops[i], v);
      let zeros = 0;
      let saturated = 0;
      let sum = 0;
      for (const a of v) {
        if (a === 0) zeros++;
        if (a === 6) saturated++;
        sum += a;
      }
      expect(zeros / v.length, `layer ${i} mostly zero`).toBeLessThan(0.8);
      expect(saturated / v.length, `layer ${i} saturated`).toBeLessThan(0.05);
      // mean near the calibrated ReLU6(N(beta, gamma)) mean, not drifting with depth
      expect(sum / v.length, `layer ${i} mean`).toBeGreaterThan(0.2);
      expect(sum / v.length, `layer ${i} mean`).toBeLessThan(2);
    }
  });

  it('float graphs give a softmax that is neither one-hot nor uniform (plain-loop reference)', () => {
    for (const [alpha, resolution, seed] of [
      [0.25, 128, 1],
      [0.5, 96, 2],
      [1, 64, 3],
    ]) {
      const g = buildMobileNetV1({ alpha, resolution, precision: 'float32', seed });
      const next = rng(seed + 100);
      const x = Float32Array.from({ length: resolution * resolution * 3 }, () => next() * 2 - 1);
      const p = g.ops.reduce<Float32Array>((v, op) => refF32(op, v), x);
      expect(p).toHaveLength(1000);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      const top = Math.max(...p);
      expect(top, `alpha ${alpha} top probability`).toBeLessThan(0.9);
      expect(top, `alpha ${alpha} top probability`).toBeGreaterThan(0.01);
      // spread: the top class is far above the median one
      const sorted = [...p].sort((a, b) => a - b);
      expect(top / sorted[500]).toBeGreaterThan(20);
    }
  });

  it.each(['uint8', 'int8'] as const)('%s integer activations are neither all zero nor saturated (TFLite reference kernels)', (precision) => {
    for (const head of ['conv', 'fc'] as const) {
      const g = buildMobileNetV1({ alpha: 0.25, resolution: 64, precision, seed: 21, head });
      const next = rng(8);
      const n = 64 * 64 * 3;
      // an image-like input over the whole integer range
      const x = precision === 'uint8' ? Uint8Array.from({ length: n }, () => Math.floor(next() * 256)) : Int8Array.from({ length: n }, () => Math.floor(next() * 256) - 128);
      let v: Uint8Array | Int8Array | Float32Array = x;
      const [lo, hi] = precision === 'uint8' ? [0, 255] : [-128, 127];
      g.ops.forEach((op, i) => {
        v = refQ8(op, v);
        if (op.op === 'fully_connected' || (op.op === 'conv2d' && i > 27)) {
          // logits use their integer range without clipping
          const logits = Array.from(v as ArrayLike<number>);
          expect(logits.every((q) => q > lo && q < hi)).toBe(true);
          expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(50);
        }
        if (i >= 27) return;
        let atZero = 0;
        let atMax = 0;
        for (const q of v) {
          if (q === lo) atZero++;
          if (q === hi) atMax++;
        }
        expect(atZero / v.length, `op ${i} mostly zero`).toBeLessThan(0.8);
        expect(atMax / v.length, `op ${i} saturated`).toBeLessThan(0.05);
      });
      const probs = Array.from(v as ArrayLike<number>);
      const nonZero = probs.filter((q) => q > lo).length;
      expect(nonZero, `${head}: classes with a non-zero probability code`).toBeGreaterThan(5);
      expect(Math.max(...probs)).toBeLessThan(hi - 25); // no class near probability 0.9+
    }
  });
});
