/**
 * `detect`: the drawing of boxes (on a fixed detection list: runs without a detector) and the
 * command itself on the SSD MobileNet v1 COCO model, called in-process through main() (needs
 * the graph runtime with CONCATENATION, LOGISTIC and TFLite_Detection_PostProcess).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Jimp, loadFont } from 'jimp';
import { SANS_16_WHITE } from 'jimp/fonts';
import { main } from '../../src/cli/main.js';
import { colourFor, drawDetections, outPathFor, rgbaOf, tagText, writeDetectionsImage, type Detection } from '../../src/cli/draw-boxes.js';
import { decodeImageFile } from '../../src/image/decode-node.js';
import { MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';

let stdout: string;
let stderr: string;
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const GREY = 100;

function greyImage(width: number, height: number) {
  return Jimp.fromBitmap({ width, height, data: Buffer.alloc(width * height * 4, GREY) });
}

const pixel = (img: ReturnType<typeof greyImage>, x: number, y: number) => {
  const i = (y * img.bitmap.width + x) * 4;
  return [img.bitmap.data[i], img.bitmap.data[i + 1], img.bitmap.data[i + 2]];
};

describe('drawing detections', () => {
  it('outlines each box in its class colour, leaves the inside alone, tags it above', async () => {
    const img = greyImage(200, 150);
    const d: Detection = { index: 3, label: 'car', score: 0.875, box: { x: 40, y: 60, width: 100, height: 50 } };
    drawDetections(img, [d], await loadFont(SANS_16_WHITE));
    const c = colourFor(3);
    expect(pixel(img, 40, 80)).toEqual(c); // left edge
    expect(pixel(img, 139, 80)).toEqual(c); // right edge
    expect(pixel(img, 90, 109)).toEqual(c); // bottom edge
    expect(pixel(img, 90, 85)).toEqual([GREY, GREY, GREY]); // inside
    expect(pixel(img, 10, 10)).toEqual([GREY, GREY, GREY]); // outside
    // the tag sits on top of the box, starting at its left edge, coloured, with white text in it
    expect(pixel(img, 41, 59)).toEqual(c);
    let white = 0;
    for (let y = 40; y < 60; y++) for (let x = 40; x < 100; x++) if (pixel(img, x, y).every((v) => v > 200)) white++;
    expect(white).toBeGreaterThan(10);
    expect(tagText(d)).toBe('car 0.88');
    expect(tagText({ ...d, label: undefined })).toBe('#3 0.88');
  });

  it('clips boxes that leave the image, puts the tag inside a box at the top edge, skips empty boxes', async () => {
    const img = greyImage(100, 100);
    const font = await loadFont(SANS_16_WHITE);
    drawDetections(
      img,
      [
        { index: 1, score: 0.9, box: { x: -50, y: -50, width: 100, height: 100 } },
        { index: 2, score: 0.5, box: { x: 90, y: 90, width: 0, height: 30 } },
        { index: 4, score: 0.5, box: { x: 1e9, y: 5, width: 10, height: 10 } },
      ],
      font,
    );
    expect(pixel(img, 49, 20)).toEqual(colourFor(1)); // right edge of the clipped box
    expect(pixel(img, 20, 49)).toEqual(colourFor(1)); // bottom edge
    expect(pixel(img, 2, 2)).toEqual(colourFor(1)); // tag inside, at the top
    expect(pixel(img, 95, 95)).toEqual([GREY, GREY, GREY]);
    expect(pixel(img, 99, 8)).toEqual([GREY, GREY, GREY]);
  });

  it('names the outputs for several images, converts grey / RGB / RGBA, writes the format asked', async () => {
    expect(outPathFor('boxes.png', 0, 1)).toBe('boxes.png');
    expect(outPathFor('out/boxes.png', 0, 3)).toBe('out/boxes-1.png');
    expect(outPathFor('out/boxes.png', 2, 3)).toBe('out/boxes-3.png');
    expect(Array.from(rgbaOf({ width: 1, height: 1, channels: 1, data: new Uint8Array([7]) }))).toEqual([7, 7, 7, 255]);
    expect(Array.from(rgbaOf({ width: 1, height: 1, channels: 3, data: new Uint8Array([1, 2, 3]) }))).toEqual([1, 2, 3, 255]);
    expect(Array.from(rgbaOf({ width: 1, height: 1, channels: 4, data: new Uint8Array([1, 2, 3, 4]) }))).toEqual([1, 2, 3, 4]);
    const dir = mkdtempSync(join(tmpdir(), 'mnw-draw-'));
    const raw = { width: 64, height: 48, channels: 3 as const, data: new Uint8Array(64 * 48 * 3).fill(50) };
    const dets: Detection[] = [{ index: 0, label: 'person', score: 0.9, box: { x: 8, y: 20, width: 30, height: 20 } }];
    for (const ext of ['png', 'jpg', 'bmp']) {
      const path = join(dir, `o.${ext}`);
      await writeDetectionsImage(raw, dets, path);
      const back = await Jimp.read(path);
      expect([back.bitmap.width, back.bitmap.height]).toEqual([64, 48]);
    }
    await expect(writeDetectionsImage(raw, dets, join(dir, 'o.gif'))).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});

const SSD = MODELS_DIR && join(MODELS_DIR, 'ssd_mobilenet_v1_coco_quant.tflite');
const haveSsd = !!SSD && existsSync(SSD) && !!SHARED_DIR;
const sample = (f: string) => join(SHARED_DIR!, 'images', 'samples', f);
const LABELS = () => join(SHARED_DIR!, 'labels', 'coco_labelmap.txt');

describe('detect command: usage errors (no detector needed)', () => {
  it('needs --model and an image; checks --min-score, --max-results and --out before loading anything', async () => {
    expect(await main(['detect', 'x.jpg'])).toBe(2);
    expect(stderr).toMatch(/--model is required/);
    stderr = '';
    expect(await main(['detect', '--model', 'm.tflite'])).toBe(2);
    expect(stderr).toMatch(/detect needs at least one image file/);
    stderr = '';
    expect(await main(['detect', '--model', 'm.tflite', '--min-score', '1.5', 'x.jpg'])).toBe(2);
    expect(stderr).toMatch(/--min-score must be a number with 0 <= min-score <= 1/);
    stderr = '';
    expect(await main(['detect', '--model', 'm.tflite', '--max-results', '0', 'x.jpg'])).toBe(2);
    expect(stderr).toMatch(/--max-results must be an integer from 1/);
    stderr = '';
    expect(await main(['detect', '--model', 'm.tflite', '--out', 'boxes.gif', 'x.jpg'])).toBe(1);
    expect(stderr).toMatch(/INVALID_OPTION: --out boxes.gif: the file name must end in \.png, \.jpg, \.jpeg, \.bmp/);
  });
});

describe.skipIf(!haveSsd)('detect command on SSD MobileNet v1 COCO', () => {
  it('--json: one line per image, a person in grace_hopper.bmp with a box inside the photo', async () => {
    const status = await main(['detect', '--model', SSD!, '--labels', LABELS(), '--json', sample('grace_hopper.bmp'), sample('pets.jpg')]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.image)).toEqual([sample('grace_hopper.bmp'), sample('pets.jpg')]);
    const hopper = lines[0].detections as { label: string; score: number; box: { x: number; y: number; width: number; height: number } }[];
    expect(hopper.length).toBeGreaterThan(0);
    expect(hopper[0].label).toBe('person');
    const img = await decodeImageFile(sample('grace_hopper.bmp'));
    for (const d of hopper) {
      expect(d.score).toBeGreaterThanOrEqual(0.5);
      expect(d.box.x).toBeGreaterThanOrEqual(0);
      expect(d.box.y).toBeGreaterThanOrEqual(0);
      expect(d.box.x + d.box.width).toBeLessThanOrEqual(img.width + 1e-6);
      expect(d.box.y + d.box.height).toBeLessThanOrEqual(img.height + 1e-6);
    }
    for (let i = 1; i < hopper.length; i++) expect(hopper[i].score).toBeLessThanOrEqual(hopper[i - 1].score);
    // the pets photo has cats or dogs in it
    expect((lines[1].detections as { label: string }[]).some((d) => d.label === 'cat' || d.label === 'dog')).toBe(true);
  });

  it('--max-results and --min-score limit the list; the table names label, score and box', async () => {
    expect(await main(['detect', '--model', SSD!, '--labels', LABELS(), '--json', '--max-results', '1', '--min-score', '0', sample('pets.jpg')])).toBe(0);
    expect(JSON.parse(stdout).detections).toHaveLength(1);
    stdout = '';
    expect(await main(['detect', '--model', SSD!, '--labels', LABELS(), sample('grace_hopper.bmp')])).toBe(0);
    expect(stdout).toMatch(/grace_hopper\.bmp: \d+ objects?\n/);
    expect(stdout).toMatch(/\n {2}0\.\d{4} {2}person +x \d+, y \d+, \d+ x \d+\n/);
  });

  it('--out: one image writes FILE, several write FILE-1, FILE-2 the size of each photo', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnw-detect-'));
    expect(await main(['detect', '--model', SSD!, '--labels', LABELS(), '--out', join(dir, 'one.png'), sample('grace_hopper.bmp')])).toBe(0);
    expect(existsSync(join(dir, 'one.png'))).toBe(true);
    expect(await main(['detect', '--model', SSD!, '--out', join(dir, 'b.jpg'), sample('grace_hopper.bmp'), sample('pets.jpg')])).toBe(0);
    for (const [f, src] of [['b-1.jpg', 'grace_hopper.bmp'], ['b-2.jpg', 'pets.jpg']]) {
      const drawn = await Jimp.read(join(dir, f));
      const photo = await decodeImageFile(sample(src));
      expect([drawn.bitmap.width, drawn.bitmap.height]).toEqual([photo.width, photo.height]);
    }
    expect(readFileSync(join(dir, 'one.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('a classifier is refused with UNSUPPORTED_MODEL pointing at classify', async () => {
    expect(await main(['detect', '--model', join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'), sample('grace_hopper.bmp')])).toBe(1);
    expect(stderr).toMatch(/UNSUPPORTED_MODEL: .*not an object detector.*classify/);
  });
});
