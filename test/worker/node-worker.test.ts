// mobilenet-wasm/worker in Node (worker_threads): several models with calls outstanding give
// byte-identical results to the same models in-process; buffers move on request; dispose
// rejects what is pending; errors come back as MobileNetError with the worker's code.
// Imports dist/ (npm run build:ts), since the worker thread runs the built script.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = join(__dirname, '..', '..');
const models = resolve(process.env.MOBILENET_WASM_MODELS ?? join(root, '..', 'shared', 'models'));
const photo = join(models, '..', 'images', 'samples', 'grace_hopper.bmp');
const built = existsSync(join(root, 'dist', 'worker', 'node.js'));
const skip = !built ? 'dist/ missing: run npm run build:ts' : !existsSync(models) ? 'skipped: ../shared not found; set MOBILENET_WASM_MODELS' : undefined;
if (skip) console.warn(`[worker] ${skip}`);

type Api = typeof import('../../src/node.js');
type WorkerApi = typeof import('../../src/worker/node.js');

describe.skipIf(!!skip)('MobileNetWorker (worker_threads)', () => {
  let api: Api;
  let W: WorkerApi['MobileNetWorker'];
  let image: Awaited<ReturnType<Api['decodeImageFile']>>;
  const quant = () => join(models, 'mobilenet_v1_1.0_224_quant.tflite');
  const float = () => join(models, 'mobilenet_v1_0.25_128.tflite');

  beforeAll(async () => {
    api = (await import(join(root, 'dist', 'node.js'))) as Api;
    W = ((await import(join(root, 'dist', 'worker', 'node.js'))) as WorkerApi).MobileNetWorker;
    image = await api.decodeImageFile(photo);
  });

  it('two models with calls outstanding on both equal the in-process results byte for byte', async () => {
    const [localQ, localF] = await Promise.all([api.loadModel(quant()), api.loadModel(float())]);
    const [wq, wf] = await Promise.all([W.load(quant()), W.load(readFileSync(float()))]);
    try {
      expect(wq.info).toEqual(localQ.info);
      expect(wf.info).toEqual(localF.info);
      const inputQ = api.preprocess(image, { name: 'input', dtype: 'uint8', shape: [1, 224, 224, 3], quant: { scale: [1 / 128], zeroPoint: [128] } } as never) as Uint8Array;
      const [cq, cf, eq, ef, rq, batch] = await Promise.all([
        wq.classify(image),
        wf.classify(image, { topK: 10 }),
        wq.embed(image),
        wf.embed(image),
        wq.run(inputQ),
        wf.classify([image, image], { topK: 3 }),
      ]);
      expect(cq[0]).toMatchObject({ index: 653, label: 'military uniform' });
      expect(cq).toEqual(localQ.classify(image));
      expect(cf).toEqual(localF.classify(image, { topK: 10 }));
      expect(batch).toEqual(localF.classify([image, image], { topK: 3 }));
      expect(Buffer.from(eq.buffer)).toEqual(Buffer.from((localQ.embed(image) as Float32Array).buffer));
      expect(Buffer.from(ef.buffer)).toEqual(Buffer.from((localF.embed(image) as Float32Array).buffer));
      expect(rq).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(rq.buffer)).toEqual(Buffer.from(localQ.run(inputQ).buffer));
    } finally {
      wq.dispose();
      wf.dispose();
    }
  });

  it('transfer: true moves the pixel buffer (the caller\'s copy is detached); the default copies it', async () => {
    const net = await W.load(quant());
    try {
      const copy = { data: image.data.slice(), width: image.width, height: image.height };
      const expected = await net.classify(copy);
      expect(copy.data.length).toBe(image.data.length);
      const moved = { data: image.data.slice(), width: image.width, height: image.height };
      expect(await net.classify(moved, { transfer: true })).toEqual(expected);
      expect(moved.data.length).toBe(0);
    } finally {
      net.dispose();
    }
  });

  it('a Blob is decoded in the worker by the Node decoders', async () => {
    const net = await W.load(quant());
    try {
      const top = await net.classify(new Blob([readFileSync(photo)]));
      expect(top).toEqual(await net.classify(image));
      await expect(net.classify(new Blob([new Uint8Array([1, 2, 3, 4])]))).rejects.toMatchObject({ name: 'MobileNetError', code: 'INVALID_IMAGE' });
    } finally {
      net.dispose();
    }
  });

  it('dispose rejects the outstanding calls and every later one with DISPOSED', async () => {
    const net = await W.load(quant());
    const pending = [net.classify(image), net.embed(image), net.classify([image, image])];
    net.dispose();
    for (const p of pending) await expect(p).rejects.toMatchObject({ name: 'MobileNetError', code: 'DISPOSED' });
    await expect(net.classify(image)).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(net.run(new Uint8Array(224 * 224 * 3))).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('errors from the worker keep their code and message; bad arguments are refused before posting', async () => {
    const net = await W.load(quant());
    try {
      await expect(net.classify(image, { topK: 0 })).rejects.toMatchObject({ name: 'MobileNetError', code: 'INVALID_OPTION', message: expect.stringMatching(/topK/) });
      await expect(net.classify({ data: new Uint8Array(5), width: 2, height: 2 })).rejects.toMatchObject({ code: 'INVALID_IMAGE', message: expect.stringMatching(/5 bytes/) });
      await expect(net.run(new Float32Array(3))).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/Uint8Array/) });
      await expect(net.classify(42 as never)).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
      await expect(net.classify(image, { transfer: 'yes' } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      await expect(net.classify(image, { crop: () => 1 } as never)).rejects.toMatchObject({ name: 'MobileNetError', code: 'INVALID_INPUT', message: expect.stringMatching(/could not be sent/) });
      // the worker survives all of that
      expect((await net.classify(image))[0].index).toBe(653);
    } finally {
      net.dispose();
    }
  });

  it('an idle model does not keep the process alive; one with a call outstanding does until it is answered', () => {
    const script = `
      import { MobileNetWorker } from ${JSON.stringify(join(root, 'dist', 'worker', 'node.js'))};
      const net = await MobileNetWorker.load(${JSON.stringify(quant())});
      net.classify({ data: new Uint8Array(12), width: 2, height: 2 }).then((top) => console.log('answered', top[0].index));
    `;
    // without dispose(): the process ends by itself once the call is answered (the test's timeout would catch a hang);
    // run with --input-type, which the thread must not inherit (Node refuses it for a worker file)
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(out.trim()).toMatch(/^answered \d+$/);
  });

  it('a load that fails rejects with the load error, typed', async () => {
    await expect(W.load(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ name: 'MobileNetError', code: 'INVALID_MODEL' });
    await expect(W.load(join(models, 'no-such-model.tflite'))).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/no such file/) });
    await expect(W.load(quant(), { worker: 'x.js' } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/unknown option 'worker'/) });
    await expect(W.load(quant(), { kernels: 'fast' } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
