/**
 * TFLite's own wasm build (@tensorflow/tfjs-tflite, single thread, SIMD) as a function for Node
 * scripts that check a .tflite this library wrote: load the bytes, run typed-array inputs.
 * installBrowserStandIns is shared with run.mjs (see its header comment for why each stand-in is needed).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));

let loaded;
function tfliteModule() {
  if (loaded) return loaded;
  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
  const wasmBinary = readFileSync(join(pkgDir, 'wasm', 'tflite_web_api_cc_simd.wasm'));
  const factory = require(join(pkgDir, 'wasm', 'tflite_web_api_cc_simd.js'));
  installBrowserStandIns(factory, wasmBinary);
  loaded = { tflite: require('@tensorflow/tfjs-tflite'), version: require('@tensorflow/tfjs-tflite/package.json').version };
  return loaded;
}

/**
 * Loads .tflite bytes into TFLite wasm. Returns { run(input) -> output copy, input, output }
 * where input / output describe tensor 0 ({ dataType, shape }).
 */
export async function loadTfliteWasm(bytes) {
  const { tflite, version } = tfliteModule();
  const model = await tflite.loadTFLiteModel(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { numThreads: 1 });
  const runner = model.modelRunner;
  const describe = (t) => ({ dataType: t.dataType, shape: t.shape.split(',').map(Number) });
  return {
    version,
    input: describe(runner.getInputs()[0]),
    output: describe(runner.getOutputs()[0]),
    run(input) {
      // views re-taken each call: wasm memory growth detaches old ones
      runner.getInputs()[0].data().set(input);
      if (!runner.infer()) throw new Error('TFLite infer() failed');
      return runner.getOutputs()[0].data().slice();
    },
  };
}

/** Just enough browser for the tfjs-tflite loader (see the header comment). */
export function installBrowserStandIns(factory, wasmBinary) {
  const g = globalThis;
  g.window = g;
  g.self = g;
  g.location = { href: 'file:///tfjs-tflite/', origin: 'file://' };
  const head = { appendChild() {}, removeChild() {} };
  g.document = {
    currentScript: null,
    head,
    // The loader sets src on a <script> and waits for onload; the glue is already loaded, so fire it.
    createElement: () => {
      const el = {
        setAttribute(name) {
          if (name === 'src') queueMicrotask(() => el.onload?.());
        },
      };
      return el;
    },
  };
  // Node 20 has no navigator; the loader reads navigator.hardwareConcurrency when numThreads is unset.
  if (typeof g.navigator === 'undefined') g.navigator = { hardwareConcurrency: 1, userAgent: 'node' };
  g.tflite_web_api_ModuleFactory = (options) => factory({ ...options, wasmBinary });
}
