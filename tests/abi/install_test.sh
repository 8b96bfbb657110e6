#!/usr/bin/env bash
# Installs the build into a temporary DESTDIR and builds a program against
# it with pkg-config only, then runs it against memory: and file:.
set -euo pipefail
build=$1 src=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild >/dev/null
pc=$(dirname "$(find "$dest" -name kvstore.pc | head -n1)")
export PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$dest
cc -std=c99 -Wall -Wextra -pedantic -Werror "$src" \
   $(pkg-config --cflags --libs kvstore) -o "$dest/client"
export LD_LIBRARY_PATH=$(dirname "$(find "$dest" -name libkvstore.so.1 | head -n1)")
echo "ok 1 - compiled with pkg-config against $dest"
"$dest/client" "memory:"
echo "ok 2 - memory:"
"$dest/client" "file://$dest/data"
echo "ok 3 - file://"
# A third-party module built out of tree against the installed tree.
mkdir -p "$dest/modules"
make -s -C "$(dirname "$src")/../../examples/custom-backend" \
  PKG_CONFIG_PATH="$pc" OUT="$dest/modules" >/dev/null
echo "ok 4 - custom backend built with pkg-config"
KVSTORE_BACKEND_PATH=$dest/modules "$dest/client" "log:?file=$dest/ops.log" 
grep -q "^set install a/../b -> 0$" "$dest/ops.log"
echo "ok 5 - log: loaded by scheme lookup, forwarded to memory: and logged"
KVSTORE_BACKEND_PATH=$dest/modules "$dest/client" "log:?file=$dest/ops.log&target=file%3A%2F%2F${dest//\//%2F}%2Flogdata"
test -d "$dest/logdata/install"
echo "ok 6 - log: over file:"
echo "1..6"
