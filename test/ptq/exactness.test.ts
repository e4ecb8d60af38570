/**
 * The quantized 0.25/128 (issue 12's model, calibrated here on the sample photos) gives the same
 * int8 output bytes on the scalar, SIMD and relaxed builds, equal to the TFLite reference graph,
 * on real photos, with int8 and float I/O. Needs ../shared.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTflite } from '../../src/formats/tflite.js';
import { decodeImageFile, loadModel, nodeKernelModule } from '../../src/node.js';
import { preprocess } from '../../src/image/preprocess.js';
import { Calibrator, quantizeToTflite } from '../../src/ptq/index.js';
import { applyCrop } from '../../src/cli/eval.js';
import { runReferenceGraph } from '../reference/graph.js';
import { FLAVOURS, MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';

const model = join(MODELS_DIR ?? '', 'mobilenet_v1_0.25_128.tflite');
const samples = join(SHARED_DIR ?? '', 'images', 'samples');
const bytesOf = (x: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

describe.skipIf(!MODELS_DIR || !existsSync(model) || !existsSync(samples))('quantized mobilenet_v1_0.25_128: every build byte-identical (needs ../shared)', () => {
  it('int8 and float I/O, three photos, scalar / simd / relaxed = TFLite reference', async () => {
    const graph = readTflite(new Uint8Array(readFileSync(model)));
    const cal = await Calibrator.create(graph, { wasm: nodeKernelModule });
    const photos = await Promise.all(['grace_hopper.bmp', 'owl.jpg', 'coffee.jpg', 'parrot.jpg'].map((f) => decodeImageFile(join(samples, f))));
    // calibrate on the first two, test on all (the two others are unseen)
    for (const p of photos.slice(0, 2)) {
      const { image, options } = applyCrop(p, 'aosp-square');
      cal.addImage(image, options);
    }
    cal.dispose();
    for (const io of ['int8', 'float'] as const) {
      const bytes = quantizeToTflite(graph, cal.stats, { io, method: 'percentile' });
      const q = readTflite(bytes);
      const nets = await Promise.all(FLAVOURS.map((kernels) => loadModel(bytes, { kernels })));
      for (const p of photos.slice(1)) {
        const { image, options } = applyCrop(p, 'aosp-square');
        const input = preprocess(image, q.input, options);
        const want = runReferenceGraph(q, [input])[0];
        nets.forEach((net, i) => expect(Buffer.compare(bytesOf(net.run(input)), bytesOf(want)), `${io} I/O, ${FLAVOURS[i]}`).toBe(0));
      }
      for (const net of nets) net.dispose();
    }
  }, 60_000);
});
