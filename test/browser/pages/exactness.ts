// Runs every shared integer model (and the family's SSD, whose integer network ends in float post-processing) on seeded pseudo-random inputs with each kernel build Chromium
// validates, and hands the outputs (base64) back to the test, which compares them with Node's.
import { MobileNet, engineSupports } from 'mobilenet-wasm/core';
import { mulberry32 } from '../../../src/arch/random.js';
import relaxed from 'mobilenet-wasm/wasm/mobilenet-relaxed.wasm';
import simd from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';
import scalar from 'mobilenet-wasm/wasm/mobilenet-scalar.wasm';

const MODELS = [
  'mobilenet_v1_0.25_128_quant', 'mobilenet_v1_0.5_160_quant', 'mobilenet_v1_0.75_192_quant', 'mobilenet_v1_1.0_224_quant', 'vww_96_int8',
  // the graph runtime's family (issue 10): every output, joined ('|')
  'mobilenet_v2_1.0_224_quant', 'tf2_mobilenet_v2_1.0_224_ptq', 'person_detect_int8', 'ssd_mobilenet_v1_coco_quant',
];
const URLS = { relaxed, simd, scalar } as const;

function b64(t: Uint8Array | Int8Array | Float32Array): string {
  const bytes = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

async function main() {
  const flavours = (['scalar', 'simd', 'relaxed'] as const).filter((f) => f === 'scalar' || engineSupports(f));
  const out: Record<string, string[]> = {};
  for (const name of MODELS) {
    const bytes = new Uint8Array(await (await fetch(`/shared/models/${name}.tflite`)).arrayBuffer());
    for (const f of flavours) {
      const net = await MobileNet.load(bytes, { wasm: { [f]: URLS[f] }, kernels: f });
      const n = net.info.input.shape.reduce((a, b) => a * b, 1);
      out[`${name} ${f}`] = [1, 2].map((seed) => {
        const next = mulberry32(seed);
        const input = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
        return net.runAll([net.info.input.dtype === 'int8' ? new Int8Array(input.buffer) : input]).map(b64).join('|');
      });
      net.dispose();
    }
  }
  (window as any).__result = { flavours, out };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
