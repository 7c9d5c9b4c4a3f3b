/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Reading the guest's own memory through its own page tables: what an emulated MMIO access
 * needs to fetch the instruction at the guest's rip.
 *
 * Portable (host-tested). Every paging-structure entry is read once from guest RAM (the
 * partition's, [0, ram_size) at host pointer ram) and must lie inside it; nothing outside
 * RAM is ever touched. Access rights are not checked: the guest could execute the bytes,
 * and reading them gives it nothing it does not have. */
#ifndef VMEXIT_GUEST_WALK_H
#define VMEXIT_GUEST_WALK_H

#include <stdint.h>

struct guest_paging {
    uint64_t cr0, cr3, cr4, efer;
};

/* Linear to guest-physical: paging off (identity) and long mode with 4- or 5-level tables
 * (4 KiB, 2 MiB and 1 GiB pages). 0, or -E_FAULT (an entry not present or outside RAM),
 * -E_NOSYS (32-bit paging, PAE without long mode: not used by the guests of this
 * hypervisor). */
int guest_linear_to_phys(const uint8_t *ram, uint64_t ram_size, const struct guest_paging *pg,
                         uint64_t linear, uint64_t *gpa);

/* Copies up to n bytes at linear into buf, page by page, stopping at the first page that
 * does not translate to RAM. Returns the number of bytes copied. */
unsigned guest_read_linear(const uint8_t *ram, uint64_t ram_size, const struct guest_paging *pg,
                           uint64_t linear, uint8_t *buf, unsigned n);

#endif
