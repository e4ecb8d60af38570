// Builds the three kernel flavours from one AssemblyScript source:
//   scalar  - no SIMD (older engines)
//   simd    - wasm SIMD (Chrome 91+, Safari 16.4+, Node 16.4+)
//   relaxed - SIMD + relaxed SIMD (Chrome 114+), chosen only when the engine validates it
// Usage: node scripts/build-wasm.mjs [--entry assembly/index.ts] [--out build] [--only simd,scalar]
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const entry = opt('--entry', 'assembly/index.ts');
const out = opt('--out', 'build');
const only = opt('--only', 'scalar,simd,relaxed').split(',');

const flavours = {
  scalar: [],
  simd: ['--enable', 'simd'],
  relaxed: ['--enable', 'simd,relaxed-simd'],
};
mkdirSync(join(root, out), { recursive: true });
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
for (const name of only) {
  const flags = flavours[name];
  if (!flags) throw new Error(`unknown flavour ${name}`);
  execFileSync(
    process.execPath,
    [
      asc, entry,
      '--outFile', join(out, `mobilenet-${name}.wasm`),
      '--runtime', 'stub', '-Oz', '--noAssert', // -Oz: smallest; V8 optimises the kernels itself, measured no slower than -O3
      '--initialMemory', '1',
      ...flags,
    ],
    { cwd: root, stdio: 'inherit' },
  );
}
