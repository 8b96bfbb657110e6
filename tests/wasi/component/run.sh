#!/bin/sh
# Runs check.mjs where its node_modules are (npm ci in this folder, which
# scripts/deps.sh does), or reports a TAP skip when jco is not installed.
#   run.sh WIT_DIR [!]GUEST.wasm=WORLD...
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/@bytecodealliance/jco" ]; then
    echo "1..0 # SKIP jco not installed: npm ci --prefix tests/wasi/component"
    exit 0
fi
cd "$here" && exec node check.mjs "$@"
