# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""The directory a boot server serves for network boot (UEFI PXE over TFTP): BOOTX64.EFI,
the default sidecore.cfg, one sidecore-<mac>.cfg per node that has its own configuration, and
every file those configurations name, all side by side. The loader asks for its node's file
first and for sidecore.cfg when the server has none."""
import os
import re
import shutil

from . import build, qemu

MAC_RE = re.compile(r"^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$")
BOOT_FILE = "BOOTX64.EFI"


def node_config_name(mac):
    """sidecore-52-54-00-12-34-56.cfg for 52:54:00:12:34:56 (either separator, any case)."""
    mac = mac.lower()
    if not MAC_RE.match(mac):
        raise SystemExit(f"sidecore: '{mac}' is not an Ethernet MAC address (aa:bb:cc:dd:ee:ff)")
    return "sidecore-" + mac.replace(":", "-") + ".cfg"


def make_tree(build_dir, out_dir, default_config=None, node_configs=(), extra_files=()):
    """Fills out_dir (created if missing). node_configs: (mac, configuration path) pairs.
    Two configurations naming one file name must mean the same file."""
    efi = build.efi_image(build_dir)
    if not os.path.exists(efi):
        raise SystemExit(f"sidecore: {efi} is missing; build first")
    os.makedirs(out_dir, exist_ok=True)
    shutil.copyfile(efi, os.path.join(out_dir, BOOT_FILE))
    configs = [(name, path) for name, path in
               [("sidecore.cfg", default_config)] +
               [(node_config_name(mac), path) for mac, path in node_configs] if path]
    served = {}
    for name, path in configs:
        shutil.copyfile(path, os.path.join(out_dir, name))
        for src, fname in qemu.files_for(path, build_dir, extra_files):
            if served.setdefault(fname, os.path.realpath(src)) != os.path.realpath(src):
                raise SystemExit(f"sidecore: two configurations name '{fname}' for different "
                                 f"files ({served[fname]} and {src})")
    for fname, src in served.items():
        shutil.copyfile(src, os.path.join(out_dir, fname))
    return sorted(os.listdir(out_dir))
