/**
 * The libjpeg-turbo decoder (./jpeg-turbo.ts) for callers of the portable core: browsers,
 * Workers, Deno. The header is read and checked first (format, size, pixel limit), so a hostile
 * file is refused before the decoder allocates anything; failures are INVALID_IMAGE.
 */
import { invalidImage, invalidOption } from '../errors.js';
import { describeValue } from '../runtime/typed.js';
import type { WasmModule } from '../wasm-types.js';
import { checkImageHeader } from './header.js';
import { jpegTurbo, type JpegTurbo } from './jpeg-turbo.js';
import { DEFAULT_MAX_DECODE_PIXELS } from './types.js';

export interface JpegDecodeLimits {
  /** refuse images with more pixels than this (default 50 megapixels) */
  maxPixels?: number;
  /** decode at 1/2, 1/4 or 1/8 scale while the displayed result stays at least this big (see decodeImage) */
  minDecodedSize?: { width: number; height: number };
  /** a name for messages */
  name?: string;
}

export interface JpegDecoder {
  /** JPEG bytes -> upright RGBA pixels */
  decode(bytes: Uint8Array, options?: JpegDecodeLimits): { data: Uint8Array; width: number; height: number; channels: 4 };
}

const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/**
 * A JPEG decoder over jpeg-turbo.wasm from the npm package @cwasm/jpeg-turbo, compiled by the
 * caller (a Worker imports it as a module: `import wasm from '@cwasm/jpeg-turbo/jpeg-turbo.wasm'`).
 */
export function createJpegDecoder(wasm: WasmModule): JpegDecoder {
  type ModuleClass = (abstract new (...a: never[]) => unknown) & { exports(m: unknown): Array<{ name: string }> };
  const Module = (globalThis as { WebAssembly?: { Module: ModuleClass } }).WebAssembly?.Module;
  if (!Module || !(wasm instanceof Module)) throw invalidOption(`createJpegDecoder needs a compiled WebAssembly.Module of jpeg-turbo.wasm, got ${describeValue(wasm)}`);
  if (!Module.exports(wasm).some((e) => e.name === 'tjDecompress2')) throw invalidOption('createJpegDecoder: this WebAssembly.Module is not jpeg-turbo.wasm (no tjDecompress2 export)');
  const turbo: JpegTurbo = jpegTurbo(wasm);
  return {
    decode(bytes, options = {}) {
      const { maxPixels = DEFAULT_MAX_DECODE_PIXELS, minDecodedSize, name } = options ?? {};
      if (!positiveInt(maxPixels)) throw invalidOption(`maxPixels must be a positive integer, got ${describeValue(maxPixels)}`);
      if (minDecodedSize !== undefined && !(positiveInt(minDecodedSize?.width) && positiveInt(minDecodedSize?.height))) {
        throw invalidOption('minDecodedSize must be { width, height } with positive integers');
      }
      const header = checkImageHeader(bytes, { maxPixels, name });
      const label = name ?? 'JPEG image';
      if (header.format !== 'jpeg') throw invalidImage(`${label}: this decoder reads JPEG, got ${header.format.toUpperCase()}`);
      try {
        return turbo.decode(bytes, { minDecodedSize, orientation: header.orientation });
      } catch (e) {
        throw invalidImage(`${label}: cannot decode image/jpeg (corrupt or truncated?): ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}
