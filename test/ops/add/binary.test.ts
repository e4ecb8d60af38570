/**
 * ADD / MUL on every kernel build against the plain-loop reference (test/reference/elementwise.ts):
 * random shapes (equal, one-element, per-channel, trailing and general broadcasts, either side),
 * constant operands, random scales and zero points (including scale ratios that make the input
 * shifts large), activations. Quantized: byte equality; float: 1e-5 relative.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareBinary } from '../../../src/ops/add/index.js';
import type { Activation, BinaryOp, DType, TensorInfo } from '../../../src/model/ir.js';
import { MobileNetError } from '../../../src/errors.js';
import type { Kernels } from '../../../src/runtime/kernels.js';
import { FLAVOURS, loadKernels, rng, TestHeap } from '../../helpers/kernels.js';
import { refBinary, type Raw } from '../../reference/elementwise.js';
import { raw, runOp, stored } from './run.js';

type Rand = () => number;
const randInt = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const ACTIVATIONS: Activation[] = ['none', 'relu', 'relu6', 'relu_n1_to_1'];

const kernels: Kernels[] = [];
beforeAll(async () => {
  for (const f of FLAVOURS) kernels.push(await loadKernels(f));
});

function randomValues(r: Rand, n: number, dtype: DType): Raw {
  if (dtype === 'float32') return Float32Array.from({ length: n }, () => (r() * 2 - 1) * 8);
  if (dtype === 'uint8') return Uint8Array.from({ length: n }, () => randInt(r, 0, 255));
  return Int8Array.from({ length: n }, () => randInt(r, -128, 127));
}

const zpFor = (r: Rand, dtype: DType) => (dtype === 'uint8' ? randInt(r, 0, 255) : randInt(r, -128, 127));

function tensor(name: string, shape: number[], dtype: DType, scale?: number, zp?: number): TensorInfo {
  return { name, shape, dtype, quant: scale === undefined ? undefined : { scale: [scale], zeroPoint: [zp ?? 0], axis: 0 } };
}

/** a pair of broadcastable shapes of one of the kinds the op handles differently */
function randomShapes(r: Rand): [number[], number[]] {
  const h = randInt(r, 1, 9), w = randInt(r, 1, 9), c = randInt(r, 1, 40);
  const full = [1, h, w, c];
  const kind = randInt(r, 0, 7);
  let other: number[];
  switch (kind) {
    case 0: other = [...full]; break; // equal
    case 1: other = pick(r, [[], [1], [1, 1, 1, 1]]); break; // one element
    case 2: other = pick(r, [[c], [1, 1, 1, c]]); break; // per channel
    case 3: other = [w, c]; break; // trailing
    case 4: other = [1, h, 1, c]; break; // general
    case 5: return [[1, h, 1, c], [1, 1, w, 1]]; // both stretch
    case 6: { const n = randInt(r, 1, 300); return [[n], [n]]; } // rank 1
    default: other = [1, h, w, 1]; break; // general (stretch last)
  }
  return r() < 0.5 ? [full, other] : [other, full];
}

function broadcast(a: number[], b: number[]): number[] {
  const pa = [...new Array(4 - a.length).fill(1), ...a], pb = [...new Array(4 - b.length).fill(1), ...b];
  const o = pa.map((d, i) => Math.max(d, pb[i]));
  // keep the rank of the larger input, as TFLite's output does
  return o.slice(4 - Math.max(a.length, b.length));
}

interface Case {
  op: BinaryOp;
  values: [Raw, Raw];
}

function randomCase(r: Rand, dtype: DType, kind: 'add' | 'mul', largeShift = false): Case {
  const [sa, sb] = randomShapes(r);
  const so = broadcast(sa, sb);
  const activation = pick(r, ACTIVATIONS);
  let ta: TensorInfo, tb: TensorInfo, to: TensorInfo;
  if (dtype === 'float32') {
    ta = tensor('a', sa, dtype); tb = tensor('b', sb, dtype); to = tensor('out', so, dtype);
  } else {
    // power-of-two scale ratios make exact halves, so the rounding of ties is exercised
    const pow2 = r() < 0.35;
    const ratio = (lo: number, hi: number) => 2 ** (pow2 ? randInt(r, lo, hi) : lo + r() * (hi - lo));
    const s1 = 2 ** (r() * 10 - 9);
    // large ratios make the smaller input's right shift large (or its multiplier 0)
    const s2 = s1 * (largeShift ? 2 ** (pick(r, [-1, 1]) * (12 + r() * 24)) : ratio(-3, 3));
    let so_: number;
    if (kind === 'add') {
      so_ = Math.max(s1, s2) * ratio(-5, 2);
    } else {
      so_ = s1 * s2 * ratio(-14, 10);
    }
    if (activation !== 'none' && r() < 0.7) so_ = Math.max(so_, 8 / 255); // so the clamp bites inside the range
    ta = tensor('a', sa, dtype, s1, zpFor(r, dtype));
    tb = tensor('b', sb, dtype, s2, zpFor(r, dtype));
    to = tensor('out', so, dtype, so_, zpFor(r, dtype));
  }
  const values: [Raw, Raw] = [randomValues(r, ta.shape.reduce((p, d) => p * d, 1), dtype), randomValues(r, tb.shape.reduce((p, d) => p * d, 1), dtype)];
  const constSide = r();
  if (constSide < 0.2) ta.constant = values[0];
  else if (constSide < 0.4) tb.constant = values[1];
  else if (constSide < 0.45) { ta.constant = values[0]; tb.constant = values[1]; }
  return { op: { op: kind, inputs: [ta, tb], output: to, activation }, values };
}

function check(c: Case): void {
  const { op, values } = c;
  const dtype = op.output.dtype;
  const expected = refBinary(op, values[0], values[1]);
  const prepared = prepareBinary(op);
  const inputs = op.inputs.map((t, i) => (t.constant ? undefined : stored(values[i], dtype))).filter((x): x is Int8Array | Float32Array => !!x);
  const n = expected.length;
  for (const k of kernels) {
    const { out, overrun } = runOp(k, prepared, inputs, n * (dtype === 'float32' ? 4 : 1));
    const label = `${k.flavour} ${prepared.kernel} ${op.op} ${dtype} [${op.inputs[0].shape}]${op.inputs[0].constant ? 'c' : ''} [${op.inputs[1].shape}]${op.inputs[1].constant ? 'c' : ''} ${op.activation}`;
    expect(overrun, `${label}: wrote past the output`).toBe(false);
    const got = raw(out, dtype);
    if (dtype === 'float32') {
      for (let i = 0; i < n; i++) {
        const e = expected[i];
        if (!(Math.abs(got[i] - e) <= 1e-5 * Math.abs(e) + 1e-30)) expect.fail(`${label}: element ${i} is ${got[i]}, expected ${e}`);
      }
    } else {
      for (let i = 0; i < n; i++) if (got[i] !== expected[i]) expect.fail(`${label}: element ${i} is ${got[i]}, expected ${expected[i]}`);
    }
  }
}

describe('ADD / MUL against the reference on scalar, simd and relaxed', () => {
  for (const dtype of ['int8', 'uint8', 'float32'] as const) {
    for (const kind of ['add', 'mul'] as const) {
      it(`${kind} ${dtype}: random shapes, broadcasts, constants, quant params`, () => {
        const r = rng(dtype.length * 1000 + (kind === 'add' ? 1 : 2));
        for (let t = 0; t < 150; t++) check(randomCase(r, dtype, kind));
      });
    }
    if (dtype !== 'float32') {
      it(`add ${dtype}: input scale ratios that make shifts large`, () => {
        const r = rng(77 + dtype.length);
        for (let t = 0; t < 60; t++) check(randomCase(r, dtype, 'add', true));
      });
    }
  }

  it('MobileNet v2 residual ADD: int8 [1,56,56,24] + [1,56,56,24], different scales', () => {
    const r = rng(5);
    const shape = [1, 56, 56, 24];
    const op: BinaryOp = {
      op: 'add',
      inputs: [tensor('a', shape, 'int8', 0.2392, -1), tensor('b', shape, 'int8', 0.3021, 8)],
      output: tensor('out', shape, 'int8', 0.3615, -3),
      activation: 'none',
    };
    check({ op, values: [randomValues(r, 56 * 56 * 24, 'int8'), randomValues(r, 56 * 56 * 24, 'int8')] });
  });

  it('preprocessing x * (1/127.5) + (-1) with scalar float constants', () => {
    const r = rng(9);
    const x = Float32Array.from({ length: 224 * 224 * 3 }, () => randInt(r, 0, 255));
    const mulOp: BinaryOp = { op: 'mul', inputs: [tensor('x', [1, 224, 224, 3], 'float32'), { ...tensor('k', [], 'float32'), constant: new Float32Array([1 / 127.5]) }], output: tensor('y', [1, 224, 224, 3], 'float32'), activation: 'none' };
    const addOp: BinaryOp = { op: 'add', inputs: [{ ...tensor('k', [1], 'float32'), constant: new Float32Array([-1]) }, tensor('y', [1, 224, 224, 3], 'float32')], output: tensor('z', [1, 224, 224, 3], 'float32'), activation: 'none' };
    check({ op: mulOp, values: [x, mulOp.inputs[1].constant as Float32Array] });
    check({ op: addOp, values: [addOp.inputs[0].constant as Float32Array, x] });
  });

  it('logs ADD int8 56x56x24 time per build (no assertion)', () => {
    const shape = [1, 56, 56, 24];
    const n = 56 * 56 * 24;
    const op: BinaryOp = { op: 'add', inputs: [tensor('a', shape, 'int8', 0.2392, -1), tensor('b', shape, 'int8', 0.3021, 8)], output: tensor('out', shape, 'int8', 0.3615, -3), activation: 'none' };
    const prepared = prepareBinary(op);
    const r = rng(3);
    const inputs = [stored(randomValues(r, n, 'int8'), 'int8'), stored(randomValues(r, n, 'int8'), 'int8')];
    for (const k of kernels) {
      const heap = new TestHeap(k);
      const constants = prepared.constants.map((c) => heap.put(c));
      const ptrs = inputs.map((x) => heap.put(x));
      const p = { input: ptrs[0], inputs: ptrs, output: heap.alloc(n), outputs: [], constants, scratch: 0 };
      for (let i = 0; i < 20; i++) prepared.run(k.exports, p);
      // best of 15 batches: other processes share the machine
      let best = Infinity;
      for (let batch = 0; batch < 15; batch++) {
        const t0 = performance.now();
        for (let i = 0; i < 40; i++) prepared.run(k.exports, p);
        best = Math.min(best, (performance.now() - t0) / 40);
      }
      console.log(`ADD int8 [1,56,56,24] (${prepared.kernel}) on ${k.flavour}: ${(best * 1000).toFixed(1)} us per call (best batch)`);
    }
  });
});

describe('ADD / MUL reject bad models naming the problem', () => {
  const q = (name: string, shape: number[], dtype: DType = 'int8', scale = 0.1, zp = 0) => tensor(name, shape, dtype, scale, zp);
  const expectError = (op: BinaryOp, code: string, text: RegExp) => {
    let err: unknown;
    try {
      prepareBinary(op);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MobileNetError);
    expect((err as MobileNetError).code).toBe(code);
    expect((err as Error).message).toMatch(text);
  };
  it('mismatched dtypes', () => {
    expectError({ op: 'add', inputs: [q('a', [1, 4]), q('b', [1, 4], 'uint8')], output: q('o', [1, 4]), activation: 'none' }, 'UNSUPPORTED_MODEL', /'b' is uint8/);
    expectError({ op: 'mul', inputs: [tensor('a', [4], 'float32'), tensor('b', [4], 'float32')], output: q('o', [4]), activation: 'none' }, 'UNSUPPORTED_MODEL', /'a' is float32/);
  });
  it('unbroadcastable shapes and a wrong output shape', () => {
    expectError({ op: 'add', inputs: [q('a', [1, 4, 3]), q('b', [1, 5, 3])], output: q('o', [1, 4, 3]), activation: 'none' }, 'INVALID_MODEL', /\[1,1,4,3\] and \[1,1,5,3\] do not broadcast/);
    expectError({ op: 'mul', inputs: [q('a', [2, 3]), q('b', [3])], output: q('o', [3, 3]), activation: 'none' }, 'INVALID_MODEL', /output shape \[3,3\]/);
    expectError({ op: 'mul', inputs: [q('a', [1, 1, 2, 2, 3]), q('b', [3])], output: q('o', [1, 1, 2, 2, 3]), activation: 'none' }, 'UNSUPPORTED_MODEL', /rank 5/);
  });
  it('hostile quantization', () => {
    // ADD needs output scale > 2 max(s1, s2) / 2^20 (TFLite CHECK)
    expectError({ op: 'add', inputs: [q('a', [4], 'int8', 1), q('b', [4], 'int8', 1)], output: q('o', [4], 'int8', 1e-7), activation: 'none' }, 'UNSUPPORTED_MODEL', /output multiplier/);
    expectError({ op: 'add', inputs: [q('a', [4], 'int8', 0), q('b', [4])], output: q('o', [4]), activation: 'none' }, 'INVALID_MODEL', /'a'.*scale 0/);
    expectError({ op: 'add', inputs: [q('a', [4], 'uint8', 0.1, 300), q('b', [4], 'uint8')], output: q('o', [4], 'uint8'), activation: 'none' }, 'INVALID_MODEL', /zero point 300/);
    expectError({ op: 'mul', inputs: [q('a', [4], 'int8', 1e10), q('b', [4], 'int8', 1e10)], output: q('o', [4], 'int8', 1e-10), activation: 'none' }, 'UNSUPPORTED_MODEL', /too large/);
    expectError({ op: 'mul', inputs: [q('a', [4], 'int8', 1e30), q('b', [4], 'int8', 1e30)], output: q('o', [4], 'int8', 1), activation: 'none' }, 'INVALID_MODEL', /not finite/);
    expectError({ op: 'add', inputs: [q('a', [4]), q('b', [4])], output: q('o', [4]), activation: 'tanh' as Activation }, 'UNSUPPORTED_MODEL', /ADD 'o': activation 'tanh' is not supported/);
    expectError({ op: 'mul', inputs: [tensor('a', [4], 'float32'), tensor('b', [4], 'float32')], output: tensor('o', [4], 'float32'), activation: 'tanh' as Activation }, 'UNSUPPORTED_MODEL', /MUL 'o': activation 'tanh'/);
    const perChannel: TensorInfo = { name: 'pc', shape: [2], dtype: 'int8', quant: { scale: [0.1, 0.2], zeroPoint: [0, 0], axis: 0 } };
    expectError({ op: 'mul', inputs: [q('a', [2]), perChannel], output: q('o', [2]), activation: 'none' }, 'UNSUPPORTED_MODEL', /'pc' has per-channel/);
  });
  it('a constant whose values do not fit its shape or dtype', () => {
    expectError({ op: 'add', inputs: [q('a', [4]), { ...q('k', [4]), constant: new Int8Array(3) }], output: q('o', [4]), activation: 'none' }, 'INVALID_MODEL', /'k' has 3 values/);
    expectError({ op: 'add', inputs: [q('a', [4], 'uint8'), { ...q('k', [4], 'uint8'), constant: new Int8Array(4) }], output: q('o', [4], 'uint8'), activation: 'none' }, 'INVALID_MODEL', /'k' is uint8 but holds Int8Array/);
  });
});
