// load({ model }) in a page: the model by registry name from a self-hosted baseUrl, cached in the
// Cache API. `?corrupt=1` first overwrites the cached entry from the page itself with bytes of
// the right length but wrong content, as a damaged or tampered cache would hold.
import { load, listModels } from 'mobilenet-wasm/core';
import simdUrl from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';

const CACHE = 'mobilenet-wasm-models-v1';

async function cachedEntry(key: string) {
  const res = await (await caches.open(CACHE)).match(key);
  if (!res) return undefined;
  const bytes = new Uint8Array(await res.arrayBuffer());
  let sum = 0;
  for (const b of bytes) sum = (sum + b) % 65521;
  return { length: bytes.length, sum, sha256: res.headers.get('x-mobilenet-wasm-sha256') };
}

async function main() {
  const params = new URLSearchParams(location.search);
  const model = params.get('model')!;
  // relative, as a page serving its own models writes it; the cache key is the absolute URL
  const baseUrl = '/models';
  const key = new URL(`/models/${listModels().find((m) => m.name === model)!.file}`, location.href).href;
  if (params.has('corrupt')) {
    const cache = await caches.open(CACHE);
    const good = await cache.match(key);
    if (!good) throw new Error('nothing cached to corrupt');
    const bytes = new Uint8Array(await good.arrayBuffer());
    bytes[bytes.length >> 1] ^= 0x55;
    await cache.put(key, new Response(bytes, { headers: { 'content-length': String(bytes.length), 'x-mobilenet-wasm-sha256': good.headers.get('x-mobilenet-wasm-sha256')! } }));
  }
  const before = await cachedEntry(key);
  const img = document.querySelector('img')!;
  await img.decode();
  const net = await load({ model, baseUrl, wasm: { simd: fetch(simdUrl).then((r) => r.arrayBuffer()) } });
  (window as any).__result = { top: net.classify(img, { topK: 3 }), before, after: await cachedEntry(key), key };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
