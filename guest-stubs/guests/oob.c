/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: an access outside the partition's RAM must stop the partition (nested page fault). */
#include "sidecore/guest.h"

#define BEYOND 0x100000ull /* how far past the end of RAM to reach */

/* cmdline "write" (as its first word) selects a write instead of a read. */
static bool wants_write(const char *cmdline, unsigned size)
{
    static const char word[] = "write";
    unsigned i = 0;
    for (; i < sizeof(word) - 1; i++)
        if (i >= size || cmdline[i] != word[i])
            return false;
    return i == size || cmdline[i] == '\0' || cmdline[i] == ' ';
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id;
    bool write = wants_write(bi->cmdline, sizeof(bi->cmdline));
    uint64_t gpa = bi->memory_size + BEYOND;

    /* The initial page tables map only the RAM: without this the access would be a guest #PF
     * instead of reaching the nested tables. */
    int err = sc_map_identity(gpa & ~0xfffull, 0);
    if (err) {
        sc_fail("vCPU %u: cannot map GPA 0x%llx in the guest page tables: %d", id,
                (unsigned long long)gpa, err);
        return 1;
    }
    volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)gpa;
    uint8_t value = 0;
    if (write) {
        sc_printf("vCPU %u: writing outside the partition at GPA 0x%llx\n", id,
                  (unsigned long long)gpa);
        *p = 0xa5;
    } else {
        sc_printf("vCPU %u: reading outside the partition at GPA 0x%llx\n", id,
                  (unsigned long long)gpa);
        value = *p;
    }
    sc_fail("vCPU %u: %s GPA 0x%llx (outside the partition) did not stop it (value 0x%x)", id,
            write ? "writing" : "reading", (unsigned long long)gpa, value);
    return 1;
}
