/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* ELF64 guest image loader: validates an x86-64 executable and copies it into guest memory. */
#ifndef CORE_ELF_H
#define CORE_ELF_H

#include <stdint.h>

#include "core/refusal.h"

#define ELF_MAX_SEGMENTS 16

/* Segment permission flags (p_flags); other bits of p_flags are dropped. */
#define ELF_PF_X 1u
#define ELF_PF_W 2u
#define ELF_PF_R 4u

/* One PT_LOAD segment with a non-zero memory size. */
struct elf_segment {
    uint64_t gpa;         /* guest-physical address (p_paddr, equal to p_vaddr) */
    uint64_t file_offset; /* meaningful only when file_size != 0 */
    uint64_t file_size;
    uint64_t mem_size; /* >= file_size; the rest is zeroed */
    uint32_t flags;    /* ELF_PF_* */
};

struct elf_image {
    uint64_t entry;
    unsigned nsegments;
    struct elf_segment seg[ELF_MAX_SEGMENTS]; /* program header order */
    /* [lowest, highest) spans all segments; lowest is the lowest segment address, highest the
     * end of the highest segment rounded up to a page (so it may lie up to a page beyond
     * load_max when load_max is not page-aligned). */
    uint64_t lowest;
    uint64_t highest;
};

/* Validates an image of size bytes at file (any alignment) for loading into guest-physical
 * [load_min, load_max). Returns 0 with *out filled in, or a negative errno with *out zeroed and
 * the reason in why (which may be NULL). On success why holds "". Segment numbers in reasons
 * are program header indices, as readelf -l counts them. Only PT_LOAD headers with a non-zero
 * memory size become segments; other program header types are ignored. */
int elf_parse(const void *file, uint64_t size, uint64_t load_min, uint64_t load_max,
              struct elf_image *out, struct refusal *why);

/* Copies each segment's file bytes to guest memory and zeroes the rest of its memory size.
 * guest_base is the host address at which guest-physical address 0 is mapped (the partition
 * memory is contiguous); only [guest_base + gpa, guest_base + gpa + mem_size) of each segment
 * is written. img must have come from a successful elf_parse of the same file. */
void elf_load(const void *file, const struct elf_image *img, uint8_t *guest_base);

#endif
