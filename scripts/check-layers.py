#!/usr/bin/env python3
"""The include graph runs one way: a folder of src/ (and include/berth/) may
include its own headers and those of the folders below it, never above.
ARCHITECTURE.md draws the same order. Run from anywhere; exits 1 on an
upward edge and names it."""
import os
import re
import sys

# Lowest first.
ORDER = ["common", "input", "template", "http", "provider", "config", "host",
         "placement", "deploy", "watch", "cli"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"(?:berth/)?([a-z_]+)/[a-z_0-9]+\.h"', re.M)


def folder_of(path):
    parts = os.path.relpath(path, ROOT).split(os.sep)
    if parts[0] == "src":
        return parts[1]
    if parts[:2] == ["include", "berth"]:
        return parts[2]
    return None


def main():
    bad = 0
    for top in ("src", os.path.join("include", "berth")):
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            for name in names:
                path = os.path.join(dirpath, name)
                here = folder_of(path)
                if here not in ORDER:
                    print(f"{os.path.relpath(path, ROOT)}: folder {here!r} is not in the order")
                    bad += 1
                    continue
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for there in INCLUDE.findall(text):
                    if there in ORDER and ORDER.index(there) > ORDER.index(here):
                        print(f"{os.path.relpath(path, ROOT)}: {here} includes {there}, above it")
                        bad += 1
    if bad:
        print(f"{bad} upward include(s); order, lowest first: {' < '.join(ORDER)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
