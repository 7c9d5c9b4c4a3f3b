/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Nested-table pages freed by an unmap wait for the flush before the allocator reuses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "vmexit/npt_retire.h"

#define POOL_PAGES 32
#define POOL_PA 0x40000000ull

/* The shared table allocator, as the hypervisor's: pages given back are reused first. */
struct backing {
    uint8_t *pool;
    unsigned used, in_use, frees;
    uint64_t reuse[POOL_PAGES];
    unsigned nreuse;
    struct pt_mem mem;
};

static struct backing bk;

static int b_alloc(void *ctx, uint64_t *pa)
{
    struct backing *b = ctx;
    if (b->nreuse)
        *pa = b->reuse[--b->nreuse];
    else if (b->used < POOL_PAGES)
        *pa = POOL_PA + (uint64_t)b->used++ * PAGE_SIZE;
    else
        return -E_NOMEM;
    memset(b->pool + (*pa - POOL_PA), 0, PAGE_SIZE);
    b->in_use++;
    return 0;
}

static void *b_virt(void *ctx, uint64_t pa)
{
    struct backing *b = ctx;
    assert_true(pa >= POOL_PA && pa < POOL_PA + (uint64_t)b->used * PAGE_SIZE);
    return b->pool + (pa - POOL_PA);
}

static void b_free(void *ctx, uint64_t pa)
{
    struct backing *b = ctx;
    const uint64_t *t = b_virt(b, pa);
    for (unsigned i = 0; i < 512; i++)
        assert_int_equal(t[i], 0); /* handed back all zero */
    b->reuse[b->nreuse++] = pa;
    b->in_use--;
    b->frees++;
}

static int setup(void **state)
{
    (void)state;
    memset(&bk, 0, sizeof(bk));
    bk.pool = aligned_alloc(PAGE_SIZE, POOL_PAGES * PAGE_SIZE);
    bk.mem = (struct pt_mem){&bk, b_alloc, b_virt, b_free};
    return bk.pool ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(bk.pool);
    return 0;
}

/* Every entry of a waiting page is not present in the format (a stale walk finds nothing). */
static void expect_waiting_pages_unmapped(const struct npt_mem *m, uint64_t present_bits)
{
    unsigned n = 0;
    for (uint64_t pa = m->retired.head; pa; n++) {
        const uint64_t *t = b_virt(&bk, pa);
        for (unsigned i = 0; i < 512; i++)
            assert_int_equal(t[i] & present_bits, 0);
        pa = t[0];
    }
    assert_int_equal(n, m->retired.count);
}

static void check_format(const struct pt_format *fmt, uint64_t present_bits)
{
    struct npt_mem m;
    struct pt npt;
    npt_mem_init(&m, &bk.mem);
    assert_int_equal(pt_init(&npt, fmt, &m.mem, PT_2M), 0);
    assert_int_equal(pt_map(&npt, 2 * MiB, 8 * MiB, 2 * MiB, PT_READ | PT_WRITE), 0);
    assert_int_equal(pt_unmap(&npt, 2 * MiB + 0x3000, 0x1000), 0); /* splits: + a PT */
    assert_int_equal(bk.in_use, 4);

    /* Unmapping the rest empties the PT, the PD and the PDPT: they wait, not reused. */
    assert_int_equal(pt_unmap(&npt, 2 * MiB, 2 * MiB), 0);
    assert_int_equal(npt.tables, 1);
    assert_int_equal(m.retired.count, 3);
    assert_int_equal(bk.frees, 0);
    expect_waiting_pages_unmapped(&m, present_bits);
    uint64_t pa;
    assert_int_equal(pt_map(&npt, 1 * GiB, 1 * GiB, PAGE_SIZE, PT_READ), 0); /* 3 new pages */
    assert_int_equal(bk.nreuse, 0);
    assert_int_equal(bk.in_use, 7);

    /* Taken before the flush; a flush that failed puts them back. */
    struct npt_retired r = npt_retired_take(&m);
    assert_int_equal(r.count, 3);
    assert_int_equal(m.retired.count, 0);
    assert_int_equal(m.retired.head, 0);
    npt_retired_return(&m, &r);
    assert_int_equal(m.retired.count, 3);
    assert_int_equal(r.head, 0);
    expect_waiting_pages_unmapped(&m, present_bits);

    /* Released after the flush: back in the allocator, all zero, reused. */
    r = npt_retired_take(&m);
    npt_retired_release(&m, &r);
    assert_int_equal(bk.frees, 3);
    assert_int_equal(bk.in_use, 4);
    assert_int_equal(r.count, 0);
    assert_int_equal(pt_map(&npt, 4 * GiB, 4 * GiB, PAGE_SIZE, PT_READ), 0); /* a PD, a PT */
    assert_int_equal(bk.nreuse, 1);
    assert_int_equal(bk.used, 7); /* the pool grew no further */
    assert_int_equal(pt_lookup(&npt, 1 * GiB, &pa, NULL, NULL), 0);
    assert_int_equal(pa, 1 * GiB);
}

static void test_npt_pages_wait_for_the_flush(void **state)
{
    (void)state;
    check_format(&pt_format_npt, X86_PTE_P);
}

static void test_ept_pages_wait_for_the_flush(void **state)
{
    (void)state;
    check_format(&pt_format_ept, EPT_R | EPT_W | EPT_X);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_npt_pages_wait_for_the_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ept_pages_wait_for_the_flush, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
