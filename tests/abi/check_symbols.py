#!/usr/bin/env python3
"""The library exports exactly the functions the installed headers declare
with KVSTORE_API, and nothing else (both ways), all with the prefix.

check_symbols.py [--prefix P] LIB HEADER...: P is kvstore_ (libkvstore) or
kvstore_wasi_ (libkvstore-wasi, with <kvstore/wasi.h>)."""
import re
import subprocess
import sys

args = sys.argv[1:]
prefix = "kvstore_"
if args[:1] == ["--prefix"]:
    prefix, args = args[1], args[2:]
lib, *headers = args
out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                     capture_output=True, text=True).stdout
version_node = re.compile(r"KVSTORE_\d+\.\d+")  # KVSTORE_1.0, KVSTORE_1.1
exported = set()
for line in out.splitlines():
    parts = line.split()
    if (len(parts) == 3 and parts[1] in "TDBRVWi"
            and not version_node.fullmatch(parts[2])):
        exported.add(parts[2].split("@")[0])

declared = set()
decl = re.compile(r"KVSTORE_API\b[^;{]*?\b(" + re.escape(prefix) + r"\w+)\s*\(",
                  re.S)
for h in headers:
    with open(h, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    # Macros that wrap KVSTORE_API (KVSTORE_MODULE_ENTRY) are for modules.
    text = text.replace("\\\n", " ")
    text = "\n".join(l for l in text.splitlines()
                     if not l.lstrip().startswith("#"))
    declared.update(decl.findall(text))

bad = False
for name in sorted(exported - declared):
    print(f"exported but not declared with KVSTORE_API: {name}")
    bad = True
for name in sorted(declared - exported):
    print(f"declared with KVSTORE_API but not exported: {name}")
    bad = True
for name in sorted(exported):
    if not name.startswith(prefix):
        print(f"exported symbol without the {prefix} prefix: {name}")
        bad = True
print(f"{len(exported)} exported, {len(declared)} declared")
sys.exit(1 if bad else 0)
