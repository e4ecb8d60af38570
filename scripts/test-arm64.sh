#!/usr/bin/env bash
# arm64 (issue 9): Debian's arm64 Node 18 under qemu-aarch64-static, where V8 lowers wasm SIMD to
# NEON. Runs scripts/engine-check.mjs there against host Node's results: every shared integer model
# byte-identical (random and AOSP golden inputs, and AOSP's golden outputs byte for byte), the float
# models within 1e-5, on the scalar and SIMD builds. Emulated, not a real device: the project's only
# ARM evidence so far. Also the declared engines floor, Node 18.
# The sysroot is built once into .cache/arm64-sysroot (needs apt; root or sudo for the first run).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${MOBILENET_WASM_SHARED:-../shared}
if [ ! -d "$SHARED/models" ]; then echo "arm64: SKIP $SHARED/models is missing"; exit 0; fi
SYSROOT=${ARM64_SYSROOT:-$PWD/.cache/arm64-sysroot}
SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
skip() { echo "arm64: SKIP $1"; exit 0; }
if ! command -v qemu-aarch64-static >/dev/null; then
  echo "arm64: installing qemu-user-static"
  { $SUDO apt-get install -y --no-install-recommends qemu-user-static || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends qemu-user-static; }; } >/tmp/arm64-apt.log 2>&1 \
    || skip "qemu-user-static could not be installed (see /tmp/arm64-apt.log)"
fi
if [ ! -x "$SYSROOT/usr/bin/node" ]; then
  echo "arm64: building the sysroot in $SYSROOT (Debian's nodejs:arm64 and its libraries)"
  debs=$(mktemp -d)
  {
    dpkg --print-foreign-architectures | grep -qx arm64 || { $SUDO dpkg --add-architecture arm64 && $SUDO apt-get update; }
    (cd "$debs" && apt-get download nodejs:arm64 libnode108:arm64 libbrotli1:arm64 libc-ares2:arm64 libc6:arm64 \
      libicu72:arm64 libnghttp2-14:arm64 libssl3:arm64 libstdc++6:arm64 libgcc-s1:arm64 libuv1:arm64 zlib1g:arm64 \
      node-acorn node-busboy node-cjs-module-lexer node-undici node-xtend)
  } >/tmp/arm64-apt.log 2>&1 || skip "the arm64 packages could not be downloaded (see /tmp/arm64-apt.log)"
  mkdir -p "$SYSROOT"
  for f in "$debs"/*.deb; do dpkg -x "$f" "$SYSROOT"; done
  rm -rf "$debs"
fi
NODE_ARM64=(qemu-aarch64-static -L "$SYSROOT" "$SYSROOT/usr/bin/node")
echo "arm64: $("${NODE_ARM64[@]}" -p 'process.version + " " + process.arch') under $(qemu-aarch64-static --version | head -1)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
node scripts/engine-check.mjs --write "$work/ref.json"
"${NODE_ARM64[@]}" scripts/engine-check.mjs --compare "$work/ref.json" --kernels scalar,simd
# the Node entry end to end on Node 18 arm64: the CLI, jimp decoding in a worker thread
out=$(MOBILENET_WASM_MODELS="$SHARED/models" "${NODE_ARM64[@]}" bin/mobilenet-wasm.js classify --json --model "$SHARED/models/mobilenet_v1_0.25_128_quant.tflite" "$SHARED/images/samples/grace_hopper.bmp")
want=$(MOBILENET_WASM_MODELS="$SHARED/models" node bin/mobilenet-wasm.js classify --json --model "$SHARED/models/mobilenet_v1_0.25_128_quant.tflite" "$SHARED/images/samples/grace_hopper.bmp")
[ "$out" = "$want" ] || { echo "FAIL arm64 classify differs: $out vs $want"; exit 1; }
echo "arm64: classify through the CLI on Node 18 arm64 matches host Node"
