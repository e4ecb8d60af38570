/**
 * Calibration: run the float model on sample inputs and record every activation's statistics.
 *
 * The runtime stores only what a later op or the caller reads (a depthwise conv fused with its
 * pointwise never writes its output), so the model is loaded with every op's output made a
 * graph output: the planner keeps each one and runAll returns them all, with the same float
 * kernels inference uses. No hook into the runtime is needed.
 */
import { invalidInput } from '../errors.js';
import { preprocess, type PreprocessOptions } from '../image/preprocess.js';
import type { RawImage } from '../image/types.js';
import { MobileNet, type LoadOptions } from '../mobilenet.js';
import type { Graph, TensorInfo } from '../model/ir.js';
import { TensorStats } from './stats.js';
import { checkQuantizable } from './quantize-graph.js';

/** the statistics of a float chain's activations: the graph input, then each op's output */
export interface CalibrationStats {
  input: TensorStats;
  /** one per op of the graph, in order */
  outputs: TensorStats[];
  /** calibration inputs seen */
  samples: number;
}

export class Calibrator {
  readonly stats: CalibrationStats;
  private constructor(
    private readonly graph: Graph,
    private readonly net: MobileNet,
  ) {
    this.stats = { input: new TensorStats(), outputs: graph.ops.map(() => new TensorStats()), samples: 0 };
  }

  /**
   * A calibrator for a float MobileNet-style chain (checked as quantize() will need it).
   * `options` are MobileNet.load's (in Node, the kernel builds: `{ wasm: nodeKernelModule }`).
   */
  static async create(graph: Graph, options?: LoadOptions): Promise<Calibrator> {
    checkQuantizable(graph);
    const outputs: TensorInfo[] = graph.ops.map((op) => (op as { output: TensorInfo }).output);
    const instrumented: Graph = { ...graph, inputs: [graph.input], outputs, output: outputs[0] };
    const net = await MobileNet.load(instrumented, options);
    return new Calibrator(graph, net);
  }

  /** The model's float input tensor for an image (options as MobileNet.classify's preprocessing). */
  inputFor(image: RawImage, options?: PreprocessOptions): Float32Array {
    return preprocess(image, this.graph.input, options) as Float32Array;
  }

  /** Runs one calibration input (the model's float input tensor) and records its activations. */
  add(input: Float32Array): void {
    if (!(input instanceof Float32Array)) throw invalidInput(`a calibration input must be a Float32Array, got ${Object.prototype.toString.call(input)}`);
    const outs = this.net.runAll([input]);
    const channels = (t: TensorInfo) => t.shape[t.shape.length - 1];
    this.stats.input.add(input, channels(this.graph.input));
    outs.forEach((o, i) => this.stats.outputs[i].add(o, channels((this.graph.ops[i] as { output: TensorInfo }).output)));
    this.stats.samples++;
  }

  /** Preprocesses an image (see inputFor) and runs it. */
  addImage(image: RawImage, options?: PreprocessOptions): void {
    this.add(this.inputFor(image, options));
  }

  /** Frees the instrumented model. The statistics stay readable. */
  dispose(): void {
    this.net.dispose();
  }
}
