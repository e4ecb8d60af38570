/**
 * Which kernel build a model needs: the integer kernels (mobilenet-q8-<flavour>.wasm), the float
 * kernels (mobilenet-f32-<flavour>.wasm), or both (the combined mobilenet-<flavour>.wasm), read
 * from the graph's ops before anything is fetched. Each op's set follows from the kernels its
 * prepare in src/ops/<op>/ calls; test/runtime/kernel-sets.test.ts runs every shared model on
 * the build chosen here, so an op that starts calling a kernel of the other set fails there.
 *
 * Portable core: no Node built-ins.
 */
import { opInputs, type Op, type OpName } from '../model/ir.js';
// types only: the kernel table (6 KB) stays out of a page's bundle unless the pack cache loads it
import type { KernelName } from './kernel-abi.js';
import type { Flavour } from './kernels.js';

/**
 * The two kernel sets a model loads one of (each its own build, mobilenet-<set>-<flavour>.wasm,
 * assembly/entry/<set>.ts; the kernels are declared in ./kernel-abi.ts): the integer kernels for
 * uint8 / int8 models, the float kernels for float32 ones. The set of a kernel is its name's prefix; the kernels every build has (heap_base,
 * and pad4d, which copies elements of any size) have none. The combined build has all of them.
 */
export type KernelSet = 'q8' | 'f32';
export const KERNEL_SETS: readonly KernelSet[] = ['q8', 'f32'];

/** the set a kernel belongs to, or 'shared' for the kernels every build exports */
export function kernelSetOf(name: KernelName): KernelSet | 'shared' {
  const prefix = name.split('_')[0];
  return (KERNEL_SETS as readonly string[]).includes(prefix) ? (prefix as KernelSet) : 'shared';
}

/** of `all` (the kernel table's names), every kernel a build holding these sets exports (the shared ones included) */
export function kernelsOfSets(sets: readonly KernelSet[], all: readonly KernelName[]): KernelName[] {
  return all.filter((k) => {
    const set = kernelSetOf(k);
    return set === 'shared' || sets.includes(set);
  });
}

const byInputDtype = (op: Op): KernelSet => (opInputs(op)[0]?.dtype === 'float32' ? 'f32' : 'q8');

/** per op, the set of the kernels it calls; undefined for ops run in JavaScript or by a kernel every build has */
const OP_SETS: Record<OpName, (op: Op) => KernelSet | undefined> = {
  conv2d: byInputDtype,
  depthwise_conv2d: byInputDtype,
  fully_connected: byInputDtype,
  average_pool2d: byInputDtype,
  softmax: byInputDtype,
  mean: byInputDtype,
  logistic: byInputDtype,
  add: byInputDtype,
  mul: byInputDtype,
  // QUANTIZE: q8_quantize_f32 from float, q8_lut to requantize
  quantize: () => 'q8',
  // quantized inputs of other parameters than the output's are rescaled by q8_lut; float ones are copied
  concatenation: (op) => (byInputDtype(op) === 'f32' ? undefined : 'q8'),
  dequantize: () => undefined,
  reshape: () => undefined,
  pad: () => undefined, // pad4d is in every build
  detection_postprocess: () => undefined,
};

/** the kernel sets a graph's ops call, in KERNEL_SETS order (empty for a graph of JavaScript ops only) */
export function kernelSetsOf(ops: readonly Op[]): KernelSet[] {
  const used = new Set<KernelSet>();
  for (const op of ops) {
    const set = OP_SETS[op.op](op);
    if (set) used.add(set);
  }
  return KERNEL_SETS.filter((s) => used.has(s));
}

/**
 * The file of the smallest build holding `sets`: mobilenet-<set>-<flavour>.wasm for one set,
 * the combined mobilenet-<flavour>.wasm for both (such a model is rare: a float op inside an
 * integer model; one instance over one memory keeps the arena plain). A graph calling no kernel
 * gets the float build, the smallest.
 */
export function buildFileName(flavour: Flavour, sets: readonly KernelSet[]): string {
  if (sets.length > 1) return `mobilenet-${flavour}.wasm`;
  return `mobilenet-${sets[0] ?? 'f32'}-${flavour}.wasm`;
}

/**
 * The sets of `sets` a build (its export names) has no kernel of: what a build of the other
 * precision lacks. By prefix, so the page's code needs no table of every kernel (./kernel-abi.ts
 * stays types only there); test/runtime/kernel-abi.test.ts checks each build exports its whole set.
 */
export function missingSets(exported: Iterable<string>, sets: readonly KernelSet[]): KernelSet[] {
  const names = [...exported];
  return sets.filter((set) => !names.some((n) => n.startsWith(`${set}_`)));
}
