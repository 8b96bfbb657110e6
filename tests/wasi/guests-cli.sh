#!/bin/sh
# Runs the wasm-host program on real stores -- a file: directory always,
# redis and nats when their modules are on KVSTORE_BACKEND_PATH and their
# servers are installed -- checks what the guests printed, then reads the
# store back with the kvstore CLI (when built): the draft guests' data is
# there, and the hostile guest changed nothing outside its own bucket.
#   guests-cli.sh WASM_HOST [KVSTORE_CLI [KVSTORE_WASM_RUN]]
# With KVSTORE_WASM_RUN (the Node.js runner, a sh script), every guest also runs on V8
# from its .wasm file (next to WASM_HOST) against the same store, under
# its own bucket prefix, and must print what it printed on wasm2c.
# Output is TAP. KVSTORE_WASM_WRAPPER (e.g. "valgrind -q --error-exitcode=99
# --leak-check=full") runs the host under a checker.
set -u
host=$1
wrap=${KVSTORE_WASM_WRAPPER:-}
cli=${2:-}
node_run=${3:-}
wasm_dir=$(dirname "$host")
tmp=$(mktemp -d /tmp/wasm-host-cli-XXXXXX)
pids=
n=0
failed=0

cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { # DESCRIPTION COMMAND...
    d=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi
}
has_line() { printf '%s\n' "$1" | grep -qxF -- "$2"; }
# Page counts depend on the backend (Redis SCAN pages vary): a pattern.
has_match() { printf '%s\n' "$1" | grep -qxE -- "$2"; }
cli() { "$cli" -s "$uri" "$@"; }
equals() { [ "$1" = "$2" ]; }

# Every key=value of a bucket, sorted.
snapshot() {
    cli -b "$1" ls | LC_ALL=C sort | while IFS= read -r k; do
        printf '%s=%s\n' "$k" "$(cli -b "$1" get -- "$k")"
    done
}

run_store() { # NAME URI
    name=$1
    uri=$2
    out=$($wrap "$host" -s "$uri" -n 10 draft draft2 2>&1)
    check "$name: draft and draft2 guests succeed" equals "$?" 0
    check "$name: draft counted visit #1" has_line "$out" "draft: visit #1"
    check "$name: draft2 counted visit #2" has_line "$out" "draft2: visit #2"
    check "$name: draft paged through 26 keys" has_match "$out" \
        "draft: listed 26 keys \(25 user records\) in [0-9]+ pages"
    check "$name: draft2 paged through 41 keys" has_match "$out" \
        "draft2: listed 41 keys \(12 order records\) in [0-9]+ pages"
    check "$name: draft2 retried a lost compare-and-swap" has_line "$out" \
        "draft2: get motd = hello, world"

    if [ -n "$cli" ]; then
        check "$name: CLI reads the counter" equals "$(cli -b demo get visits)" 2
        check "$name: CLI reads a record" equals "$(cli -b demo get user:007)" \
            '{"id":7,"name":"user-7","since_visit":1,"draft":"0.2.0-draft"}'
        check "$name: CLI reads the swapped value" equals "$(cli -b demo get motd)" \
            "hello, world"
        check "$name: deleted key is gone" equals "$(cli -b demo exists user:025 >/dev/null; echo $?)" 1
        check "$name: 42 keys in demo" equals "$(cli -b demo ls | wc -l)" 42
        before=$(snapshot demo)
    fi

    out=$($wrap "$host" -s "$uri" hostile=hostile 2>&1)
    check "$name: host survives every attack" equals "$?" 0
    check "$name: 32 attacks ran" has_line "$out" \
        "hostile: attack 32: memory grows inside cabi_realloc"
    check "$name: 17 attacks trapped" equals \
        "$(printf '%s\n' "$out" | grep -c '^host: hostile trapped: ')" 17
    check "$name: the rest got error results or harmless oks" equals \
        "$(printf '%s\n' "$out" | grep -c -- '-> error')" 10

    if [ -n "$cli" ]; then
        check "$name: demo bucket unchanged by the hostile guest" \
            equals "$(snapshot demo)" "$before"
        check "$name: hostile bucket holds only what it set" equals \
            "$(cli -b hostile ls | LC_ALL=C sort | tr '\n' ' ')" \
            ". .. ../demo/visits /etc/passwd big cas-after-drop demo:visits k1 "
        check "$name: \"a\\0b\" did not become \"a\"" \
            equals "$(cli -b hostile exists a >/dev/null; echo $?)" 1
    fi

    # Not under a checker (KVSTORE_WASM_WRAPPER): it compares outputs, and
    # a host slowed down 50 times by valgrind meets other timeouts.
    [ -n "$node_run" ] && [ -z "$wrap" ] && same_on_both_engines
}

# Lines sorted (watch events of different keys may come in any order),
# page counts masked (Redis SCAN pages vary from run to run), the bucket
# prefix PREFIX ($2) removed (libkvstore's messages name the bucket), and
# the values of watch events masked: file and redis read a set's value
# after the event, so a key set then deleted may come with either.
norm() {
    printf '%s\n' "$1" | sed -E -e 's/in [0-9]+ pages/in N pages/' -e "s/$2//g" \
        -e 's/^(watcher: on-set [^=]*)=.*( \((exists|gone) now\))$/\1=...\2/' |
        LC_ALL=C sort
}

# Each guest once on wasm2c and once on V8, each under a fresh prefix.
# (Arguments hold no spaces: word splitting is intended.)
same_on_both_engines() {
    for g in draft draft2 spin watcher hostile; do
        both= v8= target=$g
        case $g in
        spin) v8="--wit spin" ;; # wasm-host picks spin's WIT by its name
        watcher) both="-c watch=events -e 4" ;;
        hostile) target=hostile=hostile; v8="-c allow=hostile" ;;
        esac
        a=$($wrap "$host" -s "$uri" -p "w2c$g" -n 10 $both "$target" 2>&1)
        b=$(sh "$node_run" --store "$uri" -c "bucket_prefix=v8$g" -c page_size=10 \
            $both $v8 "$wasm_dir/$g.wasm" 2>&1)
        na=$(norm "$a" "w2c$g")
        nb=$(norm "$b" "v8$g")
        if [ "$na" = "$nb" ]; then
            ok "$name: $g prints the same on V8 (kvstore-wasm-run) as on wasm2c"
        else
            not_ok "$name: $g prints the same on V8 (kvstore-wasm-run) as on wasm2c"
            printf '%s\n' "$na" > "$tmp/want"
            printf '%s\n' "$nb" | diff "$tmp/want" - | sed 's/^/# /'
        fi
    done
}

run_store file "file://$tmp/files"

# memory: lives in one process: each engine's run starts from empty.
if [ -n "$node_run" ] && [ -z "$wrap" ]; then
    name=memory uri=memory:
    same_on_both_engines
fi

wait_for() { # TRIES COMMAND...
    t=$1; shift
    while [ "$t" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        t=$((t - 1))
    done
    return 1
}

module() { # NAME: is kvstore-NAME.so on KVSTORE_BACKEND_PATH?
    IFS=:
    for d in ${KVSTORE_BACKEND_PATH:-}; do
        if [ -n "$d" ] && [ -e "$d/kvstore-$1.so" ]; then unset IFS; return 0; fi
    done
    unset IFS
    return 1
}

if module redis && command -v redis-server >/dev/null; then
    redis-server --port 0 --unixsocket "$tmp/redis.sock" --save '' \
        --appendonly no >"$tmp/redis.log" 2>&1 &
    pids="$pids $!"
    if wait_for 100 test -S "$tmp/redis.sock"; then
        # watch_config=auto: the watcher guest needs keyspace notifications.
        run_store redis "redis+unix://$tmp/redis.sock?watch_config=auto"
    else
        not_ok "redis-server did not start"
    fi
else
    echo "# redis: module or redis-server missing, skipped"
fi

if module nats && command -v nats-server >/dev/null; then
    port=$((20000 + $$ % 20000))
    nats-server -a 127.0.0.1 -p "$port" -js -sd "$tmp/js" >"$tmp/nats.log" 2>&1 &
    pids="$pids $!"
    if wait_for 100 grep -q "Server is ready" "$tmp/nats.log"; then
        run_store nats "nats://127.0.0.1:$port"
    else
        not_ok "nats-server did not start"
    fi
else
    echo "# nats: module or nats-server missing, skipped"
fi

[ -n "$cli" ] || echo "# kvstore CLI not built: store checks skipped"
echo "1..$n"
exit $failed
