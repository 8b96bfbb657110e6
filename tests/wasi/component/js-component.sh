#!/bin/sh
# A component built by standard tooling runs with its wasi:keyvalue
# imports served by libkvstore (js-component.mjs): the JavaScript guest
# js-guest/guest.js, componentized by componentize-js, transpiled by jco,
# on a file store. TAP; skipped until npm ci has installed the packages.
#   js-component.sh WIT_DIR KVSTORE_WASI_NODE_ADDON KVSTORE_CLI
here=$(cd "$(dirname "$0")" && pwd)
wit=$1 addon=$2 cli=$3
for p in componentize-js jco preview2-shim; do
    if [ ! -d "$here/node_modules/@bytecodealliance/$p" ]; then
        echo "1..0 # SKIP @bytecodealliance/$p not installed: npm ci --prefix tests/wasi/component"
        exit 0
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..3"
out=$(cd "$tmp" && node "$here/js-component.mjs" "$wit" "$addon" "file://$tmp/store" 2>&1)
rc=$?
want="run: get=hello from componentize-js missing=none exists=true,false incr=2,42"
want="$want current=hello from componentize-js swapped=swapped keys=greeting,visits"
want="$want bad-key=other(key is empty) bad-bucket=other(bucket identifier is not a bucket name)"
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -qxF "$want"; then
    echo "ok 1 - the JavaScript component's calls all answered as the WIT says"
else
    echo "not ok 1 - the JavaScript component (exit $rc)"
    printf '%s\n' "$out" | sed 's/^/# /'
fi
if printf '%s\n' "$out" | grep -qx "component: [0-9]* bytes, imports wasi:keyvalue/atomics wasi:keyvalue/store"; then
    echo "ok 2 - the component imports wasi:keyvalue and nothing else"
else
    echo "not ok 2 - the component's imports"
fi
greeting=$("$cli" -s "file://$tmp/store" -b js get greeting 2>&1)
visits=$("$cli" -s "file://$tmp/store" -b js get visits 2>&1)
if [ "$greeting" = swapped ] && [ "$visits" = 42 ]; then
    echo "ok 3 - the kvstore CLI reads what the component wrote"
else
    echo "not ok 3 - the store holds greeting=$greeting visits=$visits"
fi
