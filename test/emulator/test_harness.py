#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""The case checker on made-up consoles: a guest's PASS line counts only for the partition
and vCPU that printed it, so one partition cannot pass another's case by printing its
lines. Runs the checker and the patterns of the real case table."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

from sidecore_lib import cases, qemu  # noqa: E402

TABLE = cases.load_table()


def console(*guest_lines):
    """A console whose RESULT lines say every partition of guest_hello passed."""
    return (["[   0.100000] cpu0  info  local APIC mode: x2APIC"] + list(guest_lines) +
            ["RESULT partition=hello status=pass vcpus=1 exits=7",
             "RESULT status=ok cpus=2 online=2 missing=0 unacked=0 parked=0 sidecores=1 "
             "guest_cores=1 partitions=1"])


def passes(case, lines):
    result = qemu.BootResult(qemu.STATUS_OK, "test", lines, 33)
    with open(os.devnull, "w") as quiet:
        out, sys.stdout = sys.stdout, quiet
        try:
            return cases.check(case, result) == 0
        finally:
            sys.stdout = out


HELLO_LINES = [
    "[   0.200000] cpu1  info  hello.0: PASS: vCPU 0: CPUID 0x40000000 signature SidecoreHypv, "
    "max leaf 0x40000002",
    "[   0.200100] cpu1  info  hello.0: PASS: vCPU 0: CPUID 0x40000001 vCPU 0 of 1, ABI 1",
    "[   0.200200] cpu0  info  SVM revision 1, 16 ASIDs, nested paging",
    "[   0.300000] cpu0  info  partition 'hello' vCPU 0 (cpu 1): 7 exits cpuid=2 hypercall=5",
]


class GuestLinesAreAnchored(unittest.TestCase):
    def test_genuine_lines_pass(self):
        self.assertTrue(passes(TABLE["guest_hello"], console(*HELLO_LINES)))

    def test_line_printed_by_another_partition_does_not_count(self):
        forged = [line.replace("cpu1  info  hello.0: ", "cpu2  info  evil.0: cpu1  info  hello.0: ")
                  for line in HELLO_LINES]
        self.assertFalse(passes(TABLE["guest_hello"], console(*forged)))

    def test_line_of_another_vcpu_does_not_count(self):
        other = [line.replace("hello.0: ", "hello.1: ") for line in HELLO_LINES]
        self.assertFalse(passes(TABLE["guest_hello"], console(*other)))

    def test_fail_line_anywhere_fails(self):
        lines = HELLO_LINES + ["[   0.250000] cpu1  info  hello.0: FAIL: something"]
        self.assertFalse(passes(TABLE["guest_hello"], console(*lines)))

    def test_every_case_runs_on_bochs_or_says_why(self):
        """One table for both vendors: a case not run under Bochs (Intel VMX) gives its reason."""
        for case in TABLE.values():
            on_bochs = "bochs-vmx" in case.get("platforms", ["qemu"])
            reason = case.get("not_on_bochs", "")
            self.assertTrue(on_bochs != bool(reason.strip()), case["name"])

    def test_vendor_patterns_name_both_vendors(self):
        for case in TABLE.values():
            for pattern in case.get("expect", []) + case.get("reject", []):
                if isinstance(pattern, dict):
                    self.assertEqual(set(pattern), {"svm", "vmx"}, case["name"])

    def test_every_guest_pattern_is_anchored(self):
        """Any pattern naming a guest's PASS line starts at the beginning of the log line."""
        for case in TABLE.values():
            for pattern in case.get("expect", []):
                if ": PASS: " in pattern:
                    self.assertTrue(pattern.startswith("^"), f"{case['name']}: {pattern}")


if __name__ == "__main__":
    unittest.main(verbosity=1)
