/**
 * Mult-adds and parameters of any model graph (MobileNet v1 or v2, the person detector, SSD...),
 * counted from the IR with the same rules as src/arch/mobilenet.ts's architecture counter, so a
 * v1 graph gives exactly mobilenetV1Layers' totals:
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
import type { Graph, Op, OpName } from '../model/ir.js';
import { opOutputs, sizeOf } from '../model/ir.js';
import { validateGraph } from '../model/validate.js';
import { guard } from '../runtime/guard.js';

export interface GraphLayerStats {
  /** the op's position in the graph */
  index: number;
  /** the op's (first) output tensor's name */
  name: string;
  op: OpName;
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

/** mult-adds and params of one op (see the rules above) */
function opCost(op: Op): { macs: number; params: number } {
  switch (op.op) {
    case 'conv2d':
    case 'depthwise_conv2d': {
      // every filter value is used once per output position (depthwise: filter [1, KH, KW, C*m]
      // holds exactly one KHxKW window per output channel)
      const out = op.output.shape;
      const positions = out.length === 4 ? out[1] * out[2] : 1;
      const weights = sizeOf(op.filter.shape);
      return { macs: positions * weights, params: weights + op.bias.length };
    }
    case 'fully_connected': {
      // weights [O, I]: one dot product of length I per output value
      const weights = sizeOf(op.filter.shape);
      const units = op.filter.shape[0];
      const rows = units > 0 ? sizeOf(op.output.shape) / units : 0;
      return { macs: rows * weights, params: weights + op.bias.length };
    }
    default:
      return { macs: 0, params: 0 };
  }
}

/**
 * Per-op mult-adds and parameters of a graph (from readTflite, loadTfjsLayers or
 * buildMobileNetV1), and their totals. A malformed graph is INVALID_MODEL naming the field
 * (validateGraph), as MobileNet.load would report it.
 */
export function graphStats(graph: Graph): GraphStats {
  return guard('INVALID_MODEL', 'graphStats', () => count(validateGraph(graph)));
}

function count(graph: Graph): GraphStats {
  const layers = graph.ops.map((op, index): GraphLayerStats => {
    const out = opOutputs(op)[0];
    return { index, name: out.name, op: op.op, outputShape: [...out.shape], ...opCost(op) };
  });
  return {
    layers,
    macs: layers.reduce((s, l) => s + l.macs, 0),
    params: layers.reduce((s, l) => s + l.params, 0),
  };
}
