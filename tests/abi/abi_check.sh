#!/usr/bin/env bash
# Compares the built library with the committed ABI baseline (abi/).
# Added functions pass; any other change to a public type or function
# fails with abidiff's report. To record a compatible addition (a new
# function, a slot appended to a versioned table), regenerate the baseline
# in the same commit:
#   abidw --no-corpus-path build/libkvstore.so.1 > abi/libkvstore.abi
set -uo pipefail
src=$1 lib=$2
abidiff --no-added-syms --headers-dir2 "$src/include/kvstore" \
  "$src/abi/libkvstore.abi" "$lib"
rc=$?
if [ $rc -ne 0 ]; then
  echo "abidiff exit status $rc: the ABI differs from abi/libkvstore.abi" >&2
  exit 1
fi
echo "ABI matches abi/libkvstore.abi"
