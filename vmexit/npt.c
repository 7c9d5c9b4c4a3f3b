/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A partition's guest-physical space: its RAM and its core's LAPIC, nothing else. */
#include "vmexit/npt.h"

#include "core/klib.h"

int npt_map_partition(struct pt *npt, uint64_t base, uint64_t size, uint64_t lapic_gpa,
                      uint64_t lapic_hpa)
{
    const unsigned rwx = PT_READ | PT_WRITE | PT_EXEC;
    if (!IS_ALIGNED(base, 2 * MiB) || size <= PAGE_SIZE || !IS_ALIGNED(size, PAGE_SIZE) ||
        base + size < base || lapic_gpa < size)
        return -E_INVAL;
    /* page 0 stays unmapped so that a guest NULL dereference is reported */
    int rc = pt_map(npt, PAGE_SIZE, base + PAGE_SIZE, size - PAGE_SIZE, rwx);
    if (!rc && lapic_hpa) /* xAPIC only: in x2APIC mode the LAPIC has no page */
        rc = pt_map(npt, lapic_gpa, lapic_hpa, PAGE_SIZE, rwx | PT_UNCACHED);
    return rc;
}
