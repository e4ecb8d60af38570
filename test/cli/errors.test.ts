/**
 * The CLI's error contract, in every command: one line on stderr, `mobilenet-wasm: error: CODE:
 * message`; exit status 2 for a usage error (code USAGE, the line ending with a pointer to
 * --help), 1 for everything else; file-system errors are IO naming the path and the reason;
 * option values are range-checked (negative numbers included); the full usage only on request.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { describeError, errorLine, ioError, parse } from '../../src/cli/common.js';
import { MobileNetError } from '../../src/errors.js';
import { MODELS_DIR, SHARED_DIR } from '../helpers/kernels.js';

const BIN = join(__dirname, '..', '..', 'bin', 'mobilenet-wasm.js');
const built = existsSync(join(__dirname, '..', '..', 'dist', 'cli', 'main.js'));
const tmp = mkdtempSync(join(tmpdir(), 'mnw-errors-'));
const QUANT = MODELS_DIR && join(MODELS_DIR, 'mobilenet_v1_0.25_128_quant.tflite');
const INPUT = SHARED_DIR && join(SHARED_DIR, 'golden', 'quant', 'cup_128.input');
const sample = (f: string) => join(SHARED_DIR!, 'images', 'samples', f);

const ONE_LINE = /^mobilenet-wasm: error: [A-Z_]+: [^\n]+\n$/;
const USAGE_LINE = /^mobilenet-wasm: error: USAGE: [^\n]+ \(see mobilenet-wasm --help\)\n$/;

let stdout: string;
let stderr: string;
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** main() in this process: exit status and stderr, checked to be one error line. */
async function fails(argv: string[]): Promise<{ status: number; line: string }> {
  const status = await main(argv);
  expect(stderr, `${argv.join(' ')}\nstderr: ${stderr}`).toMatch(ONE_LINE);
  return { status, line: stderr };
}

/** A usage error: exit 2, one line ending with the pointer to --help, message matching `re`. */
async function usage(argv: string[], re: RegExp): Promise<void> {
  const { status, line } = await fails(argv);
  expect(status, argv.join(' ')).toBe(2);
  expect(line, argv.join(' ')).toMatch(USAGE_LINE);
  expect(line, argv.join(' ')).toMatch(re);
  expect(line).not.toMatch(/usage:/);
  stderr = '';
}

describe('usage errors: one line, exit 2', () => {
  it('unknown command, unknown option, missing value, stray argument', async () => {
    await usage(['frobnicate'], /unknown command 'frobnicate'/);
    await usage(['stats', '--alpha', '1', '--resolution', '224', '--bogus'], /USAGE: unknown option '--bogus' \(see/);
    await usage(['stats', '--alpha'], /USAGE: --alpha needs a value \(see/);
    await usage(['stats', '--json=yes', '--alpha', '1', '--resolution', '224'], /--json takes no value/);
    await usage(['stats', '--alpha', '1', '--resolution', '224', 'extra'], /unexpected argument 'extra'/);
    await usage(['stats', '--resolution', '224'], /--alpha is required/);
    await usage(['run', '--model', 'm.tflite', '--input', '', '--output', 'o.bin'], /--input needs a value/);
    await usage(['classify'], /classify needs at least one image file/);
  });

  it('negative numbers reach the range checks instead of "argument is ambiguous"', async () => {
    await usage(['classify', '--top', '-1', 'x.jpg'], /--top must be an integer from 1 to the model's number of classes, got '-1'/);
    await usage(['bench', '--runs', '-1', '--model', 'm.tflite'], /--runs must be an integer from 1 to 10000, got '-1'/);
    await usage(['stats', '--alpha', '-1', '--resolution', '224'], /--alpha must be a number with 0 < alpha <= 4, got '-1'/);
    await usage(['stats', '--alpha', '1', '--resolution', '-224'], /--resolution must be an integer from 32 to 1024, got '-224'/);
    await usage(['bench', '--warmup-ms', '-5', '--model', 'm.tflite'], /--warmup-ms must be a number with 0 <= warmup-ms <= 600000 \(milliseconds\), got '-5'/);
    await usage(['fetch', '--timeout', '-1', '--list'], /--timeout must be a number with 0 < timeout <= 3600 \(seconds\), got '-1'/);
    await usage(['eval', '--limit', '-2'], /--limit must be an integer from 1 to the number of photos, got '-2'/);
    await usage(['bench', '--alpha', '-.5', '--resolution', '128', '--precision', 'uint8'], /--alpha must be a number with 0 < alpha <= 4, got '-.5'/);
    // a dash that is not a number still says how to pass it
    await usage(['classify', '--model', '-x', 'a.jpg'], /--model needs a value; to give one that starts with '-', write --model=VALUE/);
  });

  it('every bad option value in every command is exit 2 with the option, its range and the value', async () => {
    await usage(['stats', '--alpha', 'abc', '--resolution', '224'], /--alpha must be a number with 0 < alpha <= 4, got 'abc'/);
    await usage(['stats', '--alpha', '4.5', '--resolution', '224'], /--alpha must be a number with 0 < alpha <= 4, got '4.5'/);
    await usage(['stats', '--alpha', '1', '--resolution', '224.5'], /--resolution must be an integer from 32 to 1024, got '224.5'/);
    await usage(['stats', '--alpha', '0x1', '--resolution', '224'], /--alpha .* got '0x1'/);
    await usage(['classify', '--top', 'abc', 'x.jpg'], /--top must be an integer .* got 'abc'/);
    await usage(['classify', '--top', '2.5', 'x.jpg'], /--top must be an integer .* got '2.5'/);
    await usage(['classify', '--kernels', 'gpu', 'x.jpg'], /--kernels must be auto, simd, scalar or relaxed, got 'gpu'/);
    await usage(['run', '--model', 'm', '--input', 'i', '--output', 'o', '--kernels', 'gpu'], /--kernels must be auto, simd, scalar or relaxed, got 'gpu'/);
    await usage(['bench', '--runs', '0', '--model', 'm.tflite'], /--runs must be an integer from 1 to 10000, got '0'/);
    await usage(['bench', '--runs', '1e9', '--model', 'm.tflite'], /--runs must be an integer from 1 to 10000, got '1e9'/);
    await usage(['bench', '--warmup-ms', 'soon', '--model', 'm.tflite'], /--warmup-ms .* got 'soon'/);
    await usage(['bench', '--alpha', '5', '--resolution', '128', '--precision', 'uint8'], /--alpha must be a number with 0 < alpha <= 4, got '5'/);
    await usage(['bench', '--alpha', '1', '--resolution', '7', '--precision', 'uint8'], /--resolution must be an integer from 32 to 1024, got '7'/);
    await usage(['bench', '--alpha', '1', '--resolution', '128', '--precision', 'f16'], /--precision must be f32, float32, uint8 or int8, got 'f16'/);
    await usage(['bench', '--alpha', '1', '--resolution', '128'], /bench needs --model M.tflite, or --alpha, --resolution and --precision/);
    await usage(['bench', '--model', 'm.tflite', '--alpha', '1'], /not both/);
    await usage(['eval', '--limit', '0'], /--limit must be an integer from 1 to the number of photos, got '0'/);
    await usage(['eval', '--limit', 'all'], /--limit .* got 'all'/);
    await usage(['eval', '--crop', 'square'], /--crop takes a comma-separated list of tf-slim, aosp-square, none; got 'square'/);
    await usage(['eval', '--kernels', 'gpu'], /--kernels must be/);
    await usage(['fetch', '--timeout', '0', '--list'], /--timeout must be a number with 0 < timeout <= 3600 \(seconds\), got '0'/);
    await usage(['fetch', '--timeout', '86400', '--list'], /--timeout .* got '86400'/);
    await usage(['fetch', '--max-size', 'big', '--list'], /--max-size must be a number with 0 < max-size <= 4096 \(MiB\), got 'big'/);
    await usage(['fetch', '--base-url', 'ftp://x'], /http\(s\) URL/);
  });

  it.skipIf(!MODELS_DIR)("--top is at most the model's number of classes", async () => {
    await usage(['classify', '--model', QUANT!, '--top', '99999', sample('cat.bmp')], /--top must be an integer from 1 to 1001, got '99999'/);
    expect(stdout).toBe('');
    expect(await main(['classify', '--model', QUANT!, '--top', '1001', '--json', sample('cat.bmp')])).toBe(0);
    expect(JSON.parse(stdout).top).toHaveLength(1001);
  });

  it.skipIf(!MODELS_DIR)('--limit is at most the number of labelled photos', async () => {
    await usage(['eval', '--models', MODELS_DIR!, '--limit', '99999'], /--limit must be an integer from 1 to 1490 \(the photos in .*\), got '99999'/);
  });
});

describe('the full usage only on request', () => {
  it('--help, -h and help print it on stdout with status 0, also after a command', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['classify', '--help'], ['fetch', '--list', '-h']]) {
      stdout = '';
      expect(await main(argv), argv.join(' ')).toBe(0);
      expect(stdout).toMatch(/^usage: mobilenet-wasm <command>/);
      expect(stderr).toBe('');
    }
  });

  it('documents the error format and the exit statuses', async () => {
    await main(['--help']);
    expect(stdout).toContain("'mobilenet-wasm: error: CODE: message'");
    expect(stdout.replace(/\s+/g, ' ')).toMatch(/Exit status 0: success; 2: usage error \(code USAGE.*\); 1: anything else/);
  });

  it.skipIf(!built)('no command at all: the usage on stderr, status 2', () => {
    const r = spawnSync('node', [BIN], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^usage: mobilenet-wasm <command>/);
  });
});

describe.skipIf(!MODELS_DIR)('file-system errors are IO, naming the path and the reason', () => {
  it('run: --output in a missing folder, or a folder; --input missing or a folder', async () => {
    const missing = join(tmp, 'no-such-dir', 'out.bin');
    let r = await fails(['run', '--model', QUANT!, '--input', INPUT!, '--output', missing]);
    expect(r.status).toBe(1);
    expect(r.line).toBe(`mobilenet-wasm: error: IO: cannot write output file ${missing}: no such directory ${join(tmp, 'no-such-dir')}\n`);
    stderr = '';
    r = await fails(['run', '--model', QUANT!, '--input', INPUT!, '--output', tmp]);
    expect(r.status).toBe(1);
    expect(r.line).toBe(`mobilenet-wasm: error: IO: cannot write output file ${tmp}: it is a directory\n`);
    stderr = '';
    r = await fails(['run', '--model', QUANT!, '--input', join(tmp, 'nope.bin'), '--output', join(tmp, 'o.bin')]);
    expect(r.status).toBe(1);
    expect(r.line).toBe(`mobilenet-wasm: error: IO: cannot read input file ${join(tmp, 'nope.bin')}: no such file\n`);
    stderr = '';
    r = await fails(['run', '--model', QUANT!, '--input', tmp, '--output', join(tmp, 'o.bin')]);
    expect(r.line).toBe(`mobilenet-wasm: error: IO: cannot read input file ${tmp}: it is a directory\n`);
    expect(existsSync(join(tmp, 'o.bin'))).toBe(false);
  });

  it('classify: --labels missing or a folder', async () => {
    let r = await fails(['classify', '--model', QUANT!, '--labels', join(tmp, 'labels.txt'), sample('cat.bmp')]);
    expect(r.status).toBe(1);
    expect(r.line).toBe(`mobilenet-wasm: error: IO: cannot read labels file ${join(tmp, 'labels.txt')}: no such file\n`);
    stderr = '';
    r = await fails(['classify', '--model', QUANT!, '--labels', tmp, sample('cat.bmp')]);
    expect(r.line).toBe(`mobilenet-wasm: error: IO: cannot read labels file ${tmp}: it is a directory\n`);
  });

  it('eval: --out under a file, found before the evaluation starts', async () => {
    const models = join(tmp, 'models');
    mkdirSync(models, { recursive: true });
    if (!existsSync(join(models, 'm.tflite'))) symlinkSync(QUANT!, join(models, 'm.tflite'));
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const aosp = join(SHARED_DIR!, 'golden', 'mobilenet_topk_aosp.json');
    const photos = join(SHARED_DIR!, 'images', 'photos');
    const r = await fails(['eval', '--models', models, '--photos', photos, '--aosp', aosp, '--limit', '2', '--out', join(file, 'ACCURACY.md')]);
    expect(r.status).toBe(1);
    expect(r.line).toMatch(new RegExp(`^mobilenet-wasm: error: IO: cannot create folder ${file}: (a file of that name already exists|a component of the path is not a directory)\\n$`));
    expect(stderr).not.toMatch(/evaluating/);
  });

  it('eval: an --aosp file that is not JSON is INVALID_INPUT, a missing one IO', async () => {
    const bad = join(tmp, 'aosp.json');
    writeFileSync(bad, '{ not json');
    const common = ['eval', '--models', MODELS_DIR!, '--limit', '1'];
    let r = await fails([...common, '--aosp', bad]);
    expect(r.status).toBe(1);
    expect(r.line).toMatch(/^mobilenet-wasm: error: INVALID_INPUT: .*aosp\.json is not JSON/);
    stderr = '';
    r = await fails([...common, '--aosp', join(tmp, 'none.json')]);
    expect(r.line).toBe(`mobilenet-wasm: error: IO: cannot read AOSP figures file ${join(tmp, 'none.json')}: no such file\n`);
  });

  it.skipIf(!built)('through the installed bin: the exact line and exit status 1', () => {
    const out = join(tmp, 'missing', 'out.bin');
    const r = spawnSync('node', [BIN, 'run', '--model', QUANT!, '--input', INPUT!, '--output', out], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`mobilenet-wasm: error: IO: cannot write output file ${out}: no such directory ${join(tmp, 'missing')}\n`);
  });
});

describe.skipIf(!MODELS_DIR)('classify: one bad image does not hide the others', () => {
  it('each failure is its own line, the good image is classified, status 1', async () => {
    const missing = join(tmp, 'missing.jpg');
    const status = await main(['classify', '--model', QUANT!, '--json', missing, sample('cat.bmp'), join(SHARED_DIR!, 'PROVENANCE.md')]);
    expect(status).toBe(1);
    expect(JSON.parse(stdout).image).toBe(sample('cat.bmp'));
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`mobilenet-wasm: error: IO: cannot read image file ${missing}: no such file`);
    expect(lines[1]).toMatch(/^mobilenet-wasm: error: INVALID_IMAGE: .*PROVENANCE\.md: .*not an image/);
    expect(lines[2]).toBe('mobilenet-wasm: error: INVALID_IMAGE: 2 of 3 images could not be classified');
  });
});

describe('one line for every error', () => {
  it('a bug (not a MobileNetError) prints one INTERNAL line, status 1', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => {
      throw new TypeError('boom\n  on a second line');
    });
    const { status, line } = await fails(['stats', '--alpha', '1', '--resolution', '224']);
    expect(status).toBe(1);
    expect(line).toMatch(/^mobilenet-wasm: error: INTERNAL: TypeError: boom on a second line \(at .*\); this is a bug in mobilenet-wasm\n$/);
  });

  it('newlines in messages are collapsed; a file-system error that escapes is still IO with its path', () => {
    expect(errorLine(new MobileNetError('INVALID_MODEL', 'first\nsecond\r\n  third'))).toBe('mobilenet-wasm: error: INVALID_MODEL: first second third\n');
    let raw: unknown;
    try {
      readFileSync(join(tmp, 'absent'));
    } catch (e) {
      raw = e;
    }
    expect(describeError(raw)).toEqual({ code: 'IO', message: `cannot open ${join(tmp, 'absent')}: no such file`, status: 1 });
    expect(ioError(Object.assign(new Error('x'), { code: 'EACCES' }), 'write', '/x/out.bin').message).toBe('cannot write /x/out.bin: permission denied');
    expect(describeError(new MobileNetError('IO', 'cannot read image file /a.jpg: ENOENT')).message).toBe('cannot read image file /a.jpg: no such file');
  });

  it('parse keeps negative numbers as values and leaves other dashes alone', () => {
    const opts = { top: { type: 'string' }, json: { type: 'boolean' } } as const;
    expect(parse(['--top', '-3', '--json'], opts).values).toEqual({ top: '-3', json: true });
    expect(parse(['--top', '-1e3'], opts).values.top).toBe('-1e3');
    expect(parse(['--json', '--', '-5'], opts).positionals).toEqual(['-5']);
  });
});
