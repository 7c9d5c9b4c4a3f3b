#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""The layers hold: every `#include "..."` from one top-level folder into another follows
an allowed edge, and the allowed edges have no cycle.

An include is resolved as the compiler resolves it (the including file's folder, the
repository, then the folder's own include paths), so "sidecore/ring.h" in a guest is the
ABI header and not the services' folder. A lower layer may still call up through a
function it declares itself and an upper layer defines (core_main, role_run,
svc_execute_trap): that is what the entry points look like, and no include shows it.

usage: check_layers.py [ROOT]        check ROOT (default: the repository)
       check_layers.py --self-test   check the checker on made-up trees
"""
import os
import re
import sys
import tempfile

ABI = "guest-stubs/include"  # MIT guest ABI headers: free of hypervisor types

# What each folder may include besides itself, lowest layer first. A file belongs to the
# longest folder that is a prefix of its path.
ALLOWED = {
    ABI: set(),
    "core": set(),  # platform
    "iommu": {"core"},  # DMA remapping (nothing yet)
    # guest runtime and test guests; they share core/fmt.c, core/string.c,
    # core/exception_names.c and core/gprs.inc with the hypervisor
    "guest-stubs": {ABI, "core"},
    "efi": {"core"},  # the UEFI loader: boot_info to core_start
    "mb2": {"core"},  # the Multiboot2 loader, the same
    "tools/check": {"core"},  # sidecore-check: the configuration checked on the host
    "vmexit": {"core", ABI},  # virtualization
    "sidecore": {"core", "iommu", "vmexit", ABI},  # services (iommu: an owned function's view)
    "boot": {"core", "iommu", "vmexit", "sidecore", ABI},  # boot CPU's path, role dispatch
    "bench/guests": {ABI},
    "bench": {ABI, "sidecore"},  # ring_host: the ring consumer on Linux threads
    "test": {ABI, "core", "iommu", "guest-stubs", "efi", "mb2", "vmexit", "sidecore", "boot",
             "bench/guests", "bench"},
}

# Single includes that break the layering, each to be removed (none left).
EXCEPTIONS = {}

# Headers the build generates, each from a source the check does see (efi/CMakeLists.txt):
# asm_offsets.h from vmexit/asm_offsets.c, for the world switches.
GENERATED = {"asm_offsets.h": "vmexit"}

# Include paths a folder's build adds after the repository root (see the CMakeLists).
EXTRA_PATHS = {"guest-stubs": [ABI], "bench/guests": [ABI], "test": ["test"]}
SOURCES = (".c", ".h", ".S", ".inc")
INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)


def unit_of(path, units):
    best = None
    for u in units:
        if (path == u or path.startswith(u + "/")) and (best is None or len(u) > len(best)):
            best = u
    return best


def find_cycle(graph):
    """A list of nodes forming a cycle of graph ({node: successors}), or None."""
    state = {}  # 1 on the current path, 2 done

    def visit(n, path):
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state:
                cycle = visit(m, path + [m])
                if cycle:
                    return cycle
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            cycle = visit(n, [n])
            if cycle:
                return cycle
    return None


def source_files(root, units, problems):
    files = []
    for top in sorted(os.listdir(root)):
        if top.startswith(".") or not os.path.isdir(os.path.join(root, top)) or \
                os.path.exists(os.path.join(root, top, "CMakeCache.txt")):  # a build tree
            continue
        for dirpath, dirs, names in os.walk(os.path.join(root, top)):
            dirs.sort()
            for n in sorted(names):
                if n.endswith(SOURCES):
                    rel = os.path.relpath(os.path.join(dirpath, n), root).replace(os.sep, "/")
                    if unit_of(rel, units):
                        files.append(rel)
                    else:
                        problems.append(f"{rel}: folder {top}/ is in no layer (check_layers.py)")
    return files


def resolve(root, rel, name):
    here = os.path.dirname(rel)
    extra = [p for prefix, paths in EXTRA_PATHS.items()
             if rel.startswith(prefix + "/") for p in paths]
    for base in [here, ""] + extra:
        cand = os.path.normpath(os.path.join(base, name)).replace(os.sep, "/")
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def check(root, allowed=ALLOWED, exceptions=EXCEPTIONS):
    """Problems found, and the number of includes between folders that were checked."""
    problems = []
    for u, deps in sorted(allowed.items()):
        for d in sorted(deps - set(allowed)):
            problems.append(f"allowed edge {u} -> {d}: {d} is no layer")
    cycle = find_cycle(allowed)
    if cycle:
        problems.append("the allowed edges have a cycle: " + " -> ".join(cycle))
    used, edges, includes = set(), 0, {}
    for rel in source_files(root, allowed, problems):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        includes[rel] = set()
        for m in INCLUDE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            target = resolve(root, rel, m.group(1))
            if target is None and m.group(1) in GENERATED:
                continue  # its generator's own includes are checked
            if target is None:
                problems.append(f'{rel}:{line}: "{m.group(1)}" not found: the check must see '
                                "every include")
                continue
            includes[rel].add(target)
            src, dst = unit_of(rel, allowed), unit_of(target, allowed)
            if dst is None:
                problems.append(f"{rel}:{line}: {target} is in no layer")
            elif src != dst:
                edges += 1
                if (rel, target) in exceptions:
                    used.add((rel, target))
                elif dst not in allowed[src]:
                    may = ", ".join(sorted(allowed[src])) or "nothing outside itself"
                    problems.append(f"{rel}:{line}: {src} -> {dst} ({target}) is not an allowed "
                                    f"edge; {src}/ may include {may}")
    for rel, target in sorted(set(exceptions) - used):
        problems.append(f"exception {rel} -> {target} is no longer needed: remove it")
    cycle = find_cycle(includes)
    if cycle:
        problems.append("include cycle: " + " -> ".join(cycle))
    return problems, edges


SELF_TEST_TREE = {
    "core/a.h": "",
    "core/b.c": '#include "core/a.h"\n#include "b_local.h"\n',
    "core/b_local.h": "",
    "vmexit/v.h": '#include "core/a.h"\n  #  include "sidecore/s.h" /* excepted */\n',
    "vmexit/w.c": '#include "core/a.h"\n#include "sidecore/s.h" /* BAD1 */\n'
                  '#include "vmexit/missing.h" /* BAD2 */\n#include <stdint.h>\n',
    "sidecore/s.h": '#include "vmexit/v.h" /* BAD3: a cycle through the exception */\n',
    "guest-stubs/include/sidecore/abi.h": "",
    "guest-stubs/lib/g.c": '#include "sidecore/abi.h" /* the ABI, not sidecore/ */\n',
    "extra/x.c": "/* BAD4: a folder in no layer */\n",
    "build/CMakeCache.txt": "",
    "build/CMakeFiles/id.c": '#include "nowhere.h" /* a build tree: not scanned */\n',
}


def self_test():
    allowed = {"core": set(), "vmexit": {"core"}, "sidecore": {"core", "vmexit"},
               "guest-stubs/include": set(), "guest-stubs": {"guest-stubs/include"}}
    exceptions = {("vmexit/v.h", "sidecore/s.h"): "", ("vmexit/v.h", "core/gone.h"): ""}
    ok = True

    def expect(what, problems, needles):
        nonlocal ok
        for needle in needles:
            if sum(needle in p for p in problems) != 1:
                print(f"self-test: {what}: '{needle}' not reported exactly once")
                ok = False
        for p in problems:
            print(f"  (expected, {what}) {p}")

    with tempfile.TemporaryDirectory() as root:
        for rel, text in SELF_TEST_TREE.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        problems, edges = check(root, allowed, exceptions)
        expect("tree", problems, ["vmexit/w.c:2: vmexit -> sidecore", "vmexit/w.c:3:",
                                  "include cycle: sidecore/s.h -> vmexit/v.h -> sidecore/s.h",
                                  "extra/x.c: folder extra/", "core/gone.h is no longer needed"])
        if len(problems) != 5 or edges != 6:
            print(f"self-test: {len(problems)} problems and {edges} edges, expected 5 and 6")
            ok = False
        cyclic = dict(allowed, core={"vmexit"}, vmexit={"core", "nowhere"})
        problems, _ = check(root, cyclic, exceptions)
        expect("allowed", problems, ["have a cycle: core -> vmexit -> core",
                                     "allowed edge vmexit -> nowhere"])
    print("self-test " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems, edges = check(root)
    for p in problems:
        print(p)
    print(f"{edges} includes between folders checked against {len(ALLOWED)} layers and "
          f"{len(EXCEPTIONS)} exceptions: {len(problems)} problems")
    if edges == 0:
        print("no include between folders found: the scan itself is broken")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
