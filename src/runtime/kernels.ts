/**
 * Instantiates one of the three kernel flavours (scalar / simd / relaxed) from a precompiled
 * WebAssembly.Module (Cloudflare Workers and other hosts that forbid compiling at run time)
 * or from bytes. Each flavour comes per precision (mobilenet-q8-<flavour>.wasm,
 * mobilenet-f32-<flavour>.wasm) and combined (mobilenet-<flavour>.wasm); ./kernel-sets.ts says
 * which a model needs. No Node built-ins here: this file is part of the portable core.
 */
import { MobileNetError, invalidOption } from '../errors.js';
import { anyBytes, describeValue } from './typed.js';
import type { WasmMemory, WasmModule } from '../wasm-types.js';
import { guard } from './guard.js';
import { buildFileName, missingSets, type KernelSet } from './kernel-sets.js';

export type Flavour = 'scalar' | 'simd' | 'relaxed';
export type KernelChoice = 'auto' | Flavour;
/**
 * The scalar kernels as plain JavaScript (build/mobilenet-scalar.js, made from
 * mobilenet-scalar.wasm by binaryen's wasm2js): pass its module namespace as `wasm.scalar` where
 * the engine has no WebAssembly (QuickJS, Hermes) or refuses to compile it. Same results, slower.
 */
export interface JsKernelModule {
  readonly flavour: 'scalar';
  instantiate(): Record<string, unknown>;
}

export type KernelSource = WasmModule | ArrayBuffer | ArrayBufferView | JsKernelModule;

/** the wasm2js build's namespace (or an object shaped like it) */
export function isJsKernelModule(v: unknown): v is JsKernelModule {
  return typeof v === 'object' && v !== null && typeof (v as JsKernelModule).instantiate === 'function' && (v as JsKernelModule).flavour === 'scalar';
}

/** WebAssembly.Module where the engine has WebAssembly at all (QuickJS has none) */
export function isWasmModule(v: unknown): v is WasmModule {
  return typeof WebAssembly !== 'undefined' && v instanceof WebAssembly.Module;
}

/** The exported kernel functions (typed in ./kernel-abi.ts); all pointers are byte offsets into `memory`. */
export type { KernelExports } from './kernel-abi.js';
import type { KernelExports } from './kernel-abi.js';

export interface Kernels {
  flavour: Flavour;
  exports: KernelExports;
  memory: WasmMemory;
}

// Smallest modules that use an instruction of each feature, to ask the engine.
// (module (func (result v128) (v128.const i32x4 0 0 0 0)))
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 11,
]);
// (module (func (result v128) (f32x4.relaxed_madd (v128.const ..) (v128.const ..) (v128.const ..))))
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 253, 133, 2, 11,
]);

export function engineSupports(feature: 'simd' | 'relaxed'): boolean {
  try {
    return WebAssembly.validate(feature === 'simd' ? SIMD_PROBE : RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** fastest first: the order 'auto' tries the builds in */
export const FLAVOURS: readonly Flavour[] = ['relaxed', 'simd', 'scalar'];

/**
 * Relaxed SIMD sits behind a V8 flag in Node 20, and the flag is process-wide. A host entry
 * that sets it for a load asking for `kernels: 'relaxed'` (src/node.ts) first calls
 * recordRelaxedBaseline, which keeps whether the engine validated relaxed SIMD *before* the
 * flag; from then on 'auto' uses that answer, so one explicit load never changes what 'auto'
 * means for the others. Kept on globalThis under a registered symbol, like the flag it
 * shadows, so two copies of this package in one process agree.
 */
const RELAXED_BASELINE = Symbol.for('mobilenet-wasm.relaxedValidatedBeforeFlag');

/** @internal Call before setting the relaxed SIMD flag of the engine; only the first call records. */
export function recordRelaxedBaseline(): void {
  const g = globalThis as Record<symbol, unknown>;
  if (typeof g[RELAXED_BASELINE] === 'boolean') return;
  Object.defineProperty(g, RELAXED_BASELINE, { value: engineSupports('relaxed'), enumerable: false, writable: false, configurable: false });
}

/** what 'auto' may use: the engine's answer, except relaxed SIMD after we set its flag (see recordRelaxedBaseline) */
function autoMayUse(f: Flavour): boolean {
  if (f === 'scalar') return true;
  const baseline = (globalThis as Record<symbol, unknown>)[RELAXED_BASELINE];
  if (f === 'relaxed' && typeof baseline === 'boolean') return baseline;
  return engineSupports(f);
}

/**
 * 'auto' picks the fastest build that is both supplied and validated by the engine: relaxed
 * SIMD (fused multiply-add in the float GEMM), else SIMD, else scalar. `supplied` lists the
 * builds at hand (the keys of an object of builds); undefined means all of them. An explicit
 * flavour must be supplied and validated. INVALID_OPTION otherwise. Integer kernels give
 * identical results on all three.
 */
export function chooseFlavour(choice: KernelChoice = 'auto', supplied?: readonly Flavour[]): Flavour {
  return guard('INVALID_OPTION', 'chooseFlavour', () => chooseChecked(choice, supplied));
}

function chooseChecked(choice: KernelChoice, supplied: readonly Flavour[] | undefined): Flavour {
  if (choice !== 'auto' && choice !== 'scalar' && choice !== 'simd' && choice !== 'relaxed') {
    throw invalidOption(`kernels must be 'auto', 'simd', 'scalar' or 'relaxed', got ${describeValue(choice)}`);
  }
  if (supplied !== undefined && !Array.isArray(supplied)) throw invalidOption(`supplied flavours must be an array, got ${describeValue(supplied)}`);
  const have = supplied === undefined ? FLAVOURS : FLAVOURS.filter((f) => supplied.includes(f));
  if (have.length === 0) throw invalidOption("options.wasm has no kernel build: give at least one of 'relaxed', 'simd', 'scalar' (mobilenet-<flavour>.wasm)");
  if (choice === 'auto') {
    const pick = have.find(autoMayUse);
    if (pick) return pick;
    if (typeof WebAssembly === 'undefined') {
      throw invalidOption(
        `kernels 'auto': this engine has no WebAssembly, and options.wasm has only ${have.join(', ')}: pass the JavaScript ` +
          "build of the scalar kernels, `import * as scalar from 'mobilenet-wasm/wasm/mobilenet-scalar.js'`, as { wasm: { scalar } }",
      );
    }
    const enabledByUs = have.includes('relaxed') && engineSupports('relaxed');
    throw invalidOption(
      `kernels 'auto': this engine validates none of the builds in options.wasm (${have.join(', ')})` +
        (enabledByUs ? "; relaxed SIMD was enabled only for loads asking for it: pass kernels: 'relaxed' to use it, " : '; ') +
        "supply mobilenet-simd.wasm or mobilenet-scalar.wasm too",
    );
  }
  if (choice !== 'scalar' && !engineSupports(choice)) {
    throw invalidOption(`kernels '${choice}' requested but this engine does not support ${choice === 'simd' ? 'WebAssembly SIMD' : 'relaxed SIMD'}`);
  }
  if (!have.includes(choice)) {
    throw invalidOption(`kernels '${choice}' requested but options.wasm has no '${choice}' build (mobilenet-${choice}.wasm); it has ${have.join(', ')}`);
  }
  return choice;
}

/**
 * Instantiates a build. With `sets`, the build must export every kernel of those sets (the model's
 * own, src/runtime/kernel-sets.ts): a float build given for a uint8 model is INVALID_OPTION naming
 * the file it needs, before any weight is packed into it.
 */
export async function instantiateKernels(source: KernelSource, flavour: Flavour, sets?: readonly KernelSet[]): Promise<Kernels> {
  const kernels = await instantiateBuild(source, flavour);
  if (sets) checkBuildHas(Object.keys(kernels.exports), flavour, sets, isJsKernelModule(source) ? 'js' : 'wasm');
  return kernels;
}

/**
 * INVALID_OPTION when a build's exports lack a kernel of `sets`, naming the file to pass instead.
 * `kind` 'js' names the wasm2js build (mobilenet-<set>-scalar.js).
 */
export function checkBuildHas(exported: readonly string[], flavour: Flavour, sets: readonly KernelSet[], kind: 'wasm' | 'js' = 'wasm'): void {
  const missing = missingSets(exported, sets);
  if (missing.length === 0) return;
  const file = buildFileName(flavour, sets);
  const name = kind === 'js' ? file.replace(/\.wasm$/, '.js') : file;
  const combined = kind === 'js' ? `mobilenet-${flavour}.js` : `mobilenet-${flavour}.wasm`;
  const what = sets.length > 1 ? 'float32 and integer' : sets[0] === 'q8' ? 'integer (uint8 / int8)' : 'float32';
  throw invalidOption(
    `the '${flavour}' kernel build given in options.wasm has none of the ${missing.map((s) => `${s}_`).join(' or ')} kernels: ` +
      `this model runs the ${what} kernels, so pass ${name}` + (name === combined ? '' : ` (or the combined ${combined})`),
  );
}

async function instantiateBuild(source: KernelSource, flavour: Flavour): Promise<Kernels> {
  if (isJsKernelModule(source)) {
    if (flavour !== 'scalar') throw invalidOption(`the JavaScript kernels (mobilenet-scalar.js) are the scalar build, not '${flavour}'`);
    const exports = source.instantiate() as unknown as KernelExports;
    if (!exports || typeof exports !== 'object' || !exports.memory) throw invalidOption('the JavaScript kernels gave no memory: pass the namespace of mobilenet-wasm/wasm/mobilenet-scalar.js');
    return { flavour, exports, memory: exports.memory };
  }
  if (typeof WebAssembly === 'undefined') {
    throw invalidOption(
      "this engine has no WebAssembly: pass the JavaScript build of the scalar kernels, " +
        "`import * as scalar from 'mobilenet-wasm/wasm/mobilenet-scalar.js'`, as { wasm: { scalar }, kernels: 'scalar' }",
    );
  }
  let instance: WebAssembly.Instance;
  try {
    // Plain WebAssembly.instantiate: the builds import nothing (--runtime stub, --noAssert), so
    // the core needs no loader package, and Deno can import dist/ from a folder without package.json.
    const src = isWasmModule(source) ? source : toBytes(source);
    instance = isWasmModule(src)
      ? await WebAssembly.instantiate(src, {})
      : (await WebAssembly.instantiate(src as BufferSource, {})).instance;
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    const msg = messageOf(e);
    if (!isWasmModule(source) && CODEGEN_REFUSED.test(msg)) {
      // Cloudflare Workers and other embedders allow only modules bundled with the script
      throw invalidOption(
        `this engine refuses to compile WebAssembly from bytes (${msg}): import the .wasm as a module, ` +
          `e.g. \`import ${flavour} from 'mobilenet-wasm/wasm/mobilenet-${flavour}.wasm'\`, and pass the WebAssembly.Module: { wasm: { ${flavour} } }` +
          "; or, without WebAssembly, the JavaScript scalar kernels: `import * as scalar from 'mobilenet-wasm/wasm/mobilenet-scalar.js'`, { wasm: { scalar } }",
      );
    }
    throw invalidOption(`cannot instantiate the ${flavour} kernels: ${msg}`);
  }
  const exports = instance.exports as unknown as KernelExports;
  return { flavour, exports, memory: exports.memory };
}

function toBytes(src: ArrayBuffer | ArrayBufferView): Uint8Array {
  const bytes = anyBytes(src);
  if (bytes) return bytes;
  throw invalidOption(`kernel source must be a WebAssembly.Module, an ArrayBuffer or a typed array, got ${describeValue(src)}`);
}

/** V8 (Workers, Chromium under a CSP without 'wasm-unsafe-eval'): "Wasm code generation disallowed by embedder" */
const CODEGEN_REFUSED = /code generation disallowed|disallowed by embedder|wasm-unsafe-eval|WebAssembly\.(compile|instantiate|Module)\(\).*not allowed/i;

function messageOf(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return 'an unprintable exception';
  }
}
