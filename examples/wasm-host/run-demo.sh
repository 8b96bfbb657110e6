#!/bin/sh
# Runs the two wasi:keyvalue guests, one per draft, against one store
# (default memory:) and shows what they printed. Usage:
#   build/examples/wasm-host/run-demo.sh [STORE-URI]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
uri=${1:-memory:}
echo "== wasm-host: guests 'draft' (wasi:keyvalue@0.2.0-draft) and" \
     "'draft2' (@0.2.0-draft2) on $uri"
exec "$here/wasm-host" --store "$uri" --page-size 10 draft draft2
