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
import { resolveModel, resolveLabels } from './models.js';
import { bench, formatBench } from './bench.js';
import { decodeImageFile } from '../image/decode-node.js';
import { cmdEval } from './eval.js';
import { cmdFetch } from './fetch.js';

export class UsageError extends Error {}

const USAGE = `usage: mobilenet-wasm <command> [options]

commands:
  run   --model M.tflite --input IN.bin --output OUT.bin [--kernels auto|simd|scalar|relaxed]
        raw little-endian tensors in the model's own input/output dtype and NHWC shape
  stats --alpha A --resolution R [--json]
        multiply-adds and parameters of MobileNet v1 (1000 classes), per layer and total
  classify [--model M.tflite|NAME] [--labels L.txt] [--top K] [--json] [--no-crop] [--kernels K] IMAGE...
        top classes of JPEG/PNG/BMP/GIF photos. The model is --model, else the default model
        (mobilenet_v1_1.0_224_quant) in $MOBILENET_WASM_MODELS, else in weights/models/
  bench (--model M.tflite | --alpha A --resolution R --precision f32|uint8|int8) [--runs N]
        [--warmup-ms MS] [--kernels K] [--profile] [--json] [--wasm-dir DIR]
        latency after a warm-up (default 3000 ms, 30 runs); --profile adds per-layer times
  eval  [--models DIR] [--photos DIR] [--limit N] [--out bench/ACCURACY.md] [--kernels K] [--crop tf-slim|aosp-square|none]
        top-1 / top-5 of every ImageNet model in DIR on the labelled photos vs AOSP's figures
  fetch [NAME...|--all|--list] [--force] [--dir DIR] [--base-url URL] [--timeout SEC] [--max-size MIB]
        download official MobileNet v1 .tflite files (default mobilenet_v1_1.0_224_quant) into
        --dir, else $MOBILENET_WASM_MODELS, else weights/models/ ($MOBILENET_WASM_FETCH_BASE = --base-url)
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

async function cmdClassify(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    model: { type: 'string' },
    labels: { type: 'string' },
    top: { type: 'string' },
    json: { type: 'boolean' },
    'no-crop': { type: 'boolean' },
    kernels: { type: 'string' },
  });
  if (positionals.length === 0) throw new UsageError('classify needs at least one image file');
  const top = values.top === undefined ? 5 : Number(values.top);
  if (!(Number.isInteger(top) && top >= 1)) throw new UsageError(`--top must be a positive integer, got '${values.top}'`);
  const net = await loadModel(resolveModel(values.model as string | undefined), { kernels: kernelsOpt(values.kernels) });
  const labels = resolveLabels(values.labels as string | undefined, net.info.classes);
  if (labels) net.setLabels(labels);
  const crop = values['no-crop'] ? 'none' : 'central';
  const progress = positionals.length > 5 ? progressBar(positionals.length) : undefined;
  let failed = 0;
  for (const [i, path] of positionals.entries()) {
    progress?.(i, path);
    let result;
    try {
      result = net.classify(await decodeImageFile(path), { topK: top, crop });
    } catch (e) {
      // one bad photo in a batch should not hide the others' results
      if (positionals.length === 1) throw e;
      failed++;
      const msg = e instanceof MobileNetError ? `${e.code}: ${e.message}` : String(e);
      process.stderr.write(`mobilenet-wasm: error: ${path}: ${msg.split('\n')[0]}\n`);
      continue;
    }
    if (values.json) {
      process.stdout.write(JSON.stringify({ image: path, top: result.map((r) => ({ index: r.index, label: r.label ?? null, score: r.score })) }) + '\n');
    } else {
      process.stdout.write(`${path}\n`);
      for (const [rank, r] of result.entries()) {
        process.stdout.write(`  ${String(rank + 1).padStart(2)}  ${r.score.toFixed(4)}  ${r.label ?? '?'} (${r.index})\n`);
      }
    }
  }
  progress?.(positionals.length, '');
  net.dispose();
  if (failed) throw new MobileNetError('INVALID_IMAGE', `${failed} of ${positionals.length} images could not be classified`);
}

/** Progress on stderr: a bar redrawn in place on a terminal, a line every 10% otherwise. */
export function progressBar(total: number, label = 'images'): (done: number, name: string) => void {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  return (done, name) => {
    if (tty) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label} ${name.slice(-40).padEnd(40)}`);
      if (done === total) process.stderr.write('\n');
    } else {
      const tenth = Math.floor((done / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${done}/${total} ${label}\n`);
      }
    }
  };
}

async function cmdBench(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    model: { type: 'string' },
    alpha: { type: 'string' },
    resolution: { type: 'string' },
    precision: { type: 'string' },
    runs: { type: 'string' },
    'warmup-ms': { type: 'string' },
    kernels: { type: 'string' },
    profile: { type: 'boolean' },
    json: { type: 'boolean' },
    'wasm-dir': { type: 'string' },
  });
  const num = (name: string, def?: number) => {
    const v = values[name];
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number, got '${v}'`);
    return n;
  };
  const precisions: Record<string, 'float32' | 'uint8' | 'int8'> = { f32: 'float32', float32: 'float32', uint8: 'uint8', int8: 'int8' };
  const p = values.precision as string | undefined;
  if (p !== undefined && !precisions[p]) throw new UsageError(`--precision must be f32, uint8 or int8, got '${p}'`);
  if (!values.model && (values.alpha === undefined || values.resolution === undefined || !p)) {
    throw new UsageError('bench needs --model M.tflite, or --alpha, --resolution and --precision');
  }
  const runs = num('runs', 30)!;
  if (!(Number.isInteger(runs) && runs >= 1)) throw new UsageError(`--runs must be a positive integer, got '${values.runs}'`);
  const r = await bench({
    model: values.model ? resolveModel(values.model as string) : undefined,
    alpha: num('alpha'),
    resolution: num('resolution'),
    precision: p ? precisions[p] : undefined,
    runs,
    warmupMs: num('warmup-ms', 3000)!,
    kernels: kernelsOpt(values.kernels),
    profile: !!values.profile,
    wasmDir: values['wasm-dir'] as string | undefined,
  });
  process.stdout.write((values.json ? JSON.stringify(r) : formatBench(r)) + '\n');
}

const COMMANDS: Record<string, (argv: string[]) => void | Promise<void>> = {
  run: cmdRun,
  stats: cmdStats,
  classify: cmdClassify,
  bench: cmdBench,
  eval: cmdEval,
  fetch: cmdFetch,
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
