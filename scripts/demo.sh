#!/usr/bin/env bash
# The main job: builds libkvstore and the kvstore CLI, uses the CLI on the
# embedded default store (the SQLite database $XDG_DATA_HOME/kvstore/kvstore.db,
# docs/backends/default-store.md), then runs the Wasm host example when it
# is built.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
kvstore_install_deps

[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
kv=build/tools/kvstore
# The default store needs the sqlite module: use the one just built, ahead
# of any installed one.
export KVSTORE_BACKEND_PATH=$PWD/build/backends/sqlite${KVSTORE_BACKEND_PATH:+:$KVSTORE_BACKEND_PATH}

echo "== kvstore CLI on the embedded default store (${XDG_DATA_HOME:-$HOME/.local/share}/kvstore/kvstore.db)"
set -x
"$kv" set greeting "hello from libkvstore"
"$kv" get greeting; echo   # get prints the exact bytes, no newline added
"$kv" incr visits
"$kv" incr visits 10
"$kv" set "notes/2026-11-25" "any UTF-8 key works: / .. * ? ünïcode"
"$kv" ls
"$kv" ls --prefix notes/
"$kv" exists greeting
"$kv" del greeting
"$kv" exists greeting || echo "greeting is gone (exit $?)"
set +x

if [ -x build/examples/wasm-host/wasm-host ]; then
  echo "== Wasm host example"
  build/examples/wasm-host/run-demo.sh
fi
