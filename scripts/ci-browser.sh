#!/usr/bin/env bash
# The browser suites (test/browser, headless Chromium through playwright-core). Installs Debian's
# Chromium when it is missing; the suites skip with a clear message only when it cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  echo "ci-browser: installing Debian's chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
  if ! { $SUDO apt-get install -y --no-install-recommends chromium >/tmp/ci-chromium.log 2>&1 \
         || { $SUDO apt-get update >>/tmp/ci-chromium.log 2>&1 && $SUDO apt-get install -y --no-install-recommends chromium >>/tmp/ci-chromium.log 2>&1; }; }; then
    echo "ci-browser: chromium could not be installed (see /tmp/ci-chromium.log); the browser suites will skip"
  fi
fi
MOBILENET_WASM_MODELS=${MOBILENET_WASM_MODELS:-../shared/models} npm run test:browser
