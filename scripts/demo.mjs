// The demo page (examples/web): `npm run demo [-- --port 8080] [--models DIR] [--samples DIR]`.
// Bundles the page and the model's worker script with esbuild as a user's bundler would
// (mobilenet-wasm resolved through the package's own exports, the .wasm builds as files), writes the model catalog (models.json) of
// the MobileNet v1 .tflite files found in --models (default ../shared/models), and serves it all
// on 127.0.0.1. Run through tsx (package.json) because it shares the browser tests' harness.
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bundlePages, repoRoot, serveStatic, sharedDir, tempDir } from '../test/browser/harness.ts';

const pageDir = join(repoRoot, 'examples/web');
const MODEL_FILE = /^mobilenet_v1_(\d\.\d+)_(\d+)(_quant)?\.tflite$/;
const IMAGE_FILE = /\.(bmp|jpe?g|png|gif|webp)$/i;

/** The MobileNet v1 models of a folder, smallest first, float before uint8 at each size. */
export function modelCatalog(modelsDir) {
  if (!existsSync(modelsDir)) return [];
  return readdirSync(modelsDir)
    .map((file) => ({ file, m: MODEL_FILE.exec(file) }))
    .filter(({ m }) => m)
    .map(({ file, m }) => ({
      name: file.replace(/\.tflite$/, ''),
      title: `${m[1]}/${m[2]} ${m[3] ? 'uint8' : 'float32'}`,
      url: `/models/${file}`,
      sortKey: [Number(m[1]), Number(m[2]), m[3] ? 1 : 0],
    }))
    .sort((a, b) => a.sortKey[0] - b.sortKey[0] || a.sortKey[1] - b.sortKey[1] || a.sortKey[2] - b.sortKey[2])
    .map(({ sortKey, ...entry }) => entry);
}

/**
 * Bundles and serves the demo; resolves to { url, close }. `port` 0 lets the OS pick one.
 * Models and sample photos are served from their folders, never copied.
 */
export async function startDemo({ port = 0, modelsDir = join(sharedDir, 'models'), samplesDir = join(sharedDir, 'images/samples') } = {}) {
  for (const needed of ['dist/index.js', 'build/mobilenet-simd.wasm']) {
    if (!existsSync(join(repoRoot, needed))) throw new Error(`${needed} is missing: run \`npm run build\` first`);
  }
  const out = tempDir('mnw-demo-');
  try {
    // the worker script is an entry of its own: esbuild does not follow new Worker(new URL(...)).
    // Code splitting: the teach panel (a dynamic import) becomes a chunk fetched only when it is
    // opened, and the page and its worker share the library's chunks instead of a copy each.
    await bundlePages({ main: join(pageDir, 'main.ts'), 'mobilenet-worker': 'mobilenet-wasm/worker/script' }, out.dir, { sourcemap: true, splitting: true });
    for (const file of ['index.html', 'style.css']) copyFileSync(join(pageDir, file), join(out.dir, file));
    const samples = existsSync(samplesDir)
      ? readdirSync(samplesDir).filter((f) => IMAGE_FILE.test(f)).sort().map((f) => ({ name: f.replace(IMAGE_FILE, ''), url: `/samples/${f}` }))
      : [];
    writeFileSync(join(out.dir, 'models.json'), JSON.stringify({ models: modelCatalog(modelsDir), samples }, null, 2));
    const mounts = { '/': out.dir };
    if (existsSync(modelsDir)) mounts['/models'] = modelsDir;
    if (samples.length) mounts['/samples'] = samplesDir;
    const server = await serveStatic(mounts, { port });
    return {
      url: `${server.url}/`,
      close: async () => {
        await server.close();
        out.remove();
      },
    };
  } catch (e) {
    out.remove();
    throw e;
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '0' },
      models: { type: 'string' },
      samples: { type: 'string' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  const modelsDir = resolve(values.models ?? join(sharedDir, 'models'));
  const demo = await startDemo({ port, modelsDir, samplesDir: values.samples ? resolve(values.samples) : undefined });
  const count = modelCatalog(modelsDir).length;
  console.log(`mobilenet-wasm demo: ${demo.url}`);
  console.log(count ? `  ${count} MobileNet v1 models from ${modelsDir}` : `  no MobileNet v1 .tflite files in ${modelsDir} (pass --models DIR)`);
  console.log('  Ctrl-C to stop');
  const stop = () => demo.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main().catch((e) => {
    console.error(`demo: ${e.message}`);
    process.exit(1);
  });
}
