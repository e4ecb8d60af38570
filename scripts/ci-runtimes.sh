#!/usr/bin/env bash
# Deno and Bun (issue 9): the same exactness check as Node's (scripts/engine-check.mjs: every
# shared integer model on fixed pseudo-random inputs and the AOSP golden inputs, the float models
# within 1e-5, grace_hopper's top-5) must give outputs byte-identical to host Node's, on every kernel
# build the engine validates. Deno also imports the package from a plain folder (no package.json)
# and through npm:, Bun runs the Node entry's CLI (file decoding in a worker thread).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${MOBILENET_WASM_SHARED:-../shared}
if [ ! -d "$SHARED/models" ]; then echo "runtimes: SKIP $SHARED/models is missing"; exit 0; fi
. scripts/runtimes.sh
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
node scripts/engine-check.mjs --write "$work/ref.json"

if [ -n "$DENO" ]; then
  "$DENO" run --allow-read --allow-env scripts/engine-check.mjs --compare "$work/ref.json"
  # a plain folder: dist/ and the .wasm builds with no package.json anywhere above
  mkdir -p "$work/plain/scripts" "$work/plain/build"
  cp -r dist "$work/plain/dist"; cp build/*.wasm "$work/plain/build/"; cp scripts/engine-check.mjs "$work/plain/scripts/"
  "$DENO" run --allow-read --allow-env "$work/plain/scripts/engine-check.mjs" --compare "$work/ref.json" --shared "$(cd "$SHARED" && pwd)" --kernels simd
  # through npm: from the packed package installed into a consumer's node_modules
  mkdir -p "$work/npm"
  npm pack --ignore-scripts --pack-destination "$work/npm" --silent >/dev/null
  tgz=$(cd "$work/npm" && ls mobilenet-wasm-*.tgz)
  echo "{\"name\":\"consumer\",\"private\":true,\"type\":\"module\",\"dependencies\":{\"mobilenet-wasm\":\"file:./$tgz\"}}" > "$work/npm/package.json"
  (cd "$work/npm" && npm install --no-audit --no-fund --ignore-scripts >/dev/null)
  echo '{"nodeModulesDir":"manual"}' > "$work/npm/deno.json"
  cat > "$work/npm/main.mjs" <<'JS'
import { MobileNet } from 'npm:mobilenet-wasm';
const wasm = await Deno.readFile(new URL('./node_modules/mobilenet-wasm/build/mobilenet-simd.wasm', import.meta.url));
const net = await MobileNet.load(await Deno.readFile(Deno.args[0]), { wasm: { simd: wasm } });
const ref = JSON.parse(await Deno.readTextFile(Deno.args[1]));
const want = ref.results['mobilenet_v1_0.25_128_quant.tflite simd'].top5;
const px = ref.pixels;
const bin = atob(px.data), data = new Uint8Array(bin.length);
for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
const got = net.classify({ data, width: px.width, height: px.height, channels: px.channels }, { topK: 5 }).map((c) => [c.index, c.score]);
if (JSON.stringify(got) !== JSON.stringify(want)) { console.log(`FAIL npm:mobilenet-wasm top-5 ${JSON.stringify(got)} vs ${JSON.stringify(want)}`); Deno.exit(1); }
console.log(`deno npm:mobilenet-wasm: ${net.info.kernels} kernels, top-1 ${net.labels?.[got[0][0]] ?? got[0][0]} ${got[0][1]}: same top-5 as Node`);
JS
  (cd "$work/npm" && "$DENO" run --allow-read main.mjs "$(cd - >/dev/null; cd "$SHARED" && pwd)/models/mobilenet_v1_0.25_128_quant.tflite" "$work/ref.json")
fi

if [ -n "$BUN" ]; then
  "$BUN" scripts/engine-check.mjs --compare "$work/ref.json"
  out=$(MOBILENET_WASM_MODELS="$SHARED/models" "$BUN" bin/mobilenet-wasm.js classify --json "$SHARED/images/samples/grace_hopper.bmp")
  node_out=$(MOBILENET_WASM_MODELS="$SHARED/models" node bin/mobilenet-wasm.js classify --json "$SHARED/images/samples/grace_hopper.bmp")
  if [ "$out" != "$node_out" ]; then echo "FAIL bun classify differs from node: $out vs $node_out"; exit 1; fi
  echo "bun classify (Node entry, file decoded in a worker thread): same as Node: ${out:0:120}..."
fi
