#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the examples need,
# only if some are missing. Sourced by the other scripts.
set -euo pipefail

KVSTORE_PACKAGES=(
  build-essential meson ninja-build pkg-config python3
  uthash-dev libcmocka-dev libhiredis-dev libnats-dev libjansson-dev
  libsqlite3-dev
  redis-server redis-tools nats-server
  valgrind clang lld libclang-rt-14-dev
  wabt wasi-libc abigail-tools cppcheck
  debhelper dpkg-dev lintian autopkgtest
)

kvstore_install_deps() {
  local missing=()
  for p in "${KVSTORE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
