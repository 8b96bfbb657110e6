#!/usr/bin/env bash
# Builds the Debian packages (debian/) from this tree into a folder, with
# Debian's own tools: dpkg-buildpackage -us -uc -b in a copy of the tree,
# so the tree itself gets no debian/ build products.
#   scripts/package.sh [OUTDIR]      default OUTDIR: build-deb
# OUTDIR receives the .deb files, the .changes and the .buildinfo (older
# ones are removed first). DEB_BUILD_OPTIONS and DEB_BUILD_PROFILES pass
# through: 'nocheck' in both skips the build-time tests (scripts/test.sh
# does that: it has run the whole suite already).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
kvstore_install_deps

out=$(realpath -m "${1:-build-deb}")
version=$(scripts/version.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/kvstore-$version
mkdir -p "$src" "$out"

# The tracked and new (not ignored) files as they are in the working tree,
# edits included; build directories are ignored, so never copied.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$src"
else
  tar --exclude='./build*' --exclude='./.git' -cf - . | tar -xf - -C "$src"
fi

start=$(date +%s)
(cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") > "$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  cp "$work/build.log" "$out/build.log"
  echo "package.sh: dpkg-buildpackage failed; whole log in $out/build.log" >&2
  exit 1
}
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
cp "$work/build.log" "$out/build.log"
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
echo "package.sh: $(ls "$out"/*.deb | wc -l) packages of version $version in $out ($(( $(date +%s) - start )) s)"
ls "$out"/*.deb | sed 's|.*/|  |'
