/**
 * Where a kernel build comes from when the caller gives a location instead of the build itself:
 * a URL (string or URL object), a fetch Response, or a promise of one. That is what bundlers
 * hand a page for a .wasm asset (esbuild's `file` loader, Vite's `?url`, webpack's
 * `asset/resource`), so the web path needs no fetch-and-compile boilerplate.
 *
 * And the default when a page passes no `wasm` at all: the builds sit next to this file in the
 * package (`build/` beside `dist/`), and `new URL('<literal>', import.meta.url)` is the pattern
 * Vite and webpack 5 recognise and emit as an asset. Only the build `auto` chose is fetched, and
 * only the model's precision of it (src/runtime/kernel-sets.ts).
 *
 * Portable core: no Node built-ins, no DOM types in the exported signatures (see wasm-types.ts).
 */
import { MobileNetError, invalidOption } from '../errors.js';
import type { Flavour, KernelSource } from './kernels.js';
import type { WasmModule } from '../wasm-types.js';
import { messageOf } from './guard.js';

/** a WHATWG URL object (the members read here); structural, so no DOM or Node lib is needed */
export interface WasmUrlLike {
  readonly href: string;
  readonly protocol: string;
}

/** a fetch Response (the members read here) */
export interface WasmResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText?: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A kernel build, or where to fetch it from. */
export type KernelLocation = KernelSource | string | WasmUrlLike | WasmResponseLike;

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

const isUrlObject = (v: unknown): v is WasmUrlLike =>
  typeof v === 'object' && v !== null && typeof (v as WasmUrlLike).href === 'string' && typeof (v as WasmUrlLike).protocol === 'string';

const isResponse = (v: unknown): v is WasmResponseLike =>
  typeof v === 'object' && v !== null && typeof (v as WasmResponseLike).arrayBuffer === 'function' &&
  typeof (v as WasmResponseLike).status === 'number' && typeof (v as WasmResponseLike).headers?.get === 'function';

/**
 * A build given as a URL or a Response becomes a compiled Module (or its bytes, where the engine
 * should compile them itself); a Module or bytes pass through unchanged.
 */
export async function resolveKernelLocation(src: KernelLocation, flavour: Flavour, file = `mobilenet-${flavour}.wasm`): Promise<KernelSource> {
  if (typeof src === 'string' || isUrlObject(src)) return compileResponse(await fetchBuild(src, flavour), flavour, file);
  if (isResponse(src)) return compileResponse(src, flavour, file);
  return src;
}

async function fetchBuild(url: string | WasmUrlLike, flavour: Flavour): Promise<WasmResponseLike> {
  const where = typeof url === 'string' ? url : url.href;
  const fetchFn = (globalThis as { fetch?: (u: string) => Promise<WasmResponseLike> }).fetch;
  if (typeof fetchFn !== 'function') throw invalidOption(`options.wasm.${flavour} is a URL (${where}) but this engine has no fetch(): pass the bytes or a WebAssembly.Module`);
  try {
    return await fetchFn(where);
  } catch (e) {
    throw new MobileNetError('IO', `could not fetch the '${flavour}' kernel build from ${where}: ${messageOf(e)}`);
  }
}

async function compileResponse(res: WasmResponseLike, flavour: Flavour, file: string): Promise<KernelSource> {
  const where = res.url || `the Response given as options.wasm.${flavour}`;
  if (!res.ok) {
    throw new MobileNetError('IO', `fetching the '${flavour}' kernel build from ${where} gave HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}: is ${file} served at that URL?`);
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const wasmApi = (globalThis as unknown as { WebAssembly?: { compileStreaming?: (r: WasmResponseLike) => Promise<WasmModule> } }).WebAssembly;
  // compileStreaming compiles while the bytes arrive, but only accepts application/wasm
  if (type === 'application/wasm' && typeof wasmApi?.compileStreaming === 'function') {
    try {
      return await wasmApi.compileStreaming(res);
    } catch (e) {
      throw invalidOption(`cannot compile the '${flavour}' kernel build from ${where}: ${messageOf(e)}`);
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new MobileNetError('IO', `could not read the '${flavour}' kernel build from ${where}: ${messageOf(e)}`);
  }
  if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    const head = new TextDecoder().decode(bytes.subarray(0, 24)).replace(/\s+/g, ' ');
    throw invalidOption(
      `${where} is not a WebAssembly module (Content-Type ${type || 'none'}, ${bytes.length} bytes starting ${JSON.stringify(head)}): ` +
        `the server answered with something else, e.g. a dev server's fallback HTML page for a missing file`,
    );
  }
  // bytes, not a Module: instantiateKernels compiles them and knows the hint for engines that refuse to
  return bytes;
}

/**
 * The URL of a build inside this package, as bundlers see it: each `new URL` holds a literal
 * path, which is what Vite and webpack 5 detect and emit as an asset (a template would not be).
 */
function packagedBuildUrl(file: string): WasmUrlLike | undefined {
  // spelled `new URL(...)` with the global name: a lookup through globalThis hides the pattern
  switch (file) {
    case 'mobilenet-q8-relaxed.wasm':
      return new URL('../../build/mobilenet-q8-relaxed.wasm', import.meta.url);
    case 'mobilenet-q8-simd.wasm':
      return new URL('../../build/mobilenet-q8-simd.wasm', import.meta.url);
    case 'mobilenet-q8-scalar.wasm':
      return new URL('../../build/mobilenet-q8-scalar.wasm', import.meta.url);
    case 'mobilenet-f32-relaxed.wasm':
      return new URL('../../build/mobilenet-f32-relaxed.wasm', import.meta.url);
    case 'mobilenet-f32-simd.wasm':
      return new URL('../../build/mobilenet-f32-simd.wasm', import.meta.url);
    case 'mobilenet-f32-scalar.wasm':
      return new URL('../../build/mobilenet-f32-scalar.wasm', import.meta.url);
    case 'mobilenet-relaxed.wasm':
      return new URL('../../build/mobilenet-relaxed.wasm', import.meta.url);
    case 'mobilenet-simd.wasm':
      return new URL('../../build/mobilenet-simd.wasm', import.meta.url);
    case 'mobilenet-scalar.wasm':
      return new URL('../../build/mobilenet-scalar.wasm', import.meta.url);
  }
  return undefined;
}

/**
 * The build to use when `options.wasm` is omitted: the package's own file (`file`, the model's
 * precision and flavour: src/runtime/kernel-sets.ts) fetched next to this module, only when
 * this module was itself loaded over http(s) or from a blob (a page or a web worker). Anywhere
 * else (Node without its entry, Workers, a file: URL) there is no sensible default, and the
 * error says what to pass.
 */
export function defaultKernelLocation(flavour: Flavour, file = `mobilenet-${flavour}.wasm`): KernelLocation {
  let base = '';
  try {
    base = String(import.meta.url);
  } catch {
    /* an engine without import.meta.url: no default */
  }
  if (/^(https?|blob):/i.test(base) && typeof (globalThis as { fetch?: unknown }).fetch === 'function') {
    try {
      const url = packagedBuildUrl(file);
      if (url) return url;
    } catch {
      // a module loaded from a blob: URL cannot resolve a relative path (unless a bundler made it absolute)
    }
  }
  const workers = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers';
  throw invalidOption(
    `no kernel .wasm given: pass options.wasm, e.g. { ${flavour}: <a WebAssembly.Module, the bytes or the URL of ${file}> }` +
      (workers
        ? `; on Cloudflare Workers import the .wasm as a module: \`import ${flavour} from 'mobilenet-wasm/wasm/${file}'\` and pass { wasm: { ${flavour} } }`
        : ', or use the Node entry (`mobilenet-wasm` in Node), which finds them itself'),
  );
}
