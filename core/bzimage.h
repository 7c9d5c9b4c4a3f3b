/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Linux x86 boot protocol (the kernel's Documentation/arch/x86/boot.rst): a bzImage's setup
 * header, where its 64-bit kernel goes in a partition, the initrd's place, the e820 map and
 * the zero page (struct boot_params) handed to the 64-bit entry point in rsi. Hardware-
 * independent: the image is read as untrusted bytes (host-tested and fuzzed). */
#ifndef CORE_BZIMAGE_H
#define CORE_BZIMAGE_H

#include <stdbool.h>
#include <stdint.h>

struct refusal;

#define BZ_ZERO_PAGE_SIZE 4096
#define BZ_MIN_VERSION 0x020c    /* 2.12: xloadflags, so the 64-bit entry can be checked */
#define BZ_ENTRY_64_OFFSET 0x200 /* startup_64, from the protected-mode kernel's start */
#define BZ_E820_MAX 128          /* entries the zero page holds */
#define BZ_E820_RAM 1
#define BZ_E820_RESERVED 2

/* What the hypervisor needs of a parsed bzImage. */
struct bzimage {
    uint16_t version;       /* boot protocol, 0x020f for 2.15 */
    uint64_t kernel_offset; /* the protected-mode kernel in the file */
    uint64_t kernel_size;
    uint64_t load_gpa;     /* where it is placed: aligned, [load_gpa, + init_size) in RAM */
    uint64_t init_size;    /* memory it needs there to decompress and start */
    uint64_t entry_gpa;    /* load_gpa + BZ_ENTRY_64_OFFSET */
    uint32_t header_len;   /* setup header bytes copied into the zero page (from 0x1f1) */
    uint32_t cmdline_max;  /* command-line bytes it accepts, without the NUL */
    uint64_t initrd_limit; /* no initrd byte at or above this address */
};

struct bz_e820 {
    uint64_t addr, size;
    uint32_t type;
};

/* A range of guest-physical addresses. */
struct bz_range {
    uint64_t addr, size;
};

/* What the zero page points at, besides the kernel. */
struct bz_params {
    uint64_t cmdline_gpa;
    const char *cmdline; /* NUL-terminated; copied by the caller to cmdline_gpa */
    uint64_t initrd_gpa, initrd_size;
    const struct bz_e820 *e820;
    unsigned e820_count;
};

/* A bzImage at all (boot flag and "HdrS")? For choosing a loader, not validation. */
bool bzimage_detect(const void *file, uint64_t size);
/* Validate the header and place the kernel inside RAM [ram_lo, ram_hi): at its preferred
 * address if that fits and is aligned, else (a relocatable kernel) at the lowest aligned
 * address that fits. 0, or a negative errno with the reason. */
int bzimage_parse(const void *file, uint64_t size, uint64_t ram_lo, uint64_t ram_hi,
                  struct bzimage *out, struct refusal *why);
/* The initrd's address: the highest page-aligned one at which it fits in [ram_lo, ram_hi),
 * below the kernel's limit, and clear of the kernel. */
int bzimage_place_initrd(const struct bzimage *k, uint64_t initrd_size, uint64_t ram_lo,
                         uint64_t ram_hi, uint64_t *gpa, struct refusal *why);
/* The e820 map of a partition whose RAM is [0, ram_size): RAM less the reserved ranges that
 * fall in it, plus every reserved range (in RAM or beyond it, such as the ring window), in
 * address order. Reserved ranges must not overlap one another. Returns the entry count. */
int bzimage_e820(uint64_t ram_size, const struct bz_range *reserved, unsigned nreserved,
                 struct bz_e820 out[BZ_E820_MAX], struct refusal *why);
/* Fill the zero page from the file's setup header and p. */
int bzimage_zero_page(const void *file, const struct bzimage *k, const struct bz_params *p,
                      uint8_t zp[BZ_ZERO_PAGE_SIZE], struct refusal *why);
/* Copy the protected-mode kernel to k->load_gpa; guest_base is where GPA 0 is mapped. */
void bzimage_load(const void *file, const struct bzimage *k, uint8_t *guest_base);

#endif
