/**
 * What each V8 tier computes for i32x4.relaxed_dot_i8x16_i7x16_add_s (issue 11 item 2), with
 * operands inside the instruction's portable range (second operand 0..127), so every correct
 * engine gives the same lanes. Each tier runs in a child process with its flags:
 *   --liftoff --no-wasm-tier-up  the baseline compiler only (what the first calls of any wasm
 *                                function run under dynamic tiering)
 *   --no-liftoff                 TurboFan only
 *   (none)                       the default: the first call runs in Liftoff
 * Chromium gets the same flags through --js-flags (Chromium 150: exact in both tiers).
 * Node 20 (V8 11.3) Liftoff returns 2 * dot(a, b) and drops the accumulator, so the runtime's
 * guard is: call the instruction once right after instantiation (a first call runs in the
 * baseline tier) and use relaxed-dot kernels only if it is exact; Node 20 then never uses them,
 * since a hot kernel's own tier-up time is unknowable and its first calls would be wrong.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { browserSkipReason, launchBrowser } from '../browser/harness.js';

// (module (memory (export "memory") 1)
//   (func (export "dot") (param $a i32) (param $b i32) (param $c i32) (param $out i32)
//     (v128.store (local.get $out) (i32x4.relaxed_dot_i8x16_i7x16_add_s
//       (v128.load (local.get $a)) (v128.load (local.get $b)) (v128.load (local.get $c))))))
const MODULE = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, // type: (i32 x4) -> ()
  0x03, 0x02, 0x01, 0x00, // func 0 has type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory min 1
  0x07, 0x10, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x03, 0x64, 0x6f, 0x74, 0x00, 0x00, // exports
  0x0a, 0x1f, 0x01, 0x1d, 0x00, // code: one body of 29 bytes, no locals
  0x20, 0x03, // local.get out
  0x20, 0x00, 0xfd, 0x00, 0x04, 0x00, // v128.load a
  0x20, 0x01, 0xfd, 0x00, 0x04, 0x00, // v128.load b
  0x20, 0x02, 0xfd, 0x00, 0x04, 0x00, // v128.load c
  0xfd, 0x93, 0x02, // i32x4.relaxed_dot_i8x16_i7x16_add_s (0x113)
  0xfd, 0x0b, 0x04, 0x00, // v128.store
  0x0b,
];

// quads of (a, b) repeated over the 16 lanes, accumulator 1000 in every lane
const CASES: { a: number[]; b: number[] }[] = [
  { a: [-128, -128, -128, -128], b: [127, 127, 127, 127] },
  { a: [127, 127, 127, 127], b: [127, 127, 127, 127] },
  { a: [-3, 5, -7, 9], b: [1, 2, 3, 4] },
  { a: [-128, 127, -1, 0], b: [0, 127, 64, 1] },
];
const ACC = 1000;
const dot = (c: { a: number[]; b: number[] }) => c.a.reduce((s, x, i) => s + x * c.b[i], 0);

// the child: instantiate, run every case once (first calls), print the lanes
const CHILD = `
const bytes = new Uint8Array(${JSON.stringify(MODULE)});
const cases = ${JSON.stringify(CASES)};
const { instance } = await WebAssembly.instantiate(bytes);
const { memory, dot } = instance.exports;
const lanes = [];
for (const c of cases) {
  const m = new Int8Array(memory.buffer);
  for (let i = 0; i < 16; i++) { m[i] = c.a[i & 3]; m[16 + i] = c.b[i & 3]; }
  new Int32Array(memory.buffer, 32, 4).fill(${ACC});
  dot(0, 16, 32, 48);
  lanes.push(Array.from(new Int32Array(memory.buffer, 48, 4)));
}
console.log(JSON.stringify({ v8: process.versions.v8, lanes }));
`;

function runTier(flags: string[]): { v8: string; lanes: number[][] } {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', ...flags, '--input-type=module', '-e', CHILD], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${flags.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const exact = CASES.map((c) => new Array(4).fill(ACC + dot(c)));
// Node 20's Liftoff: twice the dot, accumulator dropped
const liftoffNode20 = CASES.map((c) => new Array(4).fill(2 * dot(c)));
const isV8_11_3 = process.versions.v8.startsWith('11.3.');

describe('i32x4.relaxed_dot_i8x16_i7x16_add_s per V8 tier (second operand in 0..127)', () => {
  it('the hand-written module validates with relaxed SIMD', () => {
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-p', `WebAssembly.validate(new Uint8Array(${JSON.stringify(MODULE)}))`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('true');
  });

  it('TurboFan (--no-liftoff) is exact', () => {
    expect(runTier(['--no-liftoff']).lanes).toEqual(exact);
  });

  it('Liftoff (--liftoff --no-wasm-tier-up): wrong in Node 20 (2 x dot, accumulator dropped), exact elsewhere', () => {
    const { lanes } = runTier(['--liftoff', '--no-wasm-tier-up']);
    expect(lanes).toEqual(isV8_11_3 ? liftoffNode20 : exact);
  });

  it('default flags: a first call runs in Liftoff, so the guard (one call right after instantiation) sees the fault', () => {
    const { lanes } = runTier([]);
    const guardPasses = JSON.stringify(lanes) === JSON.stringify(exact);
    expect(guardPasses).toBe(!isV8_11_3);
  });
});

const chromiumSkip = browserSkipReason();
describe.skipIf(!!chromiumSkip)('the same in headless Chromium, per tier', () => {
  for (const flags of ['--liftoff --no-wasm-tier-up', '--no-liftoff']) {
    it(`${flags}: exact`, async () => {
      const browser = await launchBrowser([`--js-flags=${flags}`]);
      try {
        const page = await browser.newPage();
        const lanes = await page.evaluate(async ({ bytes, cases, acc }) => {
          const { instance } = await WebAssembly.instantiate(new Uint8Array(bytes));
          const { memory, dot } = instance.exports as unknown as { memory: WebAssembly.Memory; dot: (a: number, b: number, c: number, out: number) => void };
          return cases.map((c) => {
            const m = new Int8Array(memory.buffer);
            for (let i = 0; i < 16; i++) { m[i] = c.a[i & 3]; m[16 + i] = c.b[i & 3]; }
            new Int32Array(memory.buffer, 32, 4).fill(acc);
            dot(0, 16, 32, 48);
            return Array.from(new Int32Array(memory.buffer, 48, 4));
          });
        }, { bytes: MODULE, cases: CASES, acc: ACC });
        expect(lanes).toEqual(exact);
      } finally {
        await browser.close();
      }
    }, 60_000);
  }
});
