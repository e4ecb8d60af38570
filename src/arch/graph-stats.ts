/**
 * Mult-adds and parameters of any model graph (MobileNet v1 or v2, the person detector, SSD...)
 * or of an architecture written down as shapes only (LayerShape: VGG16 without its 138 M
 * weights). One rule (layerCost), which src/arch/mobilenet.ts's architecture counter uses too, so
 * a v1 graph gives exactly mobilenetV1Layers' totals:
 * - mult-adds: conv2d, depthwise_conv2d and fully_connected only, one per weight per output
 *   position (for fully_connected: per output row). Bias adds, activations, pooling, ADD / MUL,
 *   PAD, MEAN, CONCATENATION, LOGISTIC, reshape, (de)quantize, softmax and detection
 *   post-processing count 0: they are listed, as the paper's tables list pooling and softmax.
 * - params: those ops' weights plus one bias per output channel, counted as values (a uint8 or
 *   int8 weight is one parameter, not one byte). The IR gives a conv without a bias a zero bias,
 *   so such a conv counts its output channels too, as a batch-norm-folded model's would. Other
 *   constants (an ADD's constant operand, SSD's anchors) are inputs, not learned weights: 0.
 *
 * This is the paper's count, not the runtime's work estimate (ModelInfo.macs, which also counts
 * one unit per element of elementwise ops).
 */
import { invalidModel } from '../errors.js';
import type { Graph, Op, OpName } from '../model/ir.js';
import { opOutputs } from '../model/ir.js';
import { describeValue } from '../runtime/typed.js';
import { validateGraph } from '../model/validate.js';
import { guard } from '../runtime/guard.js';

/** Ops a shape-only description may list beyond the IR's: reference nets' max pooling (no cost). */
export type CountedOpName = OpName | 'max_pool2d';

/**
 * One layer as the counter sees it: shapes only, no weight data, so an architecture can be
 * counted without its weights existing (VGG16's 138 M). A graph's op maps to one of these
 * (layerShapeOf); src/arch/reference-nets.ts writes GoogLeNet's and VGG16's by hand.
 */
export interface LayerShape {
  /** the layer's (first) output tensor's name */
  name: string;
  op: CountedOpName;
  /** the (first) output shape, NHWC for convs */
  outputShape: readonly number[];
  /** conv2d [O, KH, KW, I], depthwise_conv2d [1, KH, KW, C*m], fully_connected [O, I]; absent for uncounted ops */
  filterShape?: readonly number[];
  /** biases (one per output channel); 0 when absent */
  biasLength?: number;
}

export interface GraphLayerStats {
  /** the op's position in the graph */
  index: number;
  /** the op's (first) output tensor's name */
  name: string;
  op: CountedOpName;
  /** the op's (first) output shape */
  outputShape: number[];
  macs: number;
  params: number;
}

export interface GraphStats {
  layers: GraphLayerStats[];
  macs: number;
  params: number;
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** mult-adds and params of one layer (see the rules above): the one place they are computed */
export function layerCost(layer: LayerShape): { macs: number; params: number } {
  const out = layer.outputShape;
  const bias = layer.biasLength ?? 0;
  switch (layer.op) {
    case 'conv2d':
    case 'depthwise_conv2d': {
      // every filter value is used once per output position (depthwise: filter [1, KH, KW, C*m]
      // holds exactly one KHxKW window per output channel)
      const positions = out.length === 4 ? out[1] * out[2] : 1;
      const weights = product(layer.filterShape!);
      return { macs: positions * weights, params: weights + bias };
    }
    case 'fully_connected': {
      // weights [O, I]: one dot product of length I per output value
      const weights = product(layer.filterShape!);
      const units = layer.filterShape![0];
      const rows = units > 0 ? product(out) / units : 0;
      return { macs: rows * weights, params: weights + bias };
    }
    default:
      return { macs: 0, params: 0 };
  }
}

/** The shape-only view of a validated graph's op. */
function layerShapeOf(op: Op): LayerShape {
  const out = opOutputs(op)[0];
  const weighted = op.op === 'conv2d' || op.op === 'depthwise_conv2d' || op.op === 'fully_connected';
  return weighted
    ? { name: out.name, op: op.op, outputShape: out.shape, filterShape: op.filter.shape, biasLength: op.bias.length }
    : { name: out.name, op: op.op, outputShape: out.shape };
}

/**
 * Per-op mult-adds and parameters of a graph (from readTflite, loadTfjsLayers or
 * buildMobileNetV1), and their totals. A malformed graph is INVALID_MODEL naming the field
 * (validateGraph), as MobileNet.load would report it.
 */
export function graphStats(graph: Graph): GraphStats {
  return guard('INVALID_MODEL', 'graphStats', () => count(validateGraph(graph).ops.map(layerShapeOf)));
}

const COUNTED_OPS: ReadonlySet<string> = new Set(['conv2d', 'depthwise_conv2d', 'fully_connected']);

function checkShape(shape: unknown, what: string): readonly number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > 8 || !shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 2 ** 31)) {
    throw invalidModel(`${what} must be an array of 1 to 8 integer dimensions, got ${describeValue(shape)}`);
  }
  return shape;
}

/**
 * The same count over a shape-only description (an architecture written down rather than
 * built: see LayerShape). A malformed description is INVALID_MODEL naming the layer.
 */
export function layerStats(layers: readonly LayerShape[]): GraphStats {
  return guard('INVALID_MODEL', 'layerStats', () => {
    if (!Array.isArray(layers) || layers.length === 0) throw invalidModel(`layers must be a non-empty array, got ${describeValue(layers)}`);
    return count(
      layers.map((l, i) => {
        const at = `layers[${i}]`;
        if (l === null || typeof l !== 'object' || typeof l.name !== 'string' || typeof l.op !== 'string') {
          throw invalidModel(`${at} must be an object with a name and an op, got ${describeValue(l)}`);
        }
        const outputShape = checkShape(l.outputShape, `${at} (${l.name}) outputShape`);
        if (!COUNTED_OPS.has(l.op)) return { name: l.name, op: l.op, outputShape };
        const filterShape = checkShape(l.filterShape, `${at} (${l.name}) filterShape`);
        const bias = l.biasLength ?? 0;
        if (!Number.isInteger(bias) || bias < 0) throw invalidModel(`${at} (${l.name}) biasLength must be a non-negative integer, got ${describeValue(bias)}`);
        return { name: l.name, op: l.op, outputShape, filterShape, biasLength: bias };
      }),
    );
  });
}

function count(shapes: readonly LayerShape[]): GraphStats {
  const layers = shapes.map((l, index): GraphLayerStats => ({ index, name: l.name, op: l.op, outputShape: [...l.outputShape], ...layerCost(l) }));
  return {
    layers,
    macs: layers.reduce((s, l) => s + l.macs, 0),
    params: layers.reduce((s, l) => s + l.params, 0),
  };
}
