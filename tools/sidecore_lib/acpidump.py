# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Boot with 'debug dump_acpi=yes' and turn the ACPIDUMP lines into fixture files."""
import os
import tempfile

from . import build, qemu


def parse_dump(lines):
    """{(sig, addr): bytes} from 'ACPIDUMP SIG ADDR LEN OFFSET HEX' lines."""
    tables = {}
    for line in lines:
        if not line.startswith("ACPIDUMP "):
            continue
        _, sig, addr, length, offset, data = line.split()
        key = (sig, int(addr, 16))
        buf = tables.setdefault(key, bytearray(int(length)))
        chunk = bytes.fromhex(data)
        buf[int(offset):int(offset) + len(chunk)] = chunk
    return tables


def dump(build_dir, smp, out_dir, devices=()):
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as cfg:
        cfg.write("sidecore cpu=0 services=pt,irq,io\ndebug dump_acpi=yes\n")
    try:
        result = qemu.boot(build_dir, smp=smp, memory="512M", config_path=cfg.name,
                           timeout=300, echo=False, devices=devices)
    finally:
        os.unlink(cfg.name)
    tables = parse_dump(result.lines)
    if result.status != qemu.STATUS_OK or not tables:
        build.log(f"dump failed: {result.summary()}")
        return 1
    os.makedirs(out_dir, exist_ok=True)
    for (sig, addr), data in sorted(tables.items()):
        path = os.path.join(out_dir, f"{sig}@{addr:x}.bin")
        with open(path, "wb") as f:
            f.write(data)
        build.log(f"wrote {path} ({len(data)} bytes)")
    return 0
