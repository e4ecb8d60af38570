/**
 * A whole float model through the runtime (fused depthwise + pointwise steps included) against
 * the plain-loop reference chained op by op, on every kernel build.
 */
import { describe, it, expect } from 'vitest';
import { loadModel } from '../../src/node.js';
import { buildMobileNetV1 } from '../../src/arch/mobilenet.js';
import { refF32 } from '../reference/f32.js';
import { FLAVOURS, rng } from '../helpers/kernels.js';

describe('float32 1.0/224 (every depthwise + pointwise pair runs fused)', () => {
  const graph = buildMobileNetV1({ alpha: 1, resolution: 224, precision: 'float32', classes: 1001, seed: 3 });
  const r = rng(11);
  const input = Float32Array.from({ length: 224 * 224 * 3 }, () => r() * 2 - 1);
  let want: Float32Array = input;
  for (const op of graph.ops) want = refF32(op, want);

  for (const flavour of FLAVOURS) {
    it(`matches the reference chain within 1e-5 (${flavour})`, async () => {
      const net = await loadModel(graph, { kernels: flavour });
      const got = net.run(input) as Float32Array;
      const kernels = net.profile(input, 1).map((l) => l.kernel);
      expect(kernels.filter((k) => k === 'f32_dwpw')).toHaveLength(13);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst).toBeLessThanOrEqual(1e-5);
      // the softmax is a real distribution, not one-hot
      expect(Math.max(...want)).toBeLessThan(0.9);
      net.dispose();
    });
  }
});
