/**
 * mobilenet-wasm/transfer on synthetic embeddings (no model needed): the softmax head learns
 * separable clusters, saves as a .tflite this library runs with the same scores, keeps its class
 * names, and the kNN head votes; hostile input is a MobileNetError naming the problem.
 */
import { describe, it, expect } from 'vitest';
import { createClassifier, loadClassifierHead, packedLabels, type Embedder } from '../../src/transfer/index.js';
import { readTflite } from '../../src/formats/tflite.js';
import { readTfliteMetadata } from '../../src/formats/tflite-metadata.js';
import { loadModel } from '../../src/node.js';
import { mulberry32 } from '../../src/arch/random.js';

const DIM = 48;
const LABELS = ['red', 'green', 'blue'];

/** an "image" here is its embedding: the embedder hands it back */
const identity: Embedder = { embed: (image) => (image as unknown as { data: Float32Array }).data };
const asImage = (e: Float32Array) => ({ data: e, width: 1, height: 1 }) as never;

/** `perClass` points around one random centre per label, ReLU-like (non-negative) as pooled features are */
function clusters(perClass: number, seed: number, spread = 0.6): { e: Float32Array; label: string }[] {
  const rand = mulberry32(seed);
  const centres = LABELS.map(() => Float32Array.from({ length: DIM }, () => rand() * 4));
  const out: { e: Float32Array; label: string }[] = [];
  for (let i = 0; i < perClass; i++) {
    LABELS.forEach((label, c) => out.push({ e: Float32Array.from(centres[c], (v) => Math.max(0, v + (rand() - 0.5) * 2 * spread)), label }));
  }
  return out;
}

function trained(seed = 1) {
  const c = createClassifier(identity);
  for (const { e, label } of clusters(12, seed)) c.addEmbedding(e, label);
  return c;
}

describe('softmax head', () => {
  it('learns separable clusters, deterministically, and reports progress', async () => {
    const c = trained();
    expect(c.labels).toEqual(LABELS);
    expect(c.count).toBe(36);
    expect(c.countFor('green')).toBe(12);
    expect(c.ready).toBe(false);
    const seen: number[] = [];
    const report = await c.train({ onProgress: (p) => seen.push(p.epoch) });
    expect(seen.length).toBe(report.epochs);
    expect(report.accuracy).toBe(1);
    expect(report.examples).toBe(36);
    expect(report.loss).toBeLessThan(0.5);
    // held-out points of the same clusters (same centres: same seed, more points)
    const test = clusters(20, 1).slice(36);
    for (const { e, label } of test) expect(c.predictEmbedding(e)[0].label).toBe(label);
    const again = trained();
    await again.train();
    expect(Array.from(again.toTflite())).toEqual(Array.from(c.toTflite()));
  });

  it('predict embeds the image; scores sum to 1 best first; topK trims', async () => {
    const c = trained();
    await c.train();
    const [probe] = clusters(1, 1);
    const all = await c.predict(asImage(probe.e));
    expect(all.map((p) => p.label).sort()).toEqual([...LABELS].sort());
    expect(all[0].label).toBe('red');
    expect(all.reduce((s, p) => s + p.score, 0)).toBeCloseTo(1, 5);
    expect(all[0].score).toBeGreaterThanOrEqual(all[1].score);
    expect(c.predictEmbedding(probe.e, { topK: 1 })).toHaveLength(1);
  });

  it('the head .tflite runs in this library with the same scores, and loads back with its labels', async () => {
    const c = trained();
    await c.train();
    const bytes = c.toTflite();
    expect(packedLabels(bytes)).toEqual(LABELS);
    expect(readTfliteMetadata(bytes)?.labelFile).toBe('labels.txt');
    const graph = readTflite(bytes);
    expect(graph.ops.map((o) => o.op)).toEqual(['fully_connected', 'softmax']);
    const net = await loadModel(bytes);
    expect(net.info.input.shape).toEqual([1, DIM]);
    expect(net.info.output.shape).toEqual([1, LABELS.length]);
    const loaded = loadClassifierHead(identity, bytes);
    expect(loaded.labels).toEqual(LABELS);
    expect(loaded.ready).toBe(true);
    for (const { e } of clusters(5, 2)) {
      const ours = c.predictEmbedding(e);
      const probs = net.run(e) as Float32Array;
      for (const p of ours) expect(probs[LABELS.indexOf(p.label)]).toBeCloseTo(p.score, 5);
      expect(loaded.predictEmbedding(e)).toEqual(ours.map((p) => ({ label: p.label, score: expect.closeTo(p.score, 6) })));
    }
    net.dispose();
    // names given to the loader win over the packed ones
    expect(loadClassifierHead(identity, bytes, ['a', 'b', 'c']).labels).toEqual(['a', 'b', 'c']);
  });

  it('removeLabel drops the head until it is trained again', async () => {
    const c = trained();
    await c.train();
    c.removeLabel('blue');
    expect(c.labels).toEqual(['red', 'green']);
    expect(c.count).toBe(24);
    expect(c.ready).toBe(false);
    expect(() => c.predictEmbedding(new Float32Array(DIM))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/not trained/) }));
    await c.train();
    expect(c.predictEmbedding(new Float32Array(DIM)).map((p) => p.label).sort()).toEqual(['green', 'red']);
    c.clear();
    expect([c.count, c.labels.length, c.dimension]).toEqual([0, 0, undefined]);
  });

  it('train stops on an aborted signal with the signal reason', async () => {
    const c = createClassifier(identity, { epochs: 100_000 });
    for (const { e, label } of clusters(12, 1)) c.addEmbedding(e, label);
    const controller = new AbortController();
    const run = c.train({ signal: controller.signal, onProgress: (p) => p.epoch === 3 && controller.abort(new Error('stop')) });
    await expect(run).rejects.toThrow('stop');
    expect(c.ready).toBe(false);
  });
});

describe('kNN head', () => {
  it('votes among the k nearest by cosine; scores are vote fractions', async () => {
    const c = createClassifier(identity, { head: 'knn', k: 3 });
    for (const { e, label } of clusters(8, 3)) c.addEmbedding(e, label);
    const report = await c.train();
    expect(report.epochs).toBe(0);
    expect(report.accuracy).toBe(1); // leave-one-out
    const probe = clusters(9, 3).slice(24);
    for (const { e, label } of probe) {
      const p = c.predictEmbedding(e);
      expect(p[0]).toEqual({ label, score: 1 });
      expect(p.map((x) => x.score)).toEqual([1, 0, 0]);
    }
  });

  it('saves as its nearest-class-mean head, which this library runs', async () => {
    const c = createClassifier(identity, { head: 'knn' });
    for (const { e, label } of clusters(8, 4)) c.addEmbedding(e, label);
    const bytes = c.toTflite();
    const loaded = loadClassifierHead(identity, bytes);
    expect(loaded.kind).toBe('softmax');
    for (const { e, label } of clusters(9, 4).slice(24)) expect(loaded.predictEmbedding(e)[0].label).toBe(label);
  });
});

describe('hostile input', () => {
  const bad = (f: () => unknown, code: string, message: RegExp) => expect(f).toThrow(expect.objectContaining({ name: 'MobileNetError', code, message: expect.stringMatching(message) }));

  it('refuses bad embeddings, labels and options', () => {
    const c = createClassifier(identity);
    c.addEmbedding(new Float32Array(DIM), 'a');
    bad(() => c.addEmbedding(Float32Array.of(1, NaN), 'a'), 'INVALID_INPUT', /has 2 values but this classifier's embeddings have 48/);
    const nan = new Float32Array(DIM);
    nan[5] = NaN;
    bad(() => c.addEmbedding(nan, 'a'), 'INVALID_INPUT', /embedding\[5\] is NaN/);
    bad(() => c.addEmbedding([1, 2] as never, 'a'), 'INVALID_INPUT', /must be a Float32Array/);
    bad(() => c.addEmbedding(new Float32Array(0), 'a'), 'INVALID_INPUT', /has 0 values/);
    bad(() => c.addEmbedding(new Float32Array(DIM), '  '), 'INVALID_INPUT', /label is empty/);
    bad(() => c.addEmbedding(new Float32Array(DIM), 'a\nb'), 'INVALID_INPUT', /line break/);
    bad(() => c.addEmbedding(new Float32Array(DIM), 7 as never), 'INVALID_INPUT', /label must be a string/);
    bad(() => c.addEmbedding(new Float32Array(DIM), 'x'.repeat(300)), 'INVALID_INPUT', /300 characters/);
    bad(() => createClassifier(identity, { head: 'tree' as never }), 'INVALID_OPTION', /head must be 'softmax' or 'knn'/);
    bad(() => createClassifier(identity, { epochs: 0 }), 'INVALID_OPTION', /epochs must be an integer/);
    bad(() => createClassifier(identity, { l2: -1 }), 'INVALID_OPTION', /l2 must be/);
    bad(() => createClassifier(identity, { learningRate: NaN }), 'INVALID_OPTION', /learningRate/);
    bad(() => createClassifier(identity, { k: 2.5 }), 'INVALID_OPTION', /k must be an integer/);
    bad(() => createClassifier(identity, { epoch: 3 } as never), 'INVALID_OPTION', /unknown classifier option 'epoch'/);
    bad(() => createClassifier({} as never), 'INVALID_OPTION', /embed\(image\) method/);
    bad(() => c.toTflite(), 'INVALID_INPUT', /not trained/);
    bad(() => c.predictEmbedding(new Float32Array(DIM), { topK: 0 }), 'INVALID_OPTION', /topK/);
  });

  it('refuses to train on no examples or one label', async () => {
    const c = createClassifier(identity);
    await expect(c.train()).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/no examples/) });
    c.addEmbedding(new Float32Array(DIM), 'only');
    await expect(c.train()).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/at least 2 labels.*"only"/) });
    const knn = createClassifier(identity, { head: 'knn' });
    knn.addEmbedding(new Float32Array(DIM), 'only');
    bad(() => knn.predictEmbedding(new Float32Array(DIM)), 'INVALID_INPUT', /at least 2 labels/);
  });

  it('caps the number of labels', () => {
    const c = createClassifier(identity);
    const e = new Float32Array(2);
    for (let i = 0; i < 4096; i++) c.addEmbedding(e, `class ${i}`);
    bad(() => c.addEmbedding(e, 'one more'), 'INVALID_INPUT', /4096 labels, the most it takes/);
  });

  it('an embedder that throws, or a model that is not a head', async () => {
    const failing = createClassifier({ embed: () => { throw new TypeError('boom'); } });
    await expect(failing.addExample({} as never, 'a')).rejects.toMatchObject({ name: 'MobileNetError', code: 'INVALID_INPUT', message: expect.stringMatching(/boom/) });
    bad(() => loadClassifierHead(identity, new Uint8Array(10)), 'INVALID_MODEL', /too short|not a TensorFlow Lite/);
    bad(() => loadClassifierHead(identity, 'head.tflite' as never), 'INVALID_OPTION', /\.tflite bytes/);
    const c = trained();
    await c.train();
    bad(() => loadClassifierHead(identity, c.toTflite(), ['a']), 'INVALID_OPTION', /3 classes but 1 labels/);
  });
});
