# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Runs one emulator test case: boots it, then checks the exit status and the lines."""
import importlib.util
import os
import re
import shutil
import tempfile

from . import build, linux, platforms, qemu


def load_table():
    path = os.path.join(build.SOURCE_DIR, "test", "emulator", "cases.py")
    spec = importlib.util.spec_from_file_location("emulator_cases", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {c["name"]: c for c in mod.CASES}


def case_platforms(case):
    """The platforms a case runs on, its first the default."""
    return case.get("platforms", ["qemu"])


def case_timeout(case, platform):
    """Seconds before the emulator is killed: Bochs has its own where a case gives one."""
    if platform == platforms.BOCHS and "bochs_timeout" in case:
        return case["bochs_timeout"]
    return case.get("timeout", 120)


def vendor_of(platform):
    return "vmx" if platform == platforms.BOCHS else "svm"


def pattern_for(pattern, platform):
    """A pattern as it is, or a {"svm": ..., "vmx": ...} choice by the platform's vendor (None:
    nothing to check there)."""
    return pattern.get(vendor_of(platform)) if isinstance(pattern, dict) else pattern


def run_case(name, build_dir, verbose=False, platform=None):
    table = load_table()
    if name not in table:
        print(f"unknown case '{name}'; known: {', '.join(sorted(table))}")
        return 2
    case = table[name]
    platform = platform or case_platforms(case)[0]
    if platform not in case_platforms(case):
        print(f"case {name} does not run on {platform}: "
              f"{case.get('not_on_bochs', 'not in its platforms')}")
        return 2
    cfg_path = None
    if "config" in case:
        fd, cfg_path = tempfile.mkstemp(suffix=".cfg")
        with os.fdopen(fd, "w") as f:
            f.write(case["config"])
    elif "config_file" in case:
        cfg_path = os.path.join(build.SOURCE_DIR, case["config_file"])
    if "linux_args" in case:
        with open(cfg_path) as f:
            text = linux.config_with_args(f.read(), case["linux_args"])
        fd, cfg_path = tempfile.mkstemp(suffix=".cfg")
        with os.fdopen(fd, "w") as f:
            f.write(text)
    scratch = tempfile.mkdtemp(prefix="sidecore-case-")
    node_configs = []
    for mac, text in case.get("node_configs", {}).items():
        path = os.path.join(scratch, "node-" + mac.replace(":", "-") + ".cfg")
        with open(path, "w") as f:
            f.write(text)
        node_configs.append((mac, path))
    drives = []
    for name, make in case.get("drives", {}).items():  # a device's backing file
        path = os.path.join(scratch, name + ".img")
        make(path)
        drives.append(f"if=none,id={name},format=raw,file={path}")
    extra = []
    for name, data in case.get("files", {}).items():
        path = os.path.join(scratch, name)
        with open(path, "wb") as f:
            f.write(data)
        extra.append((path, name))
    try:
        result = platforms.boot(platform, build_dir, smp=case.get("smp", 4), memory=case.get("memory", "512M"),
                           config_path=cfg_path if not case.get("no_config") else None,
                           timeout=case_timeout(case, platform), echo=verbose,
                           append=case.get("append"), use_kernel=case.get("use_kernel", False),
                           extra_files=extra, cpu=case.get("cpu"),
                           devices=case.get("devices", ()), drives=drives,
                           **({"mac": case["mac"], "node_configs": node_configs}
                              if platform == "qemu-pxe" else {}))
    finally:
        if ("config" in case or "linux_args" in case) and cfg_path:
            os.unlink(cfg_path)
        shutil.rmtree(scratch, ignore_errors=True)
    return check(case, result, platform)


def check(case, result, platform="qemu"):
    failures = []
    want = case.get("status", qemu.STATUS_OK)
    if result.status != want:
        failures.append(f"exit status {result.status} ({result.reason}), expected {want}")
    text = "\n".join(result.lines)
    for pattern in case.get("expect", []):
        pattern = pattern_for(pattern, platform)
        if pattern and not re.search(pattern, text, re.MULTILINE):
            failures.append(f"missing line matching: {pattern}")
    for pattern in case.get("reject", []):
        pattern = pattern_for(pattern, platform)
        m = pattern and re.search(pattern, text, re.MULTILINE)
        if m:
            failures.append(f"unexpected line matching {pattern}: {m.group(0)!r}")
    fields = result.result_fields()
    for key, value in case.get("result", {}).items():
        got = fields.get(key) if fields else None
        if got != str(value):
            failures.append(f"RESULT {key}={got}, expected {value}")
    for name, want in case.get("partitions", {}).items():
        got = result.result_fields(f"RESULT partition={name} ")
        for key, value in want.items():
            have = got.get(key) if got else None
            if have != str(value):
                failures.append(f"RESULT partition={name} {key}={have}, expected {value}")
    if failures:
        print("\n".join(result.lines[-80:]))
        print(f"case {case['name']} ({platform}): FAIL")
        for f in failures:
            print(f"  - {f}")
        return 1
    print(f"case {case['name']} ({platform}): PASS ({result.summary()})")
    return 0
