/**
 * What the family models are for (issue 10): the person detector tells a photo with a person
 * from one without; SSD finds the people in grace_hopper and the dogs in pets.jpg, with boxes
 * checked by eye in the annotated output (`detect --out`, README) and held here by overlap;
 * each model's task decides which calls it serves; a float model's TFLite metadata sets its
 * input normalization.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, decodeImageFile } from '../../src/node.js';
import type { Detection } from '../../src/mobilenet.js';
import { MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';
import { withMetadata } from '../helpers/metadata-writer.js';

const model = (f: string) => join(MODELS_DIR ?? '', f);
const sample = (f: string) => decodeImageFile(join(SHARED_DIR!, 'images', 'samples', f));
const have = (f: string) => !!MODELS_DIR && existsSync(model(f));

type Box = Detection['box'];
function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width), y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

describe.skipIf(!have('person_detect_int8.tflite'))('person detector (96x96 grayscale, depth multiplier 8 stem)', () => {
  // outputs: index 0 = no person, 1 = person. The photo is centrally cropped, resized to 96x96,
  // turned to luma (BT.601 weights, rounded to a byte) and fed as byte - 128 (src/image/preprocess.ts)
  it('scores person above no person on grace_hopper, and the reverse on coffee and owl', async () => {
    const net = await loadModel(model('person_detect_int8.tflite'), { labels: ['no person', 'person'] });
    expect(net.info.task).toBe('classifier');
    expect(net.info.input.shape).toEqual([1, 96, 96, 1]);
    const p = async (f: string) => net.probabilities(await sample(f));
    const hopper = await p('grace_hopper.bmp');
    expect(hopper[1]).toBeGreaterThan(hopper[0]);
    for (const f of ['coffee.jpg', 'owl.jpg']) {
      const q = await p(f);
      expect(q[0], f).toBeGreaterThan(q[1]);
    }
    expect(net.classify(await sample('grace_hopper.bmp'), { topK: 1 })[0].label).toBe('person');
    net.dispose();
  });
});

describe.skipIf(!have('ssd_mobilenet_v1_coco_quant.tflite'))('SSD MobileNet v1 COCO: detect()', () => {
  const labels = () => readFileSync(join(SHARED_DIR!, 'labels', 'coco_labelmap.txt'), 'utf8').split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');

  it('finds Grace Hopper and her tie, and the two dogs in pets.jpg, where they are', async () => {
    const net = await loadModel(model('ssd_mobilenet_v1_coco_quant.tflite'), { labels: labels() });
    expect(net.info.task).toBe('detector');
    expect(net.info.classes).toBe(90);
    expect(net.info.outputs.map((o) => o.shape)).toEqual([[1, 10, 4], [1, 10], [1, 10], [1]]);
    const hopper = net.detect(await sample('grace_hopper.bmp'));
    // boxes checked by eye on the annotated image (x, y, width, height in the 517x606 photo)
    expect(hopper[0].label).toBe('person');
    expect(iou(hopper[0].box, { x: 4, y: 23, width: 501, height: 570 })).toBeGreaterThan(0.8);
    const tie = hopper.find((d) => d.label === 'tie')!;
    expect(iou(tie.box, { x: 225, y: 428, width: 64, height: 111 })).toBeGreaterThan(0.7);
    const pets = net.detect(await sample('pets.jpg'), { minScore: 0.6 });
    expect(pets.map((d) => d.label)).toEqual(['dog', 'dog']);
    const want = [{ x: 121, y: 49, width: 130, height: 246 }, { x: 347, y: 163, width: 147, height: 207 }];
    for (const w of want) expect(Math.max(...pets.map((d) => iou(d.box, w)))).toBeGreaterThan(0.8);
    // maxResults and minScore cut the list, best first
    expect(net.detect(await sample('grace_hopper.bmp'), { maxResults: 1 }).map((d) => d.label)).toEqual(['person']);
    expect(net.detect(await sample('grace_hopper.bmp'), { minScore: 0.99 })).toEqual([]);
    // a detector's outputs are not class scores
    const photo = await sample('grace_hopper.bmp');
    expect(() => net.classify(photo)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/detector.*detect\(\)/) }));
    expect(() => net.detect(photo, { minScore: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    // a one-output call on a four-output model says use runAll; once disposed, both say DISPOSED first
    expect(() => net.run(new Uint8Array(300 * 300 * 3))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/runAll/) }));
    net.dispose();
    expect(() => net.run(new Uint8Array(300 * 300 * 3))).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    expect(() => net.runAll([new Uint8Array(300 * 300 * 3)])).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });

  it('detect() on a classifier says it needs a detector', async () => {
    const net = await loadModel(model('mobilenet_v1_0.25_128_quant.tflite'));
    const photo = await sample('pets.jpg');
    expect(() => net.detect(photo)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/needs an object detector/) }));
    net.dispose();
  });
});

describe.skipIf(!have('vww_96_float.tflite'))('a float model\'s TFLite metadata sets its input normalization', () => {
  it('[0,1] from metadata (mean 0, std 255) classifies as inputRange [0,1]; an explicit inputRange still wins', async () => {
    const plain = new Uint8Array(readFileSync(model('vww_96_float.tflite')));
    const tagged = withMetadata(plain, { name: 'vww', inputs: [{ name: 'image', normalization: { mean: [0], std: [255] } }] });
    const image = await sample('grace_hopper.bmp');
    const a = await loadModel(plain, { kernels: 'simd' });
    const b = await loadModel(tagged, { kernels: 'simd' });
    const want = Array.from(a.probabilities(image, { inputRange: [0, 1] }));
    expect(Array.from(b.probabilities(image))).toEqual(want);
    expect(Array.from(a.probabilities(image))).not.toEqual(want); // the default [-1,1] differs: the check is not vacuous
    expect(Array.from(b.probabilities(image, { inputRange: [-1, 1] }))).toEqual(Array.from(a.probabilities(image)));
    a.dispose();
    b.dispose();
  });
});
