/** `mobilenet-wasm run` and `stats` as a user calls them: raw tensors in, raw tensors out, one-line errors. */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { MODELS_DIR, SHARED_DIR, SHARED_MISSING } from '../helpers/kernels.js';

const BIN = join(__dirname, '..', '..', 'bin', 'mobilenet-wasm.js');
const built = existsSync(join(__dirname, '..', '..', 'dist', 'cli', 'main.js'));
const cli = (...args: string[]) => spawnSync('node', [BIN, ...args], { encoding: 'utf8' });

describe.skipIf(!MODELS_DIR || !built)('run command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnw-run-'));
  it('reproduces the AOSP golden output file byte for byte, on each kernel build', () => {
    for (const kernels of ['scalar', 'simd']) {
      const out = join(dir, `out-${kernels}.bin`);
      const r = cli('run', '--model', join(MODELS_DIR!, 'mobilenet_v1_0.5_160_quant.tflite'), '--input', join(SHARED_DIR!, 'golden', 'quant', 'cup_160.input'), '--output', out, '--kernels', kernels);
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(out)).toEqual(readFileSync(join(SHARED_DIR!, 'golden', 'quant', 'cup_0.5_160.output')));
    }
  });
  it('an input of the wrong size is a one-line error with a non-zero exit', () => {
    const bad = join(dir, 'bad.bin');
    writeFileSync(bad, new Uint8Array(100));
    const r = cli('run', '--model', join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'), '--input', bad, '--output', join(dir, 'x.bin'));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/INVALID_INPUT: .*has 100 bytes but the model input uint8\[1,128,128,3\] needs 49152/);
    expect(existsSync(join(dir, 'x.bin'))).toBe(false);
  });
  it('a missing option is a usage error (exit 2)', () => {
    const r = cli('run', '--model', join(MODELS_DIR!, 'mobilenet_v1_0.25_128_quant.tflite'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--input is required/);
  });
});

describe.skipIf(!built)('stats command', () => {
  it('prints the paper figures as JSON', () => {
    const r = cli('stats', '--alpha', '0.5', '--resolution', '224', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Math.round(j.macs / 1e6)).toBe(149);
    expect(Math.round(j.params / 1e5) / 10).toBe(1.3);
    expect(j.layers.length).toBeGreaterThan(27);
  });
});

it.skipIf(!!MODELS_DIR)('run command tests', () => console.warn(SHARED_MISSING));
