# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Emulator integration cases: one table, each case a boot under QEMU (SVM/UEFI).

Keys: name; smp; memory; config (inline text) or config_file (repository path) or
no_config; use_kernel + append (QEMU -kernel/-append, config as LoadOptions);
status (expected tools/sidecore exit status: 0 ok, 1 failure reported); expect /
reject (regular expressions over the console); result (fields of the final RESULT line);
partitions ({name: fields of its "RESULT partition=name" line}); files ({ESP name: bytes});
needs_linux (the case boots the Linux guest: it runs after the test that builds it);
linux_args (words added to the command line of the configuration's Linux partition);
platforms (where it runs, tools/sidecore run --platform; default ["qemu"]: OVMF loading
BOOTX64.EFI under QEMU, AMD SVM; "qemu-iso-bios" and "qemu-iso-efi" boot GRUB from the
Multiboot2 ISO under SeaBIOS and under OVMF; "bochs-vmx" boots that ISO under Bochs, Intel
VMX); not_on_bochs (why a case does not run on Bochs: every case says one or the other);
bochs_timeout (the time-out there, when it differs); mac and node_configs ({mac: text}) on
"qemu-pxe", where OVMF network-boots the node with that MAC from QEMU's TFTP server, which
serves the case's configuration as sidecore.cfg and each node's as sidecore-<mac>.cfg;
devices (extra QEMU -device arguments: an IOMMU, PCI devices, bridges). A pattern may be {"svm": ..., "vmx": ...}:
the one for the platform's vendor (None: nothing to check there).
Guest cases check both the exit status and the guest's own PASS:/FAIL: lines.
"""

OK, FAIL = 0, 1
XAPIC = "max,-x2apic"  # QEMU's CPU without x2APIC: the xAPIC cases; all others run in x2APIC mode
SIDE0 = "sidecore cpu=0 services=pt,irq,io\n"


NO_FAIL = r"^.*\b[a-z]+\.\d+: FAIL:.*$"

# Where a case runs: QEMU (AMD SVM) and Bochs (Intel VMX), or QEMU alone for one of these
# reasons (every case gives one or the other; test_harness.py checks it).
BOTH = ["qemu", "bochs-vmx"]
NO_GUEST_CODE = ("the hypervisor's own CPU handling, before or without a guest: no vendor code "
                 "runs; Bochs boots the same core in every bochs case")
MANY_CPUS = "more CPUs than the 4 Bochs runs are kept to (one host thread emulates them all)"
BEFORE_CORES = "refused before any core starts: nothing vendor-specific runs"
XAPIC_ONLY = "needs a CPU without x2APIC (QEMU -cpu max,-x2apic); Bochs's model here has x2APIC"
UEFI_LOADER = "the UEFI loader's behaviour: Bochs has no UEFI (it boots the Multiboot2 ISO)"
LINUX_TOO_SLOW = ("the Linux demo takes Bochs far longer than the CI's time (docs/testing.md has "
                  "what was measured)")
ISO_FIRMWARE = "QEMU's SeaBIOS and OVMF are what it tests; every bochs case boots the same ISO"


def guest_line(partition, vcpu, text):
    """A line the given partition's vCPU printed (trap or ring console). Anchored at the start
    of the log line: a guest's text follows its own prefix, so another partition cannot
    print a line that matches here."""
    return rf"^\[ *[0-9.]+\] cpu\d+ +info +{partition}\.{vcpu}: {text}"


def guest_pass(partition, vcpu, what):
    """A PASS line a guest printed through the console hypercall."""
    return guest_line(partition, vcpu, f"PASS: {what}")


def cpu_row(cpu, apic, state, role):
    """A row of the boot CPU table."""
    return rf"^\[ *[0-9.]+\] cpu0 +info +{cpu:>5}  {apic:>4}  {state:<9}  {role}$"


CASES = [
    {
        "name": "boot_smp1",
        "not_on_bochs": NO_GUEST_CODE,
        "smp": 1,
        "config": SIDE0,
        "expect": [cpu_row(0, 0, "running", r"side core: pt irq io \(poll spin\)")],
        "result": {"status": "ok", "cpus": 1, "online": 1, "sidecores": 1, "partitions": 0},
    },
    {
        "name": "boot_smp2",
        "platforms": BOTH,
        "smp": 2,
        "config": SIDE0 + "partition name=one cpus=1 memory=32M\n",
        "expect": [cpu_row(1, 1, "running", r"guest core: partition 'one' vCPU 0"),
                   r"cpu1 +info +role: guest core: partition 'one' vCPU 0",
                   r"partition 'one' +[0-9a-f]{16}-[0-9a-f]{16} +32M +1 cores"],
        "result": {"status": "ok", "cpus": 2, "online": 2, "guest_cores": 1},
    },
    {
        "name": "boot_smp4_default",
        "platforms": BOTH,
        "smp": 4,
        "config_file": "efi/sidecore.cfg",
        "expect": [cpu_row(0, 0, "running", r"side core: pt irq io \(poll spin\)"),
                   cpu_row(1, 1, "running", r"guest core: partition 'bench' vCPU 0"),
                   cpu_row(2, 2, "running", r"guest core: partition 'bench' vCPU 1"),
                   cpu_row(3, 3, "running", r"guest core: partition 'demo' vCPU 0"),
                   r"partition 'bench' +[0-9a-f]{16}-[0-9a-f]{16} +32M +2 cores, image bench\.elf",
                   r"loaded file .* bench\.img$",
                   guest_pass("demo", 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 1"),
                   guest_pass("bench", 0, "bench ops done"),
                   r"partition 'demo' vCPU 0 \(cpu 3\): \d+ exits cpuid=\d+ hypercall=\d+$"],
        "reject": [NO_FAIL],
        "partitions": {"demo": {"status": "pass", "vcpus": 1}, "bench": {"status": "pass"}},
        "result": {"status": "ok", "cpus": 4, "online": 4, "missing": 0, "sidecores": 1,
                   "guest_cores": 3, "partitions": 2},
    },
    {
        "name": "boot_smp16",
        "not_on_bochs": MANY_CPUS,
        "smp": 16,
        "config": "sidecore cpu=0 services=pt,irq poll=adaptive\n"
                  "sidecore cpu=1 services=io\n"
                  "partition name=a cpus=2-8 memory=16M\n"
                  "partition name=b cpus=9-14 memory=16M\n",
        "expect": [cpu_row(1, 1, "running", r"side core: io \(poll spin\)"),
                   cpu_row(0, 0, "running", r"side core: pt irq \(poll adaptive\)"),
                   cpu_row(15, 15, "running", "unused"),
                   cpu_row(14, 14, "running", r"guest core: partition 'b' vCPU 5")],
        "result": {"status": "ok", "cpus": 16, "online": 16, "sidecores": 2,
                   "guest_cores": 13, "partitions": 2},
    },
    {
        "name": "boot_smp64",
        "not_on_bochs": MANY_CPUS,
        "smp": 64,
        "timeout": 300,
        "config": "sidecore cpu=0 services=pt,irq,io\nsidecore cpu=1 services=io\n"
                  "partition name=wide cpus=2-63 memory=64M\n",
        "expect": [cpu_row(63, 63, "running", r"guest core: partition 'wide' vCPU 61")],
        "result": {"status": "ok", "cpus": 64, "online": 64, "missing": 0, "guest_cores": 62},
    },
    {
        # x2APIC IDs above 255: only x2APIC MADT entries describe them, and only x2APIC
        # mode can address them. The one many-core case of the suite.
        "name": "boot_smp288_partition_above_255",
        "not_on_bochs": MANY_CPUS,
        "smp": 288,
        "memory": "2G",
        "timeout": 1200,
        "config": "sidecore cpu=0 services=pt,irq,io poll=adaptive spin=2000 sleep_us=50\n"
                  "boot ap_timeout_ms=60000\n"
                  "partition name=high cpus=256-287 memory=64M image=hello.elf\n",
        "expect": [r"local APIC mode: x2APIC$",
                   cpu_row(256, 256, "running", r"guest core: partition 'high' vCPU 0"),
                   cpu_row(287, 287, "running", r"guest core: partition 'high' vCPU 31"),
                   guest_pass("high", 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 32"),
                   guest_pass("high", 31, r"vCPU 31: CPUID 0x40000001 vCPU 31 of 32")],
        "reject": [NO_FAIL],
        "partitions": {"high": {"status": "pass", "vcpus": 32}},
        "result": {"status": "ok", "cpus": 288, "online": 288, "missing": 0, "unacked": 0,
                   "guest_cores": 32},
    },
    {
        "name": "config_errors_refused",
        "not_on_bochs": BEFORE_CORES,
        "smp": 4,
        "status": FAIL,
        "config": "# three errors only the machine reveals; all are reported\n"
                  "sidecore cpu=0 services=pt,irq\n"
                  "partition name=bench cpus=1-2,9 memory=64M\n"
                  "partition name=other cpus=0 memory=2M\n",
        "expect": [r"sidecore\.cfg:3: core 9 does not exist \(this machine has 4 cores\)$",
                   r"sidecore\.cfg:4: core 0 is the boot CPU and cannot be a guest core$",
                   r"sidecore\.cfg:4: service 'io' is not placed on any side core$",
                   r"configuration refused \(3 errors\); no CPU was started",
                   r"^RESULT status=fail reason=config"],
        "reject": [r"starting \d+ application processors", r"CPU table"],
    },
    {
        "name": "config_syntax_error",
        "not_on_bochs": BEFORE_CORES,
        "smp": 2,
        "status": FAIL,
        "config": SIDE0 + "partition name=p cpus=1 memory=3M\n",
        "expect": [r"sidecore\.cfg:2: 'memory' must be a nonzero multiple of 2M, not '3M'$"],
        "reject": [r"starting \d+ application processors"],
        "result": {"status": "fail", "reason": "config"},
    },
    {
        "name": "config_xapic_passthrough_must_be_accepted",
        "not_on_bochs": XAPIC_ONLY,
        "smp": 2,
        "cpu": XAPIC,
        "status": FAIL,
        "config": SIDE0 + "partition name=p cpus=1 memory=16M image=hello.elf\n",
        "expect": [r"sidecore\.cfg:2: partition 'p': this CPU has no x2APIC, so the guest would "
                   r"write its LAPIC's ICR directly \(raw IPIs, INIT to any core\); add "
                   r"lapic=passthrough to accept that for this partition$"],
        "reject": [r"starting \d+ application processors", r"entering partition"],
        "result": {"status": "fail", "reason": "config"},
    },
    {
        "name": "config_disk_shared_refused",
        "not_on_bochs": BEFORE_CORES,
        "smp": 3,
        "status": FAIL,
        "files": {"shared.img": b"SECRET-OF-PARTITION-WRITER".ljust(4096, b"\0")},
        "config": SIDE0 + "partition name=writer cpus=1 memory=16M image=blk.elf disk=shared.img\n"
                  "partition name=spy cpus=2 memory=16M image=blk.elf disk=shared.img\n",
        "expect": [r"sidecore\.cfg:3: partition 'spy': disk 'shared\.img' is already the disk of "
                   r"partition 'writer' \(line 2\); each partition needs its own disk file$"],
        "reject": [r"starting \d+ application processors", r"entering partition"],
        "result": {"status": "fail", "reason": "config"},
    },
    {
        "name": "config_memory_too_large",
        "not_on_bochs": BEFORE_CORES,
        "smp": 2,
        "memory": "512M",
        "status": FAIL,
        "config": SIDE0 + "partition name=bench cpus=1 memory=64G\n",
        "expect": [r"sidecore\.cfg:2: partition 'bench': 64G of memory requested, "
                   r"[0-9.]+M free$"],
        "reject": [r"starting \d+ application processors"],
        "result": {"status": "fail", "reason": "config"},
    },
    {
        "name": "config_service_unplaced",
        "not_on_bochs": BEFORE_CORES,
        "smp": 2,
        "status": FAIL,
        "config": "sidecore cpu=0 services=pt,irq\npartition name=p cpus=1 memory=8M\n",
        "expect": [r"sidecore\.cfg:2: service 'io' is not placed on any side core$"],
        "result": {"status": "fail", "reason": "config"},
    },
    {
        "name": "cpu_does_not_come_up",
        "not_on_bochs": NO_GUEST_CODE,
        "smp": 4,
        "status": FAIL,
        "config": SIDE0 + "partition name=p cpus=1-3 memory=16M\n"
                  "boot ap_timeout_ms=500\ndebug offline_cpu=2\n",
        "expect": [r"cpu 2 \(APIC ID 2\) did not come up within 500 ms",
                   r"sidecore\.cfg:2: core 2 \(APIC ID 2\) did not come up; refusing its role "
                   r"\(guest core: partition 'p' vCPU 1\)",
                   cpu_row(2, 2, "timed-out", r"guest core: partition 'p' vCPU 1")],
        "result": {"status": "fail", "online": 3, "missing": 1},
    },
    {
        "name": "cpu_does_not_take_its_role",
        "not_on_bochs": NO_GUEST_CODE,
        "smp": 4,
        "status": FAIL,
        "config": SIDE0 + "partition name=p cpus=1-3 memory=16M image=hello.elf\n"
                  "debug silent_cpu=2\n",
        "expect": [r"cpu2 +warn +ignoring my role, as if its wake-up were lost",
                   r"cpu 2 \(APIC ID 2\) did not acknowledge its role \(guest core: partition "
                   r"'p' vCPU 1; state online"],
        "reject": [r"entering partition"],
        "result": {"status": "fail", "online": 4, "missing": 0, "unacked": 1, "parked": 0},
    },
    {
        "name": "exception_parks_one_cpu",
        "not_on_bochs": NO_GUEST_CODE,
        "smp": 4,
        "status": FAIL,
        "config": SIDE0 + "partition name=p cpus=1-3 memory=16M\ndebug fault_cpu=3\n",
        "expect": [r"cpu3 +error exception #UD invalid opcode \(vector 6\)",
                   r"cpu3 +error +rip [0-9a-f]{16} +cs 0008",
                   r"cpu3 +error +rax [0-9a-f]{16} +rbx",
                   r"cpu3 +error +cr0 [0-9a-f]{16} +cr2",
                   r"cpu 3 parked: exception #UD",
                   cpu_row(3, 3, "parked", r"guest core: partition 'p' vCPU 2 -- exception #UD invalid opcode at rip [0-9a-f]+"),
                   cpu_row(1, 1, "running", r"guest core: partition 'p' vCPU 0")],
        "result": {"status": "fail", "online": 4, "parked": 1},
    },
    {
        "name": "loader_no_config",
        "not_on_bochs": UEFI_LOADER,
        "smp": 2,
        "status": FAIL,
        "no_config": True,
        "expect": [r"sidecore-efi: error: no configuration: cannot read \\EFI\\BOOT\\"
                   r"sidecore\.cfg and LoadOptions hold none \(not found\)"],
        "reject": [r"^RESULT"],
    },
    {
        "name": "loader_missing_image",
        "not_on_bochs": UEFI_LOADER,
        "smp": 2,
        "status": FAIL,
        "config": SIDE0 + "partition name=p cpus=1 memory=8M image=nothere.elf\n",
        "expect": [r"sidecore-efi: error: sidecore\.cfg:2: cannot read image 'nothere\.elf' "
                   r"of partition 'p' \(not found\)"],
        "reject": [r"^RESULT"],
    },
    {
        "name": "config_from_load_options",
        "not_on_bochs": UEFI_LOADER,
        "smp": 2,
        "use_kernel": True,
        "append": "sidecore cpu=0 services=pt,irq,io;partition name=opt cpus=1 memory=8M",
        "expect": [r"sidecore-efi: configuration from LoadOptions",
                   cpu_row(1, 1, "running", r"guest core: partition 'opt' vCPU 0")],
        "result": {"status": "ok", "online": 2, "partitions": 1},
    },
    # ---- guests under AMD SVM (issue 3)
    {
        "name": "guest_hello",
        "platforms": BOTH,
        "smp": 2,
        "config": SIDE0 + "partition name=hello cpus=1 memory=16M image=hello.elf\n",
        "expect": [guest_pass("hello", 0, r"vCPU 0: CPUID 0x40000000 signature SidecoreHypv"),
                   guest_pass("hello", 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 1"),
                   {"svm": r"SVM revision \d+, \d+ ASIDs, nested paging",
                    "vmx": r"VMX revision \d+ \(true controls\), EPT \(1G pages, single-context "
                           r"INVEPT\), VPID, unrestricted guest"},
                   r"partition 'hello' vCPU 0 \(cpu 1\): \d+ exits cpuid=\d+ hypercall=\d+$"],
        "reject": [NO_FAIL],
        "partitions": {"hello": {"status": "pass", "vcpus": 1}},
        "result": {"status": "ok", "partitions": 1},
    },
    {
        "name": "guest_steady_state_no_exits",
        "platforms": BOTH,
        "smp": 3,
        "config": SIDE0 + "partition name=steady cpus=1-2 memory=32M image=steady.elf\n",
        "expect": [guest_pass("steady", 0, "vCPU 0: no exits during the steady phase"),
                   guest_pass("steady", 1, "vCPU 1: no exits during the steady phase"),
                   r"steady\.\d: vCPU \d: \d+ iterations in \d+ ms",
                   r"partition 'steady' vCPU 0 \(cpu 1\): \d+ exits .*; steady phase: 0 exits$",
                   r"partition 'steady' vCPU 1 \(cpu 2\): \d+ exits .*; steady phase: 0 exits$"],
        "reject": [NO_FAIL],
        "partitions": {"steady": {"status": "pass", "vcpus": 2, "steady_exits": 0}},
        "result": {"status": "ok"},
    },
    {
        "name": "guest_lapic_timer_native",
        "platforms": BOTH,
        "smp": 2,
        "config": SIDE0 + "partition name=timer cpus=1 memory=16M image=timer.elf\n",
        "expect": [r"local APIC mode: x2APIC$",
                   guest_line("timer", 0, r"vCPU 0: LAPIC id 1 \(x2APIC\), timer"),
                   guest_pass("timer", 0, r"vCPU 0: (\d{4,}|[1-9]\d{2}) timer interrupts on vector 0x40"),
                   guest_pass("timer", 0, "vCPU 0: no intr, vintr or hlt exits")],
        "reject": [NO_FAIL, r"partition 'timer' vCPU 0 .*\b(intr|vintr|hlt)="],
        "partitions": {"timer": {"status": "pass"}},
        "result": {"status": "ok"},
    },
    {
        "name": "xapic_passthrough_hello_and_timer",
        "not_on_bochs": XAPIC_ONLY,
        "smp": 3,
        "cpu": XAPIC,
        "config": SIDE0 + "partition name=hello cpus=1 memory=16M image=hello.elf lapic=passthrough\n"
                  "partition name=timer cpus=2 memory=16M image=timer.elf lapic=passthrough\n",
        "expect": [r"local APIC mode: xAPIC$",
                   r"partition 'hello': xAPIC passthrough: its IPIs are not validated",
                   guest_pass("hello", 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 1"),
                   guest_line("timer", 0, r"vCPU 0: LAPIC id 2 \(xAPIC\), timer"),
                   guest_pass("timer", 0, "vCPU 0: no intr, vintr or hlt exits")],
        "reject": [NO_FAIL],
        "partitions": {"hello": {"status": "pass"}, "timer": {"status": "pass"}},
        "result": {"status": "ok"},
    },
    {
        "name": "x2apic_icr_validated",
        "platforms": BOTH,
        "smp": 4,
        "config": SIDE0 + "partition name=icr cpus=1-2 memory=16M image=icr.elf args=foreign=3,0\n"
                  "partition name=other cpus=3 memory=16M image=timer.elf\n",
        "expect": [r"local APIC mode: x2APIC$",
                   guest_pass("icr", 1, r"vCPU 1: took 10 IPIs on vectors 0x51, 0xec, 0xf0, 0xfd "
                              r"and 0xff from the ICR of vCPU 0, 0 exits of its own"),
                   guest_pass("icr", 0, r"vCPU 0: 10 fixed IPIs arrived at vCPU 1; none of 14 "
                              r"refused ICR writes did"),
                   guest_pass("icr", 0, r"vCPU 0: 24 ICR writes, 24 msr_write exits, nothing else"),
                   guest_pass("icr", 0, r"vCPU 0: self-IPI on vector 0x1f dropped, on 0x51 taken"),
                   guest_pass("icr", 0, r"vCPU 0: timer LVT on vector 0x10 refused with #GP, the "
                              r"same LVT masked accepted"),
                   r"partition 'icr' vCPU 0: IPI \(ICR write\) refused \(200000005, error -\d+\)",
                   r"partition 'icr': 16 local interrupts refused \(ICR, self-IPI or LVT writes "
                   r"outside its rights\)$",
                   r"partition 'icr' vCPU 0 \(cpu 1\): \d+ exits hypercall=\d+ msr_write=28$",
                   guest_pass("other", 0, "vCPU 0: no intr, vintr or hlt exits")],
        "reject": [NO_FAIL, r"partition 'other': \d+ local interrupts refused", r"stray"],
        "partitions": {"icr": {"status": "pass", "vcpus": 2}, "other": {"status": "pass"}},
        "result": {"status": "ok", "parked": 0},
    },
    {
        "name": "guest_exit_accounting",
        "platforms": BOTH,
        "smp": 2,
        "config": SIDE0 + "partition name=count cpus=1 memory=16M image=exitcount.elf\n",
        "expect": [guest_pass("count", 0, "vCPU 0: cpuid exits rose by 10 for 10 CPUIDs"),
                   guest_pass("count", 0, r"vCPU 0: total exits rose by 11 = 10 cpuid \+ 1 hypercall")],
        "reject": [NO_FAIL],
        "partitions": {"count": {"status": "pass"}},
    },
    {
        "name": "guest_triple_fault_isolated",
        "platforms": BOTH,
        "smp": 3,
        "status": FAIL,
        "config": SIDE0 + "partition name=crash cpus=1 memory=16M image=triplefault.elf\n"
                  "partition name=good cpus=2 memory=16M image=hello.elf\n",
        "expect": [r"partition 'crash' stopped by vCPU 0: triple fault \(shutdown\) at rip [0-9a-f]+",
                   r"crash\.0 guest state: rip [0-9a-f]{16} rsp [0-9a-f]{16}",
                   r"cpu1 +error +cr0 0000000080010033 cr2 [0-9a-f]{16} cr3 0000000000110000",
                   guest_pass("good", 0, r"vCPU 0: CPUID 0x40000000 signature")],
        "reject": [NO_FAIL],
        "partitions": {"crash": {"status": "stopped"}, "good": {"status": "pass"}},
        "result": {"status": "fail", "online": 3, "parked": 0},
    },
    {
        "name": "guest_out_of_partition_access",
        "platforms": BOTH,
        "smp": 4,
        "status": FAIL,
        "config": SIDE0 + "partition name=rd cpus=1 memory=16M image=oob.elf\n"
                  "partition name=wr cpus=2 memory=16M image=oob.elf args=write\n"
                  "partition name=good cpus=3 memory=16M image=hello.elf\n",
        "expect": [r"partition 'rd' stopped by vCPU 0: nested page fault at guest-physical "
                   r"1100000 \(read",
                   r"partition 'wr' stopped by vCPU 0: nested page fault at guest-physical "
                   r"1100000 \(write",
                   guest_pass("good", 0, r"vCPU 0: CPUID 0x40000001")],
        "reject": [NO_FAIL],
        "partitions": {"rd": {"status": "stopped"}, "wr": {"status": "stopped"},
                       "good": {"status": "pass"}},
        "result": {"status": "fail"},
    },
    {
        "name": "guest_run_timeout_stops_partition",
        "platforms": BOTH,
        "smp": 3,
        "status": FAIL,
        "config": SIDE0 + "boot run_timeout_ms=50\n"
                  "partition name=slow cpus=1-2 memory=32M image=steady.elf\n",
        "expect": [r"partition 'slow' still running after the 50 ms time-out: stopping it",
                   r"partition 'slow' was stopped: still running after the 50 ms time-out",
                   # printed by the boot CPU once the vCPU left (its own line may come later):
                   # the kick that stopped it is the NMI exit
                   r"partition 'slow' vCPU 1 \(cpu 2\): \d+ exits .*\bnmi=[1-9]"],
        "partitions": {"slow": {"status": "stopped"}},
        "result": {"status": "fail"},
    },
    {
        "name": "guest_bad_image_refused",
        "platforms": BOTH,
        "smp": 2,
        "status": FAIL,
        "files": {"bad.elf": b"#!/bin/sh\necho this is not an ELF image\n"},
        "config": SIDE0 + "partition name=p cpus=1 memory=16M image=bad.elf\n",
        "expect": [r"sidecore\.cfg:2: partition 'p': image 'bad\.elf' refused: not an ELF file"],
        "reject": [r"starting \d+ application processors", r"entering partition"],
        "result": {"status": "fail", "reason": "image"},
    },
    # ---- the Linux boot protocol, on a test guest wrapped as a bzImage (guest-stubs/bzimage/)
    {
        "name": "linux_boot_protocol_bzimage",
        "platforms": BOTH,
        "smp": 3,
        "config": SIDE0 + "partition name=lin cpus=1-2 memory=64M image=bzboot.bzImage "
                          "initrd=bzboot.initrd args=\"console=hvc0 rdinit=/init quiet\"\n",
        "expect": [r"entering partition 'lin' vCPU 0 at 1000200 ",
                   r"partition 'lin' vCPU 1 waits to be started by its kernel",
                   guest_pass("lin", 0, r"vCPU 0: entered at 0x1000200 with rsi 0x7000 \(zero "
                              r"page\), cs 0x10, ss 0x18"),
                   guest_pass("lin", 0, r"vCPU 0: zero page holds the setup header \(HdrS 2\.15, "
                              r"loader 0xff\)"),
                   guest_pass("lin", 0, r'vCPU 0: command line at 0x8000: "console=hvc0 '
                              r'rdinit=/init quiet"'),
                   guest_pass("lin", 0, r"vCPU 0: e820 has 6 entries: RAM 0x50000-0x9f000 and "
                              r"0x200000-0x3ff8000; the boot structures, the page tables, the "
                              r"stacks and the ring window reserved"),
                   guest_pass("lin", 0, r"vCPU 0: initrd of 300000 bytes at 0x[0-9a-f]+, above "
                              r"the kernel \(ends 0x101e000\), its pattern intact"),
                   r"partition 'lin' vCPU 1 started at [0-9a-f]+$",
                   guest_pass("lin", 0, r"vCPU 0: boot info lists APIC IDs 1 \(its own\) and 2, a "
                              r"LAPIC timer clock of [1-9]\d* kHz"),
                   guest_pass("lin", 1, r"vCPU 1: first run, started by vCPU 0, on the APIC ID "
                              r"its boot info gives"),
                   guest_pass("lin", 0, r"vCPU 0: vCPU 1 waited parked until started through "
                              r"the irq ring \(0\)")],
        "reject": [NO_FAIL],
        "partitions": {"lin": {"status": "pass", "vcpus": 2}},
    },
    # ---- Linux 6.1 with the patch series (guest-stubs/linux/), built by the test
    # linux.series_and_kernel ("needs_linux": the case runs after it, in its label "linux")
    {
        "name": "linux_guest_smp",
        "not_on_bochs": LINUX_TOO_SLOW,
        "needs_linux": True,
        "smp": 5,
        "memory": "1G",
        "timeout": 300,
        "config_file": "guest-stubs/linux/linux.cfg",
        "expect": [guest_line("linux", 0, r"Linux version 6\.1\.\d+"),
                   guest_line("linux", 0, r"Hypervisor detected: sidecore"),
                   guest_line("linux", 0, r"sidecore: partition 'linux', 2 vCPUs"),
                   guest_line("linux", r"\d", r"sidecore: IPIs through the irq request ring"),
                   r"partition 'linux' vCPU 1 started at [0-9a-f]+$",
                   guest_line("linux", r"\d", r"smp: Brought up 1 node, 2 CPUs"),
                   guest_line("linux", r"\d", r"printk: console \[hvc0\] enabled"),
                   guest_pass("linux", r"\d", "linux init reached"),
                   guest_pass("linux", r"\d", r"2 CPUs online \(0-1\)"),
                   guest_pass("linux", r"\d", r"steady phase: [1-9]\d* round trips and [1-9]\d* "
                              r"IPIs between CPU 0 and CPU 1"),
                   guest_pass("linux", r"\d", r"steady phase: cpu0 \(vcpu=0\) took 0 exits"),
                   guest_pass("linux", r"\d", r"steady phase: cpu1 \(vcpu=1\) took 0 exits"),
                   r"partition 'linux' vCPU 1 stopped by a request of its partition \(status 0\)",
                   r"partition 'linux' vCPU 0 exited with status 0 ",
                   r"partition 'linux' vCPU 0 \(cpu 1\): \d+ exits .*; steady phase: 0 exits$",
                   r"partition 'linux' vCPU 1 \(cpu 2\): \d+ exits .*; steady phase: 0 exits$",
                   guest_pass("linux", r"\d", r"exit counters: 2 CPUs, each its own"),
                   guest_pass("linux", r"\d", r"CPU 1 taken offline and brought back"),
                   r"partition 'linux' vCPU 1 started again at [0-9a-f]+$",
                   r"ring linux\.1/irq on side core 0: [1-9]\d* requests, 0 errors",
                   r"ring linux\.0/io on side core 4: [1-9]\d* requests, 0 errors",
                   # the disk: Linux's own virtio_blk on the virtio-pci device
                   guest_line("linux", r"\d", r"pci 0000:00:01\.0: \[1af4:1042\] type 00"),
                   guest_line("linux", r"\d", r"virtio_blk virtio0: \[vda\] 8192 512-byte "
                              r"logical blocks"),
                   guest_pass("linux", r"\d", r"virtio-blk: /dev/vda has 8192 sectors"),
                   guest_pass("linux", r"\d", r"virtio-blk: sector 4096 read with direct I/O "
                              r"holds the image's own line"),
                   guest_pass("linux", r"\d", r"virtio-blk: 1 MiB written and read back with "
                              r"direct I/O, checksums match"),
                   r"block queue linux\.0 on side core 4 \(virtio-pci\): [1-9]\d* requests, "
                   r"0 errors",
                   guest_pass("hello", 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 1")],
        "reject": [NO_FAIL, r"unchecked MSR access", r"Call Trace", r"Kernel panic",
                   r"virtio-pci MSI-X message", r"MMIO at", r"BROKEN"],
        "partitions": {"linux": {"status": "pass", "vcpus": 2, "steady_exits": 0},
                       "hello": {"status": "pass"}},
        "result": {"status": "ok", "partitions": 2, "guest_cores": 3, "sidecores": 2},
    },
    {
        "name": "linux_guest_bench",
        "not_on_bochs": LINUX_TOO_SLOW,
        "needs_linux": True,
        "smp": 5,
        "memory": "1G",
        "timeout": 300,
        "config_file": "guest-stubs/linux/linux.cfg",
        "linux_args": "sidecore_bench=20 sidecore_noise_ms=50",
        # 5 rounds of 4 samples, ring then trap
        "expect": [guest_line("linux", 0, rf"BENCH op={op} transport={t} round={r} n=4 .* "
                              rf"exits={e}$")
                   for op in ("null", "cpuid", "pt_map", "ipi", "blk_write", "blk_read")
                   for r in range(5) for t, e in (("ring", 0), ("trap", 4))] +
                  [guest_pass("linux", r"\d", "benchmark: 20 samples per operation and "
                                            "transport"),
                   guest_line("linux", r"\d", r"NOISE_SUMMARY vcpu=0 ms=50 .* exits=0$"),
                   guest_line("linux", r"\d", r"NOISE_SUMMARY vcpu=1 ms=50 .* exits=0$"),
                   guest_pass("linux", r"\d", "noise: 50 ms on every CPU")],
        "reject": [NO_FAIL, r"BENCH .*failed=", r"Call Trace",
                   r"BENCH op=\w+ transport=ring .* exits=[1-9]"],
        "partitions": {"linux": {"status": "pass", "vcpus": 2}},
    },
    {
        "name": "linux_boot_protocol_refusals",
        "platforms": BOTH,
        "smp": 2,
        "status": FAIL,
        "config": SIDE0 + "partition name=small cpus=1 memory=16M image=bzboot.bzImage\n",
        "expect": [r"sidecore\.cfg:2: partition 'small': Linux image 'bzboot\.bzImage' refused: "
                   r"the kernel is not relocatable and 0x1000000-0x101e000 is outside "
                   r"0x200000-0xffc000"],
        "reject": [r"starting \d+ application processors", r"entering partition"],
        "result": {"status": "fail", "reason": "image"},
    },
    {
        "name": "linux_initrd_needs_a_bzimage",
        "platforms": BOTH,
        "smp": 2,
        "status": FAIL,
        "config": SIDE0 + "partition name=elf cpus=1 memory=16M image=hello.elf "
                          "initrd=bzboot.initrd\n",
        "expect": [r"sidecore\.cfg:2: partition 'elf': initrd 'bzboot\.initrd' given, but image "
                   r"'hello\.elf' is not a Linux bzImage"],
        "reject": [r"starting \d+ application processors", r"entering partition"],
        "result": {"status": "fail", "reason": "image"},
    },
    # ---- side cores, request rings and services (issue 4)
    {
        "name": "rings_every_op_ring_vs_trap",
        "platforms": BOTH,
        "smp": 3,
        "config": "sidecore cpu=0 services=pt,irq,io poll=adaptive spin=2000 sleep_us=50\n"
                  "partition name=svc cpus=1-2 memory=32M image=services.elf\n",
        "expect": [guest_pass("svc", 0, "services: every check passed on both vCPUs"),
                   r"side core 0 \(poll adaptive\) serves 6 rings: svc\.0/pt svc\.0/irq svc\.0/io "
                   r"svc\.1/pt svc\.1/irq svc\.1/io"] +
                  [guest_line("svc", 0, rf"RESULT op={op} transport=ring exits=0$") for op in
                   ("null", "cpuid_table", "pt_query", "pt_map", "pt_protect_rwx", "ipi_vcpu1",
                    "ipi_all", "console", "pt_map_bad_gpa", "ipi_bad_vector")] +
                  [guest_line("svc", 0, rf"RESULT op={op} transport=trap exits=1$") for op in
                   ("null", "cpuid_table", "pt_query", "pt_map", "pt_unmap", "pt_protect_r",
                    "ipi_vcpu1", "ipi_all", "console", "vcpu_kick")] +
                  [guest_line("svc", 0, r"RESULT op=pt_unmap transport=ring exits=1$"),  # the flush kick
                   guest_line("svc", 0, r"RESULT op=pt_protect_r transport=ring exits=1$"),
                   guest_pass("svc", 1, r"vCPU 1: took \d+ IPIs on vector 0x50 with interrupts "
                              r"enabled \(want \d+\), 0 exits of its own while waiting"),
                   r"ring svc\.0/pt on side core 0: \d+ requests, \d+ errors, largest batch \d+"],
        "reject": [NO_FAIL],
        "partitions": {"svc": {"status": "pass", "vcpus": 2}},
        "result": {"status": "ok"},
    },
    {
        "name": "rings_hostile_guest_isolated",
        "platforms": BOTH,
        "smp": 4,
        "config": "sidecore cpu=0 services=pt,irq,io poll=adaptive spin=2000 sleep_us=50\n"
                  "partition name=hostile cpus=1 memory=16M image=hostile.elf\n"
                  "partition name=svc cpus=2-3 memory=32M image=services.elf\n",
        "expect": [r"ring hostile\.0/pt: corrupted indices \(head \d+, tail \d+\): marked broken",
                   guest_pass("hostile", 0, r"vCPU 0: flooded the pt ring"),
                   guest_pass("hostile", 0, r"vCPU 0: the trap path still works"),
                   guest_pass("svc", 0, "services: every check passed on both vCPUs"),
                   r"ring hostile\.0/pt on side core 0: \d+ requests, \d+ errors, largest batch 8, "
                   r"BROKEN"],
        "reject": [NO_FAIL],
        "partitions": {"hostile": {"status": "pass"}, "svc": {"status": "pass"}},
        "result": {"status": "ok"},
    },
    {
        "name": "rings_placed_on_named_side_cores",
        "not_on_bochs": MANY_CPUS,
        "smp": 5,
        "config": "sidecore cpu=0 services=pt poll=adaptive spin=2000 sleep_us=50\n"
                  "sidecore cpu=1 services=irq poll=adaptive spin=2000 sleep_us=50\n"
                  "sidecore cpu=2 services=io poll=adaptive spin=2000 sleep_us=50\n"
                  "partition name=a cpus=3 memory=16M image=ringping.elf args=service=io\n"
                  "partition name=b cpus=4 memory=16M image=ringping.elf args=service=pt\n",
        "expect": [r"side core 0 \(poll adaptive\) serves 2 rings: a\.0/pt b\.0/pt$",
                   r"side core 1 \(poll adaptive\) serves 2 rings: a\.0/irq b\.0/irq$",
                   r"side core 2 \(poll adaptive\) serves 2 rings: a\.0/io b\.0/io$",
                   r"ring a\.0/io on side core 2: 1000 requests, 0 errors",
                   r"ring b\.0/pt on side core 0: 1000 requests, 0 errors",
                   guest_pass("a", 0, "1000 ring requests completed"),
                   guest_pass("b", 0, "no exits during the ring requests")],
        "reject": [NO_FAIL, r"ring a\.0/io on side core [01]:", r"ring b\.0/pt on side core [12]:"],
        "partitions": {"a": {"status": "pass"}, "b": {"status": "pass"}},
        "result": {"status": "ok", "sidecores": 3},
    },
    {
        "name": "rings_service_split_across_side_cores",
        "platforms": BOTH,
        "smp": 4,
        "config": "sidecore cpu=0 services=pt,irq,io poll=adaptive spin=2000 sleep_us=50\n"
                  "sidecore cpu=1 services=io poll=adaptive spin=2000 sleep_us=50\n"
                  "partition name=p cpus=2-3 memory=16M image=ringping.elf args=service=io\n",
        "expect": [r"side core 0 \(poll adaptive\) serves 5 rings: p\.0/pt p\.0/irq p\.0/io "
                   r"p\.1/pt p\.1/irq$",
                   r"side core 1 \(poll adaptive\) serves 1 rings: p\.1/io$",
                   r"ring p\.0/io on side core 0: 1000 requests",
                   r"ring p\.1/io on side core 1: 1000 requests"],
        "reject": [NO_FAIL],
        "partitions": {"p": {"status": "pass", "vcpus": 2}},
    },
    {
        "name": "rings_vcpu_stop_and_start",
        "platforms": BOTH,
        "smp": 3,
        "config": "sidecore cpu=0 services=pt,irq,io poll=adaptive spin=2000 sleep_us=50\n"
                  "partition name=ss cpus=1-2 memory=16M image=startstop.elf\n",
        "expect": [guest_pass("ss", 0, "vCPU 0: starting the running vCPU 1 is refused with -EBUSY"),
                   r"partition 'ss' vCPU 1 stopped by a request of its partition \(status 7\)",
                   r"partition 'ss' vCPU 1 started again at [0-9a-f]+",
                   guest_pass("ss", 1, "vCPU 1: started again by vCPU 0 at its new entry"),
                   guest_pass("ss", 0, "vCPU 0: vCPU 1 ran its new entry")],
        "reject": [NO_FAIL],
        "partitions": {"ss": {"status": "pass", "vcpus": 2}},
    },
    {
        "name": "rings_restart_never_sees_a_stale_event",
        "platforms": BOTH,
        "smp": 3,
        "timeout": 240,
        "config": "sidecore cpu=0 services=pt,irq,io poll=adaptive spin=2000 sleep_us=50\n"
                  "partition name=rs cpus=1-2 memory=16M image=restart.elf\n",
        "expect": [guest_pass("rs", 0, r"vCPU 0: stopped vCPU 1 inside a loop of injected #GPs "
                              r"and started it again 39 times; it never took an event from "
                              r"before its stop"),
                   r"partition 'rs' vCPU 1 started again at [0-9a-f]+"],
        "reject": [NO_FAIL, r"partition 'rs' stopped by", r"triple fault"],
        "partitions": {"rs": {"status": "pass", "vcpus": 2}},
        "result": {"status": "ok"},
    },
    {
        "name": "rings_block_device",
        "platforms": BOTH,
        "smp": 2,
        "files": {"disk.img": bytes(1024 * 1024)},
        "config": "sidecore cpu=0 services=pt,irq,io poll=adaptive spin=2000 sleep_us=50\n"
                  "partition name=blk cpus=1 memory=16M image=blk.elf disk=disk.img\n",
        "expect": [guest_pass("blk", 0, "blk: capacity 2048 sectors"),
                   guest_pass("blk", 0, r"ring: wrote sectors 0\.\.63 in \d+ requests, read them "
                              r"back in \d+: every byte equal"),
                   guest_pass("blk", 0, r"ring: exits during the I/O: write 1, read 1"),
                   guest_pass("blk", 0, r"irq: each of the \d+ completions arrived by IPI"),
                   guest_line("blk", 0, r"RESULT op=blk_read transport=ring requests=\d+ sectors=64 exits=1 "
                              r"io_exits=0"),
                   r"block queue blk\.0 on side core 0: \d+ requests, 0 errors"],
        "reject": [NO_FAIL],
        "partitions": {"blk": {"status": "pass"}},
        "result": {"status": "ok"},
    },
    # the virtio-pci disk driven by a hostile driver, beside a partition whose disk the same
    # io side core keeps serving
    {
        "name": "vpci_hostile_driver",
        "platforms": BOTH,
        "smp": 3,
        "files": {"vd.img": bytes((i * 7 + 1) & 0xff for i in range(512)) + bytes(64 * 1024),
                  "disk.img": bytes(1024 * 1024)},
        "config": "sidecore cpu=0 services=pt,irq,io poll=adaptive spin=2000 sleep_us=50\n"
                  "partition name=hv cpus=1 memory=16M image=vpcihostile.elf disk=vd.img\n"
                  "partition name=blk cpus=2 memory=16M image=blk.elf disk=disk.img\n",
        "expect": [guest_pass("hv", 0, r"vpci: 00:01\.0 is 1af4:1042"),
                   guest_pass("hv", 0, r"vpci: 00:02\.0 reads all ones"),
                   guest_pass("hv", 0, r"vpci: BAR0 at 0xfe000000"),
                   guest_pass("hv", 0, r"vpci: a queue outside the partition's RAM: refused, "
                              r"DEVICE_NEEDS_RESET \(status 0x4f\)"),
                   r"partition 'hv': virtio-pci queue refused \(error -\d+: rings outside",
                   guest_pass("hv", 0, r"vpci: reset clears the status"),
                   guest_pass("hv", 0, r"vpci: queue started \(status 0xf\), the used ring says "
                              r"NO_NOTIFY"),
                   guest_pass("hv", 0, r"vpci: sector 0 read through the device with 0 exits, "
                              r"completion by MSI-X vector 0x60 \(1 interrupt\), the image's "
                              r"bytes"),
                   guest_pass("hv", 0, r"vpci: a data buffer outside the partition's RAM: the "
                              r"request failed with an I/O error \(status 1\)"),
                   guest_pass("hv", 0, r"vpci: the next request completes normally \(status 0\)"),
                   guest_pass("hv", 0, r"vpci: a looping chain: DEVICE_NEEDS_RESET \(status "
                              r"0x4f\), nothing completed \(used idx 3\), ISR 0x2"),
                   r"block queue of hv\.0 is corrupted: marked broken, no longer served "
                   r"\(virtio-pci device: NEEDS_RESET\)",
                   guest_pass("hv", 0, r"vpci: an MSI-X entry aimed outside the partition: the "
                              r"request completed, no interrupt arrived \(0\)"),
                   r"partition 'hv': virtio-pci MSI-X message \(address 0:fee[0-9a-f]{5}, data "
                   r"60\) not sent: the destination is not a core of the partition",
                   # the other partition's disk, on the same io side core, all along
                   guest_pass("blk", 0, r"ring: wrote sectors 0\.\.63 in \d+ requests, read "
                              r"them back in \d+: every byte equal"),
                   r"block queue blk\.0 on side core 0: \d+ requests, 0 errors"],
        "reject": [NO_FAIL, r"MMIO at"],
        "partitions": {"hv": {"status": "pass"}, "blk": {"status": "pass"}},
        "result": {"status": "ok"},
    },
    # ---- benchmarks (issue 5): exact exit counts only, never timings
    {
        "name": "bench_exits_per_op",
        "platforms": BOTH,
        "smp": 3,
        "files": {"bench.img": bytes(1024 * 1024)},
        "config": "sidecore cpu=0 services=pt,irq,io poll=spin\n"
                  "partition name=bench cpus=1-2 memory=32M image=bench.elf disk=bench.img "
                  "args=\"mode=ops n=20\"\n",
        # every operation in each of the 5 rounds, ring then trap (4 samples a round)
        "expect": [guest_line("bench", 0, rf"BENCH op={op} transport=ring round={r} n=\d+ .* "
                              r"exits=0 exits_x1000=0$")
                   for op in ("null", "cpuid", "pt_map", "ipi", "console", "blk_read",
                              "blk_write") for r in range(5)] +
                  [guest_line("bench", 0, rf"BENCH op={op} transport=trap round={r} n=(\d+) .* "
                              r"exits=[1-9]\d* exits_x1000=([1-9]\d{3,})$")
                   for op in ("null", "cpuid", "pt_map", "ipi", "console", "blk_read",
                              "blk_write") for r in range(5)] +
                  [guest_pass("bench", 0, "bench ops done")],
        "reject": [NO_FAIL, r"skipped=", r"BENCH op=\w+ transport=ring .* exits=[1-9]"],
        "partitions": {"bench": {"status": "pass"}},
    },
    # ---- issue 8: bounded console, intercepts, bad exits
    {
        "name": "console_flood_bounded",
        "platforms": BOTH,
        "smp": 3,
        "config": "sidecore cpu=0 services=pt,irq,io poll=spin\n"
                  "boot run_timeout_ms=60000\n"
                  "partition name=victim cpus=1 memory=16M image=ringlat.elf\n"
                  "partition name=flood cpus=2 memory=16M image=conflood.elf\n",
        "expect": [guest_pass("victim", 0, r"ringlat: 200 of 200 null requests completed$"),
                   r"victim\.0: ringlat: 200 null requests on the io ring: median \d+ us, max \d+ us$",
                   guest_pass("flood", 0, r"conflood: every request completed with its length$"),
                   r"cpu\d+ +warn +console output of partition 'flood' dropped: more than 4 lines "
                   r"in one request or 64 lines/s",
                   r"cpu0 +info +partition 'flood': [1-9]\d* console lines dropped \(bounds: 4 lines "
                   r"per request, 64 lines/s, bursts of 1024\)$",
                   r"^RESULT partition=flood status=pass .* console_dropped=[1-9]\d* dma_faults=0$"],
        "reject": [NO_FAIL, r"still running after the",
                   r"(?s)console output of partition 'flood' dropped.*"
                   r"console output of partition 'flood' dropped",
                   r"console output of partition 'victim' dropped"],
        "partitions": {"victim": {"status": "pass", "console_dropped": 0},
                       "flood": {"status": "pass"}},
        "result": {"status": "ok"},
    },
    {
        "name": "guest_debug_exception_loop",
        "platforms": BOTH,
        "smp": 3,
        "status": FAIL,
        "config": SIDE0 + "boot run_timeout_ms=5000\n"
                  "partition name=dbloop cpus=1 memory=16M image=dbloop.elf\n"
                  "partition name=good cpus=2 memory=16M image=hello.elf\n",
        "expect": [guest_pass("dbloop", 0, r"dbloop: \d+ #DB taken, each with DR6\.BS set, TF set "
                                 r"in the rflags pushed but after the popfq clearing it$"),
                   guest_pass("dbloop", 0, r"dbloop: exception exits rose by \d+, one per #DB$"),
                   r"cpu0 +error +partition 'dbloop' still running after the 5000 ms time-out: "
                   r"stopping it$",
                   r"partition 'dbloop' was stopped: still running after the 5000 ms time-out$",
                   # nmi=N when the time-out's kick, not the next #DB, ended the last entry
                   r"partition 'dbloop' vCPU 0 \(cpu 1\): \d+ exits hypercall=\d+ (nmi=\d )?"
                   r"exception=[1-9]\d{3,}$",
                   guest_pass("good", 0, r"vCPU 0: CPUID 0x40000000 signature SidecoreHypv")],
        "reject": [NO_FAIL, r"unexpected exit", r"partition 'good' was stopped"],
        "partitions": {"dbloop": {"status": "stopped"}, "good": {"status": "pass"}},
        "result": {"status": "fail", "parked": 0},
    },
    {
        "name": "guest_bad_exits",
        "platforms": BOTH,
        "smp": 3,
        "status": FAIL,
        "config": SIDE0 +
                  "partition name=bad cpus=1 memory=16M image=badexit.elf\n"
                  "partition name=good cpus=2 memory=16M image=hello.elf\n",
        "expect": [guest_pass("bad", 0, r"IN 8-bit from port 0x404: rax 0x11223344556677ff, "
                                 r"the byte read all ones, the rest kept; exits: io \+1, #GP 0$"),
                   guest_pass("bad", 0, r"IN 16-bit from port 0x404: rax 0x112233445566ffff, "
                                 r"the bytes read all ones, the rest kept; exits: io \+1, #GP 0$"),
                   guest_pass("bad", 0, r"IN 32-bit from port 0x404: rax 0xffffffff, all ones "
                                 r"zero-extended; exits: io \+1, #GP 0$")] +
                  [guest_pass("bad", 0, rf"OUT {n}-bit to port 0x404 dropped; exits: io \+1, "
                                 r"#GP 0$") for n in (8, 16, 32)] +
                  [guest_pass("bad", 0, rf"{insn} port 0x404: #GP \(error 0\) at the "
                                 rf"instruction, {what} unchanged; exits: io \+1, #GP 1$")
                   for insn, what in (("INSB from", "memory and rdi"),
                                      ("REP INSB from", "memory, rdi and rcx"),
                                      ("OUTSB to", "rsi"))] +
                  [guest_pass("bad", 0, rf"RDMSR {m}: #GP \(error 0\) at the instruction, rax "
                                 r"and rdx unchanged; exits: msr-read \+1, #GP 1$")
                   for m in ("0x1234", "0x4b564d00")] +
                  [guest_pass("bad", 0, rf"WRMSR {m}: #GP \(error 0\) at the instruction; "
                                 r"exits: msr-write \+1, #GP 1$") for m in ("0x1234", "0x4b564d00")] +
                  [guest_pass("bad", 0, r"INVD: one exit, execution goes on, a value written "
                                 r"before it kept; exits: other \+1, #GP 0$"),
                   guest_pass("bad", 0, r"WBINVD: one exit, execution goes on; exits: other "
                                 r"\+1, #GP 0$"),
                   r"cpu1 +warn +partition 'bad' vCPU 0: in from port 0x404, not owned: reads "
                   r"give all ones, writes are dropped, string I/O gets #GP \(logged once\)$",
                   {"svm": r"cpu1 +error +partition 'bad' stopped by vCPU 0: unexpected exit 0x85 "
                           r"\(exitinfo1 0, exitinfo2 0\)$",  # CLGI
                    "vmx": r"cpu1 +error +partition 'bad' stopped by vCPU 0: unexpected exit 0x1a "
                           r"\(qualification 0, intr-info/gpa 0\)$"},  # VMXOFF (26)
                   r"cpu1 +error +bad\.0 guest state: rip [0-9a-f]{16} ",
                   r"cpu0 +info +partition 'bad' vCPU 0 \(cpu 1\): \d+ exits hypercall=\d+ "
                   r"msr_read=2 msr_write=2 io=9 other=3$",
                   guest_pass("good", 0, r"vCPU 0: CPUID 0x40000000 signature SidecoreHypv")],
        "reject": [NO_FAIL, r"partition 'good' was stopped"],
        "partitions": {"bad": {"status": "stopped"}, "good": {"status": "pass"}},
        "result": {"status": "fail", "parked": 0},
    },
    # ---- a stack overflow runs into the guard page and parks only that CPU (issue 8)
    {
        "name": "stack_overflow_parks_one_cpu",
        "not_on_bochs": NO_GUEST_CODE,
        "smp": 4,
        "status": FAIL,
        "config": SIDE0 + "partition name=p cpus=1-3 memory=16M\ndebug overflow_cpu=2\n",
        "expect": [r"cpu2 +warn +recursing until the stack overflows \('debug overflow_cpu=2'\)",
                   r"cpu2 +error +cpu 2: stack overflow \(guard page hit at 0x[0-9a-f]+, below "
                   r"its main stack\)$",
                   r"cpu2 +error +exception #DF double fault \(vector 8\)",
                   r"cpu 2 parked: stack overflow \(guard page of its main stack hit\)",
                   cpu_row(2, 2, "parked", r"guest core: partition 'p' vCPU 1 -- stack overflow "
                                           r"\(guard page of its main stack hit\)"),
                   cpu_row(1, 1, "running", r"guest core: partition 'p' vCPU 0"),
                   cpu_row(3, 3, "running", r"guest core: partition 'p' vCPU 2")],
        "result": {"status": "fail", "online": 4, "missing": 0, "parked": 1},
    },
    # ---- an exception while holding the log lock parks that CPU; the others keep logging
    {
        "name": "exception_holding_log_lock",
        "not_on_bochs": NO_GUEST_CODE,
        "smp": 4,
        "status": FAIL,
        "config": SIDE0 + "partition name=p cpus=1-3 memory=16M\ndebug log_fault_cpu=2\n",
        "expect": [r"cpu2 +warn +taking a deliberate #UD while holding the log lock "
                   r"\('debug log_fault_cpu=2'\)",
                   r"cpu2 +error +exception #UD invalid opcode \(vector 6\)",
                   r"cpu2 +error +cr0 [0-9a-f]{16} +cr2",
                   r"cpu 2 parked: exception #UD invalid opcode at rip [0-9a-f]+$",
                   cpu_row(2, 2, "parked", r"guest core: partition 'p' vCPU 1 -- exception #UD "
                                           r"invalid opcode at rip [0-9a-f]+"),
                   cpu_row(1, 1, "running", r"guest core: partition 'p' vCPU 0"),
                   cpu_row(3, 3, "running", r"guest core: partition 'p' vCPU 2"),
                   # the boot CPU's table comes after cpu 2 parked (it waits for that): the
                   # lock cpu 2 held is free again; the other APs log their roles too
                   r"cpu1 +info +role: guest core: partition 'p' vCPU 0$",
                   r"cpu3 +info +role: guest core: partition 'p' vCPU 2$"],
        "reject": [r"did not acknowledge its role"],
        "result": {"status": "fail", "online": 4, "missing": 0, "parked": 1},
    },
    # ---- a side core never waits on a guest core (issue 8, finding 3)
    {
        "name": "rings_unmap_never_waits_on_a_trapped_sibling",
        "platforms": BOTH,
        "smp": 4,
        "config": "sidecore cpu=0 services=pt,irq,io poll=adaptive spin=2000 sleep_us=50\n"
                  "debug slow_trap_ms=1000\n"
                  "partition name=a cpus=1-2 memory=32M image=flushwait.elf "
                  "args=role=unmap\n"
                  "partition name=b cpus=3 memory=16M image=flushwait.elf "
                  "args=role=ping\n",
        "expect": [guest_pass("a", 0, r"vCPU 0: 64 of 64 unmaps through the ring returned 0 "
                              r"\(first other status 0\), 64 took effect"),
                   guest_pass("a", 0, r"vCPU 0: 64 of 64 pages mapped back through the ring, 64 "
                              r"with their contents"),
                   guest_pass("a", 0, r"vCPU 0: 64 exits during the 64 unmaps, 64 of them NMI"),
                   guest_pass("a", 1, r"vCPU 1: sat in \d+ traps meanwhile"),
                   guest_pass("b", 0, r"ping: (\d+) of \1 null requests completed with status 0"),
                   # the figures: printed, never judged
                   r"a\.0: flushwait: vCPU 0: 64 unmaps .* longest unmap \d+ us",
                   r"b\.0: flushwait: ping: \d+ null requests .* longest \d+ us",
                   # deferred flushes are counted when the side core met one; whether it did
                   # depends on how the cores interleave (Bochs runs them in turns)
                   r"ring a\.0/pt on side core 0: 192 requests, 64 errors, largest batch \d+"
                   r"(, \d+ deferred)?$",
                   r"side core 0: longest service call \d+ us \(\w+ on ring [ab]\.\d/\w+\)$"],
        "reject": [NO_FAIL, r"did not flush"],
        "partitions": {"a": {"status": "pass", "vcpus": 2}, "b": {"status": "pass"}},
        "result": {"status": "ok"},
    },
]


def multiboot2_iso(name, platform):
    """The default configuration again, from the Multiboot2 ISO: the same result, and the
    GRUB, loader and core lines that show which way it came."""
    base = next(c for c in CASES if c["name"] == "boot_smp4_default")
    return dict(base, name=name, platforms=[platform], not_on_bochs=ISO_FIRMWARE, timeout=180,
                expect=base["expect"] + [
        r"sidecore-grub: loading the hypervisor and 4 modules",
        r"^sidecore-mb2: configuration: module sidecore\.cfg \(\d+ bytes\); 3 other modules",
        r"^sidecore-mb2: module bench\.img \(1048576 bytes\) at [0-9a-f]+$",
        r"^sidecore-mb2: ACPI RSDP at [0-9a-f]+; TSC [1-9]\d* MHz \(PIT\)$",
        r"cpu0 +info +sidecore hypervisor: core entered from the Multiboot2 loader",
        r"hypervisor image +0*1000000-"])


CASES += [multiboot2_iso("multiboot2_iso_seabios", "qemu-iso-bios"),
          multiboot2_iso("multiboot2_iso_ovmf", "qemu-iso-efi")]


def disk_image_case():
    """The default configuration from the disk image of tools/sidecore image: OVMF and
    -drive file=IMG,format=raw only, as a node would boot it from its disk or a USB stick."""
    base = next(c for c in CASES if c["name"] == "boot_smp4_default")
    return dict(base, name="disk_image_boots", platforms=["qemu-disk"], not_on_bochs=UEFI_LOADER,
                expect=base["expect"] + [
                    r"sidecore-efi: configuration \\EFI\\BOOT\\sidecore\.cfg \(\d+ bytes\)",
                    r"sidecore-efi: loaded bench\.img \(1048576 bytes\)",
                    r"cpu0 +info +sidecore hypervisor: core entered from the UEFI loader"])


CASES += [disk_image_case()]


# Network boot: three nodes, one boot server. Two have a configuration of their own, the third
# gets the default; each partition is named after the configuration that made it.
NETBOOT_NODES = {"52:54:00:00:00:0a": "nodea", "52:54:00:00:00:0b": "nodeb"}
NETBOOT_UNKNOWN_MAC = "52:54:00:00:00:0c"
NETBOOT_NAMES = list(NETBOOT_NODES.values()) + ["fallback"]
NO_NETBOOT = "network boot is the UEFI loader's (PXE over OVMF): Bochs has no UEFI"


def netboot_config(partition):
    return SIDE0 + f"partition name={partition} cpus=1 memory=16M image=hello.elf\n"


def netboot_case(name, mac, partition, config_line):
    others = [n for n in NETBOOT_NAMES if n != partition]
    return {
        "name": name,
        "platforms": ["qemu-pxe"],
        "not_on_bochs": NO_NETBOOT,
        "smp": 2,
        "mac": mac,
        "config": netboot_config("fallback"),
        "node_configs": {m: netboot_config(p) for m, p in NETBOOT_NODES.items()},
        "expect": [rf"^sidecore-efi: network boot from tftp://10\.0\.2\.2/; this node is "
                   rf"{mac}$",
                   config_line,
                   r"^sidecore-efi: loaded hello\.elf \(\d+ bytes\)",
                   guest_pass(partition, 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 1")],
        "reject": [NO_FAIL] + [rf"\b{o}\.0:|partition={o}\b" for o in others],
        "partitions": {partition: {"status": "pass", "vcpus": 1}},
        "result": {"status": "ok", "partitions": 1},
    }


def own_config_line(mac):
    file = "sidecore-" + mac.replace(":", "-") + r"\.cfg"
    return rf"^sidecore-efi: configuration tftp://10\.0\.2\.2/{file} \(\d+ bytes, this node's own\)$"


CASES += [netboot_case(f"netboot_node_{p[-1]}", mac, p, own_config_line(mac))
          for mac, p in NETBOOT_NODES.items()]
CASES += [netboot_case(
    "netboot_unknown_node_default_config", NETBOOT_UNKNOWN_MAC, "fallback",
    r"^sidecore-efi: no tftp://10\.0\.2\.2/sidecore-52-54-00-00-00-0c\.cfg for this node; "
    r"using sidecore\.cfg\n(.*\n)?sidecore-efi: configuration tftp://10\.0\.2\.2/sidecore\.cfg "
    r"\(\d+ bytes\)$")]
# A node's own configuration names a file the server does not have: the loader stops with
# that file's name and line, and does not fall back to the default.
CASES += [dict(netboot_case("netboot_node_file_missing", "52:54:00:00:00:0a", "nodea", ""),
               node_configs={"52:54:00:00:00:0a": SIDE0 + "partition name=nodea cpus=1 "
                             "memory=16M image=missing.elf\n"},
               status=FAIL, expect=[
                   r"^sidecore-efi: error: sidecore-52-54-00-00-00-0a\.cfg:2: cannot read image "
                   r"'missing\.elf' of partition 'nodea' \(not found\)"],
               partitions={}, result={},
               reject=[r"sidecore-efi: configuration tftp://10\.0\.2\.2/sidecore\.cfg",
                       r"exiting boot services"])]


# ---- PCI devices and IOMMUs (issue 14): discovery, the device table, devices= refused or kept
NO_PCI_ON_BOCHS = ("QEMU's intel-iommu, amd-iommu and edu devices: Bochs emulates neither IOMMU "
                   "nor these devices")
VTD = ["intel-iommu"]
AMDVI = ["amd-iommu,pt=off"]
EDU = "edu"
# a PCI Express root port, a PCI Express to PCI bridge behind it, two edu devices behind that
BEHIND_BRIDGE = ["pcie-root-port,id=rp1,chassis=1", "pcie-pci-bridge,id=br1,bus=rp1",
                 "edu,bus=br1,addr=1", "edu,bus=br1,addr=2"]


def device_row(function, ident, cls, unit, owner):
    return (rf"^\[ *[0-9.]+\] cpu0 +info +{function}  {ident}  {cls} +{unit} +{owner} ")


def pci_case(name, devices, config, expect, status=OK, partitions=None, result=None, smp=2,
             reject=()):
    return {"name": name, "not_on_bochs": NO_PCI_ON_BOCHS, "smp": smp, "devices": devices,
            "config": config, "status": status, "expect": expect,
            "reject": [NO_FAIL] + list(reject),
            "partitions": partitions or {}, "result": result or {}}


HELLO_DMA = "partition name=dma cpus=1 memory=16M image=hello.elf devices="


def shared_requester_id_case(name, iommu, expect=()):
    """Two partitions behind one PCI Express to PCI bridge: one requester ID, refused. The
    IVRS says so with an alias; under VT-d the bridge's type does."""
    return pci_case(name, iommu + BEHIND_BRIDGE, SIDE0 +
                    "partition name=a cpus=1 memory=8M image=hello.elf devices=02:01.0\n"
                    "partition name=b cpus=2 memory=8M image=hello.elf devices=02:02.0\n",
                    list(expect) + [
        r"cpu0 +error +sidecore\.cfg:3: partition 'b': PCI function 0000:02:02\.0 its DMA "
        r"carries the same requester ID as 0000:02:01\.0 of partition 'a' \(line 2\)$"],
        status=FAIL, smp=3, result={"status": "fail", "reason": "config"})
CASES += [
    # VT-d: the DMAR's unit, edu at 00:02.0 owned by 'dma'; the partition runs
    pci_case("iommu_vtd_device_table", VTD + [EDU], SIDE0 + HELLO_DMA + "00:02.0\n", [
        r"cpu0 +info +PCI: 6 functions in 1 ECAM range$",
        r"cpu0 +info +IOMMU: Intel VT-d \(DMAR\), 1 unit, \d+ device scopes \(0 naming nothing "
        r"present\), interrupt remapping offered$",
        r"cpu0 +info +VT-d unit 0 at 0xfed90000 segment 0",
        device_row(r"0000:00:00\.0", "8086:29c0", "host bridge", "unit 0", "-"),
        device_row(r"0000:00:02\.0", "1234:11e8", "unclassified", "unit 0", "'dma'") + r" *m32 c",
        r"cpu0 +info +IOMMU unit 0 \(VT-d\): translation on, every DMA refused until attached; "
        r"interrupt remapping on, 8-bit destinations$",
        r"cpu0 +info +partition 'dma': 0000:00:02\.0 attached to IOMMU unit 0, domain 1 "
        r"\(requester 00:02\.0\), as 00:02\.0 to the guest$",
        guest_pass("dma", 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 1")],
        partitions={"dma": {"status": "pass"}}, result={"status": "ok"}),
    # AMD-Vi: the IOMMU is itself a PCI function (00:02.0), so edu moves to 00:03.0
    pci_case("iommu_amdvi_device_table", AMDVI + [EDU], SIDE0 + HELLO_DMA + "00:03.0\n", [
        r"cpu0 +info +PCI: 7 functions in 1 ECAM range$",
        r"cpu0 +info +IOMMU: AMD-Vi \(IVRS\), 1 unit, \d+ device scopes \(0 naming nothing "
        r"present\)",
        r"cpu0 +info +AMD-Vi unit 0 \(IVHD 0x11\) at 0xfed80000 segment 0 function 00:02\.0",
        device_row(r"0000:00:02\.0", "1022:1419", "IOMMU", "unit 0", "-"),
        device_row(r"0000:00:03\.0", "1234:11e8", "unclassified", "unit 0", "'dma'"),
        guest_pass("dma", 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 1")],
        partitions={"dma": {"status": "pass"}}, result={"status": "ok"}),
    # what no partition may own, each refused with its line before any core starts
    pci_case("iommu_assign_refused", AMDVI + [EDU], SIDE0 +
             "partition name=a cpus=1 memory=8M image=hello.elf devices=00:09.0,00:02.0\n"
             "partition name=c cpus=2 memory=8M image=hello.elf devices=00:1f.2\n"
             "partition name=e cpus=3 memory=8M image=hello.elf devices=00:1f.3,00:00.0\n", [
        r"cpu0 +error +sidecore\.cfg:2: partition 'a': PCI function 0000:00:09\.0 does not "
        r"exist on this machine$",
        r"cpu0 +error +sidecore\.cfg:2: partition 'a': PCI function 0000:00:02\.0 is an IOMMU$",
        r"cpu0 +error +sidecore\.cfg:4: partition 'e': PCI function 0000:00:1f\.3 is a function "
        r"of the same device as 0000:00:1f\.2 of partition 'c' \(line 3\)$",
        r"cpu0 +error +sidecore\.cfg:4: partition 'e': PCI function 0000:00:00\.0 is a host "
        r"bridge$",
        r"cpu0 +error +configuration refused \(4 errors\); no CPU was started$"],
        status=FAIL, smp=4, result={"status": "fail", "reason": "config", "online": 1},
        reject=[r"starting \d+ application processors"]),
    # two partitions behind one PCI Express to PCI bridge: one requester ID, refused. The
    # IVRS says so with an alias; under VT-d the bridge's type does.
    shared_requester_id_case("iommu_shared_requester_id_refused_amdvi", AMDVI),
    shared_requester_id_case("iommu_shared_requester_id_refused_vtd", VTD, [
        device_row(r"0000:01:00\.0", "1b36:000e", "PCI bridge", "unit 0", "-")]),
    # no IOMMU: refused, unless the configuration says it trusts the device
    pci_case("iommu_missing_refused", [EDU], SIDE0 + HELLO_DMA + "00:02.0\n", [
        r"cpu0 +info +IOMMU: none described \(no DMAR or IVRS table\)$",
        r"cpu0 +error +sidecore\.cfg:2: partition 'dma': PCI function 0000:00:02\.0: no IOMMU "
        r"\(no usable DMAR or IVRS\) to confine its DMA; 'boot iommu=off' hands it over anyway$"],
        status=FAIL, result={"status": "fail", "reason": "config"}),
    pci_case("iommu_off_trusted_and_logged", [EDU], SIDE0 + "boot iommu=off\n" + HELLO_DMA +
             "00:02.0\n", [
        r"cpu0 +warn +sidecore\.cfg:2: boot iommu=off: 1 PCI function handed over with no DMA "
        r"confinement; each can read and write all memory$",
        guest_pass("dma", 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 1")],
        partitions={"dma": {"status": "pass"}}, result={"status": "ok"}),
]


# DMA confined: the dma guest drives edu's DMA engine into and out of its own memory, then
# at addresses it does not own; each of those is refused and reported with device and
# address, the device keeps working, and the steady phase takes no exit. Then its own
# pt_unmap and pt_protect requests: the device's view follows each before it completes. edu's DMA mask is
# widened so that the far address reaches the IOMMU unclipped.
EDU_WIDE = "edu,dma_mask=0xffffffffffffffff"
DMA_CONFIG = (SIDE0 + "debug dma_canaries=yes\n"
              "partition name=dma cpus=1 memory=16M image=dma.elf devices={} args=\"{}\"\n"
              "partition name=victim cpus=2 memory=16M image=hello.elf\n")


def dma_fault(unit, what, addr, function):
    return (rf"cpu0 +warn +IOMMU unit {unit}: DMA {what} {addr} by {function} \(partition "
            r"'dma'\) refused, reason \d+")


def dma_case(name, iommu, function, bdf, faults_reported=True, interrupt_attack=False):
    faults = [dma_fault(0, "write to", "1100000", bdf),
              dma_fault(0, "write to", "100000000", bdf),
              dma_fault(0, "read of", "1101000", bdf),
              # the canaries' addresses, as the hypervisor announced them, in the fault lines
              r"(?s)debug: DMA canaries at 0*([0-9a-f]+) \(hypervisor\).*" +
              dma_fault(0, "write to", r"0*\1", bdf),
              r"(?s)debug: DMA canaries at [0-9a-f]+ \(hypervisor\) and 0*([0-9a-f]+) "
              r"\(partition 'victim'\).*" + dma_fault(0, "write to", r"0*\1", bdf),
              r"(?s)debug: DMA canaries at 0*([0-9a-f]+) \(hypervisor\).*cpu0 +warn +IOMMU unit 0: "
              r"DMA write to 0*\1 by 00:03\.0 \(no owner\) refused",
              ] if faults_reported else []
    # a second edu no partition owns: the hypervisor makes it DMA into its canary
    attack = [guest_pass("dma", 0, r"the device finished the write to the interrupt address")]
    return pci_case(name, [iommu, EDU_WIDE, EDU_WIDE],
                    DMA_CONFIG.format(function, "interrupt_attack" if interrupt_attack else ""),
                    faults + (attack if interrupt_attack else []) + [
        r"cpu0 +info +debug: unowned 0000:00:0[34]\.0 \(edu\) made to DMA into the "
        r"hypervisor's canary$",
        guest_pass("dma", 0, r"the device finished the transfers aimed at the canaries"),
        r"cpu0 +info +debug: DMA canary of the hypervisor at [0-9a-f]+ intact$",
        r"cpu0 +info +debug: DMA canary of partition 'victim' at [0-9a-f]+ intact$",
        guest_pass("victim", 0, r"vCPU 0: CPUID 0x40000001 vCPU 0 of 1"),
        guest_pass("dma", 0, rf"edu {bdf}: BAR0 at 0x[0-9a-f]+ \(1024 KiB\), identification "
                             r"0x010000ed"),
        guest_pass("dma", 0, r"edu answers through its BAR \(liveness register inverted\)"),
        guest_pass("dma", 0, r"DMA of 4096 bytes out of own memory at 0x[0-9a-f]+ and back into "
                             r"0x[0-9a-f]+: contents match"),
        guest_pass("dma", 0, r"the device finished the three refused transfers"),
        guest_pass("dma", 0, r"DMA into own memory still matches after them"),
        # its configuration space, as the guest finds it on its bus 0
        guest_pass("dma", 0, r"configuration space at 00:02\.0 reads 11e81234"),
        guest_pass("dma", 0, r"BAR0 reads 0x[0-9a-f]+, where it is mapped"),
        guest_pass("dma", 0, r"BAR0 sizes to fff00000, stays put when moved, and still answers"),
        # MSI: each hostile message refused before it reaches the device; its own delivered
        r"cpu\d+ +warn +partition 'dma': PCI function 0's MSI \(address 0:fee00000, data 61\) "
        r"refused: the destination is not a core of the partition; the device does not send it "
        r"\(logged once\)$",
        guest_pass("dma", 0, r"MSI to APIC ID 0, the boot CPU \(address fee00000, data 0061\): "
                             r"0 interrupts"),
        guest_pass("dma", 0, r"MSI to vector 14, an exception \(address fee0[0-9a-f]000, data "
                             r"000e\): 0 interrupts"),
        guest_pass("dma", 0, r"MSI as an NMI \(address fee0[0-9a-f]000, data 0461\): 0 interrupts"),
        guest_pass("dma", 0, r"MSI in the remapping format, entry 0 \(address fee0[0-9a-f]010, data "
                             r"0000\): 0 interrupts"),
        r"cpu\d+ +info +partition 'dma': PCI function 0's MSI to APIC ID [1-9]\d*, vector 97 "
        r"\(device sends address [0-9a-f]+, data [0-9a-f]+\)$",
        guest_pass("dma", 0, r"MSI to this core \(APIC ID [1-9]\d*\), vector 0x61: 1 interrupt, "
                             r"status 100"),
        guest_pass("dma", 0, r"4 of 4 DMA round trips matched, 8 completion interrupts, with 0 "
                             r"exits"),
        r"cpu0 +info +partition 'dma' finished: its 1 PCI function quiesced \(bus mastering and "
        r"messages off\)$",
        guest_pass("dma", 0, r"after pt_unmap of 0x[0-9a-f]+, DMA into it was refused: it still "
                             r"holds its bytes once mapped back \(status 0\)"),
        guest_pass("dma", 0, r"after pt_protect of 0x[0-9a-f]+ to read-only, DMA may read it but "
                             r"not write it \(status 0\)"),
        # one invalidation per change (unmap, map back, protect) through the one unit
        r"cpu0 +info +partition 'dma': \d+ DMA faults; its DMA view followed 3 page-table changes "
        r"with 3 IOTLB invalidations$"],
        partitions={"dma": dict({"status": "pass", "steady_exits": 0},
                                **({"dma_faults": 7} if faults_reported else {})),
                    "victim": {"status": "pass", "dma_faults": 0}},
        result={"status": "ok"}, smp=3, reject=[r"CHANGED"])


# QEMU's amd-iommu translates a device's DMA only with pt=off (with its default pt=on the
# DMA bypasses the tables and the round trip fails). It refuses DMA at an address without a
# mapping but writes no IO_PAGE_FAULT event for it, so no fault is reported under AMD-Vi here.
# The interrupt attack (a DMA write of an INIT request to 0xfee00000) runs under AMD-Vi only:
# QEMU's intel-iommu lets compatibility-format interrupts through even with remapping on and
# CFI clear, where hardware blocks them, so under it the INIT would reset the boot CPU.
CASES += [dma_case("iommu_vtd_dma_confined", "intel-iommu", "00:02.0", r"00:02\.0"),
          dma_case("iommu_amdvi_dma_confined", "amd-iommu,pt=off", "00:03.0", r"00:03\.0",
                   faults_reported=False, interrupt_attack=True)]


# ---- Linux drives an NVMe controller its partition owns (devices=), through VT-d
NVME_SECTORS = 131072  # 64 MiB: the steady phase's reader never reaches its end


def nvme_image(path):
    """The namespace's file: sparse, but for its middle sector, which holds its own line."""
    middle = NVME_SECTORS // 2
    with open(path, "wb") as f:
        f.truncate(NVME_SECTORS * 512)
        f.seek(middle * 512)
        f.write(f"sidecore-nvme sector {middle:08d}\n".encode())


CASES.append({
    "name": "linux_nvme_passthrough",
    "not_on_bochs": NO_PCI_ON_BOCHS,
    "needs_linux": True,
    "smp": 4,
    "memory": "1G",
    "timeout": 400,
    "devices": VTD + ["nvme,serial=sidecore,drive=nvm"],
    "drives": {"nvm": nvme_image},
    "config": "console port=0x3f8 log=info\nsidecore cpu=0 services=pt,irq\n"
              "sidecore cpu=3 services=io\n"
              "partition name=linux cpus=1-2 memory=128M image=linux.bzImage "
              "initrd=linux-initramfs.cpio.gz disk=linux-disk.img devices=00:02.0 "
              "args=\"console=hvc0 rdinit=/init expect_cpus=2 expect_disk_sectors=8192 "
              f"expect_nvme_sectors={NVME_SECTORS}\"\n",
    "expect": [
        r"cpu0 +info +partition 'linux': 0000:00:02\.0 attached to IOMMU unit 0, domain 1 "
        r"\(requester 00:02\.0\), as 00:02\.0 to the guest$",
        guest_line("linux", r"\d", r"pci 0000:00:02\.0: \[1b36:0010\] type 00"),
        guest_line("linux", r"\d", r"nvme nvme0: pci function 0000:00:02\.0"),
        # Linux's MSI-X entries, each checked and given a remapping entry
        r"cpu\d+ +info +partition 'linux': PCI function 0's MSI-X entry 0 to APIC ID [12], "
        r"vector \d+ \(device sends address fee[0-9a-f]{5}, data 0\)$",
        guest_pass("linux", r"\d", rf"nvme: /dev/nvme0n1 has {NVME_SECTORS} sectors"),
        guest_pass("linux", r"\d", rf"nvme: sector {NVME_SECTORS // 2} read with direct I/O "
                                  r"holds the image's own line"),
        guest_pass("linux", r"\d", r"nvme: 1 MiB written and read back with direct I/O, "
                                  r"checksums match"),
        guest_pass("linux", r"\d", r"steady phase: [1-9]\d* reads from /dev/nvme0n1 completed "
                                  r"\(direct I/O\)"),
        guest_pass("linux", r"\d", r"steady phase: cpu0 \(vcpu=0\) took 0 exits"),
        guest_pass("linux", r"\d", r"steady phase: cpu1 \(vcpu=1\) took 0 exits"),
        guest_pass("linux", r"\d", r"virtio-blk: 1 MiB written and read back with direct I/O, "
                                  r"checksums match")],
    "reject": [NO_FAIL, r"Call Trace", r"Kernel panic", r"MSI.* refused", r"MMIO at",
               r"DMA .* refused", r"could not follow"],
    "partitions": {"linux": {"status": "pass", "vcpus": 2, "steady_exits": 0, "dma_faults": 0}},
    "result": {"status": "ok", "partitions": 1},
})


def tiny_image(path):
    """A blank 1 MiB namespace."""
    with open(path, "wb") as f:
        f.truncate(1 << 20)


def msix_case(name, iommu, function, unit):
    """The msix guest drives QEMU's nvme through its admin queue: hostile MSI-X entries raise
    nothing, an entry past those shown takes no write, its own entry interrupts with 0
    exits. unit: the IOMMU unit's line, with the width of its remapping entries'
    destinations."""
    return pci_case(name, [iommu, "nvme,serial=sidecore,drive=nvm"],
                    SIDE0 + f"partition name=msix cpus=1 memory=16M image=msix.elf "
                            f"devices={function}\n", [
        r"cpu0 +info +IOMMU unit 0 " + unit,
        guest_pass("msix", 0, r"MSI-X capability at 0x[0-9a-f]+: 32 entries shown, table at "
                              r"BAR0 \+ 0x2000"),
        guest_pass("msix", 0, r"controller enabled with an admin queue pair"),
        r"cpu1 +warn +partition 'msix': PCI function 0's MSI-X entry 0 \(address 0:fee00000, "
        r"data 62\) refused: the destination is not a core of the partition; the device does "
        r"not send it \(logged once\)$",
        guest_pass("msix", 0, r"MSI-X entry 0 to APIC ID 0, the boot CPU \(address fee00000, "
                              r"data 0062\): the command completed, 0 interrupts"),
        guest_pass("msix", 0, r"MSI-X entry 0 to vector 14, an exception \(address fee01000, "
                              r"data 000e\): the command completed, 0 interrupts"),
        guest_pass("msix", 0, r"MSI-X entry 0 as an NMI \(address fee01000, data 0462\): the "
                              r"command completed, 0 interrupts"),
        guest_pass("msix", 0, r"MSI-X entry 0 in the remapping format, entry 0 \(address "
                              r"fee01010, data 0000\): the command completed, 0 interrupts"),
        guest_pass("msix", 0, r"MSI-X entry 40, past the 32 shown, reads masked and empty after "
                              r"a write \(control 1, data 0\)"),
        r"cpu1 +info +partition 'msix': PCI function 0's MSI-X entry 0 to APIC ID 1, vector 98 "
        r"\(device sends address fee[0-9a-f]{5}, data [0-9a-f]+\)$",
        guest_pass("msix", 0, r"MSI-X entry 0 to this core \(APIC ID 1\), vector 0x62: 1 "
                              r"interrupt; Identify names PCI vendor 1b36"),
        guest_pass("msix", 0, r"8 of 8 commands completed, 8 interrupts, with 0 exits"),
        r"cpu0 +info +partition 'msix' finished: its 1 PCI function quiesced"],
        partitions={"msix": {"status": "pass", "steady_exits": 0, "dma_faults": 0}},
        result={"status": "ok"}) | {"drives": {"nvm": tiny_image}}


# Under VT-d with extended interrupt mode (eim=on; QEMU leaves it off under TCG by default, as
# in the dma cases, which therefore run the 8-bit destinations)
UNIT_LINE = (r"\({}\): translation on, every DMA refused until attached; interrupt remapping on, "
             r"{} destinations$")
CASES += [msix_case("iommu_vtd_msix_confined", "intel-iommu,intremap=on,eim=on", "00:02.0",
                    UNIT_LINE.format("VT-d", r"32-bit \(extended interrupt mode\)")),
          msix_case("iommu_amdvi_msix_confined", "amd-iommu,pt=off", "00:03.0",
                    UNIT_LINE.format("AMD-Vi", "8-bit"))]
