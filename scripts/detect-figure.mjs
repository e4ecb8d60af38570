/**
 * `node scripts/detect-figure.mjs`: runs SSD MobileNet v1 (../shared/models) on the sample photos
 * and writes docs/detections.svg, the README's picture: each photo (linked from ../shared, not
 * copied: the photos are not ours to redistribute) with the detected boxes and "label score"
 * tags drawn over it. Where ../shared is not beside the repository the boxes show on a grey
 * frame of the photo's size. `detect --out boxes.png` draws the same on the pixels.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = join(root, '..', 'shared');
const { loadModel, decodeImageFile } = await import(pathToFileURL(join(root, 'dist', 'node.js')).href);
const labels = readFileSync(join(shared, 'labels', 'coco_labelmap.txt'), 'utf8').trimEnd().split('\n');
const net = await loadModel(join(shared, 'models', 'ssd_mobilenet_v1_coco_quant.tflite'), { labels });
const photos = (process.argv.slice(2).length ? process.argv.slice(2) : ['grace_hopper.bmp', 'pets.jpg', 'coffee.jpg', 'cat.bmp']);
const COLOURS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#008080'];
const esc = (s) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);
const svgOut = join(root, 'docs', 'detections.svg');
const parts = [];
let x0 = 0;
const height = 300;
const lines = [];
for (const photo of photos) {
  const image = await decodeImageFile(join(shared, 'images', 'samples', photo));
  const dets = net.detect(image);
  const scale = height / image.height;
  const w = Math.round(image.width * scale);
  const href = relative(dirname(svgOut), join(shared, 'images', 'samples', photo));
  parts.push(`<g transform="translate(${x0},0)"><rect width="${w}" height="${height}" fill="#ddd"/><image href="${esc(href)}" width="${w}" height="${height}" preserveAspectRatio="none"/>`);
  // weakest first, so the best detection's tag is drawn on top where tags overlap
  [...dets].reverse().forEach((d, i) => {
    const c = COLOURS[d.index % COLOURS.length];
    const [bx, by, bw, bh] = [d.box.x, d.box.y, d.box.width, d.box.height].map((v) => (v * scale).toFixed(1));
    const tag = `${d.label ?? d.index} ${d.score.toFixed(2)}`;
    parts.push(`<rect x="${bx}" y="${by}" width="${bw}" height="${bh}" fill="none" stroke="${c}" stroke-width="2"/>` +
      `<rect x="${bx}" y="${Math.max(0, by - 14)}" width="${tag.length * 7 + 6}" height="14" fill="${c}"/>` +
      `<text x="${Number(bx) + 3}" y="${Math.max(0, by - 14) + 11}" font-family="sans-serif" font-size="11" fill="#fff">${esc(tag)}</text>`);
    void i;
  });
  parts.push(`<text x="4" y="${height + 14}" font-family="sans-serif" font-size="12">${esc(photo)}</text></g>`);
  lines.push(`${photo}: ${dets.map((d) => `${d.label} ${d.score.toFixed(2)} [${Math.round(d.box.x)},${Math.round(d.box.y)} ${Math.round(d.box.width)}x${Math.round(d.box.height)}]`).join(', ')}`);
  x0 += w + 10;
}
writeFileSync(svgOut, `<svg xmlns="http://www.w3.org/2000/svg" width="${x0 - 10}" height="${height + 20}" viewBox="0 0 ${x0 - 10} ${height + 20}">\n${parts.join('\n')}\n</svg>\n`);
console.log(`wrote ${relative(root, svgOut)}\n${lines.join('\n')}`);
net.dispose();
