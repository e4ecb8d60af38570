/**
 * `mobilenet-wasm stats --alpha A --resolution R [--json]`: MobileNet v1's per-layer shapes,
 * mult-adds and parameters, counted as in the paper (see src/arch/mobilenet.ts).
 */
import { mobilenetV1Layers } from '../arch/mobilenet.js';
import { invalidOption } from '../errors.js';

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
  const all = [header, ...rows, footer];
  const widths = header.map((_, col) => Math.max(...all.map((r) => r[col].length)));
  // text columns left-aligned, numbers right-aligned
  const line = (r: string[]) => r.map((cell, col) => (col < 3 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    `MobileNet v1, alpha ${alpha}, ${resolution}x${resolution} input, ${s.classes} classes`,
    'mult-adds: conv, depthwise, pointwise and classifier weights x output positions; params: weights + biases (batch norm folded)',
    '',
    line(header),
    rule,
    ...rows.map(line),
    rule,
    line(footer),
  ].join('\n');
}
