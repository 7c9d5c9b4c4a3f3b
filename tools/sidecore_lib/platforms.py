# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Where a run happens: QEMU (AMD SVM; OVMF with BOOTX64.EFI, or the Multiboot2 ISO under
SeaBIOS or OVMF) or Bochs (Intel VMX; the Multiboot2 ISO under its BIOS)."""
from . import bochs, qemu

BOCHS = "bochs-vmx"
ALL = qemu.PLATFORMS + (BOCHS,)


def boot(platform, build_dir, **kw):
    """A qemu.BootResult from one boot on platform; keywords as qemu.boot takes them."""
    if platform != BOCHS:
        return qemu.boot(build_dir, platform=platform, **kw)
    if kw.pop("use_kernel", False) or kw.pop("append", None) is not None:
        raise SystemExit("sidecore: Bochs boots the ISO: no -kernel/-append")
    if kw.pop("cpu", None):
        raise SystemExit("sidecore: Bochs's CPU is fixed (" + bochs.CPU_MODEL + ")")
    if kw.pop("devices", ()) or kw.pop("drives", ()):
        raise SystemExit("sidecore: extra devices are QEMU -device and -drive arguments")
    return bochs.boot(build_dir, **kw)


def describe(platform, result):
    """The line tools/sidecore run ends with: what ran, in which APIC mode."""
    if platform == BOCHS:
        return (f"Bochs {bochs.bochs_version()}, {bochs.CPU_MODEL}, local APIC mode "
                f"{result.apic_mode() or 'unknown'}")
    return (f"QEMU {qemu.qemu_version()}, -cpu {qemu.default_cpu()}, local APIC mode "
            f"{result.apic_mode() or 'unknown'}")
