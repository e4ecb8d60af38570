// A bare mobilenet-wasm/core page given only the scalar build, in headless Chromium: 'auto'
// runs scalar, grace_hopper is "military uniform", and the uint8 output is byte-identical to
// the SIMD build's for the same input tensor; then the same with the CPU throttled 6x (a
// stand-in for a low-end phone), where only the time may change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MobileNet } from '../../src/index.js';
import { browserSkipReason, hasShared, pageResult, repoRoot, sharedDir, startPageSuite, throttleCpu, type PageSuite } from './harness.js';

const skip = browserSkipReason() ?? (hasShared ? undefined : '../shared missing: browser tests need its models and photos');
if (skip) console.warn(`[browser] ${skip}`);

interface ScalarPageResult {
  kernels: string;
  top: { index: number; label: string; score: number }[];
  input: number[];
  output: number[];
}

const MODEL = 'mobilenet_v1_1.0_224_quant.tflite';

/** The SIMD build's uint8 output for the same input tensor, computed in Node. */
async function simdOutput(input: number[]): Promise<number[]> {
  const net = await MobileNet.load(new Uint8Array(readFileSync(join(sharedDir, 'models', MODEL))), {
    wasm: { simd: readFileSync(join(repoRoot, 'build/mobilenet-simd.wasm')) },
    kernels: 'simd',
  });
  try {
    expect(net.info.kernels).toBe('simd');
    return Array.from(net.run(Uint8Array.from(input)));
  } finally {
    net.dispose();
  }
}

describe.skipIf(!!skip)('bare core page with only the scalar build', () => {
  let suite: PageSuite;
  let unthrottled: ScalarPageResult;
  beforeAll(async () => {
    suite = await startPageSuite({
      'scalar-core': { entry: join(repoRoot, 'test/browser/pages/scalar-core.ts'), body: '<img src="/shared/images/samples/grace_hopper.bmp">' },
    });
  });
  afterAll(() => suite?.close());

  it("auto runs the scalar build, names grace_hopper 'military uniform', and its uint8 output equals the SIMD build's byte for byte", async () => {
    const page = await suite.browser.newPage();
    unthrottled = await pageResult<ScalarPageResult>(page, `${suite.url}/scalar-core.html`);
    await page.close();
    expect(unthrottled.kernels).toBe('scalar');
    expect(unthrottled.top[0]).toMatchObject({ index: 653, label: 'military uniform' });
    expect(unthrottled.top[0].score).toBeCloseTo(0.793, 3);
    expect(unthrottled.output).toHaveLength(1001);
    expect(unthrottled.output).toEqual(await simdOutput(unthrottled.input));
  });

  it('gives the same classes and the same bytes with the CPU throttled 6x', async () => {
    const page = await suite.browser.newPage();
    await throttleCpu(page, 6);
    const throttled = await pageResult<ScalarPageResult>(page, `${suite.url}/scalar-core.html`);
    await page.close();
    expect(throttled.kernels).toBe('scalar');
    expect(throttled.top[0].label).toBe('military uniform');
    expect(throttled.top).toEqual(unthrottled.top);
    expect(throttled.input).toEqual(unthrottled.input);
    expect(throttled.output).toEqual(unthrottled.output);
  });
});
