#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the examples need,
# only if some are missing. Sourced by the other scripts.
set -euo pipefail

KVSTORE_PACKAGES=(
  build-essential meson ninja-build pkg-config python3
  uthash-dev libcmocka-dev libhiredis-dev libnats-dev libjansson-dev
  libssl-dev
  libsqlite3-dev nettle-dev
  liblmdb-dev
  redis-server redis-tools nats-server
  valgrind clang lld libclang-rt-14-dev
  wabt wasi-libc abigail-tools cppcheck
  nodejs
  debhelper dpkg-dev lintian autopkgtest
)

# npm packages, pinned by each folder's package-lock.json and installed
# with `npm ci` into that folder by kvstore_install_npm (scripts/test.sh
# calls it; the demo does not need them): jco for the component check
# (tests/wasi/component). Tests that need them skip until they are there.
KVSTORE_NPM_DIRS=(tests/wasi/component)

kvstore_install_deps() {
  local missing=()
  for p in "${KVSTORE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # node's headers, for kvstore-wasm-run's addon (and its package's
  # Build-Depends): Debian's nodejs keeps them in libnode-dev, a nodejs
  # that ships them itself (NodeSource's) conflicts with that package.
  [ -f /usr/include/node/node_api.h ] || missing+=(libnode-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

kvstore_install_npm() {
  local root d
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  command -v npm >/dev/null || { echo "npm missing: ${KVSTORE_NPM_DIRS[*]} not installed" >&2; return 0; }
  for d in "${KVSTORE_NPM_DIRS[@]}"; do
    [ -d "$root/$d/node_modules" ] && continue
    echo "npm ci in $d" >&2
    (cd "$root/$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
      echo "npm ci failed in $d: the tests that need it will skip" >&2
  done
}
