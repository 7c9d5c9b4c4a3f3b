# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""The benchmark report: report.md and PNG plots (matplotlib, Agg) from a results dict."""
import math
import os
import statistics
import sys

NOT_MEASURED = "not measured"
EMULATOR_STATEMENT = ("These are emulator timings: the emulator does not model the time real "
                      "hardware takes, so only ratios measured within one run (trap path against "
                      "side-core path) mean anything. Exit counts are exact.")

# Series of the latency plot, in drawing order: (transport, side core placement).
SERIES_STYLE = {
    ("ring", "shared"): ("#1f77b4", ""),
    ("ring", "dedicated"): ("#6baed6", "//"),
    ("trap", "shared"): ("#d62728", ""),
    ("trap", "dedicated"): ("#ff9896", "//"),
}


# ---- Helpers that tolerate missing or odd values.

def _num(value):
    """value as a float, or None when it is missing or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _fmt(value, digits=0):
    """An integer as such (digits=0), anything else with digits (at least 1) decimals."""
    x = _num(value)
    if x is None:
        return "-"
    if digits == 0 and x == int(x):
        return str(int(x))
    return f"{x:.{digits or 1}f}"


def _fmt_g(value):
    x = _num(value)
    return "-" if x is None else f"{x:g}"


def _list(results, key):
    value = results.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _tsc_hz(results):
    hz = _num(results.get("tsc_hz"))
    return hz if hz and hz > 0 else None


def _md_escape(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return out


# ---- The operations: one row per (operation, side-core placement), ring against trap.

def _op_groups(ops):
    """{(op, placement): {transport: entry}} in first-seen order; the placement is the side
    core's ("shared", "dedicated"), prefixed by the guest when it is not the bare one."""
    groups = {}
    for o in ops:
        side = str(o.get("sidecore", "-"))
        guest = str(o.get("guest", "bare"))
        key = (str(o.get("op", "?")), side if guest == "bare" else f"{guest}, {side}")
        groups.setdefault(key, {})[str(o.get("transport", "?"))] = o
    return groups


def ratio_spread(ring, trap):
    """(lowest, median, highest) of the per-round trap/ring ratios of one operation, over the
    rounds both transports measured (results without rounds: one); None without any."""
    rm = ring.get("round_medians") or [ring.get("cycles_median")]
    tm = trap.get("round_medians") or [trap.get("cycles_median")]
    ratios = sorted(_num(t) / _num(r) for r, t in zip(rm, tm)
                    if _num(r) and _num(t) is not None)
    if not ratios:
        return None
    return ratios[0], statistics.median(ratios), ratios[-1]


def _ops_markdown(ops):
    if not ops:
        return [f"Operation latency: {NOT_MEASURED}."]
    rows = []
    for (op, side), t in _op_groups(ops).items():
        ring, trap = t.get("ring"), t.get("trap")

        def cycles(e):
            return (f"{_fmt(e.get('cycles_median'))}, {_fmt(e.get('cycles_p99'))}"
                    if e else NOT_MEASURED)

        spread = ratio_spread(ring, trap) if ring and trap else None
        ratio = "-"
        if spread:
            low, mid, high = spread
            ratio = f"{mid:.1f} ({low:.1f}-{high:.1f})"
            if low < 1 < high:
                ratio += " undecided"
        rows.append([op, cycles(ring), cycles(trap), ratio,
                     _fmt_g(ring.get("exits_per_op")) if ring else "-",
                     _fmt_g(trap.get("exits_per_op")) if trap else "-", side])
    return _table(["op", "ring cycles (median of rounds, p99)",
                   "trap cycles (median of rounds, p99)",
                   "trap/ring ratio (rounds: lowest-highest)", "exits per op ring",
                   "exits per op trap", "side core"],
                  rows)


def _vendor_row(t):
    ring, trap = t.get("ring"), t.get("trap")
    spread = ratio_spread(ring, trap) if ring and trap else None
    ratio = f"{spread[1]:.1f}" if spread else "-"
    return [_fmt(ring.get("cycles_median")) if ring else "-",
            _fmt(trap.get("cycles_median")) if trap else "-", ratio,
            _fmt_g(ring.get("exits_per_op")) if ring else "-",
            _fmt_g(trap.get("exits_per_op")) if trap else "-"]


def _vendors_markdown(svm_ops, vmx_ops):
    """One row per operation of the bare guest with a shared side core: both vendors side by
    side (each emulator's cycles are its own: compare the ratios and the exits)."""
    if not vmx_ops:
        return [f"Intel VMX: {NOT_MEASURED}."]
    svm = {op: t for (op, side), t in _op_groups(svm_ops).items() if side == "shared"}
    vmx = {op: t for (op, side), t in _op_groups(vmx_ops).items() if side == "shared"}
    rows = []
    for op in list(dict.fromkeys(list(svm) + list(vmx))):
        rows.append([op] + (_vendor_row(svm[op]) if op in svm else ["-"] * 5) +
                    (_vendor_row(vmx[op]) if op in vmx else ["-"] * 5))
    cols = ["ring cycles", "trap cycles", "trap/ring", "exits/op ring", "exits/op trap"]
    return _table(["op"] + [f"SVM (QEMU) {c}" for c in cols] + [f"VMX (Bochs) {c}" for c in cols],
                  rows)


# ---- Noise: selfish-detour style measurements per phase and vCPU.

def _noise_markdown(noise, tsc_hz):
    if not noise:
        return [f"Noise (selfish detour): {NOT_MEASURED}."]
    rows = []
    for e in noise:
        ms, total = _num(e.get("ms")), _num(e.get("total_cycles"))
        share = "-"
        if tsc_hz and ms and total is not None:
            share = f"{100.0 * total / (ms * tsc_hz / 1000.0):.3f}%"
        max_us = "-"
        if tsc_hz and _num(e.get("max_cycles")) is not None:
            max_us = f"{_num(e.get('max_cycles')) * 1e6 / tsc_hz:.2f}"
        rows.append([str(e.get("phase", "?")), _fmt(e.get("vcpu")), _fmt(e.get("ms")),
                     _fmt(e.get("threshold")), _fmt(e.get("count")), _fmt(total),
                     _fmt(e.get("max_cycles")), max_us, share, _fmt(e.get("exits"))])
    return _table(["phase", "vCPU", "ms", "threshold (cycles)", "detours", "total cycles",
                   "max cycles", "max µs", "time lost", "exits"], rows)


def _scaling_markdown(scaling):
    if not scaling:
        return [f"Scaling: {NOT_MEASURED}."]
    rows = [[_fmt(s.get("vcpus")), _fmt(s.get("ops_per_s")), _fmt(s.get("cycles_median"))]
            for s in sorted(scaling, key=lambda s: _num(s.get("vcpus")) or 0)]
    return _table(["vCPUs served by one side core", "ops/s (all vCPUs)", "median cycles"],
                  rows)


def _linux_scaling_markdown(rows):
    if not rows:
        return [f"Linux scaling: {NOT_MEASURED}."]
    ops = sorted({r.get("op") for r in rows})
    by = {(_num(r.get("vcpus")), r.get("op")): r for r in rows}
    vcpus = sorted({_num(r.get("vcpus")) for r in rows if _num(r.get("vcpus")) is not None})
    table = []
    for v in vcpus:
        cells = [_fmt(v)]
        for op in ops:
            r = by.get((v, op))
            cells.append(f"{_fmt(r.get('cycles_median'))} ({_fmt(r.get('exits_per_op'))})"
                         if r else "-")
        table.append(cells)
    return _table(["Linux vCPUs"] + [f"{op}: median cycles (exits/op)" for op in ops], table)


# ---- The host: the ring code on real silicon against a cache-line ping-pong.

def _host_value(host, *keys):
    for k in keys:
        if _num(host.get(k)) is not None:
            return _num(host.get(k))
    return None


def _host_numbers(host):
    pp = {f: _host_value(host, f"pingpong_cycles_{f}") for f in ("median", "p99", "min")}
    ring = {f: _host_value(host, f"ring_roundtrip_cycles_{f}", f"ring_cycles_{f}")
            for f in ("median", "p99", "min")}
    pp["ns"] = _host_value(host, "pingpong_ns_mean")
    ring["ns"] = _host_value(host, "ring_roundtrip_ns_mean", "ring_ns_mean")
    pp["mean"] = _host_value(host, "pingpong_cycles_mean")
    ring["mean"] = _host_value(host, "ring_roundtrip_cycles_mean", "ring_cycles_mean")
    ratio = _host_value(host, "ratio", "ratio_ring_over_pingpong")
    if ratio is None and pp["median"] and ring["median"] is not None:
        ratio = ring["median"] / pp["median"]
    batch = _host_value(host, "ring_batch8_cycles_per_request_mean",
                        "batch8_cycles_per_request_mean", "ring_batch8_cycles_per_request")
    return pp, ring, ratio, batch


def _host_markdown(host):
    if not isinstance(host, dict) or not host:
        return [f"Host (real silicon) ring benchmark: {NOT_MEASURED}."]
    if host.get("skipped") or host.get("reason"):
        return [f"Host (real silicon) ring benchmark: {NOT_MEASURED} "
                f"({host.get('reason', 'skipped')})."]
    pp, ring, ratio, batch = _host_numbers(host)
    if pp["median"] is None and ring["median"] is None:
        return [f"Host (real silicon) ring benchmark: {NOT_MEASURED}."]
    out = []
    where = f"CPU: {host.get('cpu', 'unknown')}"
    if host.get("cpus"):
        where += f", threads on CPUs {host['cpus']}"
    if host.get("n"):
        where += f", {host['n']} round trips per test"
    out.append(where + ".")
    if str(host.get("hypervisor", "")).lower() in ("yes", "1", "true"):
        out += ["", "This machine is a virtual machine: its two CPUs are vCPUs whose placement "
                "on physical cores is the host's choice, and other tenants share the caches."]
    out.append("")
    out += _table(["test", "cycles median", "cycles p99", "cycles min", "cycles mean",
                   "ns mean"],
                  [["cache-line ping-pong (the physical limit)", _fmt(pp["median"]),
                    _fmt(pp["p99"]), _fmt(pp["min"]), _fmt(pp["mean"], 1), _fmt(pp["ns"], 1)],
                   ["ring round trip (sc_ring_call)", _fmt(ring["median"]), _fmt(ring["p99"]),
                    _fmt(ring["min"]), _fmt(ring["mean"], 1), _fmt(ring["ns"], 1)]])
    out.append("")
    out.append(f"Ring over ping-pong (medians): **{ratio:.2f}**." if ratio is not None else
               "Ring over ping-pong: -.")
    if batch is not None:
        out.append("")
        out.append(f"Batched (8 requests per publish): {batch:.1f} cycles per request (mean).")
    return out


# ---- Plots.

def _plot_latency(ops, emulator, path):
    from matplotlib.figure import Figure

    groups = _op_groups(ops)
    op_names = list(dict.fromkeys(op for op, _ in groups))
    series = [s for s in SERIES_STYLE
              if any((op, s[1]) in groups and s[0] in groups[(op, s[1])] for op in op_names)]
    # transports or placements not in the table above still get a series
    for (op, side), t in groups.items():
        for transport in t:
            if (transport, side) not in series:
                series.append((transport, side))
    if not series:
        return False

    fig = Figure(figsize=(min(14.0, max(6.5, 0.45 * len(op_names) * len(series) + 3.5)), 5.0),
                 dpi=120)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(series)
    tops, bottoms = [], []
    for i, (transport, side) in enumerate(series):
        xs, heights, errs = [], [], []
        for j, op in enumerate(op_names):
            e = groups.get((op, side), {}).get(transport)
            med = _num(e.get("cycles_median")) if e else None
            if med is None or med <= 0:
                continue
            p99 = _num(e.get("cycles_p99"))
            xs.append(j - 0.4 + width * (i + 0.5))
            heights.append(med)
            errs.append(max(0.0, p99 - med) if p99 is not None else 0.0)
            tops.append(med + errs[-1])
            bottoms.append(med)
        color, hatch = SERIES_STYLE.get((transport, side), ("#7f7f7f", ".."))
        ax.bar(xs, heights, width, yerr=[[0.0] * len(errs), errs], capsize=3, color=color,
               hatch=hatch, edgecolor="black", linewidth=0.5,
               label=f"{transport} ({side} side core)", error_kw={"elinewidth": 0.8})
    # the trap/ring ratio above each group
    for j, op in enumerate(op_names):
        sides = list(dict.fromkeys(s for _, s in series))
        ratios = []
        for side in sides:
            t = groups.get((op, side), {})
            spread = ratio_spread(t["ring"], t["trap"]) if "ring" in t and "trap" in t else None
            if spread:
                low, mid, high = spread
                ratios.append((f"{side}: " if len(sides) > 1 else "") + f"×{mid:.1f}" +
                              (" ?" if low < 1 < high else ""))
        if ratios:
            ax.annotate("\n".join(ratios), (j, 1), xycoords=("data", "axes fraction"),
                        xytext=(0, -4), textcoords="offset points", ha="center", va="top",
                        fontsize=8)
    ax.set_yscale("log")
    if tops:
        ax.set_ylim(min(bottoms) / 3, max(tops) * 6)
    ax.set_xticks(range(len(op_names)))
    ax.set_xticklabels(op_names)
    ax.set_xlim(-0.6, len(op_names) - 0.4)
    ax.set_ylabel("cycles per operation (log scale)")
    ax.set_xlabel("operation")
    title = ("Ring vs trap: median, error bar to p99; trap/ring ratio on top "
             "(? where the rounds disagree)")
    if emulator:
        title += "\n(emulator timings: only the ratios mean anything)"
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    return True


def _detour_points(entry, tsc_hz):
    """(times, lengths) of one entry: ms and µs with a TSC frequency, else cycles."""
    pts = []
    for d in entry.get("detours") or []:
        if isinstance(d, (list, tuple)) and len(d) >= 2:
            at, ln = _num(d[0]), _num(d[1])
            if at is not None and ln is not None and ln > 0:
                pts.append((at, ln))
    if not pts:
        return [], []
    # at_cycles counts from the start of the measurement; if these look like raw TSC values
    # (far beyond the window), count from the first detour instead.
    ms = _num(entry.get("ms"))
    first = min(a for a, _ in pts)
    if tsc_hz and ms and first > 2 * ms * tsc_hz / 1000.0:
        pts = [(a - first, ln) for a, ln in pts]
    if tsc_hz:
        return [a * 1e3 / tsc_hz for a, _ in pts], [ln * 1e6 / tsc_hz for _, ln in pts]
    return [a for a, _ in pts], [ln for _, ln in pts]


def _plot_noise(noise, tsc_hz, emulator, path):
    from matplotlib.figure import Figure

    phases = list(dict.fromkeys(str(e.get("phase", "?")) for e in noise))
    vcpus = sorted(dict.fromkeys(int(_num(e.get("vcpu")) or 0) for e in noise))
    if not phases:
        return False
    fig = Figure(figsize=(max(6.0, 4.0 * len(vcpus)), 2.9 * len(phases) + 0.8), dpi=120)
    axes = fig.subplots(len(phases), len(vcpus), sharex=True, sharey=True, squeeze=False)
    t_unit, l_unit = ("ms", "µs") if tsc_hz else ("cycles", "cycles")
    all_lengths = []
    for r, phase in enumerate(phases):
        for c, vcpu in enumerate(vcpus):
            ax = axes[r][c]
            entries = [e for e in noise if str(e.get("phase", "?")) == phase
                       and int(_num(e.get("vcpu")) or 0) == vcpu]
            xs, ys = [], []
            for e in entries:
                x, y = _detour_points(e, tsc_hz)
                xs += x
                ys += y
            all_lengths += ys
            if xs:
                ax.scatter(xs, ys, s=10, marker="o", color="C%d" % (c % 10), alpha=0.7,
                           linewidths=0)
            label = f"{len(xs)} detours"
            if not entries:
                label = NOT_MEASURED
            elif not xs:
                label = "no detours above the threshold"
            ax.text(0.98, 0.95, label, transform=ax.transAxes, ha="right", va="top",
                    fontsize=8, bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})
            thr = _num(entries[0].get("threshold")) if entries else None
            if thr and thr > 0:
                ax.axhline(thr * 1e6 / tsc_hz if tsc_hz else thr, color="grey",
                           linestyle="--", linewidth=0.8)
            ms = _num(entries[0].get("ms")) if entries else None
            if ms and tsc_hz:
                ax.set_xlim(0, ms)
            ax.set_yscale("log")
            ax.grid(which="both", alpha=0.3)
            if r == 0:
                ax.set_title(f"vCPU {vcpu}", fontsize=10)
            if c == 0:
                ax.set_ylabel(f"{phase}\ndetour length ({l_unit})")
            if r == len(phases) - 1:
                ax.set_xlabel(f"time ({t_unit})")
    if all_lengths:
        lo, hi = min(all_lengths), max(all_lengths)
        thr_vals = [_num(e.get("threshold")) for e in noise if _num(e.get("threshold"))]
        if thr_vals:
            lo = min(lo, min(thr_vals) * (1e6 / tsc_hz if tsc_hz else 1))
        axes[0][0].set_ylim(lo / 2, hi * 3)
    title = "Selfish detours on guest vCPUs (dashed: detection threshold)"
    if emulator:
        title += " — emulator timings"
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    return True


def _plot_scaling(scaling, emulator, path):
    from matplotlib.figure import Figure
    from matplotlib.ticker import EngFormatter

    rows = sorted((s for s in scaling if _num(s.get("vcpus")) is not None),
                  key=lambda s: _num(s.get("vcpus")))
    if not rows:
        return False
    xs = [_num(s.get("vcpus")) for s in rows]
    fig = Figure(figsize=(6.4, 4.4), dpi=120)
    ax = fig.add_subplot(1, 1, 1)
    ops = [(x, _num(s.get("ops_per_s"))) for x, s in zip(xs, rows)
           if _num(s.get("ops_per_s")) is not None]
    lat = [(x, _num(s.get("cycles_median"))) for x, s in zip(xs, rows)
           if _num(s.get("cycles_median")) is not None]
    h1 = ax.plot([p[0] for p in ops], [p[1] for p in ops], "o-", color="C0",
                 label="ops/s (all vCPUs)")
    ax.set_xlabel("vCPUs served by one side core")
    ax.set_ylabel("operations per second", color="C0")
    ax.tick_params(axis="y", labelcolor="C0")
    ax.yaxis.set_major_formatter(EngFormatter())
    ax.set_ylim(bottom=0, top=max([p[1] for p in ops] + [1]) * 1.15)
    ax.set_xticks(xs)
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    h2 = ax2.plot([p[0] for p in lat], [p[1] for p in lat], "s--", color="C3",
                  label="median latency (cycles)")
    ax2.set_ylabel("median cycles per operation", color="C3")
    ax2.tick_params(axis="y", labelcolor="C3")
    ax2.set_ylim(bottom=0, top=max([p[1] for p in lat] + [1]) * 1.15)
    ax.legend(h1 + h2, [h.get_label() for h in h1 + h2], fontsize=8, loc="upper left")
    title = "One side core, more vCPUs: throughput and latency"
    if emulator:
        title += "\n(emulator timings)"
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return True


def _plots(results, out_dir):
    """Draws what there is data for; returns ({name: path}, None) or ({}, why not)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
    except ImportError:
        return {}, (f"plots not drawn: matplotlib is not importable by {sys.executable} "
                    "(Debian: apt-get install python3-matplotlib, then use /usr/bin/python3)")
    emulator = bool(results.get("emulator"))
    drawn = {}
    jobs = [("latency.png", lambda p: _plot_latency(_list(results, "ops"), emulator, p)),
            ("noise.png", lambda p: _plot_noise(_list(results, "noise"), _tsc_hz(results),
                                                emulator, p)),
            ("scaling.png", lambda p: _plot_scaling(_list(results, "scaling"), emulator, p))]
    for name, draw in jobs:
        path = os.path.join(out_dir, name)
        if draw(path):
            drawn[name] = path
    return drawn, None


# ---- The report.

def write_report(results: dict, out_dir: str) -> list[str]:
    """Writes report.md and the plots there is data for into out_dir; returns their paths."""
    if not isinstance(results, dict):
        results = {}
    os.makedirs(out_dir, exist_ok=True)
    drawn, why_not = _plots(results, out_dir)
    tsc_hz = _tsc_hz(results)

    def png(name, alt):
        return ["", f"![{alt}]({name})", ""] if name in drawn else [""]

    md = ["# sidecore benchmark report", ""]
    md.append(f"- Platform: {results.get('platform', 'unknown')}")
    md.append(f"- CPU: {results.get('cpu', 'unknown')}")
    if "qemu" in results:
        md.append(f"- QEMU {results['qemu']} (-cpu {results.get('qemu_cpu', '?')}), "
                  f"local APIC mode {results.get('apic_mode', 'unknown')}")
    md.append(f"- TSC: {tsc_hz / 1e6:.1f} MHz" if tsc_hz else "- TSC: unknown frequency")
    md.append("")
    if results.get("emulator"):
        md += [f"**{EMULATOR_STATEMENT}**", ""]
        note = results.get("note")
        if note:
            md += [f"Benchmark note: {note}", ""]
    if why_not:
        md += [f"_{why_not}_", ""]
    md += ["## Configuration", ""]
    if results.get("config"):
        md += ["```", str(results["config"]).rstrip("\n"), "```"]
    else:
        md.append(NOT_MEASURED)
    md += ["", "## Operations: side-core ring against trap", ""]
    md += ["Cycles per operation as measured by the guest; exits per operation on the guest "
           "core are exact.", ""]
    md += _ops_markdown(_list(results, "ops"))
    md += png("latency.png", "latency per operation, ring vs trap")
    vmx = results.get("vmx") if isinstance(results.get("vmx"), dict) else {}
    md += ["## Both vendors: AMD SVM (QEMU) and Intel VMX (Bochs)", ""]
    md += [f"The bare guest with one shared side core on each; VMX: {vmx.get('platform', '?')}, "
           f"n={vmx.get('n', '?')} per round. The exits per operation are exact on both. The "
           "cycles are each emulator's own: Bochs's TSC advances by instructions and a VM exit "
           "and entry cost it none, so its columns count the instructions each path runs "
           "(the trap's handler against the ring's wait for the side core) and say nothing "
           "about what an exit costs; never compare cycles across the two.", ""]
    md += _vendors_markdown(_list(results, "ops"), _list(vmx, "ops")) + [""]
    md += ["## Noise on guest cores (selfish detour)", ""]
    md += _noise_markdown(_list(results, "noise"), tsc_hz)
    md += png("noise.png", "detours over time per vCPU and phase")
    md += ["## Scaling: one side core serving more vCPUs", ""]
    md += _scaling_markdown(_list(results, "scaling"))
    md += png("scaling.png", "throughput and latency against vCPUs")
    md += ["", "Inside Linux: the ring path of the operations that cross CPUs or reach the "
           "disk, from CPU 0, with 1, 2 and 4 Linux vCPUs and one side core serving pt, irq "
           "and io (ipi needs a second CPU).", ""]
    md += _linux_scaling_markdown(_list(results, "linux_scaling")) + [""]
    md += ["## Real silicon: the ring code against a cache-line ping-pong", ""]
    md += _host_markdown(results.get("host"))
    if drawn:
        md += ["", "## Plots", ""]
        md += [f"- [{name}]({name})" for name in drawn]
    path = os.path.join(out_dir, "report.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(md).rstrip("\n") + "\n")
    return [path] + list(drawn.values())


# ---- A synthetic results dict, to look at the output without running the benchmark.

def _synthetic():
    import random
    rnd = random.Random(5)
    hz = 2_500_000_000
    ops = []
    for op, ring_c, trap_c in (("null", 900, 14000), ("pt_query", 1400, 16500),
                               ("ipi", 2100, 21000), ("console", 5200, 38000),
                               ("blk_kick", 9000, 61000)):
        for side, f in (("shared", 1.0), ("dedicated", 0.8)):
            for transport, c, exits in (("ring", ring_c * f, 0), ("trap", trap_c, 1)):
                ops.append({"op": op, "transport": transport, "n": 200,
                            "cycles_median": int(c), "cycles_p99": int(c * rnd.uniform(1.3, 3)),
                            "cycles_min": int(c * 0.8), "exits": exits * 200,
                            "exits_per_op": float(exits), "sidecore": side})
    noise = []
    for phase, rate in (("idle", 30), ("loaded", 120)):
        for vcpu in (0, 1):
            det = sorted([rnd.randrange(0, 200 * hz // 1000),
                          int(2000 * rnd.lognormvariate(0.5, 0.9 if phase == "idle" else 1.4))]
                         for _ in range(rate + 10 * vcpu))
            det = [d for d in det if d[1] >= 2000]
            noise.append({"phase": phase, "vcpu": vcpu, "ms": 200, "threshold": 2000,
                          "count": len(det), "total_cycles": sum(d[1] for d in det),
                          "max_cycles": max(d[1] for d in det), "exits": 0, "detours": det})
    scaling = [{"vcpus": v, "ops_per_s": int(2.6e6 * v / (1 + 0.18 * (v - 1))),
                "cycles_median": int(900 * (1 + 0.35 * (v - 1)))} for v in (1, 2, 3, 4)]
    host = {"cpu": "AMD EPYC", "cpus": "0,1", "n": 1000000, "hypervisor": "yes",
            "pingpong_cycles_median": 319, "pingpong_cycles_p99": 466,
            "pingpong_cycles_min": 245, "pingpong_ns_mean": 169.3,
            "ring_roundtrip_cycles_median": 368, "ring_roundtrip_cycles_p99": 612,
            "ring_roundtrip_cycles_min": 269, "ring_roundtrip_ns_mean": 190.8,
            "ring_batch8_cycles_per_request_mean": 101.9, "ratio_ring_over_pingpong": 1.15}
    return {"platform": "QEMU TCG (AMD SVM) — synthetic data", "cpu": "AMD EPYC (synthetic)",
            "tsc_hz": hz, "emulator": True,
            "config": "sidecore cpu=0 services=pt,irq,io poll=spin\n"
                      "partition name=bench cpus=1-2 memory=32M image=bench.elf\n",
            "ops": ops, "noise": noise, "scaling": scaling, "host": host,
            "vmx": {"platform": "Bochs 2.7 (Intel VMX, corei7_icelake_u) — synthetic", "n": 30,
                    "ops": [dict(o, cycles_median=o["cycles_median"] // 20,
                                 round_medians=[m // 20 for m in o.get("round_medians", [])])
                            for o in ops if o["sidecore"] == "shared"]}}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR  (writes a report from synthetic data)")
    for written in write_report(_synthetic(), sys.argv[1]):
        print(f"wrote {written}")
