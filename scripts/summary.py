#!/usr/bin/env python3
"""Adds up meson's results (the JSON test logs given) and prints the one
line CI reads: 'N passed, N failed, N skipped'. A missing log counts as a
failure: that run did not happen."""
import json
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    try:
        with open(build, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError:
        print(f"summary: no test log {build}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        r = json.loads(line)
        res = r.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"FAILED [{build}] {r.get('name')}: {res}", file=sys.stderr)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
