#!/usr/bin/env bash
# CLI tests, part 2: help, usage errors, store selection (the default
# store, KVSTORE_URL, --store-file, credentials), ls and copy. Part 1 is
# cli_commands.sh.
# Usage: cli_stores.sh PATH/TO/kvstore DEFAULT_STORE_DOC
. "$(dirname "$0")/lib.sh"

# Keys that the checks below read from $S; part 1 sets them too, for its own.
kv set neg -5 >/dev/null
kv set bin - <"$T/bin" >/dev/null

# ---------------------------------------------------------------- help
run --help
ok "kvstore --help exits 0 and lists commands" \
  eval 'rc_is 0 && out_has "Usage: kvstore" && out_has "  bench "'
for c in get set del exists ttl ls incr cas watch copy bench buckets bucket; do
  run "$c" --help
  ok "kvstore $c --help" eval "rc_is 0 && out_has 'Usage: kvstore $c' && [ ! -s \$ERR ]"
  run help "$c"
  ok "kvstore help $c" eval "rc_is 0 && out_has 'Usage: kvstore $c'"
done
run --version
ok "--version prints a version" eval 'rc_is 0 && out_has "^kvstore [0-9]"'

# ---------------------------------------------------------------- usage errors
run;                    ok "no command is exit 2" eval 'rc_is 2 && err_has "missing command"'
run frobnicate;         ok "unknown command is exit 2" eval 'rc_is 2 && err_has "unknown command"'
run -s "$S" get;        ok "get without KEY is exit 2" eval 'rc_is 2 && err_has "missing argument"'
run -s "$S" get a b;    ok "get with two keys is exit 2" eval 'rc_is 2 && err_has "too many"'
run -s "$S" set k;      ok "set without VALUE is exit 2" 'rc_is' 2
run -s "$S" get --nope k; ok "unknown option is exit 2" eval 'rc_is 2 && err_has "unknown option"'
run -s "$S" ls --limit; ok "option without value is exit 2" eval 'rc_is 2 && err_has "needs a value"'
run -s "$S" ls --limit 0;    ok "ls --limit 0 is exit 2" 'rc_is' 2
run -s "$S" ls --limit 1001; ok "ls --limit 1001 is exit 2" 'rc_is' 2
run -s "$S" ls --limit 5x;   ok "ls --limit 5x is exit 2" 'rc_is' 2
run -s "$S" incr c 1x;  ok "incr with a bad DELTA is exit 2" 'rc_is' 2
run -s "$S" incr c 99999999999999999999; ok "incr DELTA beyond int64 is exit 2" 'rc_is' 2
run -s "$S" incr c +5;  ok "incr DELTA with a '+' sign is exit 2" 'rc_is' 2
run -s "$S" bench --n 0; ok "bench --n 0 is exit 2" 'rc_is' 2
run -s "$S" copy a b c; ok "copy with 3 arguments is exit 2" 'rc_is' 2
run -s "$S" cas k - -;  ok "cas with two stdin values is exit 2" 'rc_is' 2
run -s "$S" --store-file "$T/nope" get k; ok "--store with --store-file is exit 2" 'rc_is' 2
run --store-file "$T/nope" get k; ok "missing --store-file is exit 2" eval 'rc_is 2 && err_has "cannot open store file"'

# ---------------------------------------------------------------- store selection
# The default store (tools/default_store.c, docs/backends/default-store.md):
# the SQLite database kvstore.db in $XDG_DATA_HOME/kvstore, unless that
# directory still holds buckets of the old default, a file store.
D=$XDG_DATA_HOME/kvstore
if [ -n "${KVSTORE_TEST_SQLITE:-}" ]; then
  run set dflt fromdefault
  ok "the default store is \$XDG_DATA_HOME/kvstore/kvstore.db (sqlite), silently" \
    eval 'rc_is 0 && [ ! -s "$ERR" ] && [ -f "$D/kvstore.db" ] && [ "$("${KVR[@]}" -s "sqlite://$D/kvstore.db" get dflt)" = fromdefault ]'
  ( unset XDG_DATA_HOME; "${KVR[@]}" set dflt2 fromhome >/dev/null 2>&1 )
  ok "without XDG_DATA_HOME the default is ~/.local/share/kvstore/kvstore.db" \
    eval '[ "$("${KVR[@]}" -s "sqlite://$HOME/.local/share/kvstore/kvstore.db" get dflt2)" = fromhome ]'
fi
# Without the sqlite module: a clear error naming it and the overrides,
# and nothing written elsewhere (unless the module is installed where the
# library always looks: then there is nothing to test).
mkdir -p "$T/nomods"
set +e; KVSTORE_BACKEND_PATH=$T/nomods "${KVR[@]}" -s "sqlite://$T/probe.db" set a b >/dev/null 2>&1; probe=$?; set -e
if [ "$probe" -ne 0 ]; then
  XDG_DATA_HOME=$T/nomodxdg KVSTORE_BACKEND_PATH=$T/nomods run set k v
  ok "default store without the sqlite module: exit 3 naming the module, --store and KVSTORE_URL" \
    eval 'rc_is 3 && err_has "kvstore-sqlite.so" && err_has "libkvstore-sqlite" && err_has "--store" && err_has KVSTORE_URL && [ -z "$(ls -A "$T/nomodxdg/kvstore")" ]'
else
  n=$((n + 1)); echo "ok $n # SKIP the sqlite module is installed system-wide"
fi
# A user of the old default: a file store in the same directory, with data.
OX=$T/oldxdg O=$T/oldxdg/kvstore
"${KVR[@]}" -s "file://$O" -b app set k oldvalue
XDG_DATA_HOME=$OX run -b app get k
ok "old default file store with buckets: still the default, with a note on migrating" \
  eval 'rc_is 0 && out_is oldvalue && [ "$(wc -l <"$ERR")" -eq 1 ] && err_has "note: using the old default store file://$O" && err_has "kvstore copy" && [ ! -e "$O/kvstore.db" ]'
XDG_DATA_HOME=$OX run -b app set k2 written
ok "...and writes go to it too" \
  eval 'rc_is 0 && [ "$("${KVR[@]}" -s "file://$O" -b app get k2)" = written ]'
if [ -n "${KVSTORE_TEST_SQLITE:-}" ]; then
  # The migration exactly as docs/backends/default-store.md writes it,
  # with `kvstore` on PATH: copy every bucket, then remove the old ones.
  DOC=${2:?usage: cli_stores.sh KVSTORE DEFAULT_STORE_DOC}
  mkdir -p "$T/path-dir"
  printf '#!/bin/sh\nexec %s "$@"\n' "${KVR[*]}" >"$T/path-dir/kvstore"
  chmod +x "$T/path-dir/kvstore"
  doc_block() { awk -v m="<!-- $1 -->" '$0 == m {f = 1; next} f && /^```/ {if (++g == 2) exit; next} f && g == 1' "$DOC"; }
  doc_block migrate-copy >"$T/migrate-copy.sh"
  doc_block migrate-remove >"$T/migrate-remove.sh"
  set +e; XDG_DATA_HOME=$OX PATH=$T/path-dir:$PATH bash -eo pipefail "$T/migrate-copy.sh" >"$OUT" 2>"$ERR"; rc=$?; set -e
  ok "the documented migration copies the old store into kvstore.db" \
    eval 'rc_is 0 && [ -s "$T/migrate-copy.sh" ] && [ "$("${KVR[@]}" -s "sqlite://$O/kvstore.db" -b app get k2)" = written ]'
  XDG_DATA_HOME=$OX run -b app get k
  ok "after the copy the database is the default, with a note that the old buckets remain" \
    eval 'rc_is 0 && out_is oldvalue && err_has "still holds buckets" && [ "$("${KVR[@]}" -s "sqlite://$O/kvstore.db" -b app get k)" = oldvalue ]'
  set +e; XDG_DATA_HOME=$OX PATH=$T/path-dir:$PATH bash -eo pipefail "$T/migrate-remove.sh" >"$OUT" 2>"$ERR"; rc=$?; set -e
  XDG_DATA_HOME=$OX run -b app get k
  ok "after removing the old buckets as documented: the database, no note" \
    eval 'rc_is 0 && out_is oldvalue && [ ! -s "$ERR" ] && [ -s "$T/migrate-remove.sh" ] && [ -z "$("${KVR[@]}" -s "file://$O" buckets)" ]'
fi
KVSTORE_URL=file://$T/env "${KVR[@]}" set e fromenv
ok "KVSTORE_URL picks the store" eval '[ "$("${KVR[@]}" -s "file://$T/env" get e)" = fromenv ]'
run -s "$S" get e; ok "...and not another one" 'rc_is' 1
KVSTORE_URL=file://$T/env "${KVR[@]}" -s "$S" set e2 fromflag
ok "--store wins over KVSTORE_URL" eval '[ "$(kv get e2)" = fromflag ] && ! "${KVR[@]}" -s "file://$T/env" exists e2 >/dev/null'
printf '%s\n' "$S" >"$T/uri"
run --store-file "$T/uri" get neg; ok "--store-file reads the URI from a file" eval 'rc_is 0 && out_is -5'
: >"$T/emptyuri"
run --store-file "$T/emptyuri" get neg; ok "an empty --store-file is exit 2" eval 'rc_is 2 && err_has "is empty"'
mkdir "$T/storedir"
run --store-file "$T/storedir" get neg
ok "a directory as --store-file says so, not 'is empty'" \
  eval 'rc_is 2 && err_has "is a directory" && ! err_has "is empty"'

# Credentials: a warning that never repeats the password, and argv masked.
run -s 'redis://alice:s3cr3tpw@127.0.0.1:1/0' get k
ok "--store with a password warns without echoing it" \
  eval 'err_has "warning" && ! grep -q s3cr3tpw "$ERR" "$OUT" && [ "$rc" -ge 1 ] && [ "$rc" -le 3 ]'
mkfifo "$T/fifo"
"$KV" -s 'file://bob:s3cr3tpw@/nonexistent' set k - <"$T/fifo" >/dev/null 2>&1 &
pid=$!
exec 7>"$T/fifo"   # keeps the process blocked reading stdin, after parsing
masked=no
for _ in $(seq 50); do
  if ! tr '\0' ' ' </proc/$pid/cmdline | grep -q s3cr3tpw; then masked=yes; break; fi
  sleep 0.1
done
cmdline=$(tr '\0' ' ' </proc/$pid/cmdline)
exec 7>&-
wait $pid || true
ok "the password is masked in /proc/PID/cmdline" eval '[ $masked = yes ] && [[ "$cmdline" == *"*@/nonexistent"* ]]'

# ---------------------------------------------------------------- ls
expected=$T/expected; : >"$expected"
for i in $(seq -w 1 23); do "${KVP[@]}" -s "$S" set "p/$i" "v$i"; echo "p/$i" >>"$expected"; done
"${KVP[@]}" -s "$S" set 'q/other' x
sort -o "$expected" "$expected"
run -s "$S" ls --prefix p/ --limit 4
ok "ls walks every page of a prefix" eval 'rc_is 0 && [ "$(sort "$OUT")" = "$(cat "$expected")" ]'
run -s "$S" ls
ok "ls without a prefix lists every key" eval 'rc_is 0 && out_has "^q/other$" && out_has "^p/01$" && out_has "^bin$"'
# Paging by hand: one page per call, the next cursor on stderr.
: >"$T/paged"; cursor=''; pages=0; maxpage=0
while :; do
  "${KVR[@]}" -s "$S" ls --prefix p/ --limit 5 --cursor "$cursor" >"$T/page" 2>"$ERR"
  pages=$((pages + 1)); c=$(wc -l <"$T/page"); [ "$c" -gt "$maxpage" ] && maxpage=$c
  cat "$T/page" >>"$T/paged"
  grep -q '^next-cursor: ' "$ERR" || { pages=999; break; }
  cursor=$(sed -n 's/^next-cursor: //p' "$ERR")
  [ -z "$cursor" ] && break
  [ "$pages" -gt 50 ] && break
done
ok "ls --cursor pages by hand: pages of <= 5 keys, all keys, then an empty cursor" \
  eval '[ "$pages" -ge 5 ] && [ "$pages" -lt 50 ] && [ "$maxpage" -le 5 ] && [ "$(sort -u "$T/paged")" = "$(cat "$expected")" ]'
kv set "$(printf 'two\nlines')" x
run -s "$S" ls --null --prefix two
ok "ls --null ends keys with NUL (keys may hold newlines)" \
  eval 'rc_is 0 && [ "$(od -An -c "$OUT" | tr -d " ")" = "two\\nlines\\0" ]'

# ---------------------------------------------------------------- copy
A=file://$T/A B=file://$T/B
for i in $(seq 1 30); do "${KVP[@]}" -s "$A" -b src set "k$i" "value $i"; done
"${KVP[@]}" -s "$A" -b src set bin - <"$T/bin"
"${KVP[@]}" -s "$A" -b src set 'dir/../ü *?' odd
"${KVP[@]}" -s "$B" -b dst set keepme 1
run copy --limit 7 "$A" src "$B" dst
ok "copy exits 0 and reports counts on a non-terminal" eval 'rc_is 0 && err_has "copy: 32 done"'
"${KVP[@]}" -s "$A" -b src ls | sort >"$T/la"
"${KVP[@]}" -s "$B" -b dst ls | grep -vx keepme | sort >"$T/lb"
ok "copy: same key set" eval '[ "$(wc -l <"$T/la")" -eq 32 ] && cmp -s "$T/la" "$T/lb"'
same=yes
while IFS= read -r k; do
  "${KVP[@]}" -s "$A" -b src get "$k" >"$T/va"; "${KVP[@]}" -s "$B" -b dst get "$k" >"$T/vb"
  cmp -s "$T/va" "$T/vb" || same=no
done <"$T/la"
ok "copy: every value byte-identical (binary included)" '[' $same = yes ']'
ok "copy leaves other destination keys alone" eval '[ "$("${KVR[@]}" -s "$B" -b dst get keepme)" = 1 ]'
if have_script; then
  script -qec "'$KV' copy '$A' src '$B' dst3" /dev/null >"$T/tty" </dev/null
  ok "copy draws a progress bar with a total when stderr is a terminal" \
    eval 'grep -q "copy \[#*\] 100% 32/32" "$T/tty" && grep -q "copy: 32 done" "$T/tty"'
  ok "copy prints no bar when stderr is not a terminal" eval '! grep -q "\[" "$ERR"'
fi
printf '%s\n' "$A" >"$T/auri"
run copy --prefix k1 @"$T/auri" src "$B" dst2
ok "copy reads @FILE URIs and honours --prefix" \
  eval 'rc_is 0 && [ "$("${KVR[@]}" -s "$B" -b dst2 ls | sort | tr "\n" " ")" = "k1 k10 k11 k12 k13 k14 k15 k16 k17 k18 k19 " ]'
run copy "$A" 'bad/bucket' "$B" dst; ok "copy with a bad bucket is exit 3" 'rc_is' 3
run copy "$A" src 'nosuch://x' dst;  ok "copy to an unknown scheme is exit 3" 'rc_is' 3

done_testing
