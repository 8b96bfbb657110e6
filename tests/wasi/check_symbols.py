#!/usr/bin/env python3
"""libkvstore-wasi exports exactly the kvstore_wasi_ functions <kvstore/wasi.h>
declares with KVSTORE_API, and nothing else (both ways). The same check as
tests/abi/check_symbols.py, for the second library and its prefix."""
import re
import subprocess
import sys

lib, *headers = sys.argv[1:]
out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                     capture_output=True, text=True).stdout
exported = set()
for line in out.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "TDBRVWi" and not parts[2].startswith("KVSTORE_"):
        exported.add(parts[2].split("@")[0])

declared = set()
decl = re.compile(r"KVSTORE_API\b[^;{]*?\b(kvstore_wasi_\w+)\s*\(", re.S)
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
    if not name.startswith("kvstore_wasi_"):
        print(f"exported symbol without the kvstore_wasi_ prefix: {name}")
        bad = True
print(f"{len(exported)} exported, {len(declared)} declared")
sys.exit(1 if bad else 0)
