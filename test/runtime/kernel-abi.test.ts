/**
 * The typed kernel interface (src/runtime/kernel-abi.ts) against the real builds: every
 * exported function is declared and every declared function exported, with the same number
 * of arguments of the same wasm types (read from the binary's type section, since JS sees
 * only a function's arity). A kernel that gains, loses or retypes an argument fails here
 * before a host call can pass numbers in the wrong order. The per-precision builds
 * (mobilenet-q8-<flavour>.wasm, mobilenet-f32-<flavour>.wasm) export exactly their set's kernels
 * (kernelSetOf: the name's prefix) and those every build shares.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { KERNEL_ABI, type AbiType, type KernelName } from '../../src/runtime/kernel-abi.js';
import { KERNEL_SETS, kernelsOfSets, kernelSetOf, type KernelSet } from '../../src/runtime/kernel-sets.js';
import { FLAVOURS, wasmPath } from '../helpers/kernels.js';

const VALTYPE: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };

/** export name -> parameter and result types of every exported function */
function exportedSignatures(bytes: Uint8Array): Map<string, { params: string[]; results: string[] }> {
  let pos = 8;
  const u32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      result |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return result >>> 0;
      shift += 7;
    }
  };
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const types: { params: string[]; results: string[] }[] = [];
  const funcTypes: number[] = [];
  let importedFuncs = 0;
  const exportsOut = new Map<string, { params: string[]; results: string[] }>();
  const funcExports: [string, number][] = [];
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = u32();
    const end = pos + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        if (bytes[pos++] !== 0x60) throw new Error('unexpected type form');
        const params = Array.from({ length: u32() }, () => VALTYPE[bytes[pos++]]);
        const results = Array.from({ length: u32() }, () => VALTYPE[bytes[pos++]]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        name();
        name();
        const kind = bytes[pos++];
        if (kind === 0) {
          u32();
          importedFuncs++;
        } else if (kind === 2) {
          const flags = u32();
          u32();
          if (flags & 1) u32();
        } else throw new Error(`import kind ${kind} not handled`);
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcTypes.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const exportName = name();
        const kind = bytes[pos++];
        const index = u32();
        if (kind === 0) funcExports.push([exportName, index]);
      }
    }
    pos = end;
  }
  for (const [exportName, index] of funcExports) exportsOut.set(exportName, types[funcTypes[index - importedFuncs]]);
  return exportsOut;
}

const wasmType = (t: AbiType) => (t === 'f32' ? 'f32' : 'i32');

describe('kernel interface (src/runtime/kernel-abi.ts)', () => {
  const builds: [string, KernelSet | undefined][] = [['combined', undefined], ...KERNEL_SETS.map((s): [string, KernelSet] => [s, s])];
  for (const [label, set] of builds) {
    for (const flavour of FLAVOURS) {
      it(`${flavour} ${label}: exports exactly the ${set ? `${set} set's` : 'declared'} kernels with the declared argument types`, async () => {
        const bytes = new Uint8Array(readFileSync(wasmPath(flavour, set)));
        const module = await WebAssembly.compile(bytes);
        const exported = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort();
        const declared = set ? kernelsOfSets([set], Object.keys(KERNEL_ABI) as KernelName[]) : (Object.keys(KERNEL_ABI) as KernelName[]);
        expect(exported).toEqual([...declared].sort());
        const signatures = exportedSignatures(bytes);
        const instance = await WebAssembly.instantiate(module, { env: { abort() {} } });
        for (const kernel of declared) {
          const args = KERNEL_ABI[kernel] as readonly (readonly [string, AbiType])[];
          const sig = signatures.get(kernel)!;
          const types = args.map(([, t]) => wasmType(t));
          expect({ kernel, params: sig.params }).toEqual({ kernel, params: types });
          expect({ kernel, results: sig.results }).toEqual({ kernel, results: kernel === 'heap_base' ? ['i32'] : [] });
          expect((instance.exports[kernel] as (...a: number[]) => unknown).length).toBe(types.length);
          const names = args.map(([n]) => n);
          expect(new Set(names).size, `${kernel} has a repeated argument name`).toBe(names.length);
        }
      });
    }
  }

  it('every kernel belongs to the set its prefix names; heap_base and pad4d are in every build', () => {
    const sets = Object.fromEntries((Object.keys(KERNEL_ABI) as KernelName[]).map((k) => [k, kernelSetOf(k)]));
    expect(sets.heap_base).toBe('shared');
    expect(sets.pad4d).toBe('shared');
    expect(sets.q8_gemm).toBe('q8');
    expect(sets.f32_gemm).toBe('f32');
    for (const [k, s] of Object.entries(sets)) if (s !== 'shared') expect(k.startsWith(`${s}_`)).toBe(true);
    // the two sets partition the kernels: nothing in both, nothing in neither
    const both = kernelsOfSets(KERNEL_SETS, Object.keys(KERNEL_ABI) as KernelName[]);
    expect(both.sort()).toEqual(Object.keys(KERNEL_ABI).sort());
    const q8 = new Set(kernelsOfSets(['q8'], Object.keys(KERNEL_ABI) as KernelName[]));
    expect(kernelsOfSets(['f32'], Object.keys(KERNEL_ABI) as KernelName[]).filter((k) => q8.has(k)).sort()).toEqual(['heap_base', 'pad4d']);
  });
});
