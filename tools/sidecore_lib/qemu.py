# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Booting the hypervisor under QEMU (q35, TCG, -cpu max, OVMF) and reading its console."""
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time

from . import build, console

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
DEBUG_EXIT_SUCCESS = 33  # hypervisor wrote 0x10 to isa-debug-exit: (0x10 << 1) | 1
DEBUG_EXIT_FAILURE = 35  # 0x11

APIC_MODE_RE = re.compile(r"local APIC mode: (x2APIC|xAPIC)")

# Exit statuses of tools/sidecore run.
STATUS_OK, STATUS_FAIL, STATUS_CRASH, STATUS_TIMEOUT = 0, 1, 2, 3


class BootResult:
    def __init__(self, status, reason, lines, qemu_rc):
        self.status = status
        self.reason = reason
        self.lines = lines
        self.qemu_rc = qemu_rc

    def apic_mode(self):
        """The hypervisor's "local APIC mode: ..." line, or None before it was printed."""
        for line in self.lines:
            m = APIC_MODE_RE.search(line)
            if m:
                return m.group(1)
        return None

    def summary(self):
        return f"exit status {self.status} ({self.reason}; qemu exit code {self.qemu_rc})"

    def result_fields(self, prefix="RESULT status="):
        """key=value fields of the last RESULT line without partition=/op= (the overall one)."""
        for line in reversed(self.lines):
            if line.startswith(prefix):
                return dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
        return None


def make_esp(path, efi_path, config_path=None, extra_files=(), size_mib=None):
    """A FAT image with EFI/BOOT/BOOTX64.EFI, the configuration beside it and the files it
    names: size_mib, or 64 MiB and room for the files."""
    if os.path.exists(path):
        os.unlink(path)
    if size_mib is None:
        payload = sum(os.path.getsize(src) for src, _ in extra_files) + os.path.getsize(efi_path)
        size_mib = max(64, payload // (1024 * 1024) + 32)
    with open(path, "wb") as f:
        f.truncate(size_mib * 1024 * 1024)
    subprocess.run(["mformat", "-i", path, "::"], check=True)
    subprocess.run(["mmd", "-i", path, "::/EFI", "::/EFI/BOOT"], check=True)
    subprocess.run(["mcopy", "-i", path, efi_path, "::/EFI/BOOT/BOOTX64.EFI"], check=True)
    if config_path:
        subprocess.run(["mcopy", "-i", path, config_path, "::/EFI/BOOT/sidecore.cfg"], check=True)
    for src, name in extra_files:
        subprocess.run(["mcopy", "-i", path, src, "::/EFI/BOOT/" + name], check=True)


IMAGE_RE = re.compile(r"(?:^|\s)(?:image|disk|initrd)=(\S+)")


def images_named(config_path, build_dir):
    """(source path, ESP name) for every image=, disk= and initrd= of the configuration that exists:
    built guests first, then files beside the configuration. A missing one is left
    for the loader to report."""
    found = []
    with open(config_path) as f:
        text = f.read()
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for name in IMAGE_RE.findall(line):
            if any(name == n for _, n in found):
                continue  # several partitions may run the same image
            for d in (os.path.join(build_dir, "guest-stubs"), os.path.dirname(config_path)):
                path = os.path.join(d, name)
                if os.path.isfile(path):
                    found.append((path, name))
                    break
    return found


# -cpu max has x2APIC on QEMU 10 (the default mode, as on every current server);
# "max,-x2apic" gives the xAPIC mode. SIDECORE_QEMU_CPU overrides the default.
DEFAULT_CPU = "max"


def qemu_version():
    """ "10.0.2" from qemu-system-x86_64 --version, or "unknown"."""
    try:
        out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                             text=True).stdout
    except OSError:
        return "unknown"
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else "unknown"


def default_cpu():
    return os.environ.get("SIDECORE_QEMU_CPU", DEFAULT_CPU)


# How the machine starts: "qemu" OVMF loading BOOTX64.EFI from an ESP (the default);
# "qemu-disk" OVMF booting the GPT disk image of tools/sidecore image, nothing else given;
# "qemu-iso-bios" SeaBIOS and "qemu-iso-efi" OVMF, each booting GRUB from the Multiboot2 ISO;
# "qemu-pxe" OVMF network-booting (PXE over IPv4) from QEMU's own DHCP and TFTP server.
PLATFORMS = ("qemu", "qemu-disk", "qemu-iso-bios", "qemu-iso-efi", "qemu-pxe")
DEFAULT_MAC = "52:54:00:12:34:56"  # QEMU's own default


def qemu_command(smp, memory, vars_path, esp_path=None, kernel=None, append=None, cpu=None,
                 iso_path=None, tftp_dir=None, mac=None, devices=(), drives=()):
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", cpu or default_cpu(),
           "-smp", str(smp), "-m", str(memory)]
    if vars_path:  # OVMF; without it QEMU's SeaBIOS
        cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,unit=1,file={vars_path}"]
    if iso_path:
        cmd += ["-cdrom", iso_path]
    cmd += ["-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    for drive in drives:  # backing files for devices (-drive if=none,id=...,file=...)
        cmd += ["-drive", drive]
    for dev in devices:  # PCI devices and IOMMUs (-device intel-iommu, amd-iommu, edu, ...)
        cmd += ["-device", dev]
    if tftp_dir:
        # OVMF's own virtio-net driver (romfile=: no iPXE option ROM) and PXE over IPv4;
        # QEMU's user network answers DHCP and serves tftp_dir
        cmd += ["-netdev", f"user,id=net0,tftp={tftp_dir},bootfile=BOOTX64.EFI",
                "-device", f"virtio-net-pci,netdev=net0,mac={mac or DEFAULT_MAC},romfile=,"
                "bootindex=0"]
    else:
        cmd += ["-net", "none"]
    if esp_path:
        cmd += ["-drive", f"format=raw,file={esp_path}"]
    if kernel:
        cmd += ["-kernel", kernel]
        if append is not None:
            cmd += ["-append", append]
    return cmd


def files_for(config_path, build_dir, extra_files=()):
    """The (source, name) pairs a boot medium carries: extra_files, then what the
    configuration names that they do not."""
    files = list(extra_files)
    if config_path:
        given = {name for _, name in files}
        files += [f for f in images_named(config_path, build_dir) if f[1] not in given]
    return files


def boot(build_dir, smp=4, memory="1G", config_path=None, timeout=120.0, echo=True,
         log_path=None, append=None, use_kernel=False, extra_files=(), cpu=None,
         platform="qemu", mac=None, node_configs=(), devices=(), drives=()):
    """Boot once; return a BootResult. Never hangs: QEMU is killed at the time-out.
    qemu-pxe: the node's mac, and (mac, configuration path) pairs served beside
    config_path (the default sidecore.cfg). devices: extra -device arguments; drives: extra
    -drive arguments (the files of devices such as nvme)."""
    if platform not in PLATFORMS:
        raise SystemExit(f"sidecore: unknown QEMU platform '{platform}'")
    efi = build.efi_image(build_dir)
    if not os.path.exists(efi):
        raise SystemExit(f"sidecore: {efi} is missing; build first")
    work = tempfile.mkdtemp(prefix="sidecore-run-")
    try:
        vars_path = os.path.join(work, "vars.fd")
        shutil.copyfile(OVMF_VARS, vars_path)
        if platform == "qemu-disk":
            from . import disk_image
            if not config_path or use_kernel:
                raise SystemExit("sidecore: the disk platform needs a configuration file")
            img = disk_image.make_image(build_dir, config_path, os.path.join(work, "disk.img"),
                                        extra_files)
            cmd = qemu_command(smp, memory, vars_path, esp_path=img, cpu=cpu, devices=devices, drives=drives)
        elif platform == "qemu-pxe":
            from . import netboot
            if use_kernel:
                raise SystemExit("sidecore: network boot loads BOOTX64.EFI over TFTP: no -kernel")
            tftp = os.path.join(work, "tftp")
            netboot.make_tree(build_dir, tftp, config_path, node_configs, extra_files)
            cmd = qemu_command(smp, memory, vars_path, cpu=cpu, tftp_dir=tftp, mac=mac, devices=devices, drives=drives)
        elif platform != "qemu":
            from . import iso
            if not config_path or use_kernel:
                raise SystemExit("sidecore: the ISO platforms need a configuration file")
            iso_path = iso.make_iso(build_dir, os.path.join(work, "sidecore.iso"), config_path,
                                    files_for(config_path, build_dir, extra_files))
            cmd = qemu_command(smp, memory, vars_path if platform == "qemu-iso-efi" else None,
                               cpu=cpu, iso_path=iso_path, devices=devices, drives=drives)
        elif use_kernel:
            cmd = qemu_command(smp, memory, vars_path, kernel=efi, append=append, cpu=cpu, devices=devices, drives=drives)
        else:
            esp = os.path.join(work, "esp.img")
            make_esp(esp, efi, config_path, files_for(config_path, build_dir, extra_files))
            cmd = qemu_command(smp, memory, vars_path, esp_path=esp, cpu=cpu, devices=devices, drives=drives)
        build.log(f"booting QEMU {qemu_version()} ({platform}): -cpu {cpu or default_cpu()} -smp {smp} -m {memory}, "
                  f"time-out {timeout:.0f} s")
        return _run(cmd, timeout, echo, log_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(cmd, timeout, echo, log_path):
    con = console.Console(echo, log_path)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    reason = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                reason = "timed out"
                break
            if not sel.select(min(left, 0.5)):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            con.feed(chunk)
            if con.loader_error:
                reason = "loader error"
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        lines = con.close()
    rc = proc.returncode
    if reason == "timed out":
        return BootResult(STATUS_TIMEOUT, reason, lines, rc)
    if reason == "loader error":
        return BootResult(STATUS_FAIL, reason, lines, rc)
    if rc == DEBUG_EXIT_SUCCESS:
        return BootResult(STATUS_OK, "hypervisor reported success", lines, rc)
    if rc == DEBUG_EXIT_FAILURE:
        return BootResult(STATUS_FAIL, "hypervisor reported failure", lines, rc)
    return BootResult(STATUS_CRASH, "QEMU ended without a status from the hypervisor", lines, rc)
