#!/usr/bin/env bash
# The version lives in one place: project(version:) in meson.build. This
# script copies it into debian/changelog, which Debian's tools read, and
# checks that the two agree (the test 'version-agreement' and
# debian/rules run 'check').
#   scripts/version.sh              print meson.build's version
#   scripts/version.sh check        exit 1 if debian/changelog differs
#   scripts/version.sh sync         add a debian/changelog entry for it
#   scripts/version.sh set X.Y.Z    write X.Y.Z into meson.build, then sync
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
meson_build=$root/meson.build changelog=$root/debian/changelog

# The first 'version:' inside project( ... ) is the project's.
meson_version() {
  awk '/^project\(/ { p = 1 }
       p && match($0, /version: *'\''[^'\'']*'\''/) {
         v = substr($0, RSTART, RLENGTH); sub(/^version: *'\''/, "", v)
         sub(/'\''$/, "", v); print v; exit }
       p && /^\)/ { exit }' "$meson_build"
}

# The version of the newest entry: its first line is 'source (version) ...'.
changelog_version() {
  sed -n '1s/^[a-z0-9][a-z0-9.+-]* (\([^)]*\)).*/\1/p' "$changelog"
}

valid() { [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+([~+][0-9A-Za-z.~+]*)?$ ]]; }

mv=$(meson_version)
valid "$mv" || { echo "version.sh: no valid version in $meson_build: '$mv'" >&2; exit 2; }

case "${1:-print}" in
print)
  echo "$mv" ;;
check)
  cv=$(changelog_version)
  if [ "$cv" != "$mv" ]; then
    echo "version.sh: meson.build says $mv, debian/changelog says '${cv}'; run scripts/version.sh sync" >&2
    exit 1
  fi
  echo "meson.build and debian/changelog agree: $mv" ;;
sync)
  cv=$(changelog_version)
  if [ "$cv" = "$mv" ]; then echo "debian/changelog already at $mv"; exit 0; fi
  # Dates and the signer come from the current top entry, so the script
  # needs no configuration; the date is now (RFC 5322, as dpkg wants).
  source=$(sed -n '1s/ .*//p' "$changelog")
  signer=$(sed -n '0,/^ -- /s/^ -- \(.*>\)  .*/\1/p' "$changelog")
  tmp=$(mktemp "$changelog.XXXXXX")
  {
    printf '%s (%s) unstable; urgency=medium\n\n' "$source" "$mv"
    printf '  * New version %s (meson.build).\n\n' "$mv"
    printf ' -- %s  %s\n\n' "$signer" "$(LC_ALL=C date -R)"
    cat "$changelog"
  } > "$tmp"
  mv "$tmp" "$changelog"
  echo "debian/changelog: added $mv (was $cv)" ;;
set)
  nv=${2:?usage: version.sh set X.Y.Z}
  valid "$nv" || { echo "version.sh: not a version: '$nv'" >&2; exit 2; }
  # Only the first version: line of project( ... ), as meson_version reads.
  awk -v nv="$nv" '/^project\(/ { p = 1 }
       p && !done && /version: *'\''/ {
         sub(/version: *'\''[^'\'']*'\''/, "version: '\''" nv "'\''"); done = 1 }
       { print }' "$meson_build" > "$meson_build.tmp"
  mv "$meson_build.tmp" "$meson_build"
  exec "$0" sync ;;
*)
  sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2 ;;
esac
