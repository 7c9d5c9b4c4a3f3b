/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* UEFI memory map -> boot_info ranges. */
#include "efi/memmap.h"

#include "core/klib.h"

/* UEFI memory types (UEFI 2.10, 7.2.1). */
enum {
    EFI_RESERVED = 0,
    EFI_LOADER_CODE,
    EFI_LOADER_DATA,
    EFI_BS_CODE,
    EFI_BS_DATA,
    EFI_RT_CODE,
    EFI_RT_DATA,
    EFI_CONVENTIONAL,
    EFI_UNUSABLE,
    EFI_ACPI_RECLAIM,
    EFI_ACPI_NVS,
    EFI_MMIO,
    EFI_MMIO_PORT,
    EFI_PAL_CODE,
    EFI_PERSISTENT,
};

uint32_t efi_memory_type_to_boot(uint32_t t)
{
    switch (t) {
    case EFI_CONVENTIONAL:
        return BOOT_MEM_USABLE;
    case EFI_BS_CODE:
    case EFI_BS_DATA:
        return BOOT_MEM_BOOT_SERVICES; /* free once the core runs on its own tables */
    case EFI_LOADER_CODE:
    case EFI_LOADER_DATA:
        return BOOT_MEM_HYPERVISOR; /* our image, boot_info and the files we loaded */
    case EFI_RT_CODE:
    case EFI_RT_DATA:
        return BOOT_MEM_FIRMWARE;
    case EFI_ACPI_RECLAIM:
        return BOOT_MEM_ACPI_RECLAIM;
    case EFI_ACPI_NVS:
        return BOOT_MEM_ACPI_NVS;
    case EFI_MMIO:
    case EFI_MMIO_PORT:
        return BOOT_MEM_MMIO;
    case EFI_UNUSABLE:
        return BOOT_MEM_BAD;
    default:
        return BOOT_MEM_RESERVED;
    }
}

static void insert_sorted(struct boot_mem_range *out, uint32_t n, struct boot_mem_range r)
{
    uint32_t i = n;
    while (i > 0 && out[i - 1].base > r.base) {
        out[i] = out[i - 1];
        i--;
    }
    out[i] = r;
}

int efi_memmap_convert(const void *map, size_t map_size, size_t desc_size,
                       struct boot_mem_range *out, uint32_t max)
{
    if (desc_size < EFI_MD_MIN_SIZE || desc_size % 8)
        return -E_INVAL;
    const uint8_t *p = map;
    uint32_t n = 0;
    for (size_t off = 0; off + desc_size <= map_size; off += desc_size) {
        uint32_t type;
        uint64_t base, pages;
        memcpy(&type, p + off + EFI_MD_TYPE, sizeof(type));
        memcpy(&base, p + off + EFI_MD_PHYS, sizeof(base));
        memcpy(&pages, p + off + EFI_MD_PAGES, sizeof(pages));
        if (pages == 0)
            continue;
        if (pages > (UINT64_MAX - base) / PAGE_SIZE)
            return -E_INVAL;
        struct boot_mem_range r = {base, pages * PAGE_SIZE, efi_memory_type_to_boot(type), 0};
        if (n > 0) {
            /* merge with an existing neighbour before spending a slot */
            struct boot_mem_range *last = &out[n - 1];
            if (last->type == r.type && last->base + last->size == r.base) {
                last->size += r.size;
                continue;
            }
        }
        if (n == max)
            return -E_NOSPC;
        insert_sorted(out, n++, r);
    }
    /* a second pass merges neighbours that were not consecutive in the firmware's order */
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (w > 0 && out[w - 1].type == out[i].type &&
            out[w - 1].base + out[w - 1].size == out[i].base)
            out[w - 1].size += out[i].size;
        else
            out[w++] = out[i];
    }
    return (int)w;
}
