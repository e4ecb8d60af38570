// What the bundler (esbuild here, wrangler on Cloudflare) hands the worker for these imports.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*.tflite' {
  const bytes: ArrayBuffer;
  export default bytes;
}
