#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""tools/sidecore check on the built sidecore-check: the user's own file name on every error
line, status 1 on errors and 0 without, and the machine's facts (--cpus, --memory, ACPI
tables in either format) checked only when given."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
BUILD = os.environ.get("SIDECORE_BUILD_DIR", os.path.join(SOURCE, "build"))
FIXTURES = os.path.join(HERE, "fixtures", "acpi")
DEFAULT = os.path.join(SOURCE, "efi", "sidecore.cfg")


def check(*args):
    run = subprocess.run([sys.executable, os.path.join(SOURCE, "tools", "sidecore.py"),
                          "--build-dir", BUILD, "check", *args], capture_output=True, text=True)
    return run.returncode, run.stdout + run.stderr


class Check(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sidecore-check-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_garbage_is_refused_with_the_users_file_name(self):
        path = self.write("garbage.cfg", "this is not a configuration\n")
        rc, out = check(path)
        self.assertEqual(rc, 1)
        self.assertIn(f"{path}:1: unknown directive 'this'", out)

    def test_every_error_has_its_line(self):
        path = self.write("two.cfg", "sidecore cpu=0 services=pt,irq,io\n# fine\n"
                                     "partition name=a cpus=1 memory=16X\n"
                                     "partition name=b cpus=1 memory=16M\n")
        rc, out = check(path)
        self.assertEqual(rc, 1)
        self.assertRegex(out, rf"{path}:3: .*16X")

    def test_the_default_configuration_passes(self):
        rc, out = check(DEFAULT)
        self.assertEqual(rc, 0, out)
        self.assertIn("ok: 1 side cores, 2 partitions", out)
        self.assertIn("no CPU count given", out)

    def test_the_machine_is_checked_when_it_is_described(self):
        rc, out = check(DEFAULT, "--cpus", "2")
        self.assertEqual(rc, 1)
        self.assertRegex(out, r"sidecore\.cfg:\d+: core 2 does not exist \(this machine has 2 "
                              r"cores\)")
        rc, out = check(DEFAULT, "--memory", "40M")
        self.assertEqual(rc, 1)
        self.assertRegex(out, r"sidecore\.cfg:\d+: partitions need 48M in total, 40M free")
        rc, out = check(DEFAULT, "--cpus", "4", "--memory", "1G")
        self.assertEqual(rc, 0, out)
        self.assertIn("checked with 4 CPUs and the memory given", out)

    def test_acpi_tables_as_dumped(self):
        rc, out = check(DEFAULT, "--acpi", os.path.join(FIXTURES, "qemu-q35-smp4"))
        self.assertEqual(rc, 0, out)
        self.assertIn("4 CPUs", out)
        big = self.write("big.cfg", "sidecore cpu=0 services=pt,irq,io\n"
                                    "partition name=p cpus=40-63 memory=16M\n")
        rc, out = check(big, "--acpi", os.path.join(FIXTURES, "qemu-q35-smp4"))
        self.assertEqual(rc, 1)
        self.assertIn(f"{big}:2: ", out)
        rc, out = check(big, "--acpi", os.path.join(FIXTURES, "qemu-q35-smp64"))
        self.assertEqual(rc, 0, out)
        self.assertIn("64 CPUs", out)

    def test_acpi_tables_as_linux_shows_them(self):
        """/sys/firmware/acpi/tables: files named by signature, no addresses, no RSDP."""
        sysfs = os.path.join(self.dir, "tables")
        os.makedirs(sysfs)
        src = os.path.join(FIXTURES, "qemu-q35-smp64")
        for name in os.listdir(src):
            sig = name.split("@")[0]
            if sig in ("APIC", "FACP"):
                shutil.copyfile(os.path.join(src, name), os.path.join(sysfs, sig))
        os.makedirs(os.path.join(sysfs, "data"))  # sysfs has folders beside the tables
        with open(os.path.join(sysfs, "FACS"), "wb"):
            pass  # and a file too short to be a table
        rc, out = check(DEFAULT, "--acpi", sysfs)
        self.assertEqual(rc, 0, out)
        self.assertIn("64 CPUs", out)
        # one layout or the other: a dump's file beside them is refused
        src4 = os.path.join(FIXTURES, "qemu-q35-smp4")
        name = next(n for n in os.listdir(src4) if n.startswith("APIC@"))
        shutil.copyfile(os.path.join(src4, name), os.path.join(sysfs, name))
        rc, out = check(DEFAULT, "--acpi", sysfs)
        self.assertEqual(rc, 1)
        self.assertIn("one layout or the other", out)

    def test_a_cpu_count_is_given_once(self):
        rc, _ = check(DEFAULT, "--cpus", "4", "--acpi", os.path.join(FIXTURES, "qemu-q35-smp4"))
        self.assertEqual(rc, 2)
        rc, _ = check(DEFAULT, "--cpus", "4x")
        self.assertEqual(rc, 2)

    def test_unreadable_inputs(self):
        rc, out = check(os.path.join(self.dir, "missing.cfg"))
        self.assertEqual(rc, 1)
        self.assertIn("missing.cfg", out)
        rc, out = check(DEFAULT, "--acpi", self.dir)  # no tables there
        self.assertEqual(rc, 1)
        self.assertIn("do not parse", out)


if __name__ == "__main__":
    unittest.main(verbosity=1)
