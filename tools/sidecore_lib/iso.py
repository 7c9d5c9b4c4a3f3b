# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""The Multiboot2 ISO: GRUB (BIOS and UEFI, by grub-mkrescue) loading sidecore.elf with the
configuration and every file it names as modules."""
import os
import shutil
import subprocess
import tempfile

from . import build

GRUB_CFG = """\
# written by tools/sidecore iso
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "sidecore" {{
    echo "sidecore-grub: loading the hypervisor and {count} modules"
    multiboot2 /boot/sidecore.elf
{modules}    boot
}}
"""


def mb2_image(build_dir):
    return os.path.join(build_dir, "mb2", "sidecore.elf")


def make_iso(build_dir, out_path, config_path, files=()):
    """Writes out_path: /boot/sidecore.elf, /boot/grub/grub.cfg and /sidecore/NAME for the
    configuration (module sidecore.cfg) and each (source, NAME) of files (module NAME)."""
    elf = mb2_image(build_dir)
    if not os.path.exists(elf):
        raise SystemExit(f"sidecore: {elf} is missing; build first")
    stage = tempfile.mkdtemp(prefix="sidecore-iso-")
    try:
        os.makedirs(os.path.join(stage, "boot", "grub"))
        os.makedirs(os.path.join(stage, "sidecore"))
        shutil.copyfile(elf, os.path.join(stage, "boot", "sidecore.elf"))
        modules = [(config_path, "sidecore.cfg")] + list(files)
        lines = ""
        for src, name in modules:
            shutil.copyfile(src, os.path.join(stage, "sidecore", name))
            lines += f"    module2 /sidecore/{name} {name}\n"
        with open(os.path.join(stage, "boot", "grub", "grub.cfg"), "w") as f:
            f.write(GRUB_CFG.format(count=len(modules), modules=lines))
        run = subprocess.run(["grub-mkrescue", "-o", out_path, stage], capture_output=True,
                             text=True)
        if run.returncode != 0:
            raise SystemExit(f"sidecore: grub-mkrescue failed:\n{run.stderr}")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out_path
