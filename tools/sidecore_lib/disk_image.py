# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""A bootable GPT disk image: one EFI system partition (FAT, made by qemu.make_esp) holding
EFI/BOOT/BOOTX64.EFI, the configuration and every file it names, for dd to a USB stick or a
node's disk (UEFI specification 2.10, chapter 5: protective MBR, GPT header and entries,
their backup copies at the end)."""
import os
import struct
import tempfile
import uuid
import zlib

from . import build, qemu

SECTOR = 512
ENTRIES = 128
ENTRY_SIZE = 128
ENTRY_SECTORS = ENTRIES * ENTRY_SIZE // SECTOR  # 32
FIRST_USABLE = 2 + ENTRY_SECTORS  # 34
ESP_START = 2048  # 1 MiB aligned, as partitioning tools do
ESP_TYPE = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")


def _guid(u):
    return u.bytes_le


def _header(current, backup, first, last, disk_guid, entries_lba, entries_crc):
    fields = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x00010000, 92, 0, 0, current,
                         backup, first, last, _guid(disk_guid), entries_lba, ENTRIES, ENTRY_SIZE,
                         entries_crc)
    crc = zlib.crc32(fields)
    fields = fields[:16] + struct.pack("<I", crc) + fields[20:]
    return fields + bytes(SECTOR - len(fields))


def write_gpt_image(out_path, esp_path, disk_guid=None, part_guid=None):
    """out_path: the whole disk, the FAT image esp_path as its one partition."""
    esp = open(esp_path, "rb").read()
    esp_sectors = (len(esp) + SECTOR - 1) // SECTOR
    total = ESP_START + esp_sectors + 2048  # room at the end for the backup GPT
    last_usable = total - 1 - ENTRY_SECTORS - 1
    esp_end = ESP_START + esp_sectors - 1
    disk_guid = disk_guid or uuid.uuid4()
    part_guid = part_guid or uuid.uuid4()
    name = "EFI system partition".encode("utf-16-le")
    entry = struct.pack("<16s16sQQQ72s", _guid(ESP_TYPE), _guid(part_guid), ESP_START, esp_end, 0,
                        name)
    entries = entry + bytes(ENTRIES * ENTRY_SIZE - len(entry))
    entries_crc = zlib.crc32(entries)
    # protective MBR: one partition of type 0xee over the disk
    mbr = bytearray(SECTOR)
    size = min(total - 1, 0xffffffff)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\x00\x02\x00", 0xee, b"\xff\xff\xff", 1, size)
    mbr[510:512] = b"\x55\xaa"
    primary = _header(1, total - 1, FIRST_USABLE, last_usable, disk_guid, 2, entries_crc)
    backup = _header(total - 1, 1, FIRST_USABLE, last_usable, disk_guid,
                     total - 1 - ENTRY_SECTORS, entries_crc)
    with open(out_path, "wb") as f:
        f.truncate(total * SECTOR)
        f.write(mbr)
        f.write(primary)
        f.write(entries)
        f.seek(ESP_START * SECTOR)
        f.write(esp)
        f.seek((total - 1 - ENTRY_SECTORS) * SECTOR)
        f.write(entries)
        f.write(backup)
    return out_path


def make_image(build_dir, config_path, out_path, extra_files=()):
    """The image for config_path: BOOTX64.EFI, the configuration and the files it names."""
    efi = build.efi_image(build_dir)
    if not os.path.exists(efi):
        raise SystemExit(f"sidecore: {efi} is missing; build first")
    with tempfile.TemporaryDirectory(prefix="sidecore-image-") as d:
        esp = os.path.join(d, "esp.img")
        qemu.make_esp(esp, efi, config_path, qemu.files_for(config_path, build_dir, extra_files))
        return write_gpt_image(out_path, esp)
