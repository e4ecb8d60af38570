// The registry of the portable core is compiled from weights/models.json, the one source of truth.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listModels } from '../../src/index.js';
import { knownModels } from '../../src/cli/models.js';

const root = resolve(__dirname, '../..');

describe('model registry', () => {
  it('src/weights/registry.ts is generated from weights/models.json and up to date', () => {
    // exits 1 (execFileSync throws) when the module is stale
    execFileSync(process.execPath, [join(root, 'scripts/gen-model-registry.mjs'), '--check'], { stdio: 'pipe' });
    const json = JSON.parse(readFileSync(join(root, 'weights/models.json'), 'utf8'));
    expect(listModels()).toEqual(json.models);
    expect(knownModels().default).toBe(json.default);
    expect(knownModels().labels).toEqual(json.labels);
  });

  it('listModels gives copies: changing one changes nothing for later loads', () => {
    const first = listModels();
    first[0].url = 'http://evil.example/';
    expect(listModels()[0].url).toMatch(/^https:\/\/storage\.googleapis\.com\//);
  });

  it('every entry is an official v1 .tgz with its .tflite named after it', () => {
    const models = listModels();
    expect(models).toHaveLength(32);
    for (const m of models) {
      expect(m.url).toMatch(new RegExp(`/${m.name.replace(/\./g, '\\.')}\\.tgz$`));
      expect(m.file).toBe(`${m.name}.tflite`);
    }
  });
});
