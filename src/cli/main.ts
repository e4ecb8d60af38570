/**
 * `mobilenet-wasm <command>`: run, stats (and the commands added by later issues).
 * Errors print one line to stderr and exit non-zero (2 for usage, 1 otherwise).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import { MobileNetError } from '../errors.js';
import { loadModel } from '../node.js';
import { sizeOf } from '../model/ir.js';
import type { KernelChoice } from '../runtime/kernels.js';
import type { Tensor } from '../mobilenet.js';
import { statsCommand } from './stats.js';

export class UsageError extends Error {}

const USAGE = `usage: mobilenet-wasm <command> [options]

commands:
  run   --model M.tflite --input IN.bin --output OUT.bin [--kernels auto|simd|scalar|relaxed]
        raw little-endian tensors in the model's own input/output dtype and NHWC shape
  stats --alpha A --resolution R [--json]
        multiply-adds and parameters of MobileNet v1 (1000 classes), per layer and total
`;

type Options = NonNullable<ParseArgsConfig['options']>;

function parse(argv: string[], options: Options) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function need(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

function kernelsOpt(v: unknown): KernelChoice {
  const k = (v ?? 'auto') as string;
  if (!['auto', 'simd', 'scalar', 'relaxed'].includes(k)) throw new UsageError(`--kernels must be auto, simd, scalar or relaxed, got '${k}'`);
  return k as KernelChoice;
}

async function cmdRun(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    model: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
    kernels: { type: 'string' },
  });
  const net = await loadModel(need(values, 'model'), { kernels: kernelsOpt(values.kernels) });
  const inPath = need(values, 'input');
  const outPath = need(values, 'output');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(inPath));
  } catch {
    throw new MobileNetError('IO', `cannot read input file ${inPath}`);
  }
  const t = net.info.input;
  const n = sizeOf(t.shape);
  const esize = t.dtype === 'float32' ? 4 : 1;
  if (bytes.length !== n * esize) {
    throw new MobileNetError(
      'INVALID_INPUT',
      `${inPath} has ${bytes.length} bytes but the model input ${t.dtype}[${t.shape.join(',')}] needs ${n * esize}`,
    );
  }
  // copy so the typed array is aligned and owned; raw files are little-endian, as is wasm
  const copy = bytes.slice().buffer;
  const input: Tensor = t.dtype === 'float32' ? new Float32Array(copy) : t.dtype === 'uint8' ? new Uint8Array(copy) : new Int8Array(copy);
  const out = net.run(input);
  await writeFile(outPath, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  net.dispose();
}

function cmdStats(argv: string[]): void {
  const { values } = parse(argv, { alpha: { type: 'string' }, resolution: { type: 'string' }, json: { type: 'boolean' } });
  const alpha = Number(need(values, 'alpha'));
  const resolution = Number(need(values, 'resolution'));
  process.stdout.write(statsCommand({ alpha, resolution, json: !!values.json }) + '\n');
}

const COMMANDS: Record<string, (argv: string[]) => void | Promise<void>> = {
  run: cmdRun,
  stats: cmdStats,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  const fn = COMMANDS[cmd];
  try {
    if (!fn) throw new UsageError(`unknown command '${cmd}'`);
    await fn(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`mobilenet-wasm: ${e.message}\n${USAGE}`);
      return 2;
    }
    const msg = e instanceof MobileNetError ? `${e.code}: ${e.message}` : (e as Error)?.stack ?? String(e);
    process.stderr.write(`mobilenet-wasm: error: ${msg.split('\n')[0]}\n`);
    return 1;
  }
}
