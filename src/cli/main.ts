/**
 * `mobilenet-wasm <command>`: run, stats, info, classify, detect, bench, eval, fetch, train.
 * Every error prints one line to stderr, `mobilenet-wasm: error: CODE: message`, and the exit
 * status is 2 for a usage error (code USAGE), 1 for anything else (see ./common.ts).
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { MobileNetError, type ErrorCode } from '../errors.js';
import { loadModel, readModelFile } from '../node.js';
import { sizeOf } from '../model/ir.js';
import type { Classification, ModelInfo, Tensor } from '../mobilenet.js';
import { MobileNetPool, defaultJobs } from '../worker/pool.js';
import { infoCommand, statsCommand, statsModelCommand } from './stats.js';
import { resolveModel, resolveLabels } from './models.js';
import { bench, formatBench } from './bench.js';
import { decodeImageFile, minDecodedSizeFor } from '../image/decode-node.js';
import { cmdEval } from './eval.js';
import { cmdFetch } from './fetch.js';
import { cmdTrain, TRAIN_USAGE } from './train.js';
import { loadClassifierHead, packedLabels, type Classifier } from '../transfer/index.js';
import { checkOutPath, outPathFor, writeDetectionsImage, type Detection } from './draw-boxes.js';
import {
  KERNEL_CHOICES,
  UsageError,
  choiceOption,
  describeError,
  errorLine,
  inputRangeOption,
  intOption,
  io,
  ioSync,
  need,
  numberOption,
  parse,
  progressBar,
} from './common.js';

export { UsageError, progressBar };

const USAGE = `usage: mobilenet-wasm <command> [options]

commands:
  run   --model M.tflite --input IN.bin [--input IN2.bin...] --output OUT.bin [--output OUT2.bin...]
        [--kernels auto|simd|scalar|relaxed]
        raw little-endian tensors in the model's own input/output dtype and NHWC shape; one --input
        per model input and one --output per model output, in the model's order
  stats --alpha A --resolution R [--json]
        multiply-adds and parameters of MobileNet v1 (1000 classes), per layer and total
        (0 < A <= 4, R an integer from 32 to 1024)
  stats --model M.tflite|NAME [--json]
        the same count for any model (v1, v2, person detector, SSD, a TF.js model.json): per op,
        conv / depthwise / fully-connected weights x output positions and weights + biases
  info  --model M.tflite|NAME [--json] [--kernels K]
        what loading the model reports (task, inputs and outputs with dtype, shape and quantization,
        classes, mult-adds, parameters, weight / activation / memory bytes, kernels) and its
        TFLite metadata (name, description, input normalization) when it has some
  classify [--model M.tflite|NAME] [--head HEAD.tflite] [--labels L.txt] [--top K] [--json] [--no-crop] [--kernels K] [--jobs N] [--input-range LO,HI] IMAGE...
        top K classes (default 5, at most the model's classes) of JPEG/PNG/BMP/GIF photos. The model
        is --model, else the default model (mobilenet_v1_1.0_224_quant) in $MOBILENET_WASM_MODELS,
        else in the user cache folder (see fetch). --jobs N: worker threads that decode and classify
        side by side (default: the number of cores; 1 = in this thread); results print in input order.
        --input-range 0,1: the pixel range a float model was trained on (default -1,1, TF-slim's);
        --head: a head written by train, run on the model's embedding; its class names are the labels
        (runs in this thread)
  detect --model M.tflite|NAME [--labels L.txt] [--json] [--out BOXES.png] [--max-results N]
        [--min-score S] [--kernels K] IMAGE...
        objects in photos with an SSD detector (TFLite_Detection_PostProcess): label, score and box
        (x, y, width, height in the photo's pixels), best first; --min-score 0..1 (default 0.5);
        --json: one line per image, {"image", "detections": [{"label", "score", "box"}]};
        --out: the photo with its boxes drawn (.png, .jpg or .bmp; with several images, BOXES-1.png,
        BOXES-2.png...)
  bench (--model M.tflite | --alpha A --resolution R --precision f32|uint8|int8) [--runs N]
        [--warmup-ms MS] [--kernels K] [--profile] [--json] [--wasm-dir DIR]
        latency after a warm-up (default 3000 ms, at most 600000; 30 runs, at most 10000);
        --profile adds per-layer times
  eval  [--models DIR] [--photos DIR] [--limit N] [--out bench/ACCURACY.md] [--kernels K] [--crop tf-slim|aosp-square|none]
        top-1 / top-5 of every ImageNet model in DIR on the labelled photos vs AOSP's figures
  fetch [NAME...|--all|--list] [--force] [--dir DIR] [--base-url URL] [--timeout SEC] [--max-size MIB]
        download official MobileNet v1 .tflite files (default mobilenet_v1_1.0_224_quant) into
        --dir, else $MOBILENET_WASM_MODELS, else the user cache folder ($MOBILENET_WASM_CACHE, else
        $XDG_CACHE_HOME/mobilenet-wasm, else ~/.cache/mobilenet-wasm; ~/Library/Caches on macOS,
        %LOCALAPPDATA% on Windows), where load({ model }) finds them too ($MOBILENET_WASM_FETCH_BASE = --base-url);
        0 < SEC <= 3600 (default 60), 0 < MIB <= 4096 (default 256)
${TRAIN_USAGE}
  quantize --model FLOAT.tflite|MODEL.json --calibration DIR --out INT8.tflite [--method minmax|percentile|mse]
        [--percentile P] [--io float|int8|uint8] [--calibration-count N] [--crop aosp-square|tf-slim|none]
        [--bias-correction on|off] [--input-range LO,HI]
        post-training int8 quantization in TFLite's full-integer layout (per-channel conv weights, int32
        biases, int8 activations from statistics of the model run on the first N images of DIR in natural
        order, default 200, cropped as eval does, pixels mapped to --input-range, default -1,1);
        --io float (default: QUANTIZE in, DEQUANTIZE out)

errors: one line on stderr, 'mobilenet-wasm: error: CODE: message'. Exit status 0: success;
  2: usage error (code USAGE: unknown command or option, missing option, option value of the wrong
  type or out of range); 1: anything else (INVALID_MODEL, UNSUPPORTED_MODEL, INVALID_INPUT,
  INVALID_IMAGE, OUT_OF_MEMORY, IO for files and network, INTERNAL for a bug).
`;

/** MobileNet v1 shapes the stats and bench commands accept (what statsCommand checks). */
const ALPHA = { min: 0, minExclusive: true, max: 4 } as const;
const RESOLUTION = { min: 32, max: 1024 } as const;

async function cmdRun(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      model: { type: 'string' },
      input: { type: 'string', multiple: true },
      output: { type: 'string', multiple: true },
      kernels: { type: 'string' },
    },
    false,
  );
  const modelPath = need(values, 'model');
  const inPaths = values.input ?? [];
  const outPaths = values.output ?? [];
  if (inPaths.length === 0) throw new UsageError('--input is required');
  if (outPaths.length === 0) throw new UsageError('--output is required');
  const kernels = choiceOption(values, 'kernels', KERNEL_CHOICES, 'auto');
  const net = await loadModel(modelPath, { kernels });
  try {
    const { inputs: wantIn, outputs: wantOut } = net.info;
    // one file per model input and per output, in the model's order
    const counts = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
    if (inPaths.length !== wantIn.length || outPaths.length !== wantOut.length) {
      throw new MobileNetError(
        'INVALID_OPTION',
        `the model has ${counts(wantIn.length, 'input')} and ${counts(wantOut.length, 'output')}, but ${counts(inPaths.length, '--input')} and ${counts(outPaths.length, '--output')} were given (one per tensor, in the model's order)`,
      );
    }
    const many = wantIn.length > 1;
    const inputs: Tensor[] = [];
    for (const [i, inPath] of inPaths.entries()) {
      const bytes = new Uint8Array(await io('read', inPath, () => readFile(inPath), 'input file'));
      const t = wantIn[i];
      const n = sizeOf(t.shape);
      const esize = t.dtype === 'float32' ? 4 : 1;
      if (bytes.length !== n * esize) {
        const which = many ? `model input ${i} ('${t.name}')` : 'model input';
        throw new MobileNetError('INVALID_INPUT', `${inPath} has ${bytes.length} bytes but the ${which} ${t.dtype}[${t.shape.join(',')}] needs ${n * esize}`);
      }
      // copy so the typed array is aligned and owned; raw files are little-endian, as is wasm
      const copy = bytes.slice().buffer;
      inputs.push(t.dtype === 'float32' ? new Float32Array(copy) : t.dtype === 'uint8' ? new Uint8Array(copy) : new Int8Array(copy));
    }
    const outs = net.runAll(inputs);
    for (const [i, outPath] of outPaths.entries()) {
      const out = outs[i];
      await io('write', outPath, () => writeFile(outPath, new Uint8Array(out.buffer, out.byteOffset, out.byteLength)), 'output file');
    }
  } finally {
    net.dispose();
  }
}

async function cmdDetect(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    model: { type: 'string' },
    labels: { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
    'max-results': { type: 'string' },
    'min-score': { type: 'string' },
    kernels: { type: 'string' },
  });
  const model = need(values, 'model');
  if (positionals.length === 0) throw new UsageError('detect needs at least one image file');
  const maxResults = intOption(values, 'max-results', { min: 1, max: 100_000 });
  const minScore = numberOption(values, 'min-score', { min: 0, max: 1 });
  const kernels = choiceOption(values, 'kernels', KERNEL_CHOICES, 'auto');
  const out = values.out as string | undefined;
  if (out !== undefined) checkOutPath(out);
  const labels = resolveLabels(values.labels as string | undefined, 0);
  const net = await loadModel(resolveModel(model), { kernels, labels });
  const failures: string[] = [];
  try {
    if (net.info.task !== 'detector') {
      throw new MobileNetError('UNSUPPORTED_MODEL', `${model} is not an object detector (it does not end in TFLite_Detection_PostProcess): use classify or run`);
    }
    for (const [i, path] of positionals.entries()) {
      try {
        // full size: the boxes come back in these pixels, and --out draws on the same pixels
        const image = await decodeImageFile(path, { name: path });
        const found: Detection[] = net.detect(image, { maxResults, minScore });
        if (values.json) {
          const detections = found.map((d) => ({ label: d.label ?? null, index: d.index, score: d.score, box: d.box }));
          process.stdout.write(JSON.stringify({ image: path, detections }) + '\n');
        } else {
          process.stdout.write(`${path}: ${found.length} object${found.length === 1 ? '' : 's'}\n`);
          for (const d of found) {
            const b = d.box;
            const box = `x ${Math.round(b.x)}, y ${Math.round(b.y)}, ${Math.round(b.width)} x ${Math.round(b.height)}`;
            process.stdout.write(`  ${d.score.toFixed(4)}  ${(d.label ?? `#${d.index}`).padEnd(16)}  ${box}\n`);
          }
        }
        if (out !== undefined) await writeDetectionsImage(image, found, outPathFor(out, i, positionals.length));
      } catch (e) {
        // one bad photo in a batch should not hide the others' results
        if (positionals.length === 1) throw e;
        failures.push(describeError(e).code);
        process.stderr.write(errorLine(e, path));
      }
    }
  } finally {
    net.dispose();
  }
  if (failures.length) {
    const same = failures.every((c) => c === failures[0]) && failures[0] !== 'INTERNAL' ? (failures[0] as ErrorCode) : 'INVALID_IMAGE';
    throw new MobileNetError(same, `${failures.length} of ${positionals.length} images could not be searched for objects`);
  }
}

async function cmdStats(argv: string[]): Promise<void> {
  const { values } = parse(argv, { alpha: { type: 'string' }, resolution: { type: 'string' }, model: { type: 'string' }, json: { type: 'boolean' } }, false);
  if (values.model !== undefined) {
    // a model file has its own shape: --alpha / --resolution describe the architecture form only
    if (values.alpha !== undefined || values.resolution !== undefined) {
      throw new UsageError('stats takes --model, or --alpha and --resolution (MobileNet v1 by architecture), not both');
    }
    const model = need(values, 'model');
    process.stdout.write((await statsModelCommand({ model: resolveModel(model), json: !!values.json })) + '\n');
    return;
  }
  if (values.alpha === undefined && values.resolution === undefined) {
    throw new UsageError('stats needs --model M.tflite|NAME, or --alpha A and --resolution R');
  }
  need(values, 'alpha');
  need(values, 'resolution');
  const alpha = numberOption(values, 'alpha', ALPHA)!;
  const resolution = intOption(values, 'resolution', RESOLUTION)!;
  process.stdout.write(statsCommand({ alpha, resolution, json: !!values.json }) + '\n');
}

async function cmdInfo(argv: string[]): Promise<void> {
  const { values } = parse(argv, { model: { type: 'string' }, json: { type: 'boolean' }, kernels: { type: 'string' } }, false);
  const model = need(values, 'model');
  const kernels = choiceOption(values, 'kernels', KERNEL_CHOICES, 'auto');
  process.stdout.write((await infoCommand({ model: resolveModel(model), json: !!values.json, kernels })) + '\n');
}

async function cmdClassify(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    model: { type: 'string' },
    labels: { type: 'string' },
    top: { type: 'string' },
    json: { type: 'boolean' },
    'no-crop': { type: 'boolean' },
    kernels: { type: 'string' },
    jobs: { type: 'string' },
    'input-range': { type: 'string' },
    head: { type: 'string' },
  });
  if (positionals.length === 0) throw new UsageError('classify needs at least one image file');
  // a float model trained on [0,1] pixels (not the TF-slim [-1,1]) says so with --input-range 0,1
  const inputRange = inputRangeOption(values);
  // the upper bound is the model's class count, checked once the model is loaded
  const topRange = (classes?: number) => `--top must be an integer from 1 to ${classes ?? "the model's number of classes"}, got '${values.top}'`;
  let top = values.top === undefined ? 5 : /^\+?\d+$/.test(values.top as string) ? Number(values.top) : NaN;
  if (!(Number.isSafeInteger(top) && top >= 1)) throw new UsageError(topRange());
  const kernels = choiceOption(values, 'kernels', KERNEL_CHOICES, 'auto');
  // worker threads: as many as cores by default, never more than images
  const jobs = Math.min(intOption(values, 'jobs', { min: 1, max: 256 }, defaultJobs()), positionals.length);
  const modelPath = resolveModel(values.model as string | undefined);
  const crop = values['no-crop'] ? 'none' : 'central';

  // one image or one job: in this thread; otherwise a pool whose threads decode and classify
  let classifyOne: (path: string) => Promise<Classification[]>;
  let info: ModelInfo;
  let close: () => Promise<void> | void;
  let setLabels: (labels: string[]) => void;
  // large JPEGs decode at 1/2, 1/4 or 1/8 scale when the model still gets a pixel per input pixel
  const decodeFor = (m: ModelInfo) => ({ minDecodedSize: minDecodedSizeFor(m.resolution, { crop }) });
  const headPath = values.head as string | undefined;
  if (headPath !== undefined) {
    // the head runs on embed()'s output in this thread (the worker pool classifies whole models)
    const headBytes = (await readModelFile(headPath)) as Uint8Array;
    const given = values.labels === undefined ? undefined : resolveLabels(values.labels as string, 0);
    const net = await loadModel(modelPath, { kernels });
    let head: Classifier;
    try {
      head = loadClassifierHead(net, headBytes, given);
      // one blank image tells the embedding's length: a head of another model fails once, here
      const side = net.info.resolution;
      const features = net.embed({ data: new Uint8Array(side * side * 3), width: side, height: side, channels: 3 }).length;
      if (features !== head.dimension) {
        throw new MobileNetError('INVALID_INPUT', `${headPath} was trained on ${head.dimension}-float embeddings but ${modelPath} gives ${features}: classify with the --model the head was trained with`);
      }
    } catch (e) {
      net.dispose();
      throw e;
    }
    const decode = decodeFor(net.info);
    info = { ...net.info, classes: head.labels.length };
    setLabels = () => {}; // the head's own names, or --labels given to it above
    classifyOne = async (path) => {
      const embedding = net.embed(await decodeImageFile(path, { ...decode, name: path }), { crop, inputRange });
      return head.predictEmbedding(embedding, { topK: top }).map((p) => ({ index: head.labels.indexOf(p.label), label: p.label, score: p.score }));
    };
    close = () => net.dispose();
  } else if (jobs <= 1) {
    const net = await loadModel(modelPath, { kernels });
    info = net.info;
    const decode = decodeFor(info);
    setLabels = (labels) => net.setLabels(labels);
    classifyOne = async (path) => net.classify(await decodeImageFile(path, { ...decode, name: path }), { topK: top, crop, inputRange }); // messages name the path as given
    close = () => net.dispose();
  } else {
    const pool = await MobileNetPool.load(modelPath, { kernels, jobs }); // its threads decode as decodeFor does
    info = pool.info;
    let names: string[] | undefined;
    setLabels = (l) => (names = l);
    classifyOne = async (path) => {
      const result = await pool.classify(path, { topK: top, crop, inputRange });
      return names ? result.map((r) => ({ ...r, label: names![r.index] })) : result;
    };
    close = () => pool.dispose();
  }
  try {
    // the default 5 shrinks to a model with fewer classes (the person detector has 2)
    if (values.top === undefined) top = Math.min(top, info.classes);
    if (top > info.classes) throw new UsageError(topRange(info.classes));
    // else the class names packed in the file (a model written by train --combined)
    const labels = resolveLabels(values.labels as string | undefined, info.classes) ?? (headPath === undefined ? packedLabelsOf(modelPath, info.classes) : undefined);
    if (labels) setLabels(labels);
  } catch (e) {
    await close();
    throw e;
  }

  const progress = positionals.length > 5 ? progressBar(positionals.length) : undefined;
  const failures: string[] = [];
  const print = (path: string, result: Classification[]) => {
    if (values.json) {
      process.stdout.write(JSON.stringify({ image: path, top: result.map((r) => ({ index: r.index, label: r.label ?? null, score: r.score })) }) + '\n');
    } else {
      process.stdout.write(`${path}\n`);
      for (const [rank, r] of result.entries()) {
        process.stdout.write(`  ${String(rank + 1).padStart(2)}  ${r.score.toFixed(4)}  ${r.label ?? '?'} (${r.index})\n`);
      }
    }
  };
  // results print in input order as soon as every earlier image is done; at most two images per
  // job are in flight (one decoding while the other runs the model)
  const outcomes: ({ top: Classification[] } | { error: unknown } | undefined)[] = new Array(positionals.length);
  let printed = 0;
  let done = 0;
  let next = 0;
  const flush = () => {
    while (printed < positionals.length && outcomes[printed]) {
      const path = positionals[printed];
      const o = outcomes[printed]!;
      outcomes[printed++] = undefined;
      if ('top' in o) print(path, o.top);
      else {
        // one bad photo in a batch should not hide the others' results
        if (positionals.length === 1) throw o.error;
        failures.push(describeError(o.error).code);
        // on a terminal the progress bar holds the line: start a new one
        process.stderr.write((progress && process.stderr.isTTY ? '\n' : '') + errorLine(o.error, path));
      }
    }
  };
  const lane = async () => {
    while (next < positionals.length) {
      const i = next++;
      try {
        outcomes[i] = { top: await classifyOne(positionals[i]) };
      } catch (e) {
        outcomes[i] = { error: e };
      }
      progress?.(++done, positionals[i]);
      flush();
    }
  };
  try {
    progress?.(0, '');
    await Promise.all(Array.from({ length: Math.max(1, jobs * 2) }, lane));
  } finally {
    await close();
  }
  if (failures.length) {
    // the images' own code when they all failed alike (all missing: IO), else INVALID_IMAGE
    const same = failures.every((c) => c === failures[0]) && failures[0] !== 'INTERNAL' ? (failures[0] as ErrorCode) : 'INVALID_IMAGE';
    throw new MobileNetError(same, `${failures.length} of ${positionals.length} images could not be classified`);
  }
}

/** the label file packed in a .tflite's metadata, when it is stored uncompressed and names every class */
function packedLabelsOf(modelPath: string, classes: number): string[] | undefined {
  if (!modelPath.endsWith('.tflite')) return undefined;
  const labels = packedLabels(new Uint8Array(ioSync('read', modelPath, () => readFileSync(modelPath), 'model')));
  return labels?.length === classes ? labels : undefined;
}

const PRECISIONS = { f32: 'float32', float32: 'float32', uint8: 'uint8', int8: 'int8' } as const;

async function cmdBench(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
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
    },
    false,
  );
  const p = choiceOption(values, 'precision', ['f32', 'float32', 'uint8', 'int8'] as const);
  const alpha = numberOption(values, 'alpha', ALPHA);
  const resolution = intOption(values, 'resolution', RESOLUTION);
  const runs = intOption(values, 'runs', { min: 1, max: 10_000 }, 30);
  const warmupMs = numberOption(values, 'warmup-ms', { min: 0, max: 600_000, unit: 'milliseconds' }, 3000);
  const kernels = choiceOption(values, 'kernels', KERNEL_CHOICES, 'auto');
  const random = alpha !== undefined || resolution !== undefined || p !== undefined;
  if (values.model ? random : !(alpha !== undefined && resolution !== undefined && p)) {
    throw new UsageError(
      values.model
        ? 'bench takes --model, or --alpha, --resolution and --precision (a random model), not both'
        : 'bench needs --model M.tflite, or --alpha, --resolution and --precision',
    );
  }
  const r = await bench({
    model: values.model ? resolveModel(values.model as string) : undefined,
    alpha,
    resolution,
    precision: p ? PRECISIONS[p] : undefined,
    runs,
    warmupMs,
    kernels,
    profile: !!values.profile,
    wasmDir: values['wasm-dir'] as string | undefined,
  });
  process.stdout.write((values.json ? JSON.stringify(r) : formatBench(r)) + '\n');
}

const COMMANDS: Record<string, (argv: string[]) => void | Promise<void>> = {
  run: cmdRun,
  stats: cmdStats,
  info: cmdInfo,
  classify: cmdClassify,
  detect: cmdDetect,
  bench: cmdBench,
  eval: cmdEval,
  fetch: cmdFetch,
  train: cmdTrain,
  // loaded when used: the quantizer is not needed by the other commands
  quantize: async (argv) => (await import('./quantize.js')).cmdQuantize(argv),
};

/**
 * The CLI: returns the exit status. The full usage goes to stdout for `--help`, `-h` or `help`
 * (also after a command, status 0) and to stderr when no command is given (status 2); every
 * error is one line on stderr (see ./common.ts).
 */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const options = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (cmd === '-h' || cmd === '--help' || cmd === 'help' || (Object.hasOwn(COMMANDS, cmd ?? '') && (options.includes('--help') || options.includes('-h')))) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!cmd) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    const fn = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
    if (!fn) throw new UsageError(`unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    await fn(rest);
    return 0;
  } catch (e) {
    process.stderr.write(errorLine(e));
    return describeError(e).status;
  }
}
