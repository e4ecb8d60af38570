/**
 * Writes the random-weight MobileNet v1 models the peer runners need and the shared folder lacks,
 * from the project's own architecture builder and TFLite writer (so every runtime runs the same
 * weights):
 *
 *   npx tsx bench/peers/make-models.ts [--sizes 1.0/224,0.5/160,0.25/128] [--precisions float32,uint8,int8]
 *                                      [--seed 1] [--out bench/out/models] [--no-onnx]
 *
 * For each size and precision: bench/out/models/mobilenet_v1_<a>_<r>_<precision>.tflite, and from
 * the float32 graph mobilenet_v1_<a>_<r>_{float32,int8}.onnx (bench/peers/ort/onnx-writer.mjs;
 * its int8 is its own per-channel quantization of those float weights). bench/out is git-ignored:
 * never commit models.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMobileNetV1, type Precision } from '../../src/arch/mobilenet.js';
import { writeTflite } from '../../src/formats/tflite-writer.js';
import type { Graph } from '../../src/model/ir.js';
// @ts-expect-error plain JS module without types
import { networkToOnnx } from './ort/onnx-writer.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CLASSES = 1001; // TFLite MobileNet v1: index 0 = background

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The IR chain as the layer list bench/lib/mobilenet-v1.mjs uses (float32 graphs only). */
function graphToNetwork(graph: Graph) {
  const layers: object[] = [];
  for (const op of graph.ops) {
    const inSize = op.input.shape[1];
    if (op.op === 'conv2d') {
      const [outC, k, , inC] = op.filter.shape;
      layers.push({ kind: 'conv', k, stride: op.strides[0], inC, outC, inSize, filter: op.filter.data, bias: op.bias, relu6: op.activation === 'relu6', padding: op.padding });
    } else if (op.op === 'depthwise_conv2d') {
      const [, k, , C] = op.filter.shape;
      if (k !== 3) throw new Error(`depthwise kernel ${k} not supported by the ONNX writer`);
      layers.push({ kind: 'dw', k, stride: op.strides[0], C, inSize, filter: op.filter.data, bias: op.bias, relu6: op.activation === 'relu6', padding: op.padding });
    } else if (op.op === 'average_pool2d') {
      layers.push({ kind: 'avgpool', size: op.filterSize[0], C: op.input.shape[3] });
    } else if (op.op === 'reshape' || op.op === 'softmax') {
      // the writer always ends with Flatten + Softmax
    } else {
      throw new Error(`op ${op.op} not expected in a float32 MobileNet v1 (use head 'conv')`);
    }
    const activation = (op as { activation?: string }).activation;
    if (activation && activation !== 'relu6' && activation !== 'none') throw new Error(`activation ${activation} not supported by the ONNX writer`);
  }
  return { resolution: graph.input.shape[1], numClasses: graph.output.shape[graph.output.shape.length - 1], layers };
}

const sizes = option('sizes', '1.0/224,0.5/160,0.25/128').split(',');
const precisions = option('precisions', 'float32,uint8,int8').split(',') as Precision[];
const seed = Number(option('seed', '1'));
const outDir = resolve(option('out', join(here, '..', 'out', 'models')));
const onnx = !process.argv.includes('--no-onnx');
mkdirSync(outDir, { recursive: true });

for (const size of sizes) {
  const m = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(size);
  if (!m) throw new Error(`bad size ${size}: expected <alpha>/<resolution>, e.g. 0.25/128`);
  const alphaText = m[1].includes('.') ? m[1] : `${m[1]}.0`;
  const [alpha, resolution] = [Number(m[1]), Number(m[2])];
  const stem = `mobilenet_v1_${alphaText}_${resolution}`;
  for (const precision of precisions) {
    const graph = buildMobileNetV1({ alpha, resolution, precision, seed, classes: CLASSES });
    const file = join(outDir, `${stem}_${precision}.tflite`);
    const bytes = writeTflite(graph);
    writeFileSync(file, bytes);
    console.log(`${file} (${bytes.length} bytes)`);
  }
  if (onnx) {
    const network = graphToNetwork(buildMobileNetV1({ alpha, resolution, precision: 'float32', seed, classes: CLASSES }));
    for (const precision of ['float32', 'int8']) {
      const file = join(outDir, `${stem}_${precision}.onnx`);
      const bytes: Uint8Array = networkToOnnx(network, { precision });
      writeFileSync(file, bytes);
      console.log(`${file} (${bytes.length} bytes)`);
    }
  }
}
