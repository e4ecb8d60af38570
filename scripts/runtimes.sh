# Sourced by the runtime scripts: installs Deno and Bun from their npm packages (which ship the
# binaries) into .cache/runtimes once, and sets DENO / BUN to their paths, or leaves them empty
# with a clear message when the registry cannot provide them.
RUNTIMES_DIR="${RUNTIMES_DIR:-$PWD/.cache/runtimes}"
DENO="$RUNTIMES_DIR/node_modules/@deno/linux-x64-glibc/deno"
BUN="$RUNTIMES_DIR/node_modules/@oven/bun-linux-x64/bin/bun"
if [ ! -x "$DENO" ] || [ ! -x "$BUN" ]; then
  mkdir -p "$RUNTIMES_DIR"
  [ -f "$RUNTIMES_DIR/package.json" ] || echo '{"private":true}' > "$RUNTIMES_DIR/package.json"
  npm install --prefix "$RUNTIMES_DIR" --no-audit --no-fund --no-save @deno/linux-x64-glibc@^2.9.6 @oven/bun-linux-x64@^1.4.5 >/dev/null 2>&1 \
    || echo "runtimes: npm could not install Deno/Bun into $RUNTIMES_DIR"
fi
[ -x "$DENO" ] || { echo "runtimes: SKIP Deno (binary not installed)"; DENO=""; }
[ -x "$BUN" ] || { echo "runtimes: SKIP Bun (binary not installed)"; BUN=""; }
