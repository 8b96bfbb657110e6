#!/usr/bin/env bash
# CLI tests, part 1: the key commands (get, set, del, exists, incr, cas,
# watch), JSON output, named stores, buckets, expiry and bench. Part 2
# (help, usage errors, store selection, ls, copy) is cli_stores.sh; the
# two run side by side.
# Usage: cli_commands.sh PATH/TO/kvstore
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- get/set/del/exists
run -s "$S" set greeting hello; ok "set exits 0" 'rc_is' 0
run -s "$S" get greeting
ok "get prints the exact value, no newline on a pipe" \
  eval 'rc_is 0 && [ "$(od -An -c "$OUT" | tr -d " ")" = "hello" ]'
run -s "$S" get missing
ok "get of a missing key is exit 1 with a message" eval 'rc_is 1 && [ ! -s "$OUT" ] && err_has "not found"'
run -s "$S" exists greeting; ok "exists prints true, exit 0" eval 'rc_is 0 && out_is true'
run -s "$S" exists missing;  ok "exists prints false, exit 1" eval 'rc_is 1 && out_is false'
run -s "$S" -b other get greeting; ok "--bucket isolates keys" 'rc_is' 1
run -s "$S" get greeting --bucket default; ok "global options after the command" eval 'rc_is 0 && out_is hello'
run -s "$S" set empty ''
run -s "$S" get empty; ok "empty value round-trips as 0 bytes" eval 'rc_is 0 && [ ! -s "$OUT" ]'
run -s "$S" set neg -5; run -s "$S" get neg; ok "a negative number is a value, not an option" eval 'rc_is 0 && out_is -5'
run -s "$S" set dash -- --x; run -s "$S" get dash; ok "-- ends options" eval 'rc_is 0 && out_is --x'

run_in "$T/bin" -s "$S" set bin -
run -s "$S" get bin
ok "binary value with NUL bytes via stdin round-trips exactly" eval 'rc_is 0 && cmp -s "$T/bin" "$OUT"'
head -c 300000 /dev/urandom >"$T/big"
run_in "$T/big" -s "$S" set big -
run -s "$S" get big
ok "300 kB random value via stdin round-trips exactly" eval 'rc_is 0 && cmp -s "$T/big" "$OUT"'
printf -- - >"$T/dash"; run_in "$T/dash" -s "$S" set d -; run -s "$S" get d
ok "a literal '-' value via stdin" eval 'rc_is 0 && out_is -'
if have_script; then
  script -qec "'$KV' -s '$S' get greeting" /dev/null >"$T/tty" </dev/null
  ok "get adds a newline on a terminal" eval '[ "$(od -An -c "$T/tty" | tr -d " ")" = "hello\r\n" ]'
fi

run -s "$S" del greeting; ok "del exits 0" 'rc_is' 0
run -s "$S" exists greeting; ok "deleted key is gone" eval 'rc_is 1 && out_is false'
run -s "$S" del greeting; ok "del of a missing key exits 0" 'rc_is' 0
kv set m1 1; kv set m2 2
run -s "$S" del m1 m2 nothere; ok "del of several keys" eval 'rc_is 0'
run -s "$S" exists m2; ok "del of several keys removed them" 'rc_is' 1

# ---------------------------------------------------------------- bad input (library errors: exit 3)
run -s "$S" get '';                      ok "empty key is exit 3" eval 'rc_is 3 && err_has "key"'
run -s "$S" get "$(printf 'a\377b')";    ok "invalid UTF-8 key is exit 3" 'rc_is' 3
run -s "$S" set "$(head -c 1025 /dev/zero | tr '\0' k)" v; ok "1025-byte key is exit 3" 'rc_is' 3
run -s "$S" -b 'a/b' get k;              ok "bucket 'a/b' is exit 3" eval 'rc_is 3 && err_has "bucket"'
run -s "$S" -b '..' set k v;             ok "bucket '..' is exit 3" 'rc_is' 3
run -s "$S" -b "$(head -c 65 /dev/zero | tr '\0' b)" get k; ok "65-byte bucket is exit 3" 'rc_is' 3
run -s 'nosuchscheme://x' get k;         ok "unknown scheme is exit 3" eval 'rc_is 3 && err_has "scheme"'
run -s '::not a uri' get k;              ok "malformed URI is exit 3" 'rc_is' 3
run -s "$S?bogus=1" get k;               ok "unknown URI parameter is exit 3" 'rc_is' 3
run -s "$S" ls --cursor 'garbage!';      ok "garbage cursor is exit 3" eval 'rc_is 3 && err_has "cursor"'
run -s "$S" get greeting
set +e; "${KVR[@]}" -s "$S" get bin >/dev/full 2>"$ERR"; rc=$?; set -e
ok "a write error on stdout is exit 3" eval 'rc_is 3 && err_has "stdout"'

# ---------------------------------------------------------------- incr
run -s "$S" incr c;      ok "incr of a missing key prints 1" eval 'rc_is 0 && out_is 1'
run -s "$S" incr c 41;   ok "incr KEY 41 prints 42" eval 'rc_is 0 && out_is 42'
run -s "$S" incr c -50;  ok "incr with a negative delta" eval 'rc_is 0 && out_is -8'
run -s "$S" get c;       ok "counters are stored as ASCII decimal" eval 'out_is -8'
run -s "$S" incr bin;    ok "incr of a non-number is exit 3" 'rc_is' 3
kv set max 9223372036854775807
run -s "$S" incr max;    ok "incr overflow is exit 3" eval 'rc_is 3 && [ "$(kv get max)" = 9223372036854775807 ]'

# ---------------------------------------------------------------- cas
kv set cv old
run -s "$S" cas cv old new;  ok "cas with the right EXPECTED swaps" eval 'rc_is 0 && [ "$(kv get cv)" = new ]'
run -s "$S" cas cv old other; ok "cas with a wrong EXPECTED is exit 4, nothing written" \
  eval 'rc_is 4 && err_has conflict && [ "$(kv get cv)" = new ]'
run -s "$S" cas nocv a b;    ok "cas of a missing key is exit 1" eval 'rc_is 1 && ! kv exists nocv >/dev/null'
run -s "$S" cas --absent nocv first; ok "cas --absent creates a missing key" eval 'rc_is 0 && [ "$(kv get nocv)" = first ]'
run -s "$S" cas --absent nocv again; ok "cas --absent on an existing key is exit 4" eval 'rc_is 4 && [ "$(kv get nocv)" = first ]'
run_in "$T/bin" -s "$S" cas cv new -
run -s "$S" get cv;          ok "cas NEW from stdin, binary" eval 'cmp -s "$T/bin" "$OUT"'
run_in "$T/bin" -s "$S" cas cv - text
ok "cas EXPECTED from stdin, binary" eval 'rc_is 0 && [ "$(kv get cv)" = text ]'

# ---------------------------------------------------------------- watch
run -s "$S" -b w watch; ok "watch of a missing bucket is exit 1" eval 'rc_is 1 && err_has "does not exist"'
kv -b w set seed x   # watch never creates its bucket
"${KVR[@]}" -s "$S" -b w watch --prefix w/ >"$T/wout" 2>"$T/werr" &
WATCH_PID=$!
for _ in $(seq 100); do grep -q watching "$T/werr" && break; sleep 0.05; done
kv -b w set outside nope
kv -b w set w/1 "$(printf 'v1\nx')"
kv -b w del w/1
for _ in $(seq 100); do grep -q '^del' "$T/wout" && break; sleep 0.05; done
kill -TERM "$WATCH_PID"; set +e; wait "$WATCH_PID"; wrc=$?; set -e; WATCH_PID=
cp "$T/wout" "$OUT"; cp "$T/werr" "$ERR"
ok "watch prints one escaped line per event" \
  eval "[ \"\$(cat \$T/wout)\" = \"\$(printf 'set\tw/1\tv1\\\\nx\ndel\tw/1')\" ]"
ok "watch stops cleanly on SIGTERM (exit 0)" '[' "$wrc" -eq 0 ']'
run -s "$S" watch extra; ok "watch with a positional is exit 2" 'rc_is' 2

# ---------------------------------------------------------------- 1.1 additions
run set --help
ok "set --help shows printf %s, not a doubled %" eval 'rc_is 0 && out_has "printf %s - |" && ! out_has "%%"'
# Readers never create a bucket: a typo leaves nothing behind.
R=$T/ro; mkdir -p "$R"
for c in "get k" "exists k" "ls" "ttl k"; do
  run -s "file://$R" -b typo $c
  ok "$c on a missing bucket is exit 1 with a clear message and creates nothing" \
    eval 'rc_is 1 && err_has "bucket .typo. does not exist" && [ ! -e "$R/typo" ]'
done
run copy "file://$R" typo "$S" dst; ok "copy from a missing bucket is exit 1 and creates nothing" \
  eval 'rc_is 1 && [ ! -e "$R/typo" ]'
run -s "file://$R" -b made set k v; ok "a writer still creates its bucket" eval 'rc_is 0 && [ -d "$R/made" ]'
# JSON output: stable field names (docs/cli.md).
kv -b js set k 'say "hi"' >/dev/null
run -s "$S" -b js --json get k
printf '{"key":"k","found":true,"value":"say \\"hi\\""}\n' >"$T/want"
ok "get --json escapes the value" eval 'rc_is 0 && cmp -s "$T/want" "$OUT"'
run -s "$S" -b js --json get nope
ok "get --json of a missing key" eval 'rc_is 1 && out_is "{\"key\":\"nope\",\"found\":false}"'
printf '\377\000' | kv -b js set bin - >/dev/null
run -s "$S" -b js get bin --json
ok "get --json gives value_base64 for bytes that are not UTF-8" eval 'rc_is 0 && out_is "{\"key\":\"bin\",\"found\":true,\"value_base64\":\"/wA=\"}"'
run -s "$S" -b js exists k --json; ok "exists --json" eval 'rc_is 0 && out_is "{\"key\":\"k\",\"exists\":true}"'
run -s "$S" -b js incr n 7 --json; ok "incr --json" eval 'rc_is 0 && out_is "{\"key\":\"n\",\"value\":7}"'
run -s "$S" -b js --json ls --limit 2 --cursor ''
ok "ls --json --cursor puts the cursor in the page object" \
  eval 'rc_is 0 && out_has "^{\"keys\":\[\"[a-z]*\",\"[a-z]*\"\],\"cursor\":\"[^\"]*\"}$" && [ ! -s "$ERR" ]'
run -s "$S" -b js --json ls
ok "ls --json walks to a null cursor" eval 'rc_is 0 && tail -n 1 "$OUT" | grep -q "\"cursor\":null}$" && [ "$(grep -o "\"[a-z]*\"" "$OUT" | grep -vc -e keys -e cursor)" -eq 3 ]'
run -s "$S" -b js get --raw k; ok "get --raw prints the bytes" eval "rc_is 0 && out_is 'say \"hi\"'"
# CAS conflict has its own exit code.
run -s "$S" -b js cas k wrong new; ok "cas conflict is exit 4" eval 'rc_is 4 && err_has conflict'
run -s "$S" -b js cas --json k 'say "hi"' new; ok "cas --json reports the swap" eval 'rc_is 0 && out_is "{\"key\":\"k\",\"swapped\":true}"'
run -s "$S" -b js cas --json k wrong newer; ok "cas --json reports a conflict" eval 'rc_is 4 && out_is "{\"key\":\"k\",\"swapped\":false}"'
# --stats: calls, errors and latency per operation on stderr at exit.
run -s "$S" -b js --stats get k
ok "--stats prints calls and p50/p99 per operation on stderr" \
  eval 'rc_is 0 && err_has "^operation  *calls  *errors  *p50_us  *p99_us" && err_has "^get  *1  *0 " && out_is new'
run -s "$S" -b js --stats --json get nope
ok "--stats --json counts the miss as a call, not an error" \
  eval 'rc_is 1 && grep -q "{\"op\":\"get\",\"calls\":1,\"errors\":0," "$ERR"'
run -s "$S" -b js --stats get ""
ok "--stats counts a refused key as an error" eval 'rc_is 3 && err_has "^get  *1  *1 "'
# set --ttl and durations
run -s "$S" set --ttl 5x k v; ok "set --ttl with a bad unit is exit 2" eval 'rc_is 2 && err_has "unit ms, s, m, h or d"'
run -s "$S" set --ttl 0 plain v; ok "set --ttl 0 is a plain set" eval 'rc_is 0'
# memory: stores vanish with the process; writers say so.
run -s memory: set k v; ok "a write to memory: notes that the data vanishes" eval 'rc_is 0 && err_has "memory: store lives only as long as this process"'
run -s memory: -b x ls; ok "a reader of memory: prints no note" eval '! err_has "lives only"'
# Named stores
mkdir -p "$T/cfg/kvstore"
printf 'main = %s\n' "$S" >"$T/cfg/kvstore/stores.conf"
XDG_CONFIG_HOME=$T/cfg run -s @main -b js get k
ok "-s @name opens the store of the config file" eval 'rc_is 0 && out_is new'
printf 'sec = redis://u:s3cret@127.0.0.1:1\n' >"$T/cfg/kvstore/stores.conf"; chmod 644 "$T/cfg/kvstore/stores.conf"
XDG_CONFIG_HOME=$T/cfg run -s @sec get k
ok "a credential in a readable config file is refused, without the password" \
  eval 'rc_is 3 && err_has "chmod 600" && ! err_has s3cret'
# buckets / bucket: the file backend answers, or says clearly it cannot
run -s "$S" buckets; ok "buckets lists the store's buckets" eval 'rc_is 0 && out_has "^js$" && out_has "^bench$\|^w$"'
run -s "$S" --json buckets; ok "buckets --json" eval 'rc_is 0 && out_has "^{\"buckets\":\[.*\"js\".*\]}$"'
run -s "$S" bucket info js
ok "bucket info counts the keys and names the expiry" eval 'rc_is 0 && out_has "^bucket: js$" && out_has "^keys: [0-9][0-9]*$" && out_has "^expiry: per key$"'
run -s "$S" --json bucket info js
ok "bucket info --json" eval 'rc_is 0 && out_has "^{\"bucket\":\"js\",\"keys\":[0-9]*,\"max_value\":[0-9]*,\"ttl_ms\":0,\"caps\":[0-9]*}$"'
run -s "$S" bucket info nosuchbucket; ok "bucket info of a missing bucket is exit 1" eval 'rc_is 1 && err_has "does not exist"'
kv -b gone set k v >/dev/null
run -s "$S" bucket rm --yes gone; ok "bucket rm --yes removes the bucket and its keys" eval 'rc_is 0 && [ -z "$(kv buckets | grep -x gone)" ]'
run -s "$S" -b gone get k; ok "a removed bucket is gone for readers" 'rc_is' 1
run -s "$S" bucket rm --yes gone; ok "bucket rm of a missing bucket is exit 1" 'rc_is' 1
# expiry through the CLI (file stores keep per-key expiry)
run -s "$S" -b js set --ttl 1h t v; ok "set --ttl 1h" 'rc_is' 0
run -s "$S" -b js ttl t; ok "ttl reports the milliseconds left" eval 'rc_is 0 && [ "$(cat "$OUT")" -gt 3500000 ] && [ "$(cat "$OUT")" -le 3600000 ]'
run -s "$S" -b js --json ttl k; ok "ttl of a key without expiry is -1" eval 'rc_is 0 && out_is "{\"key\":\"k\",\"ttl_ms\":-1}"'
run -s "$S" -b js ttl nope; ok "ttl of a missing key is exit 1" 'rc_is' 1
run -s "$S" -b js set --ttl 1 short v; sleep 0.1
run -s "$S" -b js get short; ok "a key past its expiry is not found" 'rc_is' 1
run -s "$S" bucket frob js; ok "bucket with an unknown verb is exit 2" 'rc_is' 2
run -s "$S" bucket rm js </dev/null; ok "bucket rm without --yes off a terminal refuses" eval 'rc_is 2 && err_has "without --yes"'

# copy: --json progress, and a value too big for the destination is skipped
# and reported by key while the rest is copied (testmod: takes 2 MiB at most).
B=file://$T/B
C=file://$T/C
for k in a b c; do "${KVR[@]}" -s "$C" -b big set "$k" "$k"; done
head -c 3145728 /dev/zero | "${KVR[@]}" -s "$C" -b big set huge -
run --json copy "$C" big testmod: dst
ok "copy skips a value too big for the destination, reports it, copies the rest, exit 3" \
  eval 'rc_is 3 && err_has "skipped huge: " && err_has "1 keys were not copied" && tail -n 1 "$OUT" | grep -q "{\"copied\":3,\"skipped\":1,\"vanished\":0,\"keys_per_s\":[0-9]*,\"done\":true}"'
run --json copy --limit 2 "$C" big "$B" big
ok "copy --json: one progress object per page, then done" \
  eval 'rc_is 0 && [ "$(grep -c "\"done\":false" "$OUT")" = 2 ] && tail -n 1 "$OUT" | grep -q "\"copied\":4,.*\"done\":true}"'

# ---------------------------------------------------------------- bench
run -s "$S" -b bench bench --n 50 --value-size 10
bench_rows() { # one row per op: name, 50 keys, keys/s, p50, p99, p999
  local o
  for o in set get list delete; do
    grep -Eq "^$o +50 +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$" "$OUT" || return 1
  done
}
ok "bench prints keys/s and p50/p99/p999 for set, get, list, delete" \
  eval 'rc_is 0 && out_has "p50_us" && out_has "p999_us" && bench_rows'
run -s "$S" -b bench ls; ok "bench deletes its keys" eval 'rc_is 0 && [ ! -s "$OUT" ]'
run -s "$S" -b bench bench --n 40 --clients 4 --csv
ok "bench --clients 4 --csv: a header and four rows of 40 keys" \
  eval 'rc_is 0 && [ "$(head -n 1 "$OUT")" = "op,clients,keys,keys_per_s,p50_us,p99_us,p999_us" ] && [ "$(grep -Ec "^(set|get|delete),4,40,|^list,1,40," "$OUT")" = 4 ]'
run -s "$S" -b bench --json bench --n 10
ok "bench --json: one object per op" \
  eval 'rc_is 0 && [ "$(grep -c "^{\"op\":\"[a-z]*\",\"clients\":1,\"keys\":10,\"keys_per_s\":[0-9]*,\"p50_us\":[0-9.]*,\"p99_us\":[0-9.]*,\"p999_us\":[0-9.]*}$" "$OUT")" = 4 ]'
run -s "$S" bench --clients 0; ok "bench --clients 0 is exit 2" 'rc_is' 2
run -s "$S" bench --clients 65; ok "bench --clients 65 is exit 2" 'rc_is' 2
# A signal in the middle: the keys set so far are deleted (fsync makes each
# file set slow enough that 100000 cannot finish in the time we wait).
for sig in INT TERM; do
  "${KVR[@]}" -s "$S" -b bsig bench --n 100000 >"$OUT" 2>"$ERR" &
  bpid=$!
  for _ in $(seq 200); do [ -n "$(ls "$T/s/bsig" 2>/dev/null | head -n 3)" ] && break; sleep 0.05; done
  kill -"$sig" "$bpid"; set +e; wait "$bpid"; rc=$?; set -e
  want=$(( 128 + $(kill -l "$sig") ))
  ok "bench stopped by SIG$sig exits $want and leaves no key" \
    eval 'rc_is $want && err_has "keys are deleted" && [ -z "$(kv -b bsig ls)" ]'
done

done_testing
