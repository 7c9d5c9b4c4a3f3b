# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""tools/sidecore bench: boots the benchmark guest in its modes, collects what it prints
into results.json, and prints one RESULT line per operation and transport."""
import json
import os
import re
import statistics
import subprocess
import tempfile

from . import bochs, build, linux, platforms, qemu
from .report import ratio_spread

# "[  1.234567] cpu1  info  bench.0: BENCH op=null ..." -> ("bench", 0, "BENCH op=null ...")
GUEST_LINE = re.compile(r"^\[[ 0-9.]+\] cpu\d+ +info +([A-Za-z0-9_-]+)\.(\d+): (.*)$")
DISK_BYTES = 1024 * 1024
EMULATOR_NOTE = ("timings are emulator timings (QEMU TCG): only ratios within one run mean "
                 "anything; exit counts are exact")


def fields(text):
    """key=value pairs of a line; quoted values may hold spaces."""
    out = {}
    for m in re.finditer(r'(\w+)=("([^"]*)"|\S+)', text):
        value = m.group(3) if m.group(3) is not None else m.group(2)
        out[m.group(1)] = int(value) if re.fullmatch(r"-?\d+", value) else value
    return out


def guest_lines(lines, kind):
    """(partition, vcpu, fields) of every guest line starting with kind."""
    for line in lines:
        m = GUEST_LINE.match(line)
        if m and m.group(3).startswith(kind + " "):
            yield m.group(1), int(m.group(2)), fields(m.group(3)[len(kind) + 1:])


def boot(build_dir, smp, config, echo=False, timeout=240, platform="qemu"):
    with tempfile.TemporaryDirectory(prefix="sidecore-bench-") as d:
        path = os.path.join(d, "bench.cfg")
        with open(path, "w") as f:
            f.write(config)
        with open(os.path.join(d, "bench.img"), "wb") as f:
            f.truncate(DISK_BYTES)
        result = platforms.boot(platform, build_dir, smp=smp, memory="1G", config_path=path,
                                timeout=timeout, echo=echo)
    if result.status != qemu.STATUS_OK:
        tail = "\n".join(result.lines[-40:])
        raise SystemExit(f"sidecore: benchmark boot failed: {result.summary()}\n{tail}")
    return result


def ops_config(n, dedicated):
    if dedicated:
        # adaptive: the side cores with nothing to do halt, so an emulator with fewer host
        # cores than vCPUs still gives the busy one a host core (spin would starve it)
        pol = "poll=adaptive spin=20000 sleep_us=20"
        sides = (f"sidecore cpu=0 services=pt {pol}\nsidecore cpu=1 services=irq {pol}\n"
                 f"sidecore cpu=2 services=io {pol}\n")
        cpus = "3-4"
    else:
        sides = "sidecore cpu=0 services=pt,irq,io poll=spin\n"
        cpus = "1-2"
    return (sides + f"partition name=bench cpus={cpus} memory=32M image=bench.elf "
            f"disk=bench.img args=\"mode=ops n={n}\"\n")


def collect_ops(result, sidecore, guest="bare"):
    """The BENCH lines of the bare bench guest, or (guest="linux") of the Linux partition,
    one entry per operation and transport over every round: n and exits summed, the median
    of the rounds' medians, the largest p99 and the smallest minimum, and each round's
    median (round_medians, in round order) for the spread of the trap/ring ratio."""
    ops = {}
    for part, _, f in guest_lines(result.lines, "BENCH"):
        if "skipped" in f or "failed" in f or "op" not in f:
            continue
        if (part == "linux") != (guest == "linux"):
            continue
        o = ops.setdefault((f["op"], f["transport"]), {
            "op": f["op"], "transport": f["transport"], "n": 0, "exits": 0, "rounds": {},
            "cycles_p99": 0, "cycles_min": None, "sidecore": sidecore, "guest": guest})
        o["n"] += f["n"]
        o["exits"] += f["exits"]
        o["rounds"][f.get("round", len(o["rounds"]))] = f["cycles_median"]
        o["cycles_p99"] = max(o["cycles_p99"], f["cycles_p99"])
        o["cycles_min"] = min(f["cycles_min"], o["cycles_min"] if o["cycles_min"] is not None
                              else f["cycles_min"])
    out = []
    for o in ops.values():
        rounds = o.pop("rounds")
        o["round_medians"] = [rounds[k] for k in sorted(rounds)]
        o["cycles_median"] = statistics.median_low(o["round_medians"])
        o["exits_per_op"] = o["exits"] / (o["n"] or 1)
        out.append(o)
    return out


def linux_config(n, noise_ms=200, threshold=2000):
    """The Linux demo (guest-stubs/linux/linux.cfg) with its benchmark on (n samples each)
    and its noise loop (noise_ms on every CPU, the bare guest's threshold)."""
    with open(os.path.join(build.SOURCE_DIR, "guest-stubs", "linux", "linux.cfg")) as f:
        return linux.config_with_args(f.read(), f"sidecore_bench={n} sidecore_noise_ms="
                                      f"{noise_ms} sidecore_noise_threshold={threshold}")


# The Linux benchmark's operations that involve other CPUs or the block device: their ring
# path is measured again with 1, 2 and 4 Linux vCPUs, one side core serving every service.
LINUX_SCALING_OPS = ("ipi", "blk_write", "blk_read")


def linux_scaling_config(nvcpus, n):
    """linux.cfg's partition alone on vCPUs 1..nvcpus, side core 0 serving pt, irq and io."""
    cpus = "1" if nvcpus == 1 else f"1-{nvcpus}"
    return ("sidecore cpu=0 services=pt,irq,io poll=spin\n"
            f"partition name=linux cpus={cpus} memory=128M image={linux.KERNEL_OUT} "
            f"initrd={linux.INITRAMFS_OUT} disk={linux.DISK_OUT} args=\"console=hvc0 "
            f"rdinit=/init expect_cpus={nvcpus} expect_disk_sectors={linux.DISK_SECTORS} "
            f"sidecore_bench={n}\"\n")


def collect_linux_scaling(result, nvcpus):
    """The ring rows of LINUX_SCALING_OPS from one boot of linux_scaling_config."""
    return [{"vcpus": nvcpus, "op": o["op"], "cycles_median": o["cycles_median"],
             "exits_per_op": o["exits_per_op"], "n": o["n"]}
            for o in collect_ops(result, "shared", guest="linux")
            if o["transport"] == "ring" and o["op"] in LINUX_SCALING_OPS]


def info_of(result):
    for _, _, f in guest_lines(result.lines, "BENCH_INFO"):
        return f
    return {}


def collect_noise(result, phase, partition="noise"):
    """The NOISE lines of a partition, by the vCPU each names (vcpu=): the bare bench guest
    prints its own, the Linux kernel prints every CPU's from one of them."""
    summaries = {}
    for part, _, f in guest_lines(result.lines, "NOISE_SUMMARY"):
        if part == partition:
            summaries[f["vcpu"]] = dict(f, phase=phase, detours=[])
    for part, _, f in guest_lines(result.lines, "NOISE"):
        if part == partition and f.get("vcpu") in summaries:
            summaries[f["vcpu"]]["detours"].append([f["at_cycles"], f["len_cycles"]])
    return [summaries[v] for v in sorted(summaries)]


def collect_scale(result, nvcpus, ms):
    rows = list(guest_lines(result.lines, "SCALE"))
    ops = sum(f["ops"] for _, _, f in rows)
    medians = sorted(f["cycles_median"] for _, _, f in rows)
    return {"vcpus": nvcpus, "ops_per_s": int(ops * 1000 / ms),
            "cycles_median": medians[len(medians) // 2] if medians else 0}


def host_bench(build_dir):
    exe = os.path.join(build_dir, "bench", "ring_host")
    if not os.path.exists(exe):
        return None
    out = subprocess.run([exe, "--n", "200000"], capture_output=True, text=True).stdout
    host = {}
    for line in out.splitlines():
        if not line.startswith("HOSTBENCH "):
            continue
        f = fields(line[len("HOSTBENCH "):])
        if "test" in f:
            for k, v in f.items():
                if k != "test":
                    host[f"{f['test']}_{k}"] = v
        else:
            host.update(f)
    return host


def print_results(results):
    vmx = (results.get("vmx") or {}).get("ops", [])
    for o in [dict(x, vendor="svm") for x in results.get("ops", [])] + \
            [dict(x, vendor="vmx") for x in vmx]:
        print(f"RESULT op={o['op']} transport={o['transport']} guest={o.get('guest', 'bare')} "
              f"sidecore={o['sidecore']} vendor={o['vendor']} "
              f"exits_per_op={o['exits_per_op']:g} cycles_median={o['cycles_median']} "
              f"cycles_p99={o['cycles_p99']}")


def run(build_dir, quick=False, echo=False):
    """The whole benchmark (quick: the ops table only); returns the results dict."""
    n = 30 if quick else 200
    r = boot(build_dir, 3, ops_config(n, dedicated=False), echo=echo)
    info = info_of(r)
    results = {"platform": "QEMU TCG (AMD SVM)", "emulator": True, "note": EMULATOR_NOTE,
               "cpu": info.get("cpu", "?"), "tsc_hz": info.get("tsc_hz", 0),
               "qemu": qemu.qemu_version(), "qemu_cpu": qemu.default_cpu(),
               "apic_mode": r.apic_mode() or "unknown",
               "config": ops_config(n, dedicated=False), "ops": collect_ops(r, "shared")}
    # the same operations under Intel VMX (Bochs), fewer samples: Bochs is slower
    vmx_n = 30
    r = boot(build_dir, 3, ops_config(vmx_n, dedicated=False), echo=echo, timeout=600,
             platform=platforms.BOCHS)
    results["vmx"] = {"platform": f"Bochs {bochs.bochs_version()} (Intel VMX, "
                                  f"{bochs.CPU_MODEL})", "n": vmx_n,
                      "tsc_hz": info_of(r).get("tsc_hz", 0), "ops": collect_ops(r, "shared")}
    if not quick:
        r = boot(build_dir, 5, ops_config(n, dedicated=True), echo=echo)
        results["ops"] += collect_ops(r, "dedicated")
        noise = ("sidecore cpu=0 services=pt,irq,io poll=spin\n"
                 "partition name=noise cpus=1-2 memory=16M image=bench.elf "
                 "args=\"mode=noise ms=200 threshold=2000\"\n")
        results["noise"] = collect_noise(boot(build_dir, 3, noise, echo=echo), "idle")
        loaded = noise + ("partition name=load cpus=3 memory=16M image=bench.elf "
                          "args=\"mode=load ms=400\"\n")
        results["noise"] += collect_noise(boot(build_dir, 4, loaded, echo=echo), "loaded")
        results["scaling"] = []
        for nv in (1, 2, 3, 4):
            cfg = ("sidecore cpu=0 services=pt,irq,io poll=spin\n"
                   f"partition name=scale cpus=1-{nv} memory=32M image=bench.elf "
                   "args=\"mode=scale ms=200\"\n").replace("cpus=1-1", "cpus=1")
            results["scaling"].append(collect_scale(boot(build_dir, nv + 1, cfg, echo=echo),
                                                    nv, 200))
        results["host"] = host_bench(build_dir)
        # the same operations inside Linux (guest-stubs/linux/linux.cfg, patch 0007)
        linux.build_linux(build_dir)
        r = boot(build_dir, 5, linux_config(n), echo=echo, timeout=600)
        results["ops"] += collect_ops(r, "shared", guest="linux")
        results["noise"] += collect_noise(r, "linux", partition="linux")
        results["linux_scaling"] = []
        for nv in (1, 2, 4):
            r = boot(build_dir, nv + 1, linux_scaling_config(nv, 50), echo=echo, timeout=600)
            results["linux_scaling"] += collect_linux_scaling(r, nv)
    out = os.path.join(build_dir, "bench")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    build.log(f"results written to {os.path.join(out, 'results.json')}")
    return results


def table(ops):
    """A plain-text table: one row per operation, ring against trap."""
    rows = {}
    for o in ops:
        rows.setdefault((o["op"], o.get("guest", "bare"), o["sidecore"]), {})[o["transport"]] = o
    out = [f"{'operation':<12} {'guest':<6} {'side core':<10} {'ring median':>12} "
           f"{'trap median':>12} {'trap/ring (rounds: low-high)':>30} {'exits/op ring':>13} "
           f"{'exits/op trap':>13}"]
    for (op, guest, side), t in rows.items():
        ring, trap = t.get("ring"), t.get("trap")
        spread = ratio_spread(ring, trap) if ring and trap else None
        ratio = "-"
        if spread:
            low, mid, high = spread
            ratio = f"{mid:.1f} ({low:.1f}-{high:.1f})" + (" undecided" if low < 1 < high
                                                          else "")
        out.append(f"{op:<12} {guest:<6} {side:<10} "
                   f"{ring['cycles_median'] if ring else '-':>12} "
                   f"{trap['cycles_median'] if trap else '-':>12} {ratio:>30} "
                   f"{ring['exits_per_op'] if ring else '-':>13} "
                   f"{trap['exits_per_op'] if trap else '-':>13}")
    return "\n".join(out)
