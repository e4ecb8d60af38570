// The write-or-check step of the scripts that generate source files from data
// (gen-imagenet-labels.mjs, gen-model-registry.mjs): with `--check` on the command line, exit 1
// when the committed file differs from `source`; else write it.
import { readFileSync, writeFileSync } from 'node:fs';

export function writeOrCheck(outPath, source, script, summary) {
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(outPath, 'utf8');
    } catch {}
    if (current !== source) {
      console.error(`${outPath} is stale: run node ${script}`);
      process.exit(1);
    }
  } else {
    writeFileSync(outPath, source);
    console.log(`wrote ${outPath} (${summary})`);
  }
}
