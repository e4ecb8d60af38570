#!/usr/bin/env node
/**
 * Checks the peers run the same network, by comparing their first outputs on the same input:
 *   - onnxruntime-web vs tfjs-backend-wasm on bench/lib's seeded network (checks the ONNX writer
 *     and the tfjs graph: layouts, SAME padding, ReLU6, pooling, classifier);
 *   - onnxruntime-web vs TFLite on the project's random-weight models from make-models.ts, when
 *     they exist (float32 exact within 1e-4; int8 by top-1 agreement only, the quantizations differ).
 *
 *   node bench/peers/crosscheck.mjs [--size 0.25/128]
 * Exit 1 when a float comparison fails.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRunner } from '../lib/runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf('--size');
const size = i >= 0 ? process.argv[i + 1] : '0.25/128';
const tmp = mkdtempSync(join(tmpdir(), 'peers-crosscheck-'));

function output(peer, extra) {
  const file = join(tmp, `${peer}-${extra.join('_').replace(/[^\w.]+/g, '')}.f32`);
  const res = runRunner(join(here, peer, 'run.mjs'), ['--model', size, '--runs', '1', '--warmup-ms', '0', '--json', '--dump-output', file, ...extra]);
  if (res.error) throw new Error(`${peer} ${extra.join(' ')} failed: ${res.error}`);
  const bytes = readFileSync(file); // may be a slice of Node's shared buffer pool: copy out exactly
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}
const argmax = (a) => a.reduce((best, v, j) => (v > a[best] ? j : best), 0);
const top3 = (a) => [...a.keys()].sort((x, y) => a[y] - a[x]).slice(0, 3);
function compare(name, a, b, tol) {
  let maxDiff = 0;
  for (let j = 0; j < a.length; j++) maxDiff = Math.max(maxDiff, Math.abs(a[j] - b[j]));
  // Quantized outputs come in 1/256 steps and tie easily: their top-1 only has to be in the float top-3.
  const ok = a.length === b.length && (tol === undefined ? top3(b).includes(argmax(a)) : maxDiff <= tol);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: max |diff| ${maxDiff.toExponential(2)}, top-1 ${argmax(a)} vs ${argmax(b)}${tol === undefined ? ` (quantized top-1 in float top-3 ${top3(b)})` : ` (tolerance ${tol})`}`);
  return ok;
}

let ok = true;
try {
  ok = compare(`ort vs tfjs, float32 ${size}, bench/lib weights`, output('ort', ['--source', 'own']), output('tfjs', []), 1e-4) && ok;
  const stem = `mobilenet_v1_${size.replace('/', '_')}`;
  const models = join(here, '..', 'out', 'models');
  if (existsSync(join(models, `${stem}_float32.tflite`)) && existsSync(join(models, `${stem}_float32.onnx`))) {
    const tfliteFloat = output('tflite', ['--source', 'generated']);
    ok = compare(`ort vs tflite, float32 ${size}, project weights`, output('ort', ['--source', 'generated']), tfliteFloat, 1e-4) && ok;
    compare(`ort int8 vs tflite float32 ${size}, project weights`, output('ort', ['--source', 'generated', '--precision', 'int8']), tfliteFloat);
    compare(`tflite int8 vs tflite float32 ${size}, project weights`, output('tflite', ['--source', 'generated', '--precision', 'int8']), tfliteFloat);
  } else {
    console.log(`skip ort vs tflite: no ${stem}_float32.{tflite,onnx} in bench/out/models (run \`npx tsx bench/peers/make-models.ts\`)`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
