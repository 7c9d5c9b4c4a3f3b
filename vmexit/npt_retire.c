/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Nested-table pages waiting for a flush before they may be reused. */
#include "vmexit/npt_retire.h"

static uint64_t *link_of(const struct npt_mem *m, uint64_t pa)
{
    return m->backing->phys_to_virt(m->backing->ctx, pa);
}

static int npt_alloc(void *ctx, uint64_t *pa)
{
    const struct npt_mem *m = ctx;
    return m->backing->alloc_page(m->backing->ctx, pa);
}

static void *npt_virt(void *ctx, uint64_t pa)
{
    const struct npt_mem *m = ctx;
    return m->backing->phys_to_virt(m->backing->ctx, pa);
}

static void npt_retire(void *ctx, uint64_t pa)
{
    struct npt_mem *m = ctx;
    *link_of(m, pa) = m->retired.head;
    m->retired.head = pa;
    m->retired.count++;
}

void npt_mem_init(struct npt_mem *m, const struct pt_mem *backing)
{
    *m = (struct npt_mem){{m, npt_alloc, npt_virt, npt_retire}, backing, {0, 0}};
}

struct npt_retired npt_retired_take(struct npt_mem *m)
{
    struct npt_retired r = m->retired;
    m->retired = (struct npt_retired){0, 0};
    return r;
}

void npt_retired_release(struct npt_mem *m, struct npt_retired *r)
{
    while (r->head) {
        uint64_t pa = r->head;
        r->head = *link_of(m, pa);
        *link_of(m, pa) = 0; /* the backing allocator gets the page all zero */
        m->backing->free_page(m->backing->ctx, pa);
    }
    r->count = 0;
}

void npt_retired_return(struct npt_mem *m, struct npt_retired *r)
{
    while (r->head) {
        uint64_t pa = r->head;
        r->head = *link_of(m, pa);
        npt_retire(m, pa);
    }
    r->count = 0;
}
