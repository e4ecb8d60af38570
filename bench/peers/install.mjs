#!/usr/bin/env node
/**
 * Installs the peer runtimes on demand, each in its own folder (they are kept out of the root
 * package.json, and tfjs-tflite pins an older tfjs-core than tfjs-backend-wasm wants):
 *
 *   node bench/peers/install.mjs [--force] [--only tfjs,tflite,ort]
 *
 * Runs `npm ci --prefix bench/peers/<peer>` for every peer folder without a finished install
 * (node_modules/.package-lock.json is written by npm at the end of a successful install).
 * Install scripts are skipped: none of these packages needs one, and it guarantees nothing
 * tries to download a binary (every .wasm ships inside the npm tarballs).
 */
import { existsSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PEERS = ['tfjs', 'tflite', 'ort'];

const argv = process.argv.slice(2);
const force = argv.includes('--force');
const onlyIdx = argv.indexOf('--only');
const wanted = onlyIdx >= 0 ? (argv[onlyIdx + 1] ?? '').split(',').filter(Boolean) : PEERS;
for (const w of wanted) {
  if (!PEERS.includes(w)) {
    console.error(`unknown peer "${w}" (known: ${PEERS.join(', ')})`);
    process.exit(2);
  }
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let failed = 0;
for (const peer of wanted) {
  const dir = join(here, peer);
  const rel = relative(process.cwd(), dir) || '.';
  if (!force && existsSync(join(dir, 'node_modules', '.package-lock.json'))) {
    console.log(`${rel}: already installed`);
    continue;
  }
  if (force) rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
  console.log(`${rel}: npm ci ...`);
  const res = spawnSync(npm, ['ci', '--prefix', dir, '--ignore-scripts', '--no-audit', '--no-fund'], {
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
    // Belt and braces: onnxruntime-node (not a dependency here) would otherwise fetch binaries.
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' },
  });
  if (res.status !== 0) {
    failed++;
    const stderr = (res.stderr ?? '').trim();
    const offline = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|network|offline|E404|E5\d\d/i.test(stderr);
    console.error(stderr);
    console.error(
      `\n${rel}: npm ci failed (exit ${res.status ?? res.signal}). ` +
        (offline
          ? 'The npm registry looks unreachable (offline, proxy or registry error): the peer runtimes cannot be installed now; retry when online. '
          : '') +
        `The ${peer} runner needs these packages; nothing else in the repo does.`,
    );
  } else {
    console.log(`${rel}: installed`);
  }
}
process.exit(failed ? 1 : 0);
