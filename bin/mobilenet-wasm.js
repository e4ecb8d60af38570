#!/usr/bin/env node
// Errors are one line on stderr, `mobilenet-wasm: error: CODE: message`; exit 2 for usage, 1 otherwise.
const fail = (what, e) => {
  const msg = `${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`.replace(/\s*[\r\n]+\s*/g, ' ');
  process.stderr.write(`mobilenet-wasm: error: INTERNAL: ${msg}\n`);
  process.exit(1);
};
// `mobilenet-wasm ... | head`: the reader went away, nothing left to say
process.stdout.on('error', (e) => (e.code === 'EPIPE' ? process.exit(process.exitCode ?? 0) : fail('stdout', e)));
process.on('uncaughtException', (e) => fail('uncaught exception (a bug in mobilenet-wasm)', e));
process.on('unhandledRejection', (e) => fail('unhandled rejection (a bug in mobilenet-wasm)', e));

let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (e) {
  fail('cannot load dist/cli/main.js (run `npm run build`)', e);
}
process.exitCode = await main(process.argv.slice(2));
