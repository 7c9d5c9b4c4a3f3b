/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Physical range allocator: merging, splitting, alignment, limits, edge cases, random model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "core/palloc.h"

/* Sorted, disjoint, non-adjacent, aligned, non-empty. */
static void check_invariants(const struct palloc *pa)
{
    assert_true(pa->n <= PALLOC_MAX_RANGES);
    for (unsigned i = 0; i < pa->n; i++) {
        assert_true(IS_ALIGNED(pa->r[i].base, PAGE_SIZE));
        assert_true(IS_ALIGNED(pa->r[i].end, PAGE_SIZE));
        assert_true(pa->r[i].base < pa->r[i].end);
        if (i > 0)
            assert_true(pa->r[i - 1].end < pa->r[i].base);
    }
}

static void expect_ranges(const struct palloc *pa, unsigned n, const struct palloc_range *want)
{
    check_invariants(pa);
    assert_int_equal(pa->n, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(pa->r[i].base, want[i].base);
        assert_int_equal(pa->r[i].end, want[i].end);
    }
}

static void test_add_merges(void **state)
{
    (void)state;
    static struct palloc pa;
    palloc_init(&pa);
    assert_int_equal(palloc_add(&pa, 0x1000, 0x2000), 0);
    assert_int_equal(palloc_add(&pa, 0x5000, 0x1000), 0);
    assert_int_equal(palloc_add(&pa, 0x9000, 0x1000), 0);
    expect_ranges(
        &pa, 3,
        (const struct palloc_range[]){{0x1000, 0x3000}, {0x5000, 0x6000}, {0x9000, 0xa000}});
    assert_int_equal(palloc_add(&pa, 0x3000, 0x2000), 0); /* joins both neighbours */
    expect_ranges(&pa, 2, (const struct palloc_range[]){{0x1000, 0x6000}, {0x9000, 0xa000}});
    assert_int_equal(palloc_add(&pa, 0x6000, 0x1000), 0); /* joins the left one */
    assert_int_equal(palloc_add(&pa, 0x8000, 0x1000), 0); /* joins the right one */
    expect_ranges(&pa, 2, (const struct palloc_range[]){{0x1000, 0x7000}, {0x8000, 0xa000}});
    assert_int_equal(palloc_add(&pa, 0x7000, 0x1000), 0);
    expect_ranges(&pa, 1, (const struct palloc_range[]){{0x1000, 0xa000}});
    assert_int_equal(palloc_free_bytes(&pa), 0x9000);
}

static void test_add_rounds_inward(void **state)
{
    (void)state;
    static struct palloc pa;
    palloc_init(&pa);
    assert_int_equal(palloc_add(&pa, 0x10001, 0x3000), 0); /* [0x10001, 0x13001) */
    expect_ranges(&pa, 1, (const struct palloc_range[]){{0x11000, 0x13000}});
    assert_int_equal(palloc_add(&pa, 0x20800, 0x1000), 0); /* no whole page inside */
    assert_int_equal(palloc_add(&pa, 0x30000, 0), 0);
    assert_int_equal(palloc_add(&pa, 0x40000, 0xfff), 0);
    expect_ranges(&pa, 1, (const struct palloc_range[]){{0x11000, 0x13000}});
    /* A ragged edge next to a free range is not an overlap. */
    assert_int_equal(palloc_add(&pa, 0x12fff, 0x2001), 0);
    expect_ranges(&pa, 1, (const struct palloc_range[]){{0x11000, 0x15000}});
}

static void test_overlap_refused(void **state)
{
    (void)state;
    static struct palloc pa, copy;
    palloc_init(&pa);
    assert_int_equal(palloc_add(&pa, 0x100000, 0x100000), 0);
    assert_int_equal(palloc_add(&pa, 0x400000, 0x100000), 0);
    memcpy(&copy, &pa, sizeof(pa));
    assert_int_equal(palloc_add(&pa, 0x1ff000, 0x2000), -E_EXIST);   /* tail of the first */
    assert_int_equal(palloc_add(&pa, 0x0ff000, 0x2000), -E_EXIST);   /* head of the first */
    assert_int_equal(palloc_add(&pa, 0x180000, 0x1000), -E_EXIST);   /* inside */
    assert_int_equal(palloc_add(&pa, 0x000000, 0x800000), -E_EXIST); /* covers both */
    assert_int_equal(palloc_add(&pa, 0x300000, 0x101000), -E_EXIST); /* bridges into the second */
    assert_int_equal(palloc_free(&pa, 0x400000, 0x1000), -E_EXIST);  /* double free */
    assert_memory_equal(&pa, &copy, sizeof(pa));
}

static void test_remove_splits(void **state)
{
    (void)state;
    static struct palloc pa;
    palloc_init(&pa);
    assert_int_equal(palloc_add(&pa, 0, 16 * MiB), 0);
    assert_int_equal(palloc_remove(&pa, 4 * MiB + 1, 1), 0); /* rounded outward to one page */
    expect_ranges(&pa, 2,
                  (const struct palloc_range[]){{0, 4 * MiB}, {4 * MiB + 0x1000, 16 * MiB}});
    assert_int_equal(palloc_remove(&pa, 8 * MiB - 0x800, 0x1000), 0); /* straddles: two pages */
    expect_ranges(&pa, 3,
                  (const struct palloc_range[]){{0, 4 * MiB},
                                                {4 * MiB + 0x1000, 8 * MiB - 0x1000},
                                                {8 * MiB + 0x1000, 16 * MiB}});
    /* Across several ranges and holes, trimming the outer ones. */
    assert_int_equal(palloc_remove(&pa, 2 * MiB, 8 * MiB), 0);
    expect_ranges(&pa, 2, (const struct palloc_range[]){{0, 2 * MiB}, {10 * MiB, 16 * MiB}});
    /* Not free at all: fine, nothing changes. */
    assert_int_equal(palloc_remove(&pa, 3 * MiB, 4 * MiB), 0);
    assert_int_equal(palloc_remove(&pa, 5 * MiB, 0), 0);
    expect_ranges(&pa, 2, (const struct palloc_range[]){{0, 2 * MiB}, {10 * MiB, 16 * MiB}});
    /* Exactly a whole range, then the head and tail of what is left. */
    assert_int_equal(palloc_remove(&pa, 0, 2 * MiB), 0);
    assert_int_equal(palloc_remove(&pa, 9 * MiB, 2 * MiB), 0);
    assert_int_equal(palloc_remove(&pa, 15 * MiB, 5 * MiB), 0);
    expect_ranges(&pa, 1, (const struct palloc_range[]){{11 * MiB, 15 * MiB}});
    assert_int_equal(palloc_remove(&pa, 0, 32 * MiB), 0);
    assert_int_equal(pa.n, 0);
    assert_int_equal(palloc_free_bytes(&pa), 0);
}

/* Partition memory: 2 MiB-aligned contiguous regions out of ragged firmware ranges. */
static void test_alignment(void **state)
{
    (void)state;
    static struct palloc pa;
    palloc_init(&pa);
    assert_int_equal(palloc_add(&pa, 0x100000, 0x7f000000 - 0x100000), 0);
    assert_int_equal(palloc_add(&pa, 0x100000000ull + 0x3000, 1 * GiB + 0x1000), 0);
    uint64_t a = 0, prev = UINT64_MAX;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(palloc_alloc(&pa, 96 * MiB + 0x123, 2 * MiB, 0, &a), 0);
        assert_true(IS_ALIGNED(a, 2 * MiB));
        assert_true(a + 96 * MiB + PAGE_SIZE <= prev); /* disjoint, descending */
        prev = a;
        check_invariants(&pa);
    }
    /* The first one sits at the top of the high range, aligned down. */
    assert_int_equal(palloc_alloc(&pa, 1 * MiB, 1 * GiB, 0, &a), 0);
    assert_int_equal(a, 1 * GiB);
    assert_int_equal(palloc_alloc(&pa, 4 * KiB, 64 * KiB, 0, &a), 0);
    assert_true(IS_ALIGNED(a, 64 * KiB));
    assert_int_equal(palloc_largest(&pa, 2 * MiB) % (2 * MiB), 0);
    assert_int_equal(palloc_alloc(&pa, palloc_largest(&pa, 2 * MiB), 2 * MiB, 0, &a), 0);
    assert_true(IS_ALIGNED(a, 2 * MiB));
    check_invariants(&pa);
}

static void test_alignment_exact(void **state)
{
    (void)state;
    static struct palloc pa;
    palloc_init(&pa);
    /* [2M - 4K, 6M + 4K): one aligned 4 MiB block, and only one. */
    assert_int_equal(palloc_add(&pa, 2 * MiB - 0x1000, 4 * MiB + 0x2000), 0);
    assert_int_equal(palloc_largest(&pa, 2 * MiB), 4 * MiB + 0x1000);
    assert_int_equal(palloc_largest(&pa, 4 * MiB), 2 * MiB + 0x1000);
    assert_int_equal(palloc_largest(&pa, PAGE_SIZE), 4 * MiB + 0x2000);
    uint64_t a = 0;
    assert_int_equal(palloc_alloc(&pa, 4 * MiB + 0x2000, 2 * MiB, 0, &a), -E_NOMEM);
    assert_int_equal(palloc_alloc(&pa, 4 * MiB, 2 * MiB, 0, &a), 0);
    assert_int_equal(a, 2 * MiB);
    expect_ranges(
        &pa, 2,
        (const struct palloc_range[]){{2 * MiB - 0x1000, 2 * MiB}, {6 * MiB, 6 * MiB + 0x1000}});
    assert_int_equal(palloc_largest(&pa, 2 * MiB), 0x1000);
    assert_int_equal(palloc_largest(&pa, 4 * MiB), 0);
}

static void test_limit(void **state)
{
    (void)state;
    static struct palloc pa;
    palloc_init(&pa);
    assert_int_equal(palloc_add(&pa, 1 * MiB, 2 * GiB - 1 * MiB), 0);
    assert_int_equal(palloc_add(&pa, 4 * GiB, 4 * GiB), 0);
    uint64_t a = 0;
    assert_int_equal(palloc_alloc(&pa, 64 * KiB, PAGE_SIZE, 4 * GiB, &a), 0);
    assert_int_equal(a, 2 * GiB - 64 * KiB);
    assert_int_equal(palloc_alloc(&pa, 64 * KiB, PAGE_SIZE, 0, &a), 0);
    assert_int_equal(a, 8 * GiB - 64 * KiB);
    /* A limit inside a range, not page aligned. */
    assert_int_equal(palloc_alloc(&pa, 0x1000, PAGE_SIZE, 1 * GiB + 0x1800, &a), 0);
    assert_int_equal(a, 1 * GiB);
    assert_int_equal(palloc_alloc(&pa, 0x2000, PAGE_SIZE, 1 * GiB + 0x1800, &a), 0);
    assert_int_equal(a, 1 * GiB - 0x2000);
    /* Below 1 MiB nothing is free; the limit excludes everything. */
    assert_int_equal(palloc_alloc(&pa, 0x1000, PAGE_SIZE, 1 * MiB, &a), -E_NOMEM);
    assert_int_equal(palloc_alloc(&pa, 0x1000, PAGE_SIZE, 1 * MiB + 0xfff, &a), -E_NOMEM);
    assert_int_equal(palloc_alloc(&pa, 0x1000, PAGE_SIZE, 1 * MiB + 0x1000, &a), 0);
    assert_int_equal(a, 1 * MiB);
    /* More than fits below 4G. */
    assert_int_equal(palloc_alloc(&pa, 2 * GiB, PAGE_SIZE, 4 * GiB, &a), -E_NOMEM);
    check_invariants(&pa);
}

static void test_highest_first_and_exhaustion(void **state)
{
    (void)state;
    static struct palloc pa;
    palloc_init(&pa);
    assert_int_equal(palloc_add(&pa, 0x10000, 0x4000), 0);
    assert_int_equal(palloc_add(&pa, 0x40000, 0x3000), 0);
    uint64_t want[] = {0x42000, 0x41000, 0x40000, 0x13000, 0x12000, 0x11000, 0x10000};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        uint64_t a = 0;
        assert_int_equal(palloc_alloc(&pa, 1, PAGE_SIZE, 0, &a), 0);
        assert_int_equal(a, want[i]);
        check_invariants(&pa);
    }
    uint64_t a = 0;
    assert_int_equal(palloc_alloc(&pa, 1, PAGE_SIZE, 0, &a), -E_NOMEM);
    assert_int_equal(palloc_free_bytes(&pa), 0);
    assert_int_equal(palloc_largest(&pa, PAGE_SIZE), 0);
    /* Freeing in scattered order merges back into the two ranges. */
    for (size_t i = 0; i < ARRAY_SIZE(want); i += 2)
        assert_int_equal(palloc_free(&pa, want[i], PAGE_SIZE), 0);
    for (size_t i = 1; i < ARRAY_SIZE(want); i += 2)
        assert_int_equal(palloc_free(&pa, want[i], PAGE_SIZE), 0);
    expect_ranges(&pa, 2, (const struct palloc_range[]){{0x10000, 0x14000}, {0x40000, 0x43000}});
    /* Too big for any one range even though the total would do. */
    assert_int_equal(palloc_alloc(&pa, 0x5000, PAGE_SIZE, 0, &a), -E_NOMEM);
    assert_int_equal(palloc_alloc(&pa, 0x4000, PAGE_SIZE, 0, &a), 0);
    assert_int_equal(a, 0x10000);
}

static void test_bad_args_and_overflow(void **state)
{
    (void)state;
    static struct palloc pa;
    palloc_init(&pa);
    uint64_t a = 0;
    assert_int_equal(palloc_add(&pa, UINT64_MAX - 0xfff, 0x2000), -E_INVAL);
    assert_int_equal(palloc_add(&pa, 0x1000, UINT64_MAX), -E_INVAL);
    assert_int_equal(palloc_add(&pa, 0xfffffffffffff000ull, 0x1000),
                     -E_INVAL); /* end would be 2^64 */
    assert_int_equal(palloc_remove(&pa, 2, UINT64_MAX - 1), -E_INVAL);
    assert_int_equal(palloc_free(&pa, UINT64_MAX, 1), -E_INVAL);
    assert_int_equal(pa.n, 0);

    /* Near the top: rounding must not wrap. */
    assert_int_equal(palloc_add(&pa, 0xfffffffffffff001ull, 0xffe), 0); /* empty */
    assert_int_equal(palloc_add(&pa, 0xfffffffffffff000ull, 0xfff), 0); /* empty: no whole page */
    assert_int_equal(pa.n, 0);
    assert_int_equal(palloc_add(&pa, 0xffffffffffff0000ull, 0xffff), 0);
    expect_ranges(&pa, 1,
                  (const struct palloc_range[]){{0xffffffffffff0000ull, 0xfffffffffffff000ull}});
    assert_int_equal(palloc_largest(&pa, 1ull << 63), 0);
    assert_int_equal(palloc_largest(&pa, 64 * KiB), 0xf000);
    assert_int_equal(palloc_alloc(&pa, 0x1000, PAGE_SIZE, 0, &a), 0);
    assert_int_equal(a, 0xffffffffffffe000ull);
    assert_int_equal(palloc_alloc(&pa, 0x1000, 1ull << 63, 0, &a), -E_NOMEM);
    assert_int_equal(palloc_remove(&pa, 0xffffffffffffd800ull, 0x27ff),
                     0); /* rounds up to the top */
    expect_ranges(&pa, 1,
                  (const struct palloc_range[]){{0xffffffffffff0000ull, 0xffffffffffffd000ull}});
    assert_int_equal(palloc_remove(&pa, 0xfffffffffffff000ull, 0xfff), 0);
    assert_int_equal(palloc_remove(&pa, 0xffffffffffff0000ull, 0xffff), 0);
    assert_int_equal(pa.n, 0);

    assert_int_equal(palloc_add(&pa, 0, 1 * GiB), 0);
    assert_int_equal(palloc_alloc(&pa, 0, PAGE_SIZE, 0, &a), -E_INVAL);
    assert_int_equal(palloc_alloc(&pa, 0x1000, 0, 0, &a), -E_INVAL);
    assert_int_equal(palloc_alloc(&pa, 0x1000, 0x800, 0, &a), -E_INVAL);
    assert_int_equal(palloc_alloc(&pa, 0x1000, 0x3000, 0, &a), -E_INVAL);
    assert_int_equal(palloc_alloc(&pa, 0x1000, PAGE_SIZE, 0, NULL), -E_INVAL);
    assert_int_equal(palloc_alloc(&pa, UINT64_MAX, PAGE_SIZE, 0, &a), -E_INVAL);
    assert_int_equal(palloc_alloc(&pa, UINT64_MAX - 0xffe, PAGE_SIZE, 0, &a), -E_INVAL);
    assert_int_equal(palloc_alloc(&pa, 0xfffffffffffff000ull, PAGE_SIZE, 0, &a), -E_NOMEM);
    assert_int_equal(palloc_alloc(&pa, 1 * GiB + 1, PAGE_SIZE, 0, &a), -E_NOMEM);
    assert_int_equal(palloc_largest(&pa, 0), 0);
    assert_int_equal(palloc_largest(&pa, 0x3000), 0);
    assert_int_equal(palloc_alloc(&pa, 1 * GiB, 1 * GiB, 0, &a), 0);
    assert_int_equal(a, 0);
    assert_int_equal(pa.n, 0);
}

static void test_table_full(void **state)
{
    (void)state;
    static struct palloc pa, copy;
    palloc_init(&pa);
    for (uint64_t i = 0; i < PALLOC_MAX_RANGES; i++)
        assert_int_equal(palloc_add(&pa, i * 0x10000, 0x4000), 0);
    assert_int_equal(pa.n, PALLOC_MAX_RANGES);
    memcpy(&copy, &pa, sizeof(pa));
    assert_int_equal(palloc_add(&pa, 0x8000, 0x1000), -E_NOSPC);     /* needs a new slot */
    assert_int_equal(palloc_remove(&pa, 0x11000, 0x1000), -E_NOSPC); /* would split */
    assert_int_equal(palloc_add(&pa, 0x1000000, 0x1000), -E_NOSPC);
    assert_memory_equal(&pa, &copy, sizeof(pa));
    /* Merging and trimming need no slot. */
    assert_int_equal(palloc_add(&pa, 0x4000, 0x1000), 0);
    assert_int_equal(palloc_remove(&pa, 0x20000, 0x1000), 0);
    assert_int_equal(pa.n, PALLOC_MAX_RANGES);
    /* Under the limit the top placement would split the range; with the
     * table full it takes the bottom of the range instead. */
    uint64_t a = 0;
    assert_int_equal(palloc_alloc(&pa, 0x2000, PAGE_SIZE, 0xff3000, &a), 0);
    assert_int_equal(a, 0xff0000);
    check_invariants(&pa);
    assert_int_equal(pa.n, PALLOC_MAX_RANGES);
    /* Range 2 is [0x21000, 0x24000): its only 8K-aligned placement below the
     * limit is mid-range, so the allocation moves down to range 1's bottom. */
    assert_int_equal(palloc_alloc(&pa, 0x1000, 0x2000, 0x23800, &a), 0);
    assert_int_equal(a, 0x10000);
    assert_int_equal(pa.n, PALLOC_MAX_RANGES);
    assert_int_equal(palloc_add(&pa, 0x1000000, 0x3000), -E_NOSPC);
    assert_int_equal(palloc_remove(&pa, 0, 0x5000), 0);      /* drop range 0: one slot free */
    assert_int_equal(palloc_add(&pa, 0x1000000, 0x3000), 0); /* [0x1000000, 0x1003000) */
    assert_int_equal(pa.n, PALLOC_MAX_RANGES);
    /* 0x1000 at 8K alignment below 0x1002800: top placement 0x1000000 is the bottom, fine. */
    assert_int_equal(palloc_alloc(&pa, 0x1000, 0x2000, 0x1002800, &a), 0);
    assert_int_equal(a, 0x1000000);
    check_invariants(&pa);
}

/* ---- Randomized comparison against a page bitmap ---------------------- */

#define RND_BASE (4 * GiB)
#define RND_PAGES 384u /* at most 192 free ranges: the table never fills */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

struct model {
    bool free[RND_PAGES];
};

static uint64_t page_addr(unsigned i)
{
    return RND_BASE + (uint64_t)i * PAGE_SIZE;
}

/* Pages [first, last) of the model covered by the byte range, rounded in or out. */
static void model_span(uint64_t base, uint64_t size, bool inward, unsigned *first, unsigned *last)
{
    uint64_t b = inward ? ALIGN_UP(base, PAGE_SIZE) : ALIGN_DOWN(base, PAGE_SIZE);
    uint64_t e = inward ? ALIGN_DOWN(base + size, PAGE_SIZE) : ALIGN_UP(base + size, PAGE_SIZE);
    *first = (unsigned)((b - RND_BASE) / PAGE_SIZE);
    *last = e > b ? (unsigned)((e - RND_BASE) / PAGE_SIZE) : *first;
}

static void compare(const struct palloc *pa, const struct model *m)
{
    check_invariants(pa);
    static bool seen[RND_PAGES];
    memset(seen, 0, sizeof(seen));
    for (unsigned i = 0; i < pa->n; i++) {
        assert_true(pa->r[i].base >= RND_BASE && pa->r[i].end <= page_addr(RND_PAGES));
        for (uint64_t a = pa->r[i].base; a < pa->r[i].end; a += PAGE_SIZE)
            seen[(a - RND_BASE) / PAGE_SIZE] = true;
    }
    uint64_t nfree = 0;
    for (unsigned i = 0; i < RND_PAGES; i++) {
        assert_int_equal(seen[i], m->free[i]);
        nfree += m->free[i];
    }
    assert_int_equal(palloc_free_bytes(pa), nfree * PAGE_SIZE);
    for (uint64_t align = PAGE_SIZE; align <= 64 * KiB; align *= 2) {
        uint64_t best = 0;
        for (unsigned i = 0; i < RND_PAGES;) {
            if (!m->free[i]) {
                i++;
                continue;
            }
            unsigned j = i;
            while (j < RND_PAGES && m->free[j])
                j++;
            uint64_t a = ALIGN_UP(page_addr(i), align);
            if (a < page_addr(j) && page_addr(j) - a > best)
                best = page_addr(j) - a;
            i = j;
        }
        assert_int_equal(palloc_largest(pa, align), best);
    }
}

/* The highest aligned a with [a, a+size) free and below limit, or 0. */
static uint64_t model_alloc(const struct model *m, uint64_t size, uint64_t align, uint64_t limit)
{
    uint64_t top = page_addr(RND_PAGES);
    if (limit != 0 && limit < top)
        top = limit;
    if (top < RND_BASE + size)
        return 0;
    for (uint64_t a = ALIGN_DOWN(top - size, align); a >= RND_BASE; a -= align) {
        bool ok = true;
        for (uint64_t p = a; p < a + size && ok; p += PAGE_SIZE)
            ok = m->free[(p - RND_BASE) / PAGE_SIZE];
        if (ok)
            return a;
    }
    return 0;
}

static void test_random_against_bitmap(void **state)
{
    (void)state;
    static struct palloc pa;
    static struct model m;
    static struct palloc_range held[4096];
    unsigned nheld = 0;
    palloc_init(&pa);
    memset(&m, 0, sizeof(m));

    for (int step = 0; step < 20000; step++) {
        uint64_t space = (uint64_t)RND_PAGES * PAGE_SIZE;
        uint64_t base = RND_BASE + rnd_below(space);
        uint64_t size = rnd_below(48 * PAGE_SIZE);
        if (base + size > RND_BASE + space)
            size = RND_BASE + space - base;
        unsigned first, last;
        switch (rnd_below(6)) {
        case 0:
        case 1: { /* add */
            model_span(base, size, true, &first, &last);
            bool clash = false;
            for (unsigned i = first; i < last; i++)
                clash |= m.free[i];
            int rc = palloc_add(&pa, base, size);
            assert_int_equal(rc, clash ? -E_EXIST : 0);
            if (!clash)
                for (unsigned i = first; i < last; i++)
                    m.free[i] = true;
            break;
        }
        case 2: { /* remove */
            model_span(base, size, false, &first, &last);
            assert_int_equal(palloc_remove(&pa, base, size), 0);
            for (unsigned i = first; i < last && i < RND_PAGES; i++)
                m.free[i] = false;
            break;
        }
        case 3:
        case 4: { /* alloc */
            uint64_t sz = (1 + rnd_below(12)) * PAGE_SIZE - rnd_below(PAGE_SIZE);
            uint64_t align = PAGE_SIZE << rnd_below(5);
            uint64_t limit = rnd_below(3) ? 0 : RND_BASE + rnd_below(space + 1);
            uint64_t want = model_alloc(&m, ALIGN_UP(sz, PAGE_SIZE), align, limit);
            uint64_t a = 0;
            int rc = palloc_alloc(&pa, sz, align, limit, &a);
            if (want == 0) {
                assert_int_equal(rc, -E_NOMEM);
                break;
            }
            assert_int_equal(rc, 0);
            assert_int_equal(a, want);
            model_span(a, sz, false, &first, &last);
            for (unsigned i = first; i < last; i++)
                m.free[i] = false;
            if (nheld < ARRAY_SIZE(held))
                held[nheld++] = (struct palloc_range){a, a + ALIGN_UP(sz, PAGE_SIZE)};
            break;
        }
        case 5: { /* free something allocated earlier, if it is still taken */
            if (nheld == 0)
                break;
            unsigned k = (unsigned)rnd_below(nheld);
            struct palloc_range h = held[k];
            held[k] = held[--nheld];
            model_span(h.base, h.end - h.base, true, &first, &last);
            bool clash = false;
            for (unsigned i = first; i < last; i++)
                clash |= m.free[i];
            assert_int_equal(palloc_free(&pa, h.base, h.end - h.base), clash ? -E_EXIST : 0);
            if (!clash)
                for (unsigned i = first; i < last; i++)
                    m.free[i] = true;
            break;
        }
        }
        compare(&pa, &m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_merges),
        cmocka_unit_test(test_add_rounds_inward),
        cmocka_unit_test(test_overlap_refused),
        cmocka_unit_test(test_remove_splits),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_alignment_exact),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_highest_first_and_exhaustion),
        cmocka_unit_test(test_bad_args_and_overflow),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_random_against_bitmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
