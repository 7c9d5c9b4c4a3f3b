#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Fails if a C source or header of the project is not as clang-format (.clang-format) would
write it. Usage: check_clang_format.py SOURCE_DIR"""
import os
import subprocess
import sys

FOLDERS = ("boot", "core", "vmexit", "sidecore", "iommu", "efi", "guest-stubs", "bench", "test")


def sources(root):
    for folder in FOLDERS:
        for dirpath, _, names in os.walk(os.path.join(root, folder)):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    yield os.path.join(dirpath, name)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    files = list(sources(root))
    if not files:
        print("check_clang_format: no sources found under", root)
        return 1
    r = subprocess.run(["clang-format", "--dry-run", "--Werror", *files], capture_output=True,
                       text=True, cwd=root)
    if r.returncode:
        bad = sorted({line.split(":", 1)[0] for line in r.stderr.splitlines()
                      if "warning:" in line or "error:" in line})
        print("not clang-formatted (run clang-format -i on them):")
        for f in bad:
            print("  " + os.path.relpath(f, root))
        return 1
    print(f"check_clang_format: {len(files)} files as clang-format writes them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
