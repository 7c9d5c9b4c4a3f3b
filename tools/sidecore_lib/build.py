# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Configuring and building with CMake, running CTest."""
import os
import subprocess
import sys

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(msg):
    print(f"sidecore: {msg}", file=sys.stderr, flush=True)


def build(build_dir):
    """Configure once, then let make rebuild whatever is stale."""
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        log(f"configuring {build_dir}")
        subprocess.run(["cmake", "-S", SOURCE_DIR, "-B", build_dir, "-DCMAKE_C_COMPILER=clang"],
                       check=True, stdout=subprocess.DEVNULL)
    log("building")
    subprocess.run(["cmake", "--build", build_dir, "-j", str(os.cpu_count() or 2)], check=True,
                   stdout=subprocess.DEVNULL)


def efi_image(build_dir):
    return os.path.join(build_dir, "efi", "BOOTX64.EFI")


def ctest(build_dir, extra):
    log("running the tests")
    env = dict(os.environ, SIDECORE_BUILD_DIR=os.path.abspath(build_dir))
    return subprocess.run(["ctest", "--output-on-failure"] + list(extra), cwd=build_dir,
                          env=env).returncode
