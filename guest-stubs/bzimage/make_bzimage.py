#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Wrap a test guest, linked to run at LOAD + 0x200, into a bzImage as Linux 6.1 lays one
out (boot protocol 2.15, a 64-bit entry at 0x200, not relocatable), so that the
hypervisor's Linux loader can be tested end to end without building a kernel; and write an
initrd of a known pattern for the guest to check.

usage: make_bzimage.py GUEST.elf LOAD OUT.bzImage OUT.initrd INITRD_BYTES
"""
import struct
import sys

SETUP_SECTS = 4
PT_LOAD = 1


def flat_image(elf, load):
    """The PT_LOAD segments laid out from `load`, and the memory they span (bss included)."""
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    out = bytearray()
    end = 0
    for i in range(phnum):
        p_type, _, off, vaddr, _, filesz, memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", elf, phoff + i * phentsize)
        if p_type != PT_LOAD or memsz == 0:
            continue
        if vaddr < load:
            sys.exit(f"segment at {vaddr:#x} below the load address {load:#x}")
        at = vaddr - load
        if len(out) < at + filesz:
            out.extend(bytes(at + filesz - len(out)))
        out[at:at + filesz] = elf[off:off + filesz]
        end = max(end, at + memsz)
    return bytes(out), end


def setup_header(kernel_bytes, load, init_size):
    """The boot sector and setup sectors: only the header fields a 64-bit loader reads."""
    setup = bytearray((SETUP_SECTS + 1) * 512)
    setup[0x1f1] = SETUP_SECTS
    struct.pack_into("<I", setup, 0x1f4, (kernel_bytes + 15) // 16)  # syssize
    struct.pack_into("<H", setup, 0x1fe, 0xAA55)                     # boot_flag
    setup[0x200:0x202] = bytes([0xEB, 0x6A])                         # jmp to 0x26c
    struct.pack_into("<I", setup, 0x202, 0x53726448)                 # "HdrS"
    struct.pack_into("<H", setup, 0x206, 0x020F)                     # protocol 2.15
    setup[0x211] = 0x01                                              # LOADED_HIGH
    struct.pack_into("<I", setup, 0x22C, 0x7FFFFFFF)                 # initrd_addr_max
    struct.pack_into("<I", setup, 0x230, 0x200000)                   # kernel_alignment
    setup[0x234] = 0                                                 # not relocatable
    struct.pack_into("<H", setup, 0x236, 0x1)                        # XLF_KERNEL_64
    struct.pack_into("<I", setup, 0x238, 2047)                       # cmdline_size
    struct.pack_into("<Q", setup, 0x258, load)                       # pref_address
    struct.pack_into("<I", setup, 0x260, init_size)                  # init_size
    return bytes(setup)


def initrd_pattern(n):
    """8 bytes "SCINITRD", the size, then byte i = (i * 31 + 7) & 0xff."""
    head = b"SCINITRD" + struct.pack("<Q", n)
    return head + bytes((i * 31 + 7) & 0xFF for i in range(len(head), n))


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    elf_path, load, out, initrd_out, initrd_bytes = sys.argv[1:]
    load = int(load, 0)
    with open(elf_path, "rb") as f:
        kernel, span = flat_image(f.read(), load)
    init_size = (span + 0xFFF) & ~0xFFF
    with open(out, "wb") as f:
        f.write(setup_header(len(kernel), load, init_size) + kernel)
    with open(initrd_out, "wb") as f:
        f.write(initrd_pattern(int(initrd_bytes, 0)))


if __name__ == "__main__":
    main()
