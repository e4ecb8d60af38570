// The migration path with nothing configured: load({ version: 1, alpha }) by name (self-hosted
// through baseUrl, cached in the Cache API) and no wasm option, so the kernel build is the
// package's own, fetched from next to its code. Loaded twice: the second comes from the cache.
import { load } from 'mobilenet-wasm/tfjs-compat';

async function main() {
  const img = document.querySelector('img')!;
  const config = { version: 1 as const, alpha: 0.25 as const, resolution: 128 as const, quantized: true, baseUrl: `${location.origin}/shared/models` };
  const first = await load(config);
  const top = await first.classify(img, 5);
  first.dispose();
  const second = await load(config);
  const again = await second.classify(img, 5);
  (window as any).__result = { top, again, kernels: second.info.kernels, cached: (await caches.keys()).length };
}
main().catch((e) => { (window as any).__error = { code: e?.code, message: String(e?.message ?? e) }; });
