/**
 * Image preprocessing speed: a synthetic 1920x1080 RGBA frame (what a browser canvas gives)
 * to each model input (central crop 87.5%, bilinear resize, input mapping).
 *
 *   npx tsx bench/preprocess.mjs            (runs the TypeScript source)
 *
 * Prints one line per case: median and best time per call after a warm-up, in milliseconds.
 */
import { preprocess, preprocessInto } from '../src/image/preprocess.ts';

const W = 1920, H = 1080;
const rgba = new Uint8ClampedArray(W * H * 4);
let s = 12345;
for (let i = 0; i < rgba.length; i++) {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  rgba[i] = s >>> 24;
}
const rgb = new Uint8Array(W * H * 3);
for (let i = 0, j = 0; i < W * H * 4; i += 4, j += 3) {
  rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2];
}

const tensor = (res, dtype, quant) => ({ name: 'input', shape: [1, res, res, 3], dtype, quant });
const cases = [
  ['float32 224, RGBA', { data: rgba, width: W, height: H }, tensor(224, 'float32')],
  ['uint8 224 (raw), RGBA', { data: rgba, width: W, height: H }, tensor(224, 'uint8', { scale: [1 / 128], zeroPoint: [128], axis: 0 })],
  ['uint8 224 quantize, RGBA', { data: rgba, width: W, height: H }, tensor(224, 'uint8', { scale: [0.0078], zeroPoint: [127], axis: 0 }), { inputRange: [-1, 1] }],
  ['int8 96 (vww), RGBA', { data: rgba, width: W, height: H }, tensor(96, 'int8', { scale: [1 / 255], zeroPoint: [-128], axis: 0 })],
  ['float32 224, RGB', { data: rgb, width: W, height: H }, tensor(224, 'float32')],
  ['float32 128, RGBA', { data: rgba, width: W, height: H }, tensor(128, 'float32')],
];

function time(fn, seconds) {
  const times = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1], best: times[0], runs: times.length };
}

for (const [name, image, input, opts] of cases) {
  const out = preprocess(image, input, opts); // allocate once, then write into it
  time(() => preprocessInto(image, input, out, opts), 1); // warm-up: let V8 optimise
  const r = time(() => preprocessInto(image, input, out, opts), 2);
  const alloc = time(() => preprocess(image, input, opts), 1);
  console.log(
    `${name.padEnd(26)} preprocessInto median ${r.median.toFixed(3)} ms, best ${r.best.toFixed(3)} ms (${r.runs} runs); ` +
      `preprocess (allocating) median ${alloc.median.toFixed(3)} ms`,
  );
}
