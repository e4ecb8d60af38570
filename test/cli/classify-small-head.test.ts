/**
 * classify's default --top (5) shrinks to a model with fewer classes: the 2-class person
 * detector was refused with "--top must be an integer from 1 to 2, got 'undefined'" although no
 * --top was given.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';

const BIN = join(__dirname, '..', '..', 'bin', 'mobilenet-wasm.js');
const model = join(MODELS_DIR ?? '', 'person_detect_int8.tflite');

describe.skipIf(!MODELS_DIR || !existsSync(model))('classify on a 2-class model', () => {
  it('prints both classes without --top, and still refuses --top 3', () => {
    const photo = join(SHARED_DIR!, 'images', 'samples', 'grace_hopper.bmp');
    const r = spawnSync('node', [BIN, 'classify', '--json', '--jobs', '1', '--model', model, photo], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const line = JSON.parse(r.stdout.trim());
    expect(line.top.map((t: { index: number }) => t.index).sort()).toEqual([0, 1]);
    const bad = spawnSync('node', [BIN, 'classify', '--top', '3', '--jobs', '1', '--model', model, photo], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--top must be an integer from 1 to 2, got '3'/);
  });
});
