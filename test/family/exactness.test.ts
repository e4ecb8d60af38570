/**
 * The MobileNet family through the graph runtime (issue 10): MobileNet v2 (uint8, TF1 converter;
 * int8 inside with uint8 QUANTIZE ends, TF2 converter), TFLite Micro's grayscale person detector
 * (depth multiplier 8 stem) and SSD-MobileNet v1 (two heads, CONCATENATION, LOGISTIC,
 * TFLite_Detection_PostProcess). Every output, on the scalar, SIMD and relaxed builds, equals the
 * plain-loop TFLite-reference graph (test/reference/graph.ts) byte for byte, on a random input
 * and on a photo.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, decodeImageFile } from '../../src/node.js';
import { readTflite } from '../../src/formats/tflite.js';
import { preprocessInto } from '../../src/image/preprocess.js';
import { sizeOf, type TensorInfo } from '../../src/model/ir.js';
import { runReferenceGraph, type RawTensor } from '../reference/graph.js';
import { FLAVOURS, MODELS_DIR, SHARED_DIR, rng } from '../helpers/kernels.js';

const MODELS = [
  { file: 'mobilenet_v2_1.0_224_quant.tflite', photo: 'grace_hopper.bmp', crop: 'central' as const },
  { file: 'tf2_mobilenet_v2_1.0_224_ptq.tflite', photo: 'grace_hopper.bmp', crop: 'central' as const },
  { file: 'person_detect_int8.tflite', photo: 'grace_hopper.bmp', crop: 'central' as const },
  { file: 'ssd_mobilenet_v1_coco_quant.tflite', photo: 'pets.jpg', crop: 'none' as const },
];

function randomInput(t: TensorInfo, seed: number): RawTensor {
  const r = rng(seed);
  const n = sizeOf(t.shape);
  if (t.dtype === 'float32') return Float32Array.from({ length: n }, () => r() * 2 - 1);
  return t.dtype === 'uint8' ? Uint8Array.from({ length: n }, () => Math.floor(r() * 256)) : Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
}

/** the photo as the model's input tensor (raw values), preprocessed as classify / detect do */
async function photoInput(t: TensorInfo, photo: string, crop: 'central' | 'none'): Promise<RawTensor> {
  const image = await decodeImageFile(join(SHARED_DIR!, 'images', 'samples', photo));
  const n = sizeOf(t.shape);
  if (t.dtype === 'float32') {
    const out = new Float32Array(n);
    preprocessInto(image, t, out, { crop });
    return out;
  }
  const stored = new Int8Array(n);
  preprocessInto(image, t, stored, { crop });
  return t.dtype === 'uint8' ? Uint8Array.from(stored, (v) => v + 128) : stored;
}

const bytesOf = (x: RawTensor) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

for (const m of MODELS) {
  const path = join(MODELS_DIR ?? '', m.file);
  describe.skipIf(!MODELS_DIR || !existsSync(path))(`${m.file}: every build equals the TFLite reference graph`, () => {
    const graph = MODELS_DIR && existsSync(path) ? readTflite(new Uint8Array(readFileSync(path))) : undefined;
    for (const input of ['random', 'photo'] as const) {
      it(`${input} input, scalar / simd / relaxed byte-identical to the reference`, async () => {
        const t = graph!.inputs![0];
        const x = input === 'random' ? randomInput(t, 17) : await photoInput(t, m.photo, m.crop);
        const want = runReferenceGraph(graph!, [x]);
        for (const flavour of FLAVOURS) {
          const net = await loadModel(path, { kernels: flavour });
          const got = net.runAll([x]);
          expect(got.length).toBe(want.length);
          got.forEach((g, i) => {
            expect(g.constructor, `${flavour} output ${i} type`).toBe(want[i].constructor);
            expect(Buffer.compare(bytesOf(g), bytesOf(want[i])), `${flavour} output ${i} differs from the reference`).toBe(0);
          });
          net.dispose();
        }
        if (m.file.startsWith('ssd')) expect((want[3] as Float32Array)[0]).toBeGreaterThan(0);
      }, 120_000);
    }
  });
}
