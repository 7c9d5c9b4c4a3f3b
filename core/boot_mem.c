/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Carving the hypervisor's own memory out of a loader's map (see boot_mem.h). */
#include "core/boot_mem.h"

#include "core/klib.h"

#define PAGE 4096ull

static bool is_free(uint32_t type)
{
    return type == BOOT_MEM_USABLE || type == BOOT_MEM_BOOT_SERVICES;
}

/* Pieces a free range leaves around [lo, hi): before, inside, after; empty ones skipped. */
static unsigned pieces(const struct boot_mem_range *r, uint64_t lo, uint64_t hi, uint32_t type,
                       struct boot_mem_range out[3])
{
    uint64_t end = r->base + r->size;
    uint64_t in_lo = r->base > lo ? r->base : lo, in_hi = end < hi ? end : hi;
    unsigned n = 0;
    if (r->base < in_lo)
        out[n++] = (struct boot_mem_range){r->base, in_lo - r->base, r->type, 0};
    out[n++] = (struct boot_mem_range){in_lo, in_hi - in_lo, type, 0};
    if (in_hi < end)
        out[n++] = (struct boot_mem_range){in_hi, end - in_hi, r->type, 0};
    return n;
}

static bool overlaps(const struct boot_mem_range *r, uint64_t lo, uint64_t hi)
{
    return is_free(r->type) && r->base < hi && lo < r->base + r->size;
}

int boot_mem_carve(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type)
{
    if (size == 0)
        return 0;
    uint64_t lo = base & ~(PAGE - 1);
    uint64_t top = UINT64_MAX & ~(PAGE - 1); /* a range may not wrap */
    uint64_t hi = base >= top || size > top - base ? top : (base + size + PAGE - 1) & ~(PAGE - 1);
    if (lo >= hi)
        return 0;
    /* count first, so a map that cannot hold the split is left as it was */
    uint32_t need = bi->nmem;
    struct boot_mem_range tmp[3];
    for (uint32_t i = 0; i < bi->nmem; i++)
        if (overlaps(&bi->mem[i], lo, hi))
            need += pieces(&bi->mem[i], lo, hi, type, tmp) - 1;
    if (need > BOOT_MAX_MEM_RANGES)
        return -E_NOSPC;
    for (uint32_t i = 0; i < bi->nmem; i++) {
        if (!overlaps(&bi->mem[i], lo, hi))
            continue;
        unsigned n = pieces(&bi->mem[i], lo, hi, type, tmp);
        memmove(&bi->mem[i + n], &bi->mem[i + 1], (bi->nmem - i - 1) * sizeof(bi->mem[0]));
        memcpy(&bi->mem[i], tmp, n * sizeof(tmp[0]));
        bi->nmem += n - 1;
        i += n - 1;
    }
    return 0;
}
