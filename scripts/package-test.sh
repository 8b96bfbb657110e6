#!/usr/bin/env bash
# Tests the Debian packages as a user gets them: lintian, then installs
# them on this machine with apt-get install ./*.deb, runs the autopkgtest
# (debian/tests/) against the installed packages, upgrades libkvstore1
# under the installed module packages, and purges everything, checking
# that no file is left behind.
#   scripts/package-test.sh [--build] [DEBDIR]      default DEBDIR: build-deb
# --build first builds the packages into DEBDIR with scripts/package.sh.
# Needs root (or sudo). Any installed version of these packages is purged
# first, so a machine that ran it before (or crashed in the middle) is no
# obstacle, and they are purged again at the end, even on failure.
# Prints one line per check and writes DEBDIR/package-test.json, one JSON
# line per check in meson's test-log format, for scripts/summary.py.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=0
[ "${1:-}" = --build ] && { build=1; shift; }
dir=$(realpath -m "${1:-build-deb}")
mkdir -p "$dir"
json=$dir/package-test.json
: > "$json"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
apt=($sudo apt-get -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends)
work=$(mktemp -d)
passed=0 failed=0

# check NAME COMMAND...: runs it, logs it, records OK or FAIL.
check() {
  local name=$1 t0=$SECONDS rc; shift
  "$@" > "$work/$name.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok   packaging/$name ($((SECONDS - t0)) s): $(tail -n 1 "$work/$name.log" | cut -c1-100)"
  else
    failed=$((failed + 1)); echo "FAIL packaging/$name (exit $rc), its output:"
    tail -n 40 "$work/$name.log" | sed 's/^/    /'
  fi
  printf '{"name": "packaging/%s", "result": "%s", "duration": %d}\n' \
    "$name" "$([ $rc -eq 0 ] && echo OK || echo FAIL)" $((SECONDS - t0)) >> "$json"
  return $rc
}

version=$(scripts/version.sh)
packages=($(sed -n 's/^Package: *//p' debian/control))
arch=$(dpkg --print-architecture)
debs() { for p in "${packages[@]}"; do echo "$dir/${p}_${version}_$arch.deb"; done; }

installed() { # the packages of ours dpkg knows in any state but 'not-installed'
  dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${packages[@]}" 2>/dev/null |
    awk '$2 != "un" && $2 != "pn" { print $1 }'
}
purge() {
  local have
  have=$(installed)
  [ -z "$have" ] || "${apt[@]}" purge $have
  [ -z "$(installed)" ]
}
trap 'purge >/dev/null 2>&1; rm -rf "$work"' EXIT

run_build() {
  scripts/package.sh "$dir" && for d in $(debs); do [ -f "$d" ] || { echo "missing $d"; exit 1; }; done
}

run_lintian() {
  lintian --fail-on error,warning --info "$dir"/*_"$version"_"$arch".changes
}

run_install() {
  "${apt[@]}" install $(debs) || return 1
  for p in "${packages[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$p")" = "ii $version" ] ||
      { echo "$p is not installed at $version"; return 1; }
  done
}

# autopkgtest's own runner on this machine (virt-server null): it reads
# debian/tests/control, satisfies each test's Depends and runs the tests
# as autopkgtest does anywhere. Only debian/ is handed over as the tree.
# -B: test the packages the install step put there; handing it the .debs
# as well makes it reinstall them for every test, twice the time.
run_autopkgtest() {
  local tree=$work/tree out=$work/autopkgtest rc
  mkdir -p "$tree" && cp -r debian "$tree/"
  autopkgtest -B --output-dir "$out" "$tree/" -- null
  rc=$?
  [ -f "$out/summary" ] || { echo "autopkgtest wrote no summary (exit $rc)"; return 1; }
  cat "$out/summary"
  cp "$out/summary" "$work/autopkgtest-summary"
  return $rc
}

# Each test of debian/tests/control, as autopkgtest reported it.
record_autopkgtests() {
  local name result
  [ -f "$work/autopkgtest-summary" ] || return 0
  while read -r name result _; do
    check "autopkgtest-$name" test "$result" = PASS
  done < "$work/autopkgtest-summary"
}

# A later libkvstore1 (and libkvstore-dev, which pins it) under the module
# packages built against the earlier one: dpkg keeps them installed and
# configured, and they still serve their schemes (debian/tests/modules,
# debian/tests/sqlite, debian/tests/lmdb).
# The repacked library is the same binary; binary compatibility of older
# modules with newer code is the modules suite's business (docs/abi.md).
run_upgrade() {
  local up=$version+pkgtest1 p d t
  mkdir -p "$work/up"
  for p in libkvstore1 libkvstore-dev; do
    d=$work/up/$p
    dpkg-deb -R "$dir/${p}_${version}_$arch.deb" "$d" || return 1
    sed -i "s/^Version: .*/Version: $up/; s/libkvstore1 (= $version)/libkvstore1 (= $up)/" "$d/DEBIAN/control"
    dpkg-deb -b --root-owner-group "$d" "$work/up/${p}_${up}_$arch.deb" >/dev/null || return 1
  done
  "${apt[@]}" install "$work/up/libkvstore1_${up}_$arch.deb" "$work/up/libkvstore-dev_${up}_$arch.deb" || return 1
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' libkvstore1)" = "ii $up" ] ||
    { echo "libkvstore1 was not upgraded"; return 1; }
  for p in "${packages[@]}"; do
    case $p in libkvstore1|libkvstore-dev) continue ;; esac
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$p")" = "ii $version" ] ||
      { echo "$p did not stay installed at $version"; return 1; }
  done
  for t in modules sqlite lmdb; do
    mkdir -p "$work/upgrade-$t" &&
      AUTOPKGTEST_TMP=$work/upgrade-$t "debian/tests/$t" || return 1
  done
}

# Purge, then: none of our packages is known to dpkg, and of the paths
# they had installed, none is still owned by one of them and none is left
# on disk unless another package owns it too (a shared directory such as
# /usr/share/bash-completion/completions).
run_remove() {
  local p f owners o left=0
  for p in $(installed); do dpkg -L "$p"; done | sort -u > "$work/files"
  [ -s "$work/files" ] || { echo "nothing was installed"; return 1; }
  purge || { echo "still known to dpkg: $(installed)"; return 1; }
  while read -r f; do
    [ "$f" = /. ] && continue
    # dpkg -S prints 'pkg[:arch], pkg...: path' (and 'diversion ...' lines).
    owners=$(dpkg -S "$f" 2>/dev/null | grep -v '^diversion ' | sed 's/: .*//; s/,/ /g')
    for o in $owners; do
      for p in "${packages[@]}"; do
        [ "${o%%:*}" = "$p" ] && { echo "still owned by $p: $f"; left=1; }
      done
    done
    if [ -z "$owners" ] && { [ -e "$f" ] || [ -L "$f" ]; }; then
      echo "left behind: $f"; left=1
    fi
  done < "$work/files"
  [ $left -eq 0 ] && echo "$(wc -l < "$work/files") paths gone or shared with other packages"
}

echo "== Debian packages ($dir)"
t_all=$SECONDS
if [ $build -eq 1 ]; then
  check build run_build || { echo "packaging: $passed passed, $failed failed"; exit 1; }
fi
check lintian run_lintian
check clean-start purge
if check install run_install; then
  check autopkgtest run_autopkgtest
  record_autopkgtests
  check library-upgrade run_upgrade
fi
check remove run_remove
echo "packaging: $passed passed, $failed failed ($((SECONDS - t_all)) s)"
[ $failed -eq 0 ]
