/**
 * `mobilenet-wasm train --data DIR --out head.tflite [--model BODY] [--head softmax|knn]
 * [--epochs N] [--k K] [--combined OUT.tflite] [--json]`: one subfolder of DIR per class (the
 * class name is the folder's name), every photo embedded by the body, a head trained on the
 * embeddings (mobilenet-wasm/transfer) and written as a .tflite with its class names; with
 * --combined also the body + head as one model. Progress on stderr, a summary on stdout.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MobileNetError } from '../errors.js';
import { loadModel, readModelFile } from '../node.js';
import { decodeImageFile, minDecodedSizeFor } from '../image/decode-node.js';
import { combineWithBody, createClassifier, LIMITS, type HeadKind, type TrainReport } from '../transfer/index.js';
import { resolveModel } from './models.js';
import { KERNEL_CHOICES, UsageError, choiceOption, intOption, io, need, parse, progressBar } from './common.js';

/** what the decoder reads (src/image/decode-node.ts); other files in a class folder are skipped */
const IMAGE_FILE = /\.(jpe?g|png|bmp|gif)$/i;

export const TRAIN_USAGE = `  train --data DIR --out HEAD.tflite [--model M.tflite|NAME] [--head softmax|knn] [--epochs N]
        [--k K] [--combined OUT.tflite] [--kernels K] [--json]
        teach new classes: DIR holds one folder per class (the folder name is the class name) of
        JPEG/PNG/BMP/GIF photos, at least one per class, at least two classes. Each photo is embedded
        by the model (default as for classify), then a head is trained on the embeddings: softmax
        (multinomial logistic regression, --epochs passes, default 100) or knn (cosine, --k
        neighbours, default 5; saved as its nearest-class-mean head). HEAD.tflite is FULLY_CONNECTED +
        SOFTMAX on the embedding with the class names packed in (classify --head HEAD.tflite);
        --combined writes the model cut at its pool + the head as one .tflite (MobileNet v1 bodies)`;

interface ClassFolder {
  name: string;
  files: string[];
}

/** a directory entry's kind, following a symbolic link (a dangling one is neither) */
async function kindOf(entry: Dirent, folder: string): Promise<'file' | 'dir' | undefined> {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'dir';
  if (!entry.isSymbolicLink()) return undefined;
  const st = await stat(join(folder, entry.name)).catch(() => undefined);
  return st?.isFile() ? 'file' : st?.isDirectory() ? 'dir' : undefined;
}

/** the class folders of DIR, sorted by name, each with its image files sorted by name */
export async function listClassFolders(dir: string): Promise<ClassFolder[]> {
  const entries = await io('list', dir, () => readdir(dir, { withFileTypes: true }), 'data folder');
  const folders: ClassFolder[] = [];
  const names = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of names) {
    if ((await kindOf(e, dir)) !== 'dir') continue;
    const path = join(dir, e.name);
    const files: string[] = [];
    for (const f of await io('list', path, () => readdir(path, { withFileTypes: true }), 'class folder')) {
      if (IMAGE_FILE.test(f.name) && (await kindOf(f, path)) === 'file') files.push(join(path, f.name));
    }
    folders.push({ name: e.name, files: files.sort() });
  }
  if (folders.length < 2) {
    throw new MobileNetError('INVALID_INPUT', `${dir} has ${folders.length === 0 ? 'no class folders' : `one class folder (${folders[0].name})`}: train needs one folder of photos per class, at least two`);
  }
  if (folders.length > LIMITS.labels) throw new MobileNetError('INVALID_INPUT', `${dir} has ${folders.length} class folders; at most ${LIMITS.labels}`);
  const empty = folders.filter((f) => f.files.length === 0);
  if (empty.length) {
    throw new MobileNetError('INVALID_INPUT', `class folder${empty.length > 1 ? 's' : ''} ${empty.map((f) => join(dir, f.name)).join(', ')} ${empty.length > 1 ? 'have' : 'has'} no JPEG/PNG/BMP/GIF photos: every class needs at least one`);
  }
  return folders;
}

async function checkWritableFolder(path: string, what: string): Promise<void> {
  const folder = dirname(path);
  const st = await io('write', path, () => stat(folder), what);
  if (!st.isDirectory()) throw new MobileNetError('IO', `cannot write ${what} ${path}: ${folder} is not a directory`);
}

export async function cmdTrain(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      data: { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      head: { type: 'string' },
      epochs: { type: 'string' },
      k: { type: 'string' },
      combined: { type: 'string' },
      kernels: { type: 'string' },
      json: { type: 'boolean' },
    },
    false,
  );
  const data = need(values, 'data');
  const out = need(values, 'out');
  const head = choiceOption(values, 'head', ['softmax', 'knn'] as const, 'softmax') as HeadKind;
  const epochs = intOption(values, 'epochs', { min: 1, max: LIMITS.epochs }, 100);
  const k = intOption(values, 'k', { min: 1, max: LIMITS.k }, 5);
  if (head === 'knn' && values.epochs !== undefined) throw new UsageError('--epochs is for --head softmax (a kNN head is not trained)');
  if (head === 'softmax' && values.k !== undefined) throw new UsageError('--k is for --head knn');
  const kernels = choiceOption(values, 'kernels', KERNEL_CHOICES, 'auto');
  const combined = values.combined as string | undefined;
  // refuse unwritable outputs before minutes of embedding
  await checkWritableFolder(out, 'head file');
  if (combined !== undefined) await checkWritableFolder(combined, 'combined model');
  const folders = await listClassFolders(data);

  const modelPath = resolveModel(values.model as string | undefined);
  const body = await readModelFile(modelPath);
  const net = await loadModel(body, { kernels });
  try {
    const classifier = createClassifier(net, { head, epochs, k });
    const decode = { minDecodedSize: minDecodedSizeFor(net.info.resolution) };
    const total = folders.reduce((n, f) => n + f.files.length, 0);
    const progress = progressBar(total);
    let done = 0;
    let embedMs = 0;
    progress(0, '');
    for (const folder of folders) {
      for (const file of folder.files) {
        const t0 = performance.now();
        const image = await decodeImageFile(file, { ...decode, name: file });
        await classifier.addExample(image, folder.name);
        embedMs += performance.now() - t0;
        progress(++done, file);
      }
    }
    const epochBar = head === 'softmax' ? progressBar(epochs, 'epochs') : undefined;
    const report: TrainReport = await classifier.train({ onProgress: (p) => epochBar?.(p.epoch, `loss ${p.loss.toFixed(4)}`) });
    const headBytes = classifier.toTflite();
    await io('write', out, () => writeFile(out, headBytes), 'head file');
    let combinedBytes: Uint8Array | undefined;
    if (combined !== undefined) {
      combinedBytes = combineWithBody(body, classifier);
      await io('write', combined, () => writeFile(combined, combinedBytes!), 'combined model');
    }
    const summary = {
      model: modelPath,
      head,
      classes: folders.map((f) => ({ name: f.name, images: f.files.length })),
      images: total,
      embedMsPerImage: embedMs / total,
      trainMs: report.ms,
      epochs: report.epochs,
      loss: report.loss,
      trainingAccuracy: report.accuracy,
      out,
      outBytes: headBytes.length,
      ...(combined !== undefined ? { combined, combinedBytes: combinedBytes!.length } : {}),
    };
    if (values.json) {
      process.stdout.write(JSON.stringify(summary) + '\n');
      return;
    }
    const lines = [
      `${folders.length} classes, ${total} photos: ${folders.map((f) => `${f.name} ${f.files.length}`).join(', ')}`,
      `embedding: ${summary.embedMsPerImage.toFixed(1)} ms per photo (decode + model)`,
      head === 'softmax'
        ? `softmax head: ${report.epochs} epochs in ${report.ms.toFixed(0)} ms, loss ${report.loss.toFixed(4)}, training accuracy ${(100 * report.accuracy).toFixed(1)}%`
        : `knn head (k ${k}): leave-one-out accuracy ${(100 * report.accuracy).toFixed(1)}%; saved as its nearest-class-mean head`,
      `wrote ${out} (${headBytes.length} bytes)${combined !== undefined ? `, ${combined} (${combinedBytes!.length} bytes)` : ''}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    net.dispose();
  }
}
