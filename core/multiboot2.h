/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The Multiboot2 boot information (GRUB's hand-over, Multiboot2 specification 1.0, section
 * 3.6) turned into the core's struct boot_info, the same structure the UEFI loader fills.
 *
 * Portable (host-tested and fuzzed): it reads only the len bytes it is given. What it takes:
 *   - memory map (tag 6): each entry a boot_mem_range (available RAM usable, ACPI reclaimable
 *     and NVS kept apart, bad memory marked, anything else reserved);
 *   - command line (tag 1): empty, or config=NAME naming the configuration module;
 *   - modules (tag 3): each a boot_file named by the first word of its string (GRUB's
 *     `module2 /path name`); the one named MB2_CONFIG_NAME (or config=NAME) is the
 *     configuration instead; a module must be page aligned (the header asks GRUB for it);
 *   - ACPI (tags 14 and 15): the RSDP GRUB copied into the information itself; the new one
 *     (ACPI 2.0+, XSDT) when both are there. boot_info.rsdp is its address: base + offset.
 * Everything else (boot loader name, framebuffer, EFI tags) is skipped. The information's own
 * pages and the modules' are marked BOOT_MEM_HYPERVISOR in the memory map; the caller adds
 * its own image. */
#ifndef CORE_MULTIBOOT2_H
#define CORE_MULTIBOOT2_H

#include <stddef.h>
#include <stdint.h>

#include "core/boot_info.h"
#include "core/refusal.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u /* in eax at the entry */
#define MB2_CONFIG_NAME "sidecore.cfg"

/* info: the boot information as GRUB left it, at physical address base (for rsdp), len bytes
 * of it readable. Fills out (zeroed first, magic, version, loader set): 0, or -E_INVAL with
 * why (a size, an alignment, a tag past the end, too many ranges or files, a bad name, no
 * end tag, no memory map, no configuration module, a command line it does not understand). */
int mb2_boot_info(const uint8_t *info, size_t len, uint64_t base, struct boot_info *out,
                  struct refusal *why);

#endif
