#!/bin/sh
# Each guest as a real component through jco's canonical-ABI glue
# (layout.mjs, imports in JavaScript) and on libkvstore-wasi (wasm-host,
# memory:): the same output, or the layer's memory layouts are not the
# canonical ABI's. TAP; skipped until npm ci has installed jco here.
#   layout.sh WIT_DIR WASM_HOST GUEST[=WORLD]...
# GUEST=WORLD runs the guest as a component of another WORLD, with a
# leading ! meaning the outputs must differ (the check must be able to
# fail: spin's guest read through draft2's get-many shape misreads).
here=$(cd "$(dirname "$0")" && pwd)
wit=$1 host=$2
shift 2
if [ ! -d "$here/node_modules/@bytecodealliance/jco" ]; then
    echo "1..0 # SKIP jco not installed: npm ci --prefix tests/wasi/component"
    exit 0
fi
n=0 failed=0
for arg in "$@"; do
    n=$((n + 1))
    differ=
    case $arg in !*) differ=1; arg=${arg#!} ;; esac
    g=${arg%%=*}
    world=${arg#*=}
    want=$("$host" -n 10 "$g" 2>&1)
    got=$(cd "$here" && node layout.mjs "$wit" "$(dirname "$host")/$g.wasm" "$world" 2>&1)
    if [ -n "$differ" ]; then
        if [ "$want" != "$got" ]; then
            echo "ok $n - $g read as a $world component misreads its results"
        else
            failed=1
            echo "not ok $n - $g read as a $world component gave the same results"
        fi
    elif [ "$want" = "$got" ] && [ -n "$got" ]; then
        echo "ok $n - $g: jco's canonical ABI and libkvstore-wasi give the guest the same results"
    else
        failed=1
        echo "not ok $n - $g: jco's canonical ABI and libkvstore-wasi differ"
        printf '%s\n' "$want" > /tmp/layout-$$-want
        printf '%s\n' "$got" | diff /tmp/layout-$$-want - | sed 's/^/# /'
        rm -f /tmp/layout-$$-want
    fi
done
echo "1..$n"
exit $failed
