# Shared prelude of the CLI test scripts (cli_*.sh), sourced by each: they
# run the built kvstore binary against file: stores in a temp dir and check
# output bytes and exit codes, printing TAP. Each script is a separate meson
# test so that the slow valgrind run of the CLI spreads over the cores; so
# each one makes every key, bucket and file its checks rely on itself.
# Usage: bash cli_PART.sh PATH/TO/kvstore [DEFAULT_STORE_DOC]
# KVSTORE_CLI_WRAPPER (e.g. "valgrind -q --error-exitcode=99
# --leak-check=full --errors-for-leak-kinds=definite") prefixes every run
# of the binary, so the tool itself is checked, not bash.
set -euo pipefail

KV=${1:?usage: $0 PATH/TO/kvstore}
read -r -a WRAP <<<"${KVSTORE_CLI_WRAPPER:-}"
KVR=("${WRAP[@]}" "$KV")
# Fixtures and read-backs that only prepare or inspect a store, whose own
# commands are checked elsewhere: run bare, so the wrapper's time goes to
# the commands under test (under valgrind the copy section's 94 set and
# get calls took 75 of the script's 246 s, the listing's 24 sets 14).
KVP=("$KV")
T=$(mktemp -d)
WATCH_PID=
cleanup() {
  if [ -n "$WATCH_PID" ]; then kill "$WATCH_PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

# A clean, predictable environment: no inherited store.
unset KVSTORE_URL
export HOME=$T/home XDG_DATA_HOME=$T/xdg
mkdir -p "$HOME"
S=file://$T/s          # the store most tests use
OUT=$T/out ERR=$T/err
# A value no text tool passes through unchanged: NULs, a lone \377, CRLF.
printf 'a\0b\n\0\377\r\n' >"$T/bin"

n=0 failed=0
ok() { # ok DESCRIPTION COMMAND... : passes if COMMAND succeeds
  local desc=$1; shift
  n=$((n + 1))
  if "$@"; then
    echo "ok $n - $desc"
  else
    echo "not ok $n - $desc"
    failed=$((failed + 1))
    { echo "# stdout:"; head -c 2000 "$OUT" | sed "s/^/#   /"; echo "# stderr:"; head -c 2000 "$ERR" | sed "s/^/#   /"; } 2>/dev/null || true
  fi
}
# run ARGS...: runs kvstore, keeping stdout, stderr and the exit code (rc).
run() { set +e; "${KVR[@]}" "$@" >"$OUT" 2>"$ERR"; rc=$?; set -e; }
run_in() { local in=$1; shift; set +e; "${KVR[@]}" "$@" <"$in" >"$OUT" 2>"$ERR"; rc=$?; set -e; }
rc_is() { [ "$rc" -eq "$1" ]; }
out_is() { [ "$(cat "$OUT")" = "$1" ]; }
err_has() { grep -q -- "$1" "$ERR"; }
out_has() { grep -q -- "$1" "$OUT"; }
kv() { "${KVR[@]}" -s "$S" "$@"; }
# Whether script(1) can give the binary a terminal (tty-only behaviour).
have_script() { script -qec true /dev/null >/dev/null 2>&1; }

# done_testing: the TAP plan, and the exit status meson reads with it.
done_testing() {
  echo "1..$n"
  [ "$failed" -eq 0 ]
}
