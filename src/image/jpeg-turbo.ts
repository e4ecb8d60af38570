/**
 * JPEG -> RGBA with libjpeg-turbo compiled to WebAssembly: the jpeg-turbo.wasm that the npm
 * package @cwasm/jpeg-turbo ships (its own JS wrapper reads the file with node:fs, so it cannot
 * run in a Worker, and decodes at full size only). Portable: the caller passes the compiled
 * module, so Node, browsers and Workers (which refuse to compile wasm from bytes and import the
 * .wasm as a module instead) share this code.
 *
 * Why libjpeg-turbo: it decodes several times faster than jimp's pure-JS jpeg-js and can scale
 * by 1/2, 1/4 or 1/8 while decoding, in the DCT domain (an inverse DCT of 4x4, 2x2 or 1x1
 * instead of 8x8 per block), which is what a photo much larger than the model's input needs:
 * a 1280x720 photo for a 224x224 model is decoded at 640x360.
 *
 * The factory is self-contained (no imports, no module-level helpers) because decode-node.ts
 * puts its source text into the worker thread's script.
 */

/** A decoded JPEG: RGBA, rows top to bottom, upright (EXIF orientation applied). */
export interface DecodedJpeg {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 4;
}

export interface JpegDecodeOptions {
  /**
   * Decode at 1/2, 1/4 or 1/8 scale when the result still has at least this many pixels in
   * both directions (as displayed, after the EXIF orientation). Omitted: full size.
   */
  minDecodedSize?: { width: number; height: number };
  /** EXIF orientation 1-8 to apply (readImageHeader reads it); default 1 */
  orientation?: number;
}

export interface JpegTurbo {
  decode(bytes: Uint8Array, options?: JpegDecodeOptions): DecodedJpeg;
}

/**
 * A decoder over a compiled jpeg-turbo.wasm (a WebAssembly.Module). Failures throw a plain
 * Error with libjpeg's reason; callers turn it into their typed error. The wasm instance is
 * replaced after a decode that grew its memory past `keepMemoryBytes` (wasm memory never shrinks).
 */
export function jpegTurbo(wasmModule: unknown, keepMemoryBytes: number = 64 * 2 ** 20): JpegTurbo {
  const TJPF_RGBA = 7;
  interface Exports {
    memory: { buffer: ArrayBuffer };
    malloc(n: number): number;
    free(p: number): void;
    tjInitDecompress(): number;
    tjDestroy(h: number): number;
    tjDecompressHeader3(h: number, src: number, size: number, w: number, hgt: number, sub: number, cs: number): number;
    tjDecompress2(h: number, src: number, size: number, dst: number, w: number, pitch: number, hgt: number, pf: number, flags: number): number;
  }
  const Wasm = (globalThis as unknown as { WebAssembly: { Instance: new (m: unknown, i: object) => { exports: unknown } } }).WebAssembly;
  let exports: Exports | undefined;

  /** libjpeg reports errors through longjmp: the build's longjmp import throws this, unwinding the wasm stack */
  class LibjpegError extends Error {}
  const instantiate = (): Exports => {
    let memory: { buffer: ArrayBuffer } | undefined;
    const view = () => new DataView(memory!.buffer);
    const imports = {
      env: {
        setjmp: () => 0,
        longjmp: () => {
          throw new LibjpegError('libjpeg gave up on the data');
        },
      },
      // libc's start-up asks for these; nothing is printed or read
      wasi_snapshot_preview1: {
        environ_sizes_get: (count: number, size: number) => (view().setUint32(count, 0, true), view().setUint32(size, 0, true), 0),
        environ_get: () => 0,
        fd_write: (_fd: number, iovs: number, n: number, written: number) => {
          let total = 0;
          for (let i = 0; i < n; i++) total += view().getUint32(iovs + 8 * i + 4, true);
          view().setUint32(written, total, true);
          return 0;
        },
        fd_close: () => 0,
        fd_seek: () => 70, // ESPIPE
        proc_exit: (code: number) => {
          throw new LibjpegError(`libjpeg exited (${code})`);
        },
      },
    };
    const x = new Wasm.Instance(wasmModule, imports).exports as Exports;
    memory = x.memory;
    return x;
  };

  /** stored-orientation pixel (x, y) for displayed pixel (tx, ty); w, h: stored size (as jimp applies EXIF orientation) */
  const orient = (src: Uint8Array, w: number, h: number, orientation: number): DecodedJpeg => {
    const swap = orientation > 4;
    const tw = swap ? h : w, th = swap ? w : h;
    const from = new Uint32Array(src.buffer, src.byteOffset, w * h);
    const out = new Uint8Array(w * h * 4);
    const to = new Uint32Array(out.buffer);
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        let x = tx, y = ty;
        switch (orientation) {
          case 2: x = w - tx - 1; break;
          case 3: x = w - tx - 1; y = h - ty - 1; break;
          case 4: y = h - ty - 1; break;
          case 5: x = ty; y = tx; break;
          case 6: x = ty; y = h - tx - 1; break;
          case 7: x = w - ty - 1; y = h - tx - 1; break;
          case 8: x = w - ty - 1; y = tx; break;
        }
        to[ty * tw + tx] = from[y * w + x];
      }
    }
    return { data: out, width: tw, height: th, channels: 4 };
  };

  const decodeWith = (x: Exports, bytes: Uint8Array, options: JpegDecodeOptions): DecodedJpeg => {
    const orientation = options.orientation !== undefined && options.orientation >= 1 && options.orientation <= 8 ? Math.trunc(options.orientation) : 1;
    const input = x.malloc(bytes.length);
    const meta = x.malloc(16);
    const handle = x.tjInitDecompress();
    if (!input || !meta || !handle) throw new Error('out of memory for the JPEG decoder');
    new Uint8Array(x.memory.buffer, input, bytes.length).set(bytes);
    if (x.tjDecompressHeader3(handle, input, bytes.length, meta, meta + 4, meta + 8, meta + 12) !== 0) throw new Error('cannot read the JPEG header');
    const [width, height] = new Uint32Array(x.memory.buffer, meta, 2);
    // the largest reduction (1/8, 1/4, 1/2) that keeps the displayed image at least minDecodedSize
    const min = options.minDecodedSize;
    const [minW, minH] = !min ? [Infinity, Infinity] : orientation > 4 ? [min.height, min.width] : [min.width, min.height];
    let denom = 1;
    for (const d of [8, 4, 2]) {
      if (Math.ceil(width / d) >= minW && Math.ceil(height / d) >= minH) {
        denom = d;
        break;
      }
    }
    const w = Math.ceil(width / denom), h = Math.ceil(height / denom);
    const output = x.malloc(w * h * 4);
    if (!output) throw new Error(`out of memory for a ${w} x ${h} JPEG`);
    // given a smaller size, libjpeg-turbo picks the largest of its scaling factors that fits it
    if (x.tjDecompress2(handle, input, bytes.length, output, w, 0, h, TJPF_RGBA, 0) !== 0) {
      throw new Error('the JPEG data is corrupt or truncated');
    }
    const pixels = new Uint8Array(x.memory.buffer, output, w * h * 4);
    const result = orientation === 1 ? { data: pixels.slice(), width: w, height: h, channels: 4 as const } : orient(pixels, w, h, orientation);
    x.free(output);
    x.free(meta);
    x.free(input);
    x.tjDestroy(handle);
    return result;
  };

  return {
    decode(bytes: Uint8Array, options: JpegDecodeOptions = {}): DecodedJpeg {
      const x = (exports ??= instantiate());
      try {
        return decodeWith(x, bytes, options);
      } catch (e) {
        // a failed decode leaves its allocations behind (and, after a longjmp, libjpeg mid-way): start afresh next time
        exports = undefined;
        throw e;
      } finally {
        if (exports && exports.memory.buffer.byteLength > keepMemoryBytes) exports = undefined;
      }
    },
  };
}
