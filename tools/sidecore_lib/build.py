# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Configuring and building with CMake, running CTest."""
import os
import re
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


# What sidecore-check is built from (tools/check/CMakeLists.txt) and the headers they use.
CHECK_INPUTS = ["tools/check/sidecore_check.c", "tools/check/CMakeLists.txt"] + [
    f"core/{n}" for n in ("acpi.c", "acpi.h", "config.c", "config.h", "config_lex.c",
                          "config_lex.h", "fmt.c", "fmt.h", "refusal.c", "refusal.h", "klib.h",
                          "log_level.h")]


def _stale(target, inputs):
    """True if target is missing or older than any input (paths relative to the source)."""
    try:
        built = os.path.getmtime(target)
    except OSError:
        return True
    return any(os.path.getmtime(os.path.join(SOURCE_DIR, i)) > built for i in inputs)


def check_config(build_dir, path, cpus=None, memory=None, acpi=None):
    """Runs sidecore-check (built first if it is missing or stale, that target only); returns
    its status, its lines printed as they are."""
    exe = os.path.join(build_dir, "tools", "check", "sidecore-check")
    if _stale(exe, CHECK_INPUTS):
        if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
            subprocess.run(["cmake", "-S", SOURCE_DIR, "-B", build_dir,
                            "-DCMAKE_C_COMPILER=clang"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", build_dir, "--target", "sidecore-check"], check=True,
                       stdout=subprocess.DEVNULL)
    cmd = [exe, path]
    if cpus:
        cmd += ["--cpus", str(cpus)]
    if memory:
        text = str(memory)
        cmd += ["--memory", text + "M" if text.isdigit() else text]  # QEMU's unit: MiB
    if acpi:
        cmd += ["--acpi", acpi]
    return subprocess.run(cmd).returncode


def efi_image(build_dir):
    return os.path.join(build_dir, "efi", "BOOTX64.EFI")


def ctest(build_dir, extra):
    log("running the tests")
    env = dict(os.environ, SIDECORE_BUILD_DIR=os.path.abspath(build_dir))
    return subprocess.run(["ctest", "--output-on-failure"] + list(extra), cwd=build_dir,
                          env=env).returncode


def config_cpu_count(config_path):
    """One more than the highest CPU a configuration names (sidecore cpu=, partition cpus=);
    0 if it names none. A quick look for the runner, not the parser: the hypervisor checks."""
    highest = -1
    with open(config_path) as f:
        for line in f:
            for m in re.finditer(r"(?:^|\s)cpus?=([0-9,-]+)", line.split("#", 1)[0]):
                for part in m.group(1).split(","):
                    for n in part.split("-"):
                        if n.isdigit():
                            highest = max(highest, int(n))
    return highest + 1
