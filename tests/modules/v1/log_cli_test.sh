#!/usr/bin/env bash
# The 1.0 custom-backend example, built against the 1.0 headers, loaded by
# scheme from KVSTORE_BACKEND_PATH and used through the kvstore CLI: a
# value set through it in one process is read back in another, and its
# log shows both calls.
set -euo pipefail
cli=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
target="file%3A%2F%2F${dir//\//%2F}%2Fdata"
uri="log:?target=$target&file=$dir/log"

"$cli" -s "$uri" -b v1 set greeting "from a 1.0 module"
got=$("$cli" -s "$uri" -b v1 get greeting)
if [ "$got" != "from a 1.0 module" ]; then
  echo "get through the 1.0 module returned '$got'" >&2
  exit 1
fi
# The value really went through to the target store...
got=$("$cli" -s "file://$dir/data" -b v1 get greeting)
[ "$got" = "from a 1.0 module" ] || { echo "target store has '$got'" >&2; exit 1; }
# ...and through the module, which logged each call.
grep -q "set v1 greeting" "$dir/log" || { echo "no set in the log:" >&2; cat "$dir/log" >&2; exit 1; }
grep -q "get v1 greeting" "$dir/log" || { echo "no get in the log:" >&2; cat "$dir/log" >&2; exit 1; }
echo "1.0 module: set, get and log ok"
