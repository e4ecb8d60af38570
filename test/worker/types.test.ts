// The published types of element inputs and of mobilenet-wasm/worker (dist/*.d.ts) compile under
// strict TypeScript with only lib ES2022 (no DOM lib, no @types/node), and with the DOM lib every
// DOM image source, a File and a Worker are accepted by the structural types that stand in for them.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const dist = join(root, 'dist');
const skip = !existsSync(join(dist, 'worker', 'index.d.ts')) ? 'dist/ missing: run npm run build:ts' : undefined;

const BARE_TS = `
import { MobileNetWorker, type WorkerLoadOptions, type WorkerLike } from '${dist}/worker/index.js';
import { MobileNetWorker as NodeWorker } from '${dist}/worker/node.js';
import { MobileNet, readImage, readImageSync, type ImageSource, type RawImage, type Classification } from '${dist}/index.js';

export async function use(bytes: Uint8Array, image: ImageSource, worker: WorkerLike): Promise<Classification[]> {
  const options: WorkerLoadOptions = { worker, kernels: 'auto' };
  const net = await MobileNetWorker.load(bytes, options);
  const inNode = await NodeWorker.load('model.tflite', { kernels: 'simd', maxModelBytes: 1 });
  const embedding: Float32Array = await inNode.embed(image, { transfer: true });
  void embedding;
  const raw: RawImage = await readImage(image);
  const local = await MobileNet.load(bytes);
  local.classify(readImageSync(raw));
  const batch: Classification[][] = await net.classify([image, raw], { topK: 3 });
  void batch;
  net.dispose();
  return net.classify(image, { topK: 5, transfer: false });
}
`;

const DOM_TS = `
import { MobileNet, type ImageSource } from '${dist}/index.js';
import { MobileNetWorker } from '${dist}/worker/index.js';

export async function dom(net: MobileNet, img: HTMLImageElement, canvas: HTMLCanvasElement, video: HTMLVideoElement, file: File) {
  const sources: ImageSource[] = [
    img, canvas, video, new OffscreenCanvas(1, 1), await createImageBitmap(img), new VideoFrame(canvas, { timestamp: 0 }),
    canvas.getContext('2d')!.getImageData(0, 0, 1, 1), file, new Blob([]),
  ];
  net.classify(sources.slice(0, 7));
  const worker = new Worker('w.js', { type: 'module' });
  const remote = await MobileNetWorker.load(new Uint8Array(1), { worker, wasm: { simd: await WebAssembly.compile(new Uint8Array(8)) } });
  await remote.classify(file);
  await MobileNetWorker.load(new Uint8Array(1), { worker: new URL('w.js', location.href) });
}
`;

function tscRun(dir: string, project: string): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [tsc, '-p', project], { cwd: dir, timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

describe.skipIf(!!skip)('types of element inputs and the worker API', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnw-worker-types-'));
    writeFileSync(join(dir, 'bare.ts'), BARE_TS);
    writeFileSync(join(dir, 'dom.ts'), DOM_TS);
    const config = (lib: string[], files: string[]) =>
      JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022', module: 'esnext', moduleResolution: 'bundler', lib, types: [] }, files });
    writeFileSync(join(dir, 'tsconfig.bare.json'), config(['ES2022'], ['bare.ts']));
    writeFileSync(join(dir, 'tsconfig.dom.json'), config(['ES2022', 'DOM'], ['bare.ts', 'dom.ts']));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compile with lib ES2022 only: no DOM or Node names in the declarations', async () => {
    const r = await tscRun(dir, 'tsconfig.bare.json');
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);

  it('with the DOM lib, <img>, <canvas>, <video>, OffscreenCanvas, ImageBitmap, VideoFrame, ImageData, File, Blob and Worker fit', async () => {
    const r = await tscRun(dir, 'tsconfig.dom.json');
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);
});
