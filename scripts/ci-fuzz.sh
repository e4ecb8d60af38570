#!/usr/bin/env bash
# Bounded CI fuzz pass: 5,000 model cases (.tflite and TF.js folders) and 2,000 image cases
# with a fixed seed, on every core; about 1.5 minutes on 2 cores. Same seed, same cases, so a
# failure here reproduces locally with the same command (repros land in fuzz-out/ci/repros).
# Needs the built library (npm ci builds it through `prepare`) and ../shared for the seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
models="${MOBILENET_WASM_MODELS:-../shared/models}"
if [ ! -d "$models" ]; then
  echo "ci-fuzz: skipped: $models not found (the fuzzer's seed models and images live in ../shared)"
  exit 0
fi
if [ ! -f dist/node.js ]; then
  echo "ci-fuzz: dist/node.js missing: run npm run build first" >&2
  exit 1
fi
exec node test/fuzz/fuzz.mjs --cases "${FUZZ_CASES:-5000}" --image-cases "${FUZZ_IMAGE_CASES:-2000}" \
  --seed "${FUZZ_SEED:-ci-1}" --models "$models" --out fuzz-out/ci --image-timeout-ms 5000 --quiet "$@"
