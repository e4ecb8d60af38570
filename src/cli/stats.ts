/**
 * `mobilenet-wasm stats --alpha A --resolution R [--json]`: MobileNet v1's per-layer shapes,
 * mult-adds and parameters, counted as in the paper (see src/arch/mobilenet.ts).
 * `mobilenet-wasm stats --model M [--json]`: the same count for any loadable model, from its
 * graph (src/arch/graph-stats.ts). `mobilenet-wasm info --model M [--json]`: what
 * MobileNet.load reports about a model, with its TFLite metadata when it has some.
 */
import { mobilenetV1Layers } from '../arch/mobilenet.js';
import { graphStats, type GraphStats } from '../arch/graph-stats.js';
import { invalidOption } from '../errors.js';
import { readTflite } from '../formats/tflite.js';
import { readTfliteMetadata, type TfliteMetadata } from '../formats/tflite-metadata.js';
import type { Graph, TensorInfo } from '../model/ir.js';
import type { ModelInfo, ModelSource, TensorDescription } from '../mobilenet.js';
import type { KernelChoice } from '../runtime/kernels.js';
import { loadModel, readModelFile } from '../node.js';
// metadata text is the file's: oneLine keeps the report one line per item
import { oneLine } from './common.js';

export interface StatsArgs {
  alpha: number;
  resolution: number;
  json: boolean;
}

const millions = (n: number) => `${(n / 1e6).toFixed(2)} M`;
const grouped = (n: number) => n.toLocaleString('en-US');

export function statsCommand(args: StatsArgs): string {
  const { alpha, resolution } = args;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0 || alpha > 4) {
    throw invalidOption(`--alpha must be a number with 0 < alpha <= 4, got ${String(alpha)}`);
  }
  if (!Number.isInteger(resolution) || resolution < 32 || resolution > 1024) {
    throw invalidOption(`--resolution must be an integer from 32 to 1024, got ${String(resolution)}`);
  }
  const s = mobilenetV1Layers(alpha, resolution);
  if (args.json) {
    return JSON.stringify({ alpha, resolution, macs: s.macs, params: s.params, layers: s.layers });
  }
  const header = ['layer', 'type', 'output', 'mult-adds', 'params'];
  const rows = s.layers.map((l) => [l.name, l.kind, l.outputShape.slice(1).join('x'), grouped(l.macs), grouped(l.params)]);
  const footer = ['total', '', '', millions(s.macs), millions(s.params)];
  return [
    `MobileNet v1, alpha ${alpha}, ${resolution}x${resolution} input, ${s.classes} classes`,
    'mult-adds: conv, depthwise, pointwise and classifier weights x output positions; params: weights + biases (batch norm folded)',
    '',
    ...table(header, rows, footer, new Set([3, 4])),
  ].join('\n');
}

/** Columns: text left-aligned, numbers (the columns in `numeric`) right-aligned; a rule under the header and above the footer. */
function table(header: string[], rows: string[][], footer: string[], numeric: Set<number>): string[] {
  const all = [header, ...rows, footer];
  const widths = header.map((_, col) => Math.max(...all.map((r) => r[col].length)));
  const line = (r: string[]) => r.map((cell, col) => (numeric.has(col) ? cell.padStart(widths[col]) : cell.padEnd(widths[col]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line), rule, line(footer)];
}

const shapeText = (t: { dtype: string; shape: readonly number[] }) => `${t.dtype}[${t.shape.join(',')}]`;

/**
 * TFLite 2.x converters name a fused op's output after every op folded into it, joined by ';'
 * (hundreds of characters): the table shows the first, the JSON the whole name.
 */
const shortName = (name: string) => name.split(';')[0];

/** The model file (or TF.js model.json / folder) read once: its bytes when it is a .tflite, and its graph. */
async function readModel(path: string): Promise<{ source: ModelSource; bytes?: Uint8Array; graph: Graph }> {
  const source = await readModelFile(path);
  if (source instanceof Uint8Array) return { source, bytes: source, graph: readTflite(source) };
  return { source, graph: source as Graph };
}

export interface ModelStatsArgs {
  /** a path already resolved (src/cli/models.ts resolveModel) */
  model: string;
  json: boolean;
}

/** `stats --model`: per-op mult-adds and params of any loadable model (src/arch/graph-stats.ts). */
export async function statsModelCommand(args: ModelStatsArgs): Promise<string> {
  const { graph } = await readModel(args.model);
  const s: GraphStats = graphStats(graph);
  const inputs: TensorInfo[] = graph.inputs ?? [graph.input];
  const outputs: TensorInfo[] = graph.outputs ?? [graph.output];
  if (args.json) {
    const io = (t: TensorInfo) => ({ name: t.name, dtype: t.dtype, shape: t.shape });
    return JSON.stringify({ model: args.model, source: graph.source, inputs: inputs.map(io), outputs: outputs.map(io), macs: s.macs, params: s.params, layers: s.layers });
  }
  const header = ['#', 'layer', 'op', 'output', 'mult-adds', 'params'];
  const rows = s.layers.map((l) => [String(l.index), shortName(l.name), l.op, l.outputShape.join('x'), grouped(l.macs), grouped(l.params)]);
  const footer = ['', 'total', '', '', millions(s.macs), millions(s.params)];
  return [
    `${args.model}: ${s.layers.length} ops (${graph.source}); input${inputs.length > 1 ? 's' : ''} ${inputs.map(shapeText).join(', ')}; output${outputs.length > 1 ? 's' : ''} ${outputs.map(shapeText).join(', ')}`,
    'mult-adds: conv, depthwise and fully-connected weights x output positions; params: their weights + biases, counted as values',
    '(a quantized weight is one parameter); every other op counts 0. Layer names are the first part of the output tensor names.',
    '',
    ...table(header, rows, footer, new Set([0, 4, 5])),
  ].join('\n');
}

export interface InfoArgs {
  model: string;
  json: boolean;
  kernels?: KernelChoice;
}

export interface InfoReport {
  model: string;
  /** MobileNet.load's ModelInfo (its `macs` is the kernels' work estimate: the elementwise ops' elements too) */
  info: ModelInfo;
  /** the paper's count, as `stats --model` gives it */
  multAdds: number;
  params: number;
  /** the .tflite file's TFLite metadata; null when it has none (or the model is a TF.js one) */
  metadata: TfliteMetadata | null;
}

/** `info --model`: the model as MobileNet.load sees it, plus its TFLite metadata. */
export async function infoCommand(args: InfoArgs): Promise<string> {
  const { source, bytes, graph } = await readModel(args.model);
  // the metadata first: a damaged TFLITE_METADATA entry is INVALID_MODEL before the kernels load
  const metadata = bytes ? (readTfliteMetadata(bytes) ?? null) : null;
  const counted = graphStats(graph);
  const net = await loadModel(source, { kernels: args.kernels ?? 'auto' });
  let info: ModelInfo;
  try {
    info = net.info;
  } finally {
    net.dispose();
  }
  const report: InfoReport = { model: args.model, info, multAdds: counted.macs, params: counted.params, metadata };
  return args.json ? JSON.stringify(report) : formatInfo(report);
}

const quantText = (t: TensorDescription) => (t.quant ? `, scale ${t.quant.scale}, zero point ${t.quant.zeroPoint}` : '');
const bytesText = (n: number) => `${grouped(n)} bytes (${(n / 2 ** 20).toFixed(2)} MiB)`;

function formatInfo(r: InfoReport): string {
  const { info, metadata } = r;
  const lines = [
    `model: ${r.model}`,
    `task: ${info.task}${info.task === 'classifier' || info.task === 'detector' ? ` (${info.classes} classes)` : ''}`,
    `format: ${info.source}, precision ${info.precision}, kernels ${info.kernels}`,
    ...info.inputs.map((t, i) => `input ${i}: ${t.name} ${shapeText(t)}${quantText(t)}`),
    ...info.outputs.map((t, i) => `output ${i}: ${t.name} ${shapeText(t)}${quantText(t)}`),
    `mult-adds: ${millions(r.multAdds)} (conv, depthwise and fully-connected, as stats --model counts); params: ${millions(r.params)}`,
    `runtime work: ${millions(info.macs)} (the kernels' estimate: mult-adds plus the elementwise ops' elements)`,
    `weights: ${bytesText(info.weightBytes)} packed`,
    `activations: ${bytesText(info.activationBytes)} (largest tensor ${grouped(info.maxActivationBytes)} bytes)`,
    `wasm memory: ${bytesText(info.memoryBytes)}`,
  ];
  if (!metadata) {
    lines.push('metadata: none');
  } else {
    lines.push('metadata:');
    for (const key of ['name', 'description', 'version', 'author', 'license'] as const) {
      if (metadata[key] !== undefined) lines.push(`  ${key}: ${oneLine(metadata[key]!)}`);
    }
    for (const [i, t] of metadata.inputs.entries()) {
      const what = [t.name, t.description && oneLine(t.description)].filter(Boolean).join(': ');
      lines.push(`  input ${i}: ${what || '(no description)'}`);
      if (t.normalization) lines.push(`    normalization: (x - mean ${fmtList(t.normalization.mean)}) / std ${fmtList(t.normalization.std)}`);
      if (t.range) lines.push(`    range: min ${fmtList(t.range.min)}, max ${fmtList(t.range.max)}`);
    }
    for (const [i, t] of metadata.outputs.entries()) {
      const what = [t.name, t.description && oneLine(t.description)].filter(Boolean).join(': ');
      lines.push(`  output ${i}: ${what || '(no description)'}`);
    }
    if (metadata.labelFile) lines.push(`  labels file: ${metadata.labelFile}`);
  }
  return lines.join('\n');
}

const fmtList = (v: number[]) => (v.length === 1 ? String(v[0]) : `[${v.join(', ')}]`);
