// What a bundler hands the page for a .wasm import (esbuild's `file` loader, Vite's `?url`): its URL.
declare module '*.wasm' {
  const url: string;
  export default url;
}
