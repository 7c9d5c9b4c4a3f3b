/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Table pages the nested tables let go of, held back until every vCPU of the partition
 * has flushed: a guest core may still walk a freed page through a cached upper-level
 * entry, and reused (by another partition's tables, say) it would map whatever they map.
 * Portable (host-tested). */
#ifndef VMEXIT_NPT_RETIRE_H
#define VMEXIT_NPT_RETIRE_H

#include <stdint.h>

#include "core/pgtable.h"

/* Pages linked through their first entry: a page-aligned address has the present bits of
 * NPT and EPT clear, so a stale walk still finds nothing mapped. */
struct npt_retired {
    uint64_t head; /* 0: empty */
    unsigned count;
};

/* The pt_mem of a partition's nested tables: pages come from `backing` (the shared table
 * allocator), freed ones wait in `retired`. */
struct npt_mem {
    struct pt_mem mem;
    const struct pt_mem *backing;
    struct npt_retired retired;
};

void npt_mem_init(struct npt_mem *m, const struct pt_mem *backing);

/* Under the tables' lock, after a change and before its flush: the pages retired so far
 * (this change's and any earlier one's), which that flush covers. */
struct npt_retired npt_retired_take(struct npt_mem *m);
/* After the flush completed: the pages go back to the backing allocator. */
void npt_retired_release(struct npt_mem *m, struct npt_retired *r);
/* The flush did not complete: back on the list (under the lock), for a later flush. */
void npt_retired_return(struct npt_mem *m, struct npt_retired *r);

#endif
