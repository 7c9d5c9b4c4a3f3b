/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Converting the UEFI memory map into boot_info ranges (no firmware calls: host-tested). */
#ifndef EFI_MEMMAP_H
#define EFI_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/boot_info.h"

/* UEFI 2.x EFI_MEMORY_DESCRIPTOR field offsets; descriptors are desc_size apart,
 * which may be larger than the fields below (firmware adds padding). */
#define EFI_MD_TYPE 0
#define EFI_MD_PHYS 8
#define EFI_MD_PAGES 24
#define EFI_MD_MIN_SIZE 40

/* Sorted by address, adjacent ranges of the same type merged. Returns the
 * number of ranges, -E_INVAL for a bad descriptor size or a range that wraps,
 * -E_NOSPC if more than max ranges remain. */
int efi_memmap_convert(const void *map, size_t map_size, size_t desc_size,
                       struct boot_mem_range *out, uint32_t max);
uint32_t efi_memory_type_to_boot(uint32_t efi_type);

#endif
