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
libdir=$(pkg-config --variable=libdir kvstore)
cc -std=c99 -Wall -Wextra -pedantic -Werror "$src" \
   $(pkg-config --cflags --libs kvstore) -o "$dest/client"
export LD_LIBRARY_PATH=$dest$libdir
echo "ok 1 - compiled with pkg-config against $dest"
"$dest/client" "memory:"
echo "ok 2 - memory:"
"$dest/client" "file://$dest/data"
echo "ok 3 - file://"
echo "1..3"
