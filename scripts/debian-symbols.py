#!/usr/bin/env python3
"""Keeps a Debian symbols file (debian/<package>.symbols) equal to the
symbols a shared library exports, read with `nm -D`.

  debian-symbols.py LIBRARY SYMBOLS            check: exit 1 on any difference
  debian-symbols.py LIBRARY SYMBOLS --allow-new  check: exit 1 only if a listed
                                               symbol is gone (debian/rules)
  debian-symbols.py LIBRARY SYMBOLS --write V  rewrite SYMBOLS; symbols not
                                               yet listed get version V

A symbol that is listed but no longer exported is an ABI break: the check
fails, and so does the package build (debian/rules runs --allow-new:
dpkg-gensymbols alone lets a symbol whose minimal version is the version
being built vanish silently, as never released). A new symbol also fails
the plain check until the file is rewritten, so the file that is checked
in always names the version each symbol appeared in. The
header (soname, package, Build-Depends-Package) is derived from the
library when the file does not exist yet.
"""
import os
import re
import subprocess
import sys


def exported(lib):
    """The defined dynamic symbols as name@VERSION, as dpkg-gensymbols
    writes them (the version node itself included)."""
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        name = fields[2].replace("@@", "@")
        if "@" not in name and fields[1] == "A":
            name = f"{name}@{name}"  # a version node: dpkg lists it so
        if "@" not in name:
            sys.exit(f"debian-symbols: {name} in {lib} has no symbol "
                     "version; every export goes through the version script")
        syms.add(name)
    return syms


def soname(lib):
    out = subprocess.run(["readelf", "-d", lib], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"\(SONAME\)\s+Library soname: \[(.+)\]", out)
    if not m:
        sys.exit(f"debian-symbols: {lib} has no soname")
    return m.group(1)


def default_header(lib):
    """libfoo.so.1 -> package libfoo1 (libfoo-1 after a digit, Debian
    policy 8.1), development package libfoo-dev."""
    so = soname(lib)
    m = re.fullmatch(r"(lib.+)\.so\.(\d+)", so)
    if not m:
        sys.exit(f"debian-symbols: unexpected soname {so}")
    base, major = m.groups()
    pkg = base + ("-" if base[-1].isdigit() else "") + major
    return [f"{so} {pkg} #MINVER#", f"* Build-Depends-Package: {base}-dev"]


def read(path):
    """Header lines and {symbol: minimal version}."""
    header, syms = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(" "):
                fields = line.split()
                if len(fields) != 2:
                    sys.exit(f"debian-symbols: {path}: cannot read '{line}'")
                syms[fields[0]] = fields[1]
            elif line and not line.startswith("#"):
                header.append(line)
    return header, syms


def main():
    args = sys.argv[1:]
    version = None
    allow_new = len(args) == 3 and args[2] == "--allow-new"
    if allow_new:
        args = args[:2]
    elif len(args) == 4 and args[2] == "--write":
        version = args[3]
        args = args[:2]
    if len(args) != 2:
        sys.exit(__doc__)
    lib, path = args
    have = exported(lib)
    if os.path.exists(path):
        header, listed = read(path)
    elif version is not None:
        header, listed = default_header(lib), {}
    else:
        sys.exit(f"debian-symbols: no {path}; create it with --write VERSION")

    removed = sorted(set(listed) - have)
    added = sorted(have - set(listed))
    if version is None:
        for s in removed:
            print(f"removed: {s} (listed since {listed[s]}): an ABI break; "
                  "the soname would have to change", file=sys.stderr)
        for s in added:
            print(f"new: {s} is not in {path}", file=sys.stderr)
        if added and not allow_new:
            print(f"to record new symbols: scripts/debian-symbols.py {lib} "
                  f"{path} --write $(scripts/version.sh)", file=sys.stderr)
        if removed or (added and not allow_new):
            return 1
        print(f"{path} lists the {len(have) - len(added)} symbols of {lib}"
              + (f", not the {len(added)} new ones" if added else ""))
        return 0

    for s in removed:
        print(f"warning: dropping {s}: an ABI break", file=sys.stderr)
    for s in added:
        listed[s] = version
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(header) + "\n")
        for s in sorted(have):
            f.write(f" {s} {listed[s]}\n")
    print(f"{path}: {len(have)} symbols, {len(added)} new at {version}, "
          f"{len(removed)} dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
