#!/usr/bin/env bash
# Installs the build into a temporary DESTDIR, builds a program against
# libkvstore-wasi with `pkg-config kvstore-wasi` only (C99, -pedantic),
# checks <kvstore/wasi.h> in C++, the installed WIT files, and runs a
# guest with the installed kvstore-wasm-run when it was built.
#   install_test.sh BUILD_DIR CLIENT.c [GUEST.wasm]
set -euo pipefail
build=$1 src=$2 guest=${3:-}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
meson install -C "$build" --destdir "$dest" --no-rebuild >/dev/null
pc=$(dirname "$(find "$dest" -name kvstore-wasi.pc | head -n1)")
export PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$dest
cc -std=c99 -Wall -Wextra -pedantic -Werror "$src" \
   $(pkg-config --cflags --libs kvstore-wasi) -o "$dest/client"
ok "compiled with pkg-config kvstore-wasi against $dest"
lib=$(dirname "$(find "$dest" -name libkvstore-wasi.so.1 | head -n1)")
export LD_LIBRARY_PATH=$lib
"$dest/client" | grep -q "^ok: 0.2.0-draft2, 15 imports$"
ok "the installed layer serves open(\"\"), set and get through the table"
if command -v c++ >/dev/null; then
    printf '#include <kvstore/wasi.h>\nint main() { return kvstore_wasi_version(KVSTORE_WASI_DRAFT) ? 0 : 1; }\n' |
        c++ -x c++ -std=c++11 -Wall -Wextra -pedantic -Werror - \
            $(pkg-config --cflags --libs kvstore-wasi) -o "$dest/cxx"
    "$dest/cxx"
    ok "<kvstore/wasi.h> compiles as C++11"
fi
for f in keyvalue-0.2.0-draft.wit keyvalue-0.2.0-draft2.wit keyvalue-spin-2024-10-17.wit; do
    test -n "$(find "$dest" -path "*/kvstore/wit/$f")"
done
ok "the WIT files are installed"
run=$(find "$dest" -name kvstore-wasm-run -path "*/bin/*" | head -n1)
if [ -n "$run" ] && [ -n "$guest" ]; then
    export KVSTORE_WASI_RUN_CJS=$(find "$dest" -name run.cjs | head -n1)
    export KVSTORE_WASI_NODE_ADDON=$(find "$dest" -name kvstore_wasi.node | head -n1)
    sh "$run" --store memory: "$guest" | grep -q "^draft: done$"
    ok "the installed kvstore-wasm-run runs a guest"
fi
echo "1..$n"
