#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""The directory tools/sidecore netboot fills for a TFTP server: the loader, sidecore.cfg, one
sidecore-<mac>.cfg per node named as the loader asks for it, each file the configurations
name once, and a refusal when two configurations give one name to two different files."""
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

from sidecore_lib import netboot  # noqa: E402


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


class NetbootTree(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sidecore-netboot-test-")
        self.build = os.path.join(self.dir, "build")
        write(os.path.join(self.build, "efi", "BOOTX64.EFI"), b"MZ loader")
        write(os.path.join(self.build, "guest-stubs", "hello.elf"), b"\x7fELF hello")
        self.out = os.path.join(self.dir, "tftp")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def config(self, name, text):
        return write(os.path.join(self.dir, name), text.encode())

    def test_names_as_the_loader_asks_for_them(self):
        default = self.config("d.cfg", "partition name=d cpus=1 memory=16M image=hello.elf\n")
        node = self.config("n.cfg", "partition name=n cpus=1 memory=16M image=hello.elf "
                                    "disk=n.img\n")
        write(os.path.join(self.dir, "n.img"), b"disk of n")
        files = netboot.make_tree(self.build, self.out, default,
                                  [("52:54:00:AB:cd:0E", node), ("52-54-00-00-00-01", default)])
        self.assertEqual(files, ["BOOTX64.EFI", "hello.elf", "n.img",
                                 "sidecore-52-54-00-00-00-01.cfg",
                                 "sidecore-52-54-00-ab-cd-0e.cfg", "sidecore.cfg"])
        with open(os.path.join(self.out, "sidecore-52-54-00-ab-cd-0e.cfg")) as f:
            self.assertIn("name=n ", f.read())
        with open(os.path.join(self.out, "n.img"), "rb") as f:
            self.assertEqual(f.read(), b"disk of n")
        with open(os.path.join(self.out, "BOOTX64.EFI"), "rb") as f:
            self.assertEqual(f.read(), b"MZ loader")

    def test_not_a_mac(self):
        for bad in ("52:54:00:00:00", "52:54:00:00:00:0g", "5254000000aa", "52:54:00:00:00:aa:bb"):
            with self.assertRaises(SystemExit):
                netboot.node_config_name(bad)
        self.assertEqual(netboot.node_config_name("AA:bb:CC:00:11:22"),
                         "sidecore-aa-bb-cc-00-11-22.cfg")

    def test_one_name_two_files_refused(self):
        a = write(os.path.join(self.dir, "a", "x.cfg"), b"partition name=a cpus=1 image=g.elf\n")
        b = write(os.path.join(self.dir, "b", "x.cfg"), b"partition name=b cpus=1 image=g.elf\n")
        write(os.path.join(self.dir, "a", "g.elf"), b"guest a")
        write(os.path.join(self.dir, "b", "g.elf"), b"guest b")
        with self.assertRaises(SystemExit) as e:
            netboot.make_tree(self.build, self.out, a, [("52:54:00:00:00:01", b)])
        self.assertIn("'g.elf'", str(e.exception))


if __name__ == "__main__":
    unittest.main()
