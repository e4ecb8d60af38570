/**
 * The two networks the MobileNet paper's Table 8 compares against, written down as shapes only
 * (src/arch/graph-stats.ts LayerShape) so the `stats` counter counts them without their weights
 * existing (VGG16 would be 138 M floats):
 * - GoogLeNet (Szegedy et al. 2014, "Going deeper with convolutions", Table 1): 224x224x3 input,
 *   7x7/2 conv, max pool, 1x1 + 3x3 convs, max pool, inception 3a-3b, max pool, 4a-4e, max pool,
 *   5a-5b, 7x7 average pool, 1000-way fully connected. The auxiliary classifiers are training-only
 *   and not counted; local response normalisation costs no mult-adds and is not listed.
 * - VGG16 (Simonyan & Zisserman 2014, configuration D): thirteen 3x3 convs in five stages, each
 *   closed by a 2x2 max pool, then fully connected 25088 -> 4096 -> 4096 -> 1000.
 * Every conv and fully-connected layer has a bias, as in both papers.
 */
import { layerStats, type GraphStats, type LayerShape } from './graph-stats.js';

/** A writer of a layer list: tracks the current map (h x h x c) as convs and pools are appended. */
class LayerList {
  readonly layers: LayerShape[] = [];
  constructor(
    public h: number,
    public c: number,
  ) {}

  /** a 'same'-padded conv with `stride` from the current map (a branch may start from another `inC`) */
  conv(name: string, k: number, outC: number, stride = 1, inC = this.c): LayerShape {
    const out = Math.ceil(this.h / stride);
    const layer: LayerShape = { name, op: 'conv2d', outputShape: [1, out, out, outC], filterShape: [outC, k, k, inC], biasLength: outC };
    this.layers.push(layer);
    return layer;
  }

  /** move the map to `h` x `h` x `c` (after a conv, or a concatenation of branches) */
  at(h: number, c: number): void {
    this.h = h;
    this.c = c;
  }

  /** a pooling layer down to `out` x `out` */
  pool(name: string, op: 'max_pool2d' | 'average_pool2d', out: number): void {
    this.layers.push({ name, op, outputShape: [1, out, out, this.c] });
    this.h = out;
  }

  fullyConnected(name: string, inputs: number, units: number): void {
    this.layers.push({ name, op: 'fully_connected', outputShape: [1, units], filterShape: [units, inputs], biasLength: units });
    this.c = units;
  }
}

/** An inception module's branch widths, in the column order of Szegedy et al.'s Table 1. */
interface Inception {
  name: string;
  /** #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj */
  widths: readonly [number, number, number, number, number, number];
}

const INCEPTION_3: readonly Inception[] = [
  { name: 'inception_3a', widths: [64, 96, 128, 16, 32, 32] },
  { name: 'inception_3b', widths: [128, 128, 192, 32, 96, 64] },
];
const INCEPTION_4: readonly Inception[] = [
  { name: 'inception_4a', widths: [192, 96, 208, 16, 48, 64] },
  { name: 'inception_4b', widths: [160, 112, 224, 24, 64, 64] },
  { name: 'inception_4c', widths: [128, 128, 256, 24, 64, 64] },
  { name: 'inception_4d', widths: [112, 144, 288, 32, 64, 64] },
  { name: 'inception_4e', widths: [256, 160, 320, 32, 128, 128] },
];
const INCEPTION_5: readonly Inception[] = [
  { name: 'inception_5a', widths: [256, 160, 320, 32, 128, 128] },
  { name: 'inception_5b', widths: [384, 192, 384, 48, 128, 128] },
];

function inception(net: LayerList, { name, widths }: Inception): void {
  const [w1, r3, w3, r5, w5, proj] = widths;
  const inC = net.c;
  net.conv(`${name}/1x1`, 1, w1);
  net.conv(`${name}/3x3_reduce`, 1, r3);
  net.conv(`${name}/3x3`, 3, w3, 1, r3);
  net.conv(`${name}/5x5_reduce`, 1, r5, 1, inC);
  net.conv(`${name}/5x5`, 5, w5, 1, r5);
  // the pool branch: 3x3/1 max pool (same size, no cost), then its 1x1 projection
  net.conv(`${name}/pool_proj`, 1, proj, 1, inC);
  const outC = w1 + w3 + w5 + proj;
  net.layers.push({ name: `${name}/output`, op: 'concatenation', outputShape: [1, net.h, net.h, outC] });
  net.at(net.h, outC);
}

/** GoogLeNet's layers (see the file comment), 1000 classes. */
export function googlenetLayers(): LayerShape[] {
  const net = new LayerList(224, 3);
  net.conv('conv1/7x7_s2', 7, 64, 2);
  net.at(112, 64);
  net.pool('pool1/3x3_s2', 'max_pool2d', 56);
  net.conv('conv2/3x3_reduce', 1, 64);
  net.conv('conv2/3x3', 3, 192, 1, 64);
  net.at(56, 192);
  net.pool('pool2/3x3_s2', 'max_pool2d', 28);
  for (const m of INCEPTION_3) inception(net, m);
  net.pool('pool3/3x3_s2', 'max_pool2d', 14);
  for (const m of INCEPTION_4) inception(net, m);
  net.pool('pool4/3x3_s2', 'max_pool2d', 7);
  for (const m of INCEPTION_5) inception(net, m);
  net.pool('pool5/7x7_s1', 'average_pool2d', 1);
  net.fullyConnected('loss3/classifier', net.c, 1000);
  net.layers.push({ name: 'prob', op: 'softmax', outputShape: [1, 1000] });
  return net.layers;
}

/** VGG16's output channels per stage (configuration D: 2, 2, 3, 3, 3 convs). */
const VGG16_STAGES: readonly (readonly number[])[] = [
  [64, 64],
  [128, 128],
  [256, 256, 256],
  [512, 512, 512],
  [512, 512, 512],
];

/** VGG16's layers (see the file comment), 1000 classes. */
export function vgg16Layers(): LayerShape[] {
  const net = new LayerList(224, 3);
  VGG16_STAGES.forEach((stage, s) => {
    stage.forEach((outC, i) => {
      net.conv(`conv${s + 1}_${i + 1}`, 3, outC);
      net.at(net.h, outC);
    });
    net.pool(`pool${s + 1}`, 'max_pool2d', net.h / 2);
  });
  const flat = net.h * net.h * net.c; // 7 x 7 x 512 = 25088
  net.fullyConnected('fc6', flat, 4096);
  net.fullyConnected('fc7', 4096, 4096);
  net.fullyConnected('fc8', 4096, 1000);
  net.layers.push({ name: 'prob', op: 'softmax', outputShape: [1, 1000] });
  return net.layers;
}

/** Table 8's reference networks counted by the `stats` counter (layerStats). */
export const googlenetStats = (): GraphStats => layerStats(googlenetLayers());
export const vgg16Stats = (): GraphStats => layerStats(vgg16Layers());
