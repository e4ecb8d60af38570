#!/usr/bin/env node
/**
 * Bundles the worker with esbuild and writes a workerd config that serves it:
 *
 *   node examples/worker/build.mjs --model ../shared/models/mobilenet_v1_0.25_128_quant.tflite --out /tmp/w
 *   npx workerd serve /tmp/w/config.capnp      # then: curl --data-binary @photo.jpg http://127.0.0.1:8787/
 *
 * The .wasm files and the model stay separate modules (esbuild leaves them as imports; the config
 * names each one's type: wasm or data), as Workers want them: a Worker cannot compile wasm
 * from bytes. The model is copied at build time and never committed. For wrangler, the same
 * worker needs `rules = [{ type = "Data", globs = ["**\/*.tflite"] }]` in wrangler.toml.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const COMPATIBILITY_DATE = '2026-01-01';

/**
 * Bundles src/index.ts into `outdir`/worker.js with `model` as the bundled model.tflite; returns
 * the module list for the config: [{ name, type: 'esModule' | 'wasm' | 'data', path }].
 */
export async function bundleWorker({ outdir, model }) {
  mkdirSync(outdir, { recursive: true });
  const modules = [{ name: 'worker.js', type: 'esModule', path: join(outdir, 'worker.js') }];
  const separate = {
    name: 'separate-modules',
    setup(b) {
      // each .wasm and the model become a module of their own, imported by a flat name
      b.onResolve({ filter: /\.(wasm|tflite)$/ }, async (args) => {
        if (args.pluginData === 'plain') return undefined; // our own b.resolve() below: esbuild's resolution
        let file;
        if (args.path === './model.tflite') file = resolve(model);
        else {
          const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'plain' });
          if (r.errors.length) return { errors: r.errors };
          file = r.path;
        }
        const name = args.path === './model.tflite' ? 'model.tflite' : basename(file);
        if (!modules.some((m) => m.name === name)) {
          writeFileSync(join(outdir, name), readFileSync(file)); // a plain copy: the source may be read-only
          modules.push({ name, type: name.endsWith('.wasm') ? 'wasm' : 'data', path: join(outdir, name) });
        }
        return { path: `./${name}`, external: true };
      });
    },
  };
  await build({
    entryPoints: [join(here, 'src', 'index.ts')],
    outfile: join(outdir, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['node:*'],
    minify: true,
    logLevel: 'warning',
    plugins: [separate],
  });
  return modules;
}

/**
 * A workerd config (Cap'n Proto text) serving the bundled worker on 127.0.0.1, once per entry of
 * `instances` ({ port, bindings: config lines such as `(name = "MODEL_URL", text = "...")` });
 * `services`: extra service definitions (a `disk` service to fetch models from, say).
 */
export function workerdConfig({ modules, instances, services = [] }) {
  // embed paths are relative to the config file, which sits next to the modules
  const mod = (m) => `(name = ${JSON.stringify(m.name)}, ${m.type} = embed ${JSON.stringify(basename(m.path))})`;
  const worker = (bindings) => `(
      modules = [ ${modules.map(mod).join(', ')} ],
      bindings = [ ${bindings.join(', ')} ],
      compatibilityDate = "${COMPATIBILITY_DATE}",
      compatibilityFlags = ["nodejs_compat"],
    )`;
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    ${[...instances.map((w, i) => `(name = "classifier${i}", worker = ${worker(w.bindings ?? [])})`), ...services].join(',\n    ')}
  ],
  sockets = [
    ${instances.map((w, i) => `(name = "http${i}", address = "127.0.0.1:${w.port}", http = (), service = "classifier${i}")`).join(',\n    ')}
  ],
);
`;
}

/** A port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer().once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** The path of the workerd binary that the npm package `workerd` (a devDependency) installed, or undefined. */
export async function workerdBinary() {
  try {
    const m = await import('workerd');
    const path = m.default?.default ?? m.default;
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `workerd serve config` and resolves once every port answers; `stop()` ends it.
 * `rss()` reads the process' resident memory (Linux /proc) in bytes.
 */
export async function serveWorkerd(config, ports, { timeoutMs = 30_000 } = {}) {
  const child = spawn(await workerdBinary(), ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((ok) => child.once('exit', (code) => ok(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}): ${log}`);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`workerd did not answer on port ${port} within ${timeoutMs} ms: ${log}`);
      }
      const up = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { child, stop, log: () => log };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, out: { type: 'string' }, port: { type: 'string' } } });
  if (!values.model || !values.out) {
    console.error('usage: node examples/worker/build.mjs --model MODEL.tflite --out DIR [--port 8787]');
    process.exit(2);
  }
  const modules = await bundleWorker({ outdir: resolve(values.out), model: values.model });
  writeFileSync(join(resolve(values.out), 'config.capnp'), workerdConfig({ modules, instances: [{ port: Number(values.port ?? 8787) }] }));
  console.log(`wrote ${values.out}/config.capnp: npx workerd serve ${join(values.out, 'config.capnp')}`);
}
