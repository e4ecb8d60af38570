/**
 * The WebAssembly types the public API mentions, named without the global `WebAssembly`
 * namespace. That namespace is declared by the DOM lib (and by some @types/node versions) but
 * not by `lib: ["ES2022"]` alone, so a .d.ts that names it fails with TS2503 in a strict
 * project without the DOM lib (`skipLibCheck: false`). These aliases are exactly
 * WebAssembly.Module / WebAssembly.Memory wherever the namespace exists, and minimal structural
 * stand-ins where it does not. They declare nothing global, so they cannot conflict with the
 * DOM lib or @types/node. Checked by test/package/types.test.ts.
 */

/** the global WebAssembly namespace object, when some lib declares it */
type WasmNamespace = typeof globalThis extends { WebAssembly: infer W } ? W : undefined;

/** a compiled module where no lib declares WebAssembly (WebAssembly.Module has no members either) */
export interface WasmModuleLike {}

/** a linear memory where no lib declares WebAssembly: the members this package uses */
export interface WasmMemoryLike {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}

/** WebAssembly.Module */
export type WasmModule = WasmNamespace extends { Module: { prototype: infer M } } ? M : WasmModuleLike;

/** WebAssembly.Memory */
export type WasmMemory = WasmNamespace extends { Memory: { prototype: infer M } } ? M : WasmMemoryLike;
