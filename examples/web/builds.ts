// The per-precision kernel builds as a page's bundler gives them: each .wasm import becomes a URL
// (esbuild's file loader, Vite's asset handling). MobileNet.load asks for the file the model needs
// (mobilenet-q8-* for uint8 / int8, mobilenet-f32-* for float32) in the flavour 'auto' (or the
// picker) chooses, so only that one is fetched and compiled. Shared by the demo page and the
// bench:web page.
import q8Relaxed from 'mobilenet-wasm/wasm/mobilenet-q8-relaxed.wasm';
import q8Simd from 'mobilenet-wasm/wasm/mobilenet-q8-simd.wasm';
import q8Scalar from 'mobilenet-wasm/wasm/mobilenet-q8-scalar.wasm';
import f32Relaxed from 'mobilenet-wasm/wasm/mobilenet-f32-relaxed.wasm';
import f32Simd from 'mobilenet-wasm/wasm/mobilenet-f32-simd.wasm';
import f32Scalar from 'mobilenet-wasm/wasm/mobilenet-f32-scalar.wasm';

/** the URL of each per-precision build, by the file name load asks for */
export const BUILDS: Record<string, string> = {
  'mobilenet-q8-relaxed.wasm': q8Relaxed,
  'mobilenet-q8-simd.wasm': q8Simd,
  'mobilenet-q8-scalar.wasm': q8Scalar,
  'mobilenet-f32-relaxed.wasm': f32Relaxed,
  'mobilenet-f32-simd.wasm': f32Simd,
  'mobilenet-f32-scalar.wasm': f32Scalar,
};

/** options.wasm in its function form: the URL of the file the model needs */
export const wasmByFile = (_flavour: string, file: string): string => BUILDS[file];
