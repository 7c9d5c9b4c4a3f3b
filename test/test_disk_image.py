#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""The GPT disk image tools/sidecore image writes, read back field by field as a firmware
would (UEFI 2.10 chapter 5): protective MBR, primary and backup headers with their CRCs, the
one EFI system partition, and its bytes where the entry says."""
import os
import struct
import sys
import tempfile
import unittest
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

from sidecore_lib import disk_image  # noqa: E402

SECTOR = 512
ESP = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")


def header(disk, lba):
    h = disk[lba * SECTOR:lba * SECTOR + 92]
    (sig, rev, size, crc, _, current, backup, first, last, guid, entries_lba, n, esize,
     entries_crc) = struct.unpack("<8sIIIIQQQQ16sQIII", h)
    zeroed = h[:16] + b"\0\0\0\0" + h[20:]
    return dict(sig=sig, rev=rev, size=size, crc=crc, crc_ok=zlib.crc32(zeroed) == crc,
                current=current, backup=backup, first=first, last=last, guid=guid,
                entries_lba=entries_lba, n=n, esize=esize, entries_crc=entries_crc)


class GptImage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sidecore-gpt-test-")
        esp = os.path.join(cls.dir, "esp.img")
        cls.payload = bytes(range(256)) * 4096 * 3  # 3 MiB standing in for the FAT image
        with open(esp, "wb") as f:
            f.write(cls.payload)
        out = os.path.join(cls.dir, "disk.img")
        disk_image.write_gpt_image(out, esp)
        with open(out, "rb") as f:
            cls.disk = f.read()

    def test_protective_mbr(self):
        mbr = self.disk[:SECTOR]
        self.assertEqual(mbr[510:512], b"\x55\xaa")
        self.assertEqual(mbr[446 + 4], 0xee)
        self.assertEqual(struct.unpack("<I", mbr[446 + 8:446 + 12])[0], 1)

    def test_headers_and_their_crcs(self):
        total = len(self.disk) // SECTOR
        p, b = header(self.disk, 1), header(self.disk, total - 1)
        for h in (p, b):
            self.assertEqual(h["sig"], b"EFI PART")
            self.assertEqual(h["rev"], 0x00010000)
            self.assertEqual(h["size"], 92)
            self.assertTrue(h["crc_ok"])
            self.assertEqual((h["n"], h["esize"]), (128, 128))
            entries = self.disk[h["entries_lba"] * SECTOR:(h["entries_lba"] * SECTOR +
                                                             h["n"] * h["esize"])]
            self.assertEqual(zlib.crc32(entries), h["entries_crc"])
        self.assertEqual((p["current"], p["backup"]), (1, total - 1))
        self.assertEqual((b["current"], b["backup"]), (total - 1, 1))
        self.assertEqual(p["entries_lba"], 2)
        self.assertEqual(b["entries_lba"], total - 1 - 32)
        self.assertEqual((p["first"], p["last"], p["guid"]), (b["first"], b["last"], b["guid"]))
        self.assertLess(p["last"], b["entries_lba"])

    def test_the_one_partition_is_the_esp_with_its_bytes(self):
        e = self.disk[2 * SECTOR:2 * SECTOR + 128]
        ptype, _, first, last, _, name = struct.unpack("<16s16sQQQ72s", e)
        self.assertEqual(uuid.UUID(bytes_le=ptype), ESP)
        self.assertEqual(first % 2048, 0)  # 1 MiB aligned
        self.assertEqual((last - first + 1) * SECTOR, len(self.payload))
        self.assertEqual(self.disk[first * SECTOR:(last + 1) * SECTOR], self.payload)
        self.assertTrue(name.decode("utf-16-le").startswith("EFI system partition"))
        # no second entry
        self.assertEqual(self.disk[2 * SECTOR + 128:2 * SECTOR + 256], bytes(128))


if __name__ == "__main__":
    unittest.main(verbosity=1)
