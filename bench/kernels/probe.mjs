// Compiles the dev-only bench/kernels/probe.ts (ceiling probes and the int8 GEMM formulations)
// with the project's asc into a temporary folder, once per process; never part of build/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached;
/** probe.wasm bytes (SIMD + relaxed SIMD; -O3, since nothing here is shipped) */
export function probeWasm() {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'mnw-probe-'));
  try {
    const out = join(dir, 'probe.wasm');
    execFileSync(process.execPath, [
      join(repoRoot, 'node_modules', 'assemblyscript', 'bin', 'asc.js'),
      join(repoRoot, 'bench', 'kernels', 'probe.ts'),
      '--runtime', 'stub', '-O3', '--noAssert', '--enable', 'simd,relaxed-simd', '--initialMemory', '1', '--outFile', out,
    ], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    cached = readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return cached;
}
