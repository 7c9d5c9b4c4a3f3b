/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The guest's page-table walk (see guest_walk.h). */
#include "vmexit/guest_walk.h"

#include "core/klib.h"
#include "vmexit/x86.h"

#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull /* bits 51:12 */
#define PAGE 4096ull

int guest_linear_to_phys(const uint8_t *ram, uint64_t ram_size, const struct guest_paging *pg,
                         uint64_t linear, uint64_t *gpa)
{
    if (!(pg->cr0 & X86_CR0_PG)) {
        *gpa = linear;
        return 0;
    }
    if (!(pg->efer & X86_EFER_LMA) || !(pg->cr4 & X86_CR4_PAE))
        return -E_NOSYS;
    unsigned levels = (pg->cr4 & X86_CR4_LA57) ? 5 : 4;
    uint64_t table = pg->cr3 & PTE_ADDR;
    for (unsigned level = levels; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t at = table + 8 * ((linear >> shift) & 511);
        if (ram_size < 8 || at > ram_size - 8)
            return -E_FAULT;
        uint64_t entry;
        memcpy(&entry, ram + at, sizeof(entry)); /* read once */
        if (!(entry & PTE_P))
            return -E_FAULT;
        /* a large page at the PDPT (1 GiB) or the page directory (2 MiB) */
        if (level == 1 || ((level == 2 || level == 3) && (entry & PTE_PS))) {
            uint64_t offset_mask = (1ull << shift) - 1;
            *gpa = ((entry & PTE_ADDR) & ~offset_mask) | (linear & offset_mask);
            return 0;
        }
        table = entry & PTE_ADDR;
    }
    return -E_FAULT; /* not reached */
}

unsigned guest_read_linear(const uint8_t *ram, uint64_t ram_size, const struct guest_paging *pg,
                           uint64_t linear, uint8_t *buf, unsigned n)
{
    unsigned done = 0;
    while (done < n) {
        uint64_t at = linear + done, gpa;
        if (guest_linear_to_phys(ram, ram_size, pg, at, &gpa))
            break;
        unsigned chunk = (unsigned)(PAGE - (at & (PAGE - 1)));
        if (chunk > n - done)
            chunk = n - done;
        if (gpa > ram_size || chunk > ram_size - gpa)
            break;
        memcpy(buf + done, ram + gpa, chunk);
        done += chunk;
    }
    return done;
}
