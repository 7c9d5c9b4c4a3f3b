#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""sidecore command-line tool: build, boot under QEMU, run the tests, build the Linux guest."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sidecore_lib import acpidump, bench, bochs, build, cases, linux, platforms, qemu  # noqa: E402


def cmd_build(args):
    build.build(args.build_dir)
    return 0


def cmd_check(args):
    return build.check_config(args.build_dir, args.file, cpus=args.cpus, memory=args.memory,
                              acpi=args.acpi)


def cmd_run(args):
    config = args.config or os.path.join(build.SOURCE_DIR, "efi", "sidecore.cfg")
    smp = args.smp or max(4, build.config_cpu_count(config))
    if not args.no_build:
        build.build(args.build_dir)
        if linux.config_uses_linux(config):
            linux.build_linux(args.build_dir)  # nothing to do when its inputs are unchanged
    if args.platform == platforms.BOCHS:
        smp = args.smp or min(bochs.MAX_CPUS, smp)
    # the same checks the hypervisor makes, on the host first: no boot for a bad file (the
    # emulator's RAM as the memory: the firmware keeps some, which only the boot can tell)
    if build.check_config(args.build_dir, config, cpus=smp, memory=args.memory) != 0:
        return qemu.STATUS_FAIL
    result = platforms.boot(args.platform, args.build_dir, smp=smp, memory=args.memory,
                            config_path=config, timeout=args.timeout, echo=True,
                            log_path=args.log,
                            **({"devices": args.device, "drives": args.drive}
                               if args.device or args.drive else {}))
    ops = bench.collect_ops(result, "shared")
    if ops:  # the default configuration runs a short benchmark: its table and RESULT lines
        print(bench.table(ops))
        print(f"({bench.EMULATOR_NOTE})")
        bench.print_results({"ops": ops})
    print(f"sidecore: {platforms.describe(args.platform, result)}", file=sys.stderr)
    print(f"sidecore: {result.summary()}", file=sys.stderr)
    return result.status


def cmd_bench(args):
    build.build(args.build_dir)
    results = bench.run(args.build_dir, quick=args.quick, echo=args.verbose)
    print("AMD SVM under QEMU:")
    print(bench.table(results["ops"]))
    print(f"Intel VMX under Bochs ({results['vmx']['platform']}):")
    print(bench.table(results["vmx"]["ops"]))
    print(f"({bench.EMULATOR_NOTE})")
    bench.print_results(results)
    return 0


def cmd_report(args):
    import json
    from sidecore_lib import report
    path = os.path.join(args.build_dir, "bench", "results.json")
    if not os.path.exists(path):
        raise SystemExit(f"sidecore: {path} is missing: run tools/sidecore bench first")
    with open(path) as f:
        results = json.load(f)
    out = os.path.join(args.build_dir, "bench", "report")
    os.makedirs(out, exist_ok=True)
    for written in report.write_report(results, out):
        print(f"sidecore: wrote {written}")
    return 0


def cmd_test(args):
    build.build(args.build_dir)
    return build.ctest(args.build_dir, args.ctest_args)


def cmd_case(args):
    return cases.run_case(args.name, args.build_dir, verbose=args.verbose, platform=args.platform)


def cmd_dump_acpi(args):
    if not args.no_build:
        build.build(args.build_dir)
    return acpidump.dump(args.build_dir, args.smp, args.out, args.device)


def cmd_iso(args):
    from sidecore_lib import iso
    config = args.config or os.path.join(build.SOURCE_DIR, "efi", "sidecore.cfg")
    if not args.no_build:
        build.build(args.build_dir)
    iso.make_iso(args.build_dir, args.out, config, qemu.files_for(config, args.build_dir))
    print(f"sidecore: wrote {args.out} (GRUB for BIOS and UEFI, Multiboot2)")
    return 0


def cmd_image(args):
    from sidecore_lib import disk_image
    if not args.no_build:
        build.build(args.build_dir)
    if build.check_config(args.build_dir, args.config) != 0:
        return 1
    disk_image.make_image(args.build_dir, args.config, args.out)
    print(f"sidecore: wrote {args.out}: a GPT disk with one EFI system partition "
          f"(EFI/BOOT/BOOTX64.EFI, sidecore.cfg and the files it names); write it with "
          f"dd if={args.out} of=/dev/sdX bs=4M conv=fsync")
    return 0


def cmd_netboot(args):
    from sidecore_lib import netboot
    if not args.config and not args.node:
        print("sidecore: netboot needs --config or at least one --node", file=sys.stderr)
        return 2
    nodes = []
    for spec in args.node:
        mac, sep, path = spec.partition("=")
        if not sep or not path:
            print(f"sidecore: --node wants MAC=FILE, not '{spec}'", file=sys.stderr)
            return 2
        nodes.append((mac, path))
    if not args.no_build:
        build.build(args.build_dir)
    for path in [args.config] + [p for _, p in nodes]:
        if path and build.check_config(args.build_dir, path) != 0:
            return 1
    files = netboot.make_tree(args.build_dir, args.out, args.config, nodes)
    print(f"sidecore: wrote {args.out}: {', '.join(files)}")
    print(f"sidecore: serve it over TFTP and give {netboot.BOOT_FILE} as the DHCP boot file "
          f"(docs/deploy.md)")
    return 0


def cmd_linux(args):
    return linux.build_linux(args.build_dir, jobs=args.jobs, force=args.force, check=args.check)


def main():
    p = argparse.ArgumentParser(prog="tools/sidecore", description=__doc__)
    p.add_argument("--build-dir", default=os.environ.get("SIDECORE_BUILD_DIR",
                                                         os.path.join(build.SOURCE_DIR, "build")))
    sub = p.add_subparsers(dest="cmd", required=True)

    ck = sub.add_parser("check", help="check a configuration on the host, with the "
                                      "hypervisor's own parser; exit 0 or 1")
    ck.add_argument("file")
    ck.add_argument("--cpus", type=int, help="the target's number of CPUs")
    ck.add_argument("--memory", help="the target's free memory (e.g. 64G)")
    ck.add_argument("--acpi", help="the target's ACPI tables: a dump-acpi folder or a copy of "
                                   "/sys/firmware/acpi/tables")
    ck.set_defaults(func=cmd_check)

    b = sub.add_parser("build", help="configure and build everything")
    b.set_defaults(func=cmd_build)

    r = sub.add_parser("run", help="build, boot the hypervisor in QEMU, exit with its status")
    r.add_argument("--smp", type=int, help="number of CPUs (default: 4, or as many as the "
                                           "configuration names)")
    r.add_argument("--memory", default="1G", help="guest RAM for QEMU (default 1G)")
    r.add_argument("--config", help="configuration file (default efi/sidecore.cfg)")
    r.add_argument("--timeout", type=float, default=120.0, help="seconds before QEMU is killed")
    r.add_argument("--log", help="also write the console to this file")
    r.add_argument("--no-build", action="store_true", help="use the existing build")
    r.add_argument("--platform", default="qemu", choices=platforms.ALL,
                   help="qemu: OVMF loads BOOTX64.EFI (AMD SVM; the default); qemu-iso-bios, "
                        "qemu-iso-efi: SeaBIOS or OVMF boots GRUB from the Multiboot2 ISO; "
                        "qemu-disk: OVMF boots the disk image of 'image'; qemu-pxe: OVMF "
                        "network-boots from QEMU's TFTP server; "
                        "bochs-vmx: Bochs (Intel VMX) boots the ISO")
    r.add_argument("--device", action="append", default=[],
                   help="an extra QEMU -device, for devices= (intel-iommu, nvme,drive=ID, ...; "
                        "repeatable)")
    r.add_argument("--drive", action="append", default=[],
                   help="an extra QEMU -drive, the file of a device (if=none,id=ID,file=F,"
                        "format=raw; repeatable)")
    r.set_defaults(func=cmd_run)

    be = sub.add_parser("bench", help="run the latency, noise and scaling benchmarks")
    be.add_argument("--quick", action="store_true", help="the operation table only")
    be.add_argument("-v", "--verbose", action="store_true", help="stream the consoles")
    be.set_defaults(func=cmd_bench)

    rp = sub.add_parser("report", help="markdown table and PNG plots from the last bench")
    rp.set_defaults(func=cmd_report)

    t = sub.add_parser("test", help="build and run every test (ctest)")
    t.add_argument("ctest_args", nargs=argparse.REMAINDER, help="extra ctest arguments")
    t.set_defaults(func=cmd_test)

    c = sub.add_parser("case", help="run one emulator test case from test/emulator/cases.py")
    c.add_argument("name")
    c.add_argument("-v", "--verbose", action="store_true")
    c.add_argument("--platform", choices=platforms.ALL,
                   help="run it there (default: the first of the case's platforms)")
    c.set_defaults(func=cmd_case)

    d = sub.add_parser("dump-acpi", help="boot QEMU and save its ACPI tables as test fixtures")
    d.add_argument("--smp", type=int, default=4)
    d.add_argument("--out", required=True, help="directory for <SIG>@<addr>.bin files")
    d.add_argument("--device", action="append", default=[],
                   help="an extra QEMU -device (intel-iommu, amd-iommu, edu, ...; repeatable)")
    d.add_argument("--no-build", action="store_true")
    d.set_defaults(func=cmd_dump_acpi)

    i = sub.add_parser("iso", help="a bootable ISO: GRUB (BIOS and UEFI) loading the hypervisor "
                                   "through Multiboot2, with the configuration and its files")
    i.add_argument("--config", help="configuration file (default efi/sidecore.cfg)")
    i.add_argument("--out", required=True, help="the ISO file to write")
    i.add_argument("--no-build", action="store_true", help="use the existing build")
    i.set_defaults(func=cmd_iso)

    im = sub.add_parser("image", help="a bootable GPT disk image (one EFI system partition "
                                      "with the loader, the configuration and its files)")
    im.add_argument("--config", required=True, help="the configuration")
    im.add_argument("--out", required=True, help="the image file to write")
    im.add_argument("--no-build", action="store_true", help="use the existing build")
    im.set_defaults(func=cmd_image)

    nb = sub.add_parser("netboot", help="the directory a TFTP server serves for network boot: "
                                        "the loader, a default and per-node configurations, "
                                        "and the files they name")
    nb.add_argument("--config", help="the default configuration (sidecore.cfg)")
    nb.add_argument("--node", action="append", default=[], metavar="MAC=FILE",
                    help="the configuration of the node with this MAC (repeatable)")
    nb.add_argument("--out", required=True, help="the directory to fill")
    nb.add_argument("--no-build", action="store_true", help="use the existing build")
    nb.set_defaults(func=cmd_netboot)

    lx = sub.add_parser("linux", help="build the Linux guest kernel and initramfs "
                                      "(Debian's linux-source-6.1, guest-stubs/linux)")
    lx.add_argument("--jobs", "-j", type=int, help="make -j (default: the number of CPUs)")
    lx.add_argument("--force", action="store_true", help="rebuild even if the inputs are unchanged")
    lx.add_argument("--check", action="store_true",
                    help="then check the tree: the series applied in order, checkpatch.pl "
                         "0 errors (exit status 1 otherwise)")
    lx.set_defaults(func=cmd_linux)

    args = p.parse_args()
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
