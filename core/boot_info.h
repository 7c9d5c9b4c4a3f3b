/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The one structure both loaders (UEFI, later Multiboot2) hand to the core. */
#ifndef CORE_BOOT_INFO_H
#define CORE_BOOT_INFO_H

#include <stddef.h>
#include <stdint.h>

#define BOOT_INFO_MAGIC 0x45524f4345444953ull /* "SIDECORE" little-endian */
#define BOOT_INFO_VERSION 1
#define BOOT_MAX_MEM_RANGES 512
#define BOOT_MAX_FILES 16
#define BOOT_FILE_NAME_MAX 64

enum boot_loader { BOOT_LOADER_UEFI = 1, BOOT_LOADER_MULTIBOOT2 = 2 };

/* Memory types after the loader is gone; only BOOT_MEM_USABLE is handed to the allocator. */
enum boot_mem_type {
    BOOT_MEM_USABLE = 1,       /* free RAM (incl. firmware boot-services memory) */
    BOOT_MEM_RESERVED = 2,     /* do not touch */
    BOOT_MEM_ACPI_RECLAIM = 3, /* ACPI tables; kept since we keep reading them */
    BOOT_MEM_ACPI_NVS = 4,
    BOOT_MEM_HYPERVISOR = 5, /* our image, boot_info, loaded files */
    BOOT_MEM_FIRMWARE = 6,   /* firmware runtime code/data */
    BOOT_MEM_MMIO = 7,
    BOOT_MEM_BAD = 8,
    BOOT_MEM_BOOT_SERVICES = 9, /* free, but the firmware's page tables, GDT and IDT live here
                                   until the core has switched to its own */
};

struct boot_mem_range {
    uint64_t base;
    uint64_t size;
    uint32_t type; /* enum boot_mem_type */
    uint32_t reserved;
};

struct boot_file {
    char name[BOOT_FILE_NAME_MAX]; /* as named in the configuration */
    uint64_t address;              /* physical, page aligned */
    uint64_t size;
};

struct boot_info {
    uint64_t magic;
    uint32_t version;
    uint32_t loader;      /* enum boot_loader */
    uint64_t config_text; /* physical address of the configuration text (not NUL-terminated) */
    uint64_t config_len;
    char config_source[64]; /* "sidecore.cfg", "LoadOptions", ... for error messages */
    uint64_t rsdp;          /* physical address of the ACPI RSDP */
    uint64_t tsc_hz;        /* calibrated by the loader; 0 if unknown */
    uint64_t handoff_tsc;   /* TSC when the loader handed over */
    uint64_t image_base;    /* the hypervisor image */
    uint64_t image_size;
    uint32_t nfiles;
    uint32_t nmem;
    struct boot_file files[BOOT_MAX_FILES];
    struct boot_mem_range mem[BOOT_MAX_MEM_RANGES];
};

_Static_assert(sizeof(struct boot_mem_range) == 24, "boot_mem_range layout");
_Static_assert(offsetof(struct boot_info, files) % 8 == 0, "boot_info alignment");

#endif
