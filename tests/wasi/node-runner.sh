#!/bin/sh
# kvstore-wasm-run's own behaviour, beyond running the guests the same as
# wasm2c does (guests-cli.sh): an import it does not serve is refused by
# name, a trap and a guest signature that is not the canonical ABI's end
# in a non-zero exit with the reason, --help and bad usage.
#   node-runner.sh KVSTORE_WASM_RUN UNSERVED.wasm TRAPPING.wasm BADSIG.wasm
# Output is TAP.
set -u
run=$1 unserved=$2 trapping=$3 badsig=$4
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { # DESCRIPTION COMMAND...
    d=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi
}
equals() { [ "$1" = "$2" ]; }
contains() { printf '%s\n' "$1" | grep -qF -- "$2"; }

out=$(sh "$run" "$unserved" 2>&1); rc=$?
check "an unserved import: exit 2" equals "$rc" 2
check "an unserved import is named" contains "$out" \
    "unsupported import wasi:cli/environment@0.2.0 get-arguments"

out=$(sh "$run" --store memory: "$trapping" 2>&1); rc=$?
check "a trap: exit 2" equals "$rc" 2
check "a trap says why" contains "$out" "host: trapping trapped: unknown bucket handle 77"

out=$(sh "$run" "$badsig" 2>&1); rc=$?
check "a wrong import signature: exit 2" equals "$rc" 2
check "a wrong import signature is named" contains "$out" \
    "open called with another signature than (i32,i32,i32)->()"

out=$(sh "$run" --help 2>&1); rc=$?
check "--help: exit 0" equals "$rc" 0
check "--help prints the usage" contains "$out" "Usage: kvstore-wasm-run"
out=$(sh "$run" --wit draft3 "$trapping" 2>&1); rc=$?
check "an unknown --wit: exit 2" equals "$rc" 2
out=$(sh "$run" --config page_size=0 "$trapping" 2>&1); rc=$?
check "a bad config value: exit 3, the key named" equals "$rc:$(contains "$out" 'config key page_size: bad value' && echo y)" "3:y"

echo "1..$n"
exit $failed
