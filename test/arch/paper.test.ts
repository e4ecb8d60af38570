/**
 * The MobileNet paper's mult-add and parameter columns (Tables 4-8) against the `stats` counter:
 * each figure is reproduced at the paper's printed precision by the reading src/arch/paper.ts
 * states for it, and the counts themselves are pinned exactly.
 */
import { describe, expect, it } from 'vitest';
import { atPrecision, paperRows, type PaperRow } from '../../src/arch/paper.js';
import { buildMobileNetV1, mobilenetV1Layers, SHALLOW_REMOVED } from '../../src/arch/mobilenet.js';
import { graphStats, layerStats } from '../../src/arch/graph-stats.js';
import { googlenetLayers, googlenetStats, vgg16Layers, vgg16Stats } from '../../src/arch/reference-nets.js';
import { MobileNetError } from '../../src/errors.js';

const rows = paperRows();
const row = (model: string): PaperRow => rows.find((r) => r.model === model)!;

describe("the paper's columns", () => {
  it.each(rows.map((r) => [r.model, r] as const))('%s', (_, r) => {
    if (r.reading === 'not-reproduced') {
      expect(atPrecision(r.counted.macs, r.precision.macs)).not.toBe(r.paper.macs);
      return;
    }
    expect(atPrecision(r.readingMacs, r.precision.macs)).toBe(r.paper.macs);
    expect(atPrecision(r.counted.params, r.precision.params)).toBe(r.paper.params);
    // a reading other than the plain count is only claimed where the plain count misses
    if (r.reading !== 'counted') expect(atPrecision(r.counted.macs, r.precision.macs)).not.toBe(r.paper.macs);
  });

  it('17 of the 20 figures are the plain count; three need the stated reading; GoogLeNet is not reproduced', () => {
    const plain = rows.flatMap((r) => [atPrecision(r.counted.macs, r.precision.macs) === r.paper.macs, atPrecision(r.counted.params, r.precision.params) === r.paper.params]);
    expect(plain.filter(Boolean)).toHaveLength(17);
    expect(rows.filter((r) => r.reading !== 'counted').map((r) => [r.model, r.reading])).toEqual([
      ['Conv MobileNet', 'body-only'],
      ['1.0 MobileNet-160', 'rho-squared'],
      ['GoogleNet', 'not-reproduced'],
      ['VGG 16', 'body-only'],
    ]);
  });

  it('exact counts', () => {
    expect(rows.map((r) => [r.model, r.counted.macs, r.counted.params])).toEqual([
      ['Conv MobileNet', 4_867_293_184, 29_288_104],
      ['1.0 MobileNet-224', 568_740_352, 4_221_032],
      ['0.75 MobileNet-224', 325_400_448, 2_577_352],
      ['Shallow MobileNet', 307_323_392, 2_882_152],
      ['0.5 MobileNet-224', 149_497_088, 1_326_120],
      ['0.25 MobileNet-224', 41_030_272, 467_336],
      ['1.0 MobileNet-192', 418_121_728, 4_221_032],
      ['1.0 MobileNet-160', 290_675_200, 4_221_032],
      ['1.0 MobileNet-128', 186_400_768, 4_221_032],
      ['GoogleNet', 1_582_671_872, 6_998_552],
      ['VGG 16', 15_470_264_320, 138_357_544],
    ]);
    expect(row('Conv MobileNet').readingMacs).toBe(4_867_293_184 - 1024 * 1000);
    expect(row('VGG 16').readingMacs).toBe(15_346_630_656);
    expect(row('1.0 MobileNet-160').readingMacs).toBeCloseTo(568_740_352 * (160 / 224) ** 2, 0);
  });

  it('atPrecision rounds to the printed unit', () => {
    expect(atPrecision(4_221_032, 0.1)).toBe(4.2);
    expect(atPrecision(467_336, 0.1)).toBe(0.5);
    expect(atPrecision(15_346_630_656, 100)).toBe(15300);
    expect(atPrecision(568_740_352, 1)).toBe(569);
  });
});

describe('the variants: full convolutions and shallow', () => {
  it('Conv MobileNet: one 3x3 conv per separable pair, same strides and widths', () => {
    const full = mobilenetV1Layers(1, 224, 1000, { convolution: 'full' });
    const separable = mobilenetV1Layers(1, 224, 1000);
    expect(full.layers.filter((l) => l.kind === 'depthwise' || l.kind === 'pointwise')).toHaveLength(0);
    const convs = full.layers.filter((l) => l.kind === 'conv');
    expect(convs).toHaveLength(14);
    const pointwise = separable.layers.filter((l) => l.kind === 'pointwise');
    expect(convs.slice(1).map((l) => l.outputShape)).toEqual(pointwise.map((l) => l.outputShape));
    expect(convs[13]).toMatchObject({ name: 'Conv2d_13', kernel: [3, 3], inputShape: [1, 7, 7, 1024], outputShape: [1, 7, 7, 1024], macs: 49 * 9 * 1024 * 1024 });
  });

  it('Shallow MobileNet: the five 14x14x512 separable layers gone, the rest unchanged', () => {
    const shallow = mobilenetV1Layers(1, 224, 1000, { shallow: true });
    const names = shallow.layers.map((l) => l.name);
    for (const i of SHALLOW_REMOVED) expect(names).not.toContain(`Conv2d_${i + 1}_pointwise`);
    expect(names).toContain('Conv2d_6_pointwise'); // the stride-2 layer into 14x14x512 stays
    expect(shallow.layers.filter((l) => l.kind === 'pointwise')).toHaveLength(8);
    const removed = mobilenetV1Layers(1, 224, 1000).layers.filter((l) => SHALLOW_REMOVED.some((i) => l.name.startsWith(`Conv2d_${i + 1}_`)));
    expect(removed.every((l) => l.outputShape.join('x') === '1x14x14x512')).toBe(true);
  });

  it.each([
    [{ convolution: 'full' as const }, 'int8' as const],
    [{ shallow: true }, 'float32' as const],
    [{ convolution: 'full' as const, shallow: true }, 'uint8' as const],
  ])('the builder makes the variant %o (%s) and graphStats counts it as the architecture counter does', (variant, precision) => {
    const alpha = variant.convolution === 'full' ? 0.25 : 0.5;
    const g = buildMobileNetV1({ alpha, resolution: 96, precision, classes: 10, ...variant });
    const arch = mobilenetV1Layers(alpha, 96, 10, variant);
    const s = graphStats(g);
    expect([s.macs, s.params]).toEqual([arch.macs, arch.params]);
    const depthwise = g.ops.filter((o) => o.op === 'depthwise_conv2d').length;
    expect(depthwise).toBe(variant.convolution === 'full' ? 0 : 8);
  });

  it.each([
    [{ convolution: 'depthwise' }, /convolution must be 'separable' or 'full'/],
    [{ shallow: 1 }, /shallow must be true or false/],
    [null, /variant must be an object/],
  ])('rejects the variant %o', (variant, message) => {
    expect(() => mobilenetV1Layers(1, 224, 1000, variant as never)).toThrow(message);
    expect(() => mobilenetV1Layers(1, 224, 1000, variant as never)).toThrow(MobileNetError);
  });

  it('the builder rejects a bad variant option', () => {
    expect(() => buildMobileNetV1({ alpha: 1, resolution: 224, precision: 'float32', convolution: 'grouped' as never })).toThrow(/convolution must be/);
  });
});

describe('reference nets, shapes only', () => {
  it('GoogLeNet: 57 convs + the classifier; inception outputs as in Szegedy et al. Table 1', () => {
    const layers = googlenetLayers();
    expect(layers.filter((l) => l.op === 'conv2d')).toHaveLength(3 + 9 * 6);
    const concat = layers.filter((l) => l.op === 'concatenation').map((l) => l.outputShape.slice(1).join('x'));
    expect(concat).toEqual(['28x28x256', '28x28x480', '14x14x512', '14x14x512', '14x14x512', '14x14x528', '14x14x832', '7x7x832', '7x7x1024']);
    const s = googlenetStats();
    expect(s.layers.find((l) => l.name === 'conv1/7x7_s2')).toMatchObject({ macs: 112 * 112 * 7 * 7 * 3 * 64, params: 9408 + 64 });
    expect(s.layers.find((l) => l.name === 'loss3/classifier')).toMatchObject({ macs: 1024 * 1000, params: 1024 * 1000 + 1000 });
  });

  it('VGG16: 13 convs, fc6 25088 -> 4096', () => {
    const s = vgg16Stats();
    expect(s.layers.filter((l) => l.op === 'conv2d')).toHaveLength(13);
    expect(s.layers.find((l) => l.name === 'fc6')).toMatchObject({ macs: 25088 * 4096, params: 25088 * 4096 + 4096 });
    expect(s.layers.find((l) => l.name === 'pool5')!.outputShape).toEqual([1, 7, 7, 512]);
    expect(layerStats(vgg16Layers())).toEqual(s);
  });

  it('a shape-only description and a built graph count alike (one counter)', () => {
    const g = buildMobileNetV1({ alpha: 0.25, resolution: 64, precision: 'float32', classes: 7 });
    const shapes = g.ops.map((op) => ('filter' in op ? { name: op.output.name, op: op.op, outputShape: op.output.shape, filterShape: op.filter.shape, biasLength: op.bias.length } : { name: op.output.name, op: op.op, outputShape: op.output.shape }));
    expect(layerStats(shapes)).toEqual(graphStats(g));
  });

  it.each([
    [[], /non-empty array/],
    [[{ name: 'a', op: 'conv2d', outputShape: [1, 2, 2, 3] }], /filterShape/],
    [[{ name: 'a', op: 'conv2d', outputShape: [1, -2, 2, 3], filterShape: [3, 1, 1, 3] }], /outputShape/],
    [[{ name: 'a', op: 'fully_connected', outputShape: [1, 3], filterShape: [3, 2], biasLength: 1.5 }], /biasLength/],
    [[null], /layers\[0\]/],
  ])('layerStats rejects a malformed description (%#)', (layers, message) => {
    let err: unknown;
    try {
      layerStats(layers as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MobileNetError);
    expect((err as MobileNetError).code).toBe('INVALID_MODEL');
    expect((err as Error).message).toMatch(message);
  });
});
