# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Booting the hypervisor under Bochs (Intel VMX with EPT) from the Multiboot2 ISO.

Bochs has no UEFI: its BIOS boots GRUB from the ISO. Headless, with the term display on a
pseudo-terminal this module keeps draining (Bochs blocks once the terminal is full), the
built-in debugger driven by a command file ("continue", then "quit" once the hypervisor
stops in the debugger), the serial port written to a file read as it grows. The hypervisor
ends a run through Bochs's shutdown port: 'D' (into the debugger, then quit: status 0) on
success, "Shutdown" (status 1) on failure. Bochs ignores SIGTERM: a time-out is SIGKILL."""
import os
import pty
import selectors
import shutil
import subprocess
import tempfile
import time

from . import build, console, iso, qemu

BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGA_BIOS = "/usr/share/vgabios/vgabios.bin"
CPU_MODEL = "corei7_icelake_u"  # VMX with EPT, unrestricted guest, VPID, x2APIC
MAX_CPUS = 4
EXIT_DEBUGGER_QUIT, EXIT_SHUTDOWN = 0, 1

BOCHSRC = """\
# written by tools/sidecore for one run
megs: {megs}
# an MSR Bochs does not model reads as 0 (IA32_MISC_ENABLE, which Linux reads first thing
# on Intel and real CPUs have), instead of #GP
cpu: model={model}, count={count}, ips={ips}, reset_on_triple_fault=0, ignore_bad_msrs=1
romimage: file={bios}
vgaromimage: file={vga_bios}
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev={serial}
port_e9_hack: enabled=1
display_library: term
# no sound: Bochs aborts when its speaker finds no ALSA device
sound: driver=dummy
speaker: enabled=0
clock: sync=none, time0=utc
log: {log}
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
"""


def megs(memory):
    """QEMU-style size ("512M", "1G") in MiB."""
    text = str(memory).upper()
    if text.endswith("G"):
        return int(text[:-1]) * 1024
    return int(text.rstrip("M"))


def bochs_version():
    return "2.7"  # Debian 12's; bochs has no --version that exits cleanly


def boot(build_dir, smp=2, memory="512M", config_path=None, timeout=600.0, echo=True,
         log_path=None, extra_files=(), ips=50_000_000):
    """Boot once under Bochs; a qemu.BootResult. Never hangs: Bochs is killed at the time-out."""
    if smp > MAX_CPUS:
        raise SystemExit(f"sidecore: Bochs runs are kept to {MAX_CPUS} CPUs (asked for {smp})")
    if not config_path:
        raise SystemExit("sidecore: the Bochs platform needs a configuration file")
    work = tempfile.mkdtemp(prefix="sidecore-bochs-")
    try:
        iso_path = iso.make_iso(build_dir, os.path.join(work, "sidecore.iso"), config_path,
                                qemu.files_for(config_path, build_dir, extra_files))
        serial = os.path.join(work, "serial.txt")
        open(serial, "wb").close()
        rc_path = os.path.join(work, "bochsrc")
        with open(rc_path, "w") as f:
            f.write(BOCHSRC.format(megs=megs(memory), model=CPU_MODEL, count=smp, ips=ips,
                                   bios=BIOS, vga_bios=VGA_BIOS, iso=iso_path, serial=serial,
                                   log=os.path.join(work, "bochs.log")))
        cmds = os.path.join(work, "debugger.txt")
        with open(cmds, "w") as f:
            f.write("c\nq\n")
        build.log(f"booting Bochs {bochs_version()}: {CPU_MODEL} x{smp}, {megs(memory)} MiB, "
                  f"time-out {timeout:.0f} s")
        cmd = ["bochs", "-q", "-unlock", "-f", rc_path, "-rc", cmds]
        result = _run(cmd, serial, timeout, echo, log_path)
        if result.status == qemu.STATUS_CRASH:
            _show_bochs_log(os.path.join(work, "bochs.log"), result)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _show_bochs_log(path, result):
    """Bochs's own panics and errors, added to the lines of a run that ended unexplained."""
    try:
        with open(path, errors="replace") as f:
            tail = [line.rstrip() for line in f if "[" in line][-20:]
    except OSError:
        return
    result.lines += ["--- bochs.log (last lines) ---"] + tail


def _run(cmd, serial_path, timeout, echo, log_path):
    con = console.Console(echo, log_path)
    master, slave = pty.openpty()
    env = dict(os.environ, TERM=os.environ.get("TERM", "xterm") or "xterm")
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    sel = selectors.DefaultSelector()
    sel.register(master, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    reason = None
    with open(serial_path, "rb") as serial:
        try:
            while True:
                if time.monotonic() > deadline:
                    reason = "timed out"
                    break
                for _ in sel.select(0.2):  # the term display: drained, never shown
                    try:
                        os.read(master, 65536)
                    except OSError:
                        sel.unregister(master)
                con.feed(serial.read())
                if con.loader_error:
                    reason = "loader error"
                    break
                if proc.poll() is not None:
                    con.feed(serial.read())
                    break
        finally:
            if proc.poll() is None:
                proc.kill()  # SIGKILL: Bochs ignores SIGTERM
            proc.wait()
            os.close(master)
            lines = con.close()
    return _verdict(reason, proc.returncode, lines)


def _verdict(reason, rc, lines):
    """Pass needs both: Bochs quit from its debugger (status 0) and RESULT status=ok."""
    result = qemu.BootResult(qemu.STATUS_CRASH, "", lines, rc)
    fields = result.result_fields() or {}
    if reason == "timed out":
        result.status, result.reason = qemu.STATUS_TIMEOUT, reason
    elif reason == "loader error":
        result.status, result.reason = qemu.STATUS_FAIL, reason
    elif rc == EXIT_DEBUGGER_QUIT and fields.get("status") == "ok":
        result.status, result.reason = qemu.STATUS_OK, "hypervisor reported success"
    elif rc == EXIT_SHUTDOWN and fields.get("status") == "fail":
        result.status, result.reason = qemu.STATUS_FAIL, "hypervisor reported failure"
    else:
        result.reason = (f"Bochs ended with status {rc} and "
                         f"{'RESULT status=' + fields['status'] if fields else 'no RESULT line'}")
    return result
