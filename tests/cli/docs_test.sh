#!/usr/bin/env bash
# The man page and the bash completion are generated from the tool's own
# --help texts: every command's help is in the page, and the completion
# offers every command and each command's options.
# Usage: docs_test.sh KVSTORE KVSTORE.1 COMPLETION
set -euo pipefail
kv=$1 page=$2 comp=$3
n=0 failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi; }

# troff source back to text: the page's escapes undone.
text=$(sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/^\\&//' "$page")
cmds=$("$kv" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/^Commands:/ {print $1}')
ok "the tool lists its commands" '[ -n "$cmds" ]'
for c in $cmds; do
  help=$("$kv" "$c" --help)
  ok "man page has a section for $c" 'grep -qx ".SS $c" "$page"'
  # Every line of --help appears in the page verbatim.
  missing=0
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    grep -qF -- "$line" <<<"$text" || { missing=1; echo "# not in the page: $line"; }
  done <<<"$help"
  ok "man page holds every line of '$c --help'" '[ $missing = 0 ]'
done

# The completion script, loaded in bash, completes commands and options.
# (No grep -q after a pipe: under pipefail its early exit fails the pipe.)
complete_words() { # words... : prints the completions of the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kvstore; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
ok "completion offers buckets and bucket for 'bu'" \
  '[ "$(complete_words kvstore bu | sort | tr "\n" " ")" = "bucket buckets " ]'
ok "completion offers ls options" 'complete_words kvstore ls --pre | grep -x -- --prefix >/dev/null'
ok "completion offers set --ttl" 'complete_words kvstore -b x set --t | grep -x -- --ttl >/dev/null'
ok "completion offers global options" 'complete_words kvstore get --js | grep -x -- --json >/dev/null'
echo "1..$n"
[ "$failed" -eq 0 ]
