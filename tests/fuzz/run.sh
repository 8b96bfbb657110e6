#!/bin/sh
# Runs one fuzz target for a fixed number of iterations. New inputs go to
# a scratch directory in the build tree, never into the committed seeds.
# Arguments after the fourth are extra libFuzzer flags.
set -eu
exe=$1 work=$2 seeds=$3 runs=$4
shift 4
mkdir -p "$work"
exec "$exe" -error_exitcode=1 -timeout=10 -runs="$runs" -max_len=4096 \
  -artifact_prefix="$work/" "$@" "$work" "$seeds"
