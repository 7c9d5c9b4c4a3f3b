/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Page-table builder on fake memory: page sizes, splitting, encodings, faults, random model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "core/pgtable.h"

/* ---- Fake physical memory: a pool of host pages at a made-up address --- */

#define POOL_PA 0x00000abc00000000ull   /* where the pool "is" physically */
#define ADDR_BITS 0x000ffffffffff000ull /* bits 51:12, written out independently of the header */

struct fake {
    uint8_t *pool;
    size_t npages, used; /* pool pages, high-water mark */
    size_t in_use;       /* allocated and not freed */
    bool *live;          /* per pool page: allocated and not freed */
    size_t *freed;       /* freed page indices, reused last in first out */
    size_t nfreed;
    long fail_after; /* allocations still allowed; negative = unlimited */
    struct pt_mem mem;
    struct pt pt;
};

static int fake_alloc(void *ctx, uint64_t *pa)
{
    struct fake *f = ctx;
    if (f->fail_after == 0)
        return -E_NOMEM;
    if (f->fail_after > 0)
        f->fail_after--;
    size_t i;
    if (f->nfreed) {
        i = f->freed[--f->nfreed];
    } else {
        assert_true(f->used < f->npages); /* a test that runs the pool dry is a broken test */
        i = f->used++;
    }
    memset(f->pool + i * PAGE_SIZE, 0, PAGE_SIZE);
    f->live[i] = true;
    f->in_use++;
    *pa = POOL_PA + i * PAGE_SIZE;
    return 0;
}

static void *fake_p2v(void *ctx, uint64_t pa)
{
    struct fake *f = ctx;
    assert_true(pa >= POOL_PA && pa < POOL_PA + f->used * PAGE_SIZE);
    assert_true(IS_ALIGNED(pa, PAGE_SIZE));
    assert_true(f->live[(pa - POOL_PA) / PAGE_SIZE]); /* no use after free */
    return f->pool + (pa - POOL_PA);
}

/* A freed table is unlinked and maps nothing: all zero (not present in any format). */
static void fake_free_page(void *ctx, uint64_t pa)
{
    struct fake *f = ctx;
    const uint8_t *page = fake_p2v(f, pa);
    for (size_t b = 0; b < PAGE_SIZE; b++)
        assert_int_equal(page[b], 0);
    assert_true(pa != f->pt.root);
    f->live[(pa - POOL_PA) / PAGE_SIZE] = false;
    f->in_use--;
    f->freed[f->nfreed++] = (pa - POOL_PA) / PAGE_SIZE;
}

static struct fake *fake_new(const struct pt_format *fmt, enum pt_page_size max_page, size_t npages)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->pool = aligned_alloc(PAGE_SIZE, npages * PAGE_SIZE);
    assert_non_null(f->pool);
    memset(f->pool, 0xa5, npages * PAGE_SIZE); /* alloc_page must be what zeroes */
    f->npages = npages;
    f->live = calloc(npages, sizeof(*f->live));
    f->freed = calloc(npages, sizeof(*f->freed));
    assert_true(f->live && f->freed);
    f->fail_after = -1;
    f->mem = (struct pt_mem){
        .ctx = f, .alloc_page = fake_alloc, .phys_to_virt = fake_p2v, .free_page = fake_free_page};
    assert_int_equal(pt_init(&f->pt, fmt, &f->mem, max_page), 0);
    assert_int_equal(f->pt.tables, 1);
    assert_int_equal(f->pt.root, POOL_PA);
    return f;
}

static void fake_free(struct fake *f)
{
    assert_int_equal(f->in_use, f->pt.tables); /* the count is the pages in use */
    free(f->live);
    free(f->freed);
    free(f->pool);
    free(f);
}

/* Raw entry for va at `level` (4 = root), walking with the architectural layout. */
static uint64_t raw_entry(struct fake *f, uint64_t va, unsigned level)
{
    uint64_t table = f->pt.root;
    for (unsigned l = 4;; l--) {
        const uint64_t *t = fake_p2v(f, table);
        uint64_t e = t[(va >> (12 + 9 * (l - 1))) & 511];
        if (l == level)
            return e;
        table = e & ADDR_BITS;
    }
}

/* A snapshot of everything pt_* may change, to check "nothing changed". */
struct snap {
    size_t used;
    struct pt pt;
    uint8_t *bytes;
};

static void snap_take(struct fake *f, struct snap *s)
{
    s->used = f->used;
    s->pt = f->pt;
    s->bytes = malloc(f->used * PAGE_SIZE);
    assert_non_null(s->bytes);
    memcpy(s->bytes, f->pool, f->used * PAGE_SIZE);
}

static void snap_check(struct fake *f, struct snap *s)
{
    assert_int_equal(f->used, s->used);
    assert_memory_equal(&f->pt, &s->pt, sizeof(s->pt));
    assert_memory_equal(f->pool, s->bytes, s->used * PAGE_SIZE);
    free(s->bytes);
}

static void expect_map(struct fake *f, uint64_t va, uint64_t pa, unsigned flags,
                       enum pt_page_size size)
{
    uint64_t got_pa = 0;
    unsigned got_flags = 0;
    enum pt_page_size got_size = 0;
    assert_int_equal(pt_lookup(&f->pt, va, &got_pa, &got_flags, &got_size), 0);
    assert_int_equal(got_pa, pa);
    assert_int_equal(got_flags, flags);
    assert_int_equal(got_size, size);
}

static void expect_unmapped(struct fake *f, uint64_t va)
{
    uint64_t pa = 0;
    assert_int_equal(pt_lookup(&f->pt, va, &pa, NULL, NULL), -E_NOENT);
}

/* Every 4K page of [va, va+size) maps linearly to pa with flags. */
static void expect_linear(struct fake *f, uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        uint64_t got = 0;
        unsigned fl = 0;
        assert_int_equal(pt_lookup(&f->pt, va + off + 0x123, &got, &fl, NULL), 0);
        assert_int_equal(got, pa + off + 0x123);
        assert_int_equal(fl, flags);
    }
}

#define RW (PT_READ | PT_WRITE)
#define RWX (PT_READ | PT_WRITE | PT_EXEC)

/* ---- Page size choice --------------------------------------------------- */

static void test_init_args(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_x86, PT_1G, 4);
    struct pt pt;
    assert_int_equal(pt_init(&pt, &pt_format_x86, &f->mem, 0), -E_INVAL);
    assert_int_equal(pt_init(&pt, &pt_format_x86, &f->mem, 4), -E_INVAL);
    assert_int_equal(pt_init(&pt, NULL, &f->mem, PT_4K), -E_INVAL);
    f->fail_after = 0;
    assert_int_equal(pt_init(&pt, &pt_format_ept, &f->mem, PT_4K), -E_NOMEM);
    expect_unmapped(f, 0);
    fake_free(f);
}

static void test_1g_leaf(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_x86, PT_1G, 16);
    assert_int_equal(pt_map(&f->pt, 1 * GiB, 5 * GiB, 1 * GiB, RW), 0);
    assert_int_equal(f->pt.pages_mapped[PT_1G], 1);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 0);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 0);
    assert_int_equal(f->pt.tables, 2); /* root and one PDPT */
    expect_map(f, 1 * GiB, 5 * GiB, RW, PT_1G);
    expect_map(f, 2 * GiB - 1, 6 * GiB - 1, RW, PT_1G);
    expect_map(f, 1 * GiB + 0x12345678, 5 * GiB + 0x12345678, RW, PT_1G);
    expect_unmapped(f, 1 * GiB - 1);
    expect_unmapped(f, 2 * GiB);
    fake_free(f);
}

static void test_mixed_sizes(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_ept, PT_1G, 64);
    /* 2 head pages, two 2M pages, 3 tail pages; pa congruent with va mod 2M. */
    uint64_t va = 2 * MiB - 0x2000, size = 0x2000 + 4 * MiB + 0x3000, pa = va + 3 * GiB;
    assert_int_equal(pt_map(&f->pt, va, pa, size, RWX), 0);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 5);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 2);
    assert_int_equal(f->pt.pages_mapped[PT_1G], 0);
    expect_linear(f, va, pa, size, RWX);
    expect_map(f, va, pa, RWX, PT_4K);
    expect_map(f, 2 * MiB, pa + 0x2000, RWX, PT_2M);
    expect_map(f, 6 * MiB, pa + 0x2000 + 4 * MiB, RWX, PT_4K);
    expect_unmapped(f, va - PAGE_SIZE);
    expect_unmapped(f, va + size);

    /* The same shape with pa off by one page from va's 2M phase: all 4K. */
    uint64_t va2 = 1 * GiB + 2 * MiB - 0x2000;
    assert_int_equal(pt_map(&f->pt, va2, 8 * GiB + 0x1000, size, PT_READ), 0);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 5 + size / PAGE_SIZE);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 2);
    expect_linear(f, va2, 8 * GiB + 0x1000, size, PT_READ);

    /* A 1G-aligned 1G+2M range: one 1G leaf, one 2M leaf. */
    assert_int_equal(pt_map(&f->pt, 4 * GiB, 16 * GiB, 1 * GiB + 2 * MiB, PT_READ | PT_EXEC), 0);
    assert_int_equal(f->pt.pages_mapped[PT_1G], 1);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 3);
    expect_map(f, 5 * GiB + 0x1000, 17 * GiB + 0x1000, PT_READ | PT_EXEC, PT_2M);
    fake_free(f);
}

static void test_max_page(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_npt, PT_2M, 16);
    assert_int_equal(pt_map(&f->pt, 1 * GiB, 2 * GiB, 1 * GiB, RW), 0);
    assert_int_equal(f->pt.pages_mapped[PT_1G], 0);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 512);
    expect_map(f, 1 * GiB + 3 * MiB, 2 * GiB + 3 * MiB, RW, PT_2M);
    fake_free(f);

    f = fake_new(&pt_format_npt, PT_4K, 16);
    assert_int_equal(pt_map(&f->pt, 0, 2 * GiB, 4 * MiB, RW), 0);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 0);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 1024);
    assert_int_equal(f->pt.tables, 5); /* root, PDPT, PD, two PTs */
    expect_linear(f, 0, 2 * GiB, 4 * MiB, RW);
    expect_unmapped(f, 4 * MiB);
    fake_free(f);
}

static void test_nothing_outside(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_x86, PT_1G, 64);
    /* 5 head pages, three 2M leaves, 2 tail pages. */
    uint64_t va = 1 * GiB + 4 * MiB - 0x5000, size = 6 * MiB + 0x7000;
    assert_int_equal(pt_map(&f->pt, va, va, size, RW), 0);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 7);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 3);
    /* Every page of the surrounding 1G region and its neighbours' edges. */
    for (uint64_t a = 1 * GiB - 4 * MiB; a < 2 * GiB + 4 * MiB; a += PAGE_SIZE) {
        if (a < va || a >= va + size) {
            expect_unmapped(f, a);
            continue;
        }
        bool large = a >= 1 * GiB + 4 * MiB && a < 1 * GiB + 10 * MiB;
        expect_map(f, a + 0xabc, a + 0xabc, RW, large ? PT_2M : PT_4K);
    }
    fake_free(f);
}

/* ---- Overlap, unmap, protect -------------------------------------------- */

static void test_exist_overlap(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_ept, PT_1G, 64);
    assert_int_equal(pt_map(&f->pt, 8 * MiB, 0x100000000ull, 2 * MiB, RW), 0);
    assert_int_equal(pt_map(&f->pt, 20 * MiB, 0x200000000ull, 0x3000, RW), 0);
    struct snap s;
    snap_take(f, &s);
    /* Overlaps only at the end of a range that would need new tables first. */
    assert_int_equal(pt_map(&f->pt, 0, 0, 8 * MiB + 0x1000, RW), -E_EXIST);
    assert_int_equal(pt_map(&f->pt, 10 * MiB - 0x1000, 0, 0x2000, RW),
                     -E_EXIST); /* last page of the 2M */
    assert_int_equal(pt_map(&f->pt, 20 * MiB + 0x2000, 0, 0x1000, RW), -E_EXIST);
    assert_int_equal(pt_map(&f->pt, 0, 0, 1 * GiB, RW), -E_EXIST); /* would be one 1G leaf */
    snap_check(f, &s);
    expect_unmapped(f, 0);
    expect_unmapped(f, 20 * MiB + 0x3000);
    expect_linear(f, 8 * MiB, 0x100000000ull, 2 * MiB, RW);
    fake_free(f);
}

static void test_unmap_split_2m(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_x86, PT_2M, 16);
    assert_int_equal(pt_map(&f->pt, 2 * MiB, 6 * MiB, 4 * MiB, RWX), 0);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 2);
    assert_int_equal(pt_unmap(&f->pt, 2 * MiB + 0x5000, 0x2000), 0);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 1);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 510);
    for (uint64_t off = 0; off < 4 * MiB; off += PAGE_SIZE) {
        if (off == 0x5000 || off == 0x6000)
            expect_unmapped(f, 2 * MiB + off);
        else
            expect_map(f, 2 * MiB + off, 6 * MiB + off, RWX, off < 2 * MiB ? PT_4K : PT_2M);
    }
    /* Holes in the range are fine; a whole 2M leaf goes without splitting; the tables
     * left empty (the split PT, then the PD and the PDPT) are freed, not the root. */
    assert_int_equal(f->pt.tables, 4);
    assert_int_equal(pt_unmap(&f->pt, 0, 8 * MiB - 0x1000), 0);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 0);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 0);
    assert_int_equal(f->pt.tables, 1);
    expect_unmapped(f, 6 * MiB - 0x1000);
    /* Unmapping nothing at all. */
    assert_int_equal(pt_unmap(&f->pt, 1ull << 40, 1 * GiB), 0);
    fake_free(f);
}

static void test_unmap_split_1g(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_npt, PT_1G, 16);
    assert_int_equal(pt_map(&f->pt, 1 * GiB, 7 * GiB, 1 * GiB, RW), 0);
    /* [6M, 8M+4K): a whole 2M leaf after the 1G split, and the head of the next. */
    assert_int_equal(pt_unmap(&f->pt, 1 * GiB + 6 * MiB, 2 * MiB + 0x1000), 0);
    assert_int_equal(f->pt.pages_mapped[PT_1G], 0);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 510);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 511);
    for (uint64_t off = 0; off < 1 * GiB; off += PAGE_SIZE) {
        uint64_t va = 1 * GiB + off;
        if (off >= 6 * MiB && off < 8 * MiB + 0x1000) {
            expect_unmapped(f, va);
            continue;
        }
        enum pt_page_size sz = off >= 8 * MiB && off < 10 * MiB ? PT_4K : PT_2M;
        expect_map(f, va, 7 * GiB + off, RW, sz);
    }
    expect_unmapped(f, 2 * GiB);
    fake_free(f);
}

static void test_protect_split(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_ept, PT_1G, 16);
    assert_int_equal(pt_map(&f->pt, 0, 1 * GiB, 1 * GiB + 2 * MiB, RWX), 0);
    /* One 4K page inside the first 2M of the 1G leaf. */
    assert_int_equal(pt_protect(&f->pt, 0x3000, 0x1000, PT_READ), 0);
    assert_int_equal(f->pt.pages_mapped[PT_1G], 0);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 511 + 1);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 512);
    expect_map(f, 0x2000, 1 * GiB + 0x2000, RWX, PT_4K);
    expect_map(f, 0x3000, 1 * GiB + 0x3000, PT_READ, PT_4K);
    expect_map(f, 0x4000, 1 * GiB + 0x4000, RWX, PT_4K);
    expect_map(f, 2 * MiB, 1 * GiB + 2 * MiB, RWX, PT_2M);
    expect_map(f, 1 * GiB, 2 * GiB, RWX, PT_2M);
    /* Whole leaves keep their size. */
    assert_int_equal(pt_protect(&f->pt, 4 * MiB, 4 * MiB, PT_READ | PT_UNCACHED), 0);
    expect_map(f, 6 * MiB + 0x10000, 1 * GiB + 6 * MiB + 0x10000, PT_READ | PT_UNCACHED, PT_2M);
    expect_map(f, 8 * MiB, 1 * GiB + 8 * MiB, RWX, PT_2M);
    assert_int_equal(pt_protect(&f->pt, 0, 1 * GiB + 2 * MiB, RW), 0);
    expect_linear(f, 0, 1 * GiB, 1 * GiB + 2 * MiB, RW);

    /* A hole anywhere in the range: -E_NOENT and nothing changes. */
    assert_int_equal(pt_unmap(&f->pt, 512 * MiB, 0x1000), 0);
    struct snap s;
    snap_take(f, &s);
    assert_int_equal(pt_protect(&f->pt, 100 * MiB + 0x1000, 500 * MiB, PT_READ), -E_NOENT);
    assert_int_equal(pt_protect(&f->pt, 1 * GiB, 4 * MiB, PT_READ), -E_NOENT);
    assert_int_equal(pt_protect(&f->pt, 0x1000, 0x1000, PT_WRITE), -E_INVAL);
    assert_int_equal(pt_protect(&f->pt, 0x1000, 0x1000, PT_READ | 0x100), -E_INVAL);
    snap_check(f, &s);
    fake_free(f);
}

/* ---- Encodings ---------------------------------------------------------- */

static void test_ept_encoding(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_ept, PT_1G, 16);
    assert_int_equal(pt_map(&f->pt, 0x200000, 0x40000000, 2 * MiB, RW), 0);
    /* Table entries: address | R | W | X, nothing else. */
    uint64_t pml4e = raw_entry(f, 0x200000, 4), pdpte = raw_entry(f, 0x200000, 3);
    assert_int_equal(pml4e & ~ADDR_BITS, 0x7);
    assert_int_equal(pdpte & ~ADDR_BITS, 0x7);
    assert_int_equal(pml4e & ADDR_BITS, POOL_PA + 0x1000);
    assert_int_equal(pdpte & ADDR_BITS, POOL_PA + 0x2000);
    /* 2M leaf: R|W, memory type WB (6 << 3), large (bit 7), IPAT clear. */
    assert_int_equal(raw_entry(f, 0x200000, 2), 0x400000b3ull);
    /* 4K MMIO: R|X, memory type UC. */
    assert_int_equal(pt_map(&f->pt, 0x1000, 0xfee00000, 0x1000, PT_READ | PT_EXEC | PT_UNCACHED),
                     0);
    assert_int_equal(raw_entry(f, 0x1000, 1), 0xfee00005ull);
    assert_int_equal(raw_entry(f, 0x1000, 2) & ~ADDR_BITS, 0x7);
    /* 4K WB R|W|X with a high address; PT_USER means nothing on EPT. */
    assert_int_equal(pt_map(&f->pt, 0x2000, 0xfedcba9876000ull, 0x1000, RWX | PT_USER), 0);
    assert_int_equal(raw_entry(f, 0x2000, 1), 0xfedcba9876037ull);
    expect_map(f, 0x2000, 0xfedcba9876000ull, RWX, PT_4K);
    /* 1G leaf, read only. */
    assert_int_equal(pt_map(&f->pt, 1 * GiB, 3 * GiB, 1 * GiB, PT_READ), 0);
    assert_int_equal(raw_entry(f, 1 * GiB, 3), 0xc00000b1ull);
    expect_map(f, 0x1000, 0xfee00000, PT_READ | PT_EXEC | PT_UNCACHED, PT_4K);
    expect_map(f, 0x200000, 0x40000000, RW, PT_2M);
    fake_free(f);
}

static void test_npt_encoding(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_npt, PT_1G, 16);
    assert_int_equal(pt_map(&f->pt, 0x1000, 0x12345000, 0x1000, RW), 0);
    /* Non-executable: NX (bit 63); U always set. */
    assert_int_equal(raw_entry(f, 0x1000, 1), 0x8000000012345007ull);
    assert_int_equal(raw_entry(f, 0x1000, 4) & ~ADDR_BITS, 0x7);
    assert_int_equal(raw_entry(f, 0x1000, 3) & ~ADDR_BITS, 0x7);
    assert_int_equal(raw_entry(f, 0x1000, 2) & ~ADDR_BITS, 0x7);
    /* 2M MMIO executable writable: PS | PCD | PWT | U | RW | P. */
    assert_int_equal(pt_map(&f->pt, 2 * MiB, 0xfe000000, 2 * MiB, RWX | PT_UNCACHED), 0);
    assert_int_equal(raw_entry(f, 2 * MiB, 2), 0xfe00009full);
    /* 1G read-only executable. */
    assert_int_equal(pt_map(&f->pt, 1 * GiB, 0x40000000, 1 * GiB, PT_READ | PT_EXEC), 0);
    assert_int_equal(raw_entry(f, 1 * GiB, 3), 0x40000085ull);
    expect_map(f, 0x1000, 0x12345000, RW, PT_4K);
    expect_map(f, 2 * MiB + 0x1234, 0xfe001234, RWX | PT_UNCACHED, PT_2M);
    fake_free(f);
}

static void test_x86_encoding_and_user(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_x86, PT_1G, 16);
    assert_int_equal(pt_map(&f->pt, 0x1000, 0x7000, 0x1000, RW), 0);
    assert_int_equal(raw_entry(f, 0x1000, 1), 0x8000000000007003ull);
    for (unsigned l = 2; l <= 4; l++)
        assert_int_equal(raw_entry(f, 0x1000, l) & ~ADDR_BITS, 0x3); /* no U/S yet */
    /* A user page under the same tables opens U/S on the path. */
    assert_int_equal(pt_map(&f->pt, 0x2000, 0x8000, 0x1000, PT_READ | PT_EXEC | PT_USER), 0);
    assert_int_equal(raw_entry(f, 0x2000, 1), 0x8005ull);
    for (unsigned l = 2; l <= 4; l++)
        assert_int_equal(raw_entry(f, 0x2000, l) & ~ADDR_BITS, 0x7);
    expect_map(f, 0x1000, 0x7000, RW, PT_4K);
    expect_map(f, 0x2000, 0x8000, PT_READ | PT_EXEC | PT_USER, PT_4K);
    /* Large MMIO leaf: PS | PCD | PWT | RW | P | NX. */
    assert_int_equal(pt_map(&f->pt, 1 * GiB, 0xc0000000, 1 * GiB, RW | PT_UNCACHED), 0);
    assert_int_equal(raw_entry(f, 1 * GiB, 3), 0x80000000c000009bull);
    /* Protect to user on another branch opens its path too. */
    assert_int_equal(pt_map(&f->pt, 512 * GiB, 0x9000, 0x1000, PT_READ), 0);
    assert_int_equal(raw_entry(f, 512 * GiB, 4) & ~ADDR_BITS, 0x3);
    assert_int_equal(pt_protect(&f->pt, 512 * GiB, 0x1000, PT_READ | PT_USER), 0);
    for (unsigned l = 2; l <= 4; l++)
        assert_int_equal(raw_entry(f, 512 * GiB, l) & ~ADDR_BITS, 0x7);
    assert_int_equal(raw_entry(f, 512 * GiB, 1), 0x8000000000009005ull);
    fake_free(f);
}

/* AMD-Vi v1 entry bits, written out independently of the header. */
#define AMD_PR 0x1ull
#define AMD_NEXT(l) ((uint64_t)(l) << 9)
#define AMD_FC (1ull << 60)
#define AMD_IR (1ull << 61)
#define AMD_IW (1ull << 62)
#define AMD_PDE_BITS(l) (AMD_PR | AMD_NEXT(l) | AMD_IR | AMD_IW)

static void test_amdvi_encoding(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_amdvi, PT_1G, 16);
    assert_int_equal(pt_map(&f->pt, 0x1000, 0x12345000, 0x1000, RW), 0);
    /* Directories: PR, NextLevel = their level - 1, IR and IW (rights AND along the walk). */
    assert_int_equal(raw_entry(f, 0x1000, 4), POOL_PA + 0x1000 + AMD_PDE_BITS(3));
    assert_int_equal(raw_entry(f, 0x1000, 3), POOL_PA + 0x2000 + AMD_PDE_BITS(2));
    assert_int_equal(raw_entry(f, 0x1000, 2), POOL_PA + 0x3000 + AMD_PDE_BITS(1));
    /* 4K leaf: NextLevel 0, FC, IR, IW. */
    assert_int_equal(raw_entry(f, 0x1000, 1), 0x12345000ull | AMD_PR | AMD_FC | AMD_IR | AMD_IW);
    assert_int_equal(raw_entry(f, 0x1000, 1), 0x7000000012345001ull);
    /* Read-only, and exec/user/uncached have no encoding: dropped. */
    assert_int_equal(pt_map(&f->pt, 0x2000, 0xfedcba9876000ull, 0x1000,
                            PT_READ | PT_EXEC | PT_USER | PT_UNCACHED),
                     0);
    assert_int_equal(raw_entry(f, 0x2000, 1), 0x300fedcba9876001ull);
    expect_map(f, 0x2000, 0xfedcba9876000ull, PT_READ, PT_4K);
    /* 2M leaf: a level-2 entry with NextLevel 0. */
    assert_int_equal(pt_map(&f->pt, 2 * MiB, 0x40000000, 2 * MiB, RWX), 0);
    assert_int_equal(raw_entry(f, 2 * MiB, 2), 0x7000000040000001ull);
    expect_map(f, 2 * MiB + 0x1234, 0x40001234, RW, PT_2M);
    /* 1G leaf: a level-3 entry with NextLevel 0; its level-4 directory is unchanged. */
    assert_int_equal(pt_map(&f->pt, 1 * GiB, 3 * GiB, 1 * GiB, PT_READ), 0);
    assert_int_equal(raw_entry(f, 1 * GiB, 3), 0x30000000c0000001ull);
    assert_int_equal(raw_entry(f, 1 * GiB, 4), POOL_PA + 0x1000 + AMD_PDE_BITS(3));
    expect_map(f, 2 * GiB - 1, 4 * GiB - 1, PT_READ, PT_1G);
    expect_map(f, 0x1000, 0x12345000, RW, PT_4K);
    expect_unmapped(f, 0);
    expect_unmapped(f, 0x3000);
    expect_unmapped(f, 2 * GiB);
    /* A second PML4 slot gets its own directories. */
    assert_int_equal(pt_map(&f->pt, 512 * GiB, 0x9000, 0x1000, RW), 0);
    assert_int_equal(raw_entry(f, 512 * GiB, 4) & ~ADDR_BITS, AMD_PDE_BITS(3));
    assert_int_equal(raw_entry(f, 512 * GiB, 3) & ~ADDR_BITS, AMD_PDE_BITS(2));
    assert_int_equal(raw_entry(f, 512 * GiB, 2) & ~ADDR_BITS, AMD_PDE_BITS(1));
    fake_free(f);
}

/* Protect clears IW in the leaves only; unmapping inside a 1G leaf splits it into 2M and 4K
 * leaves (NextLevel 0) under new directories with the right NextLevel. */
static void test_amdvi_protect_unmap_split(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_amdvi, PT_1G, 16);
    assert_int_equal(pt_map(&f->pt, 1 * GiB, 7 * GiB, 1 * GiB, RW), 0);
    assert_int_equal(raw_entry(f, 1 * GiB, 3), 0x70000001c0000001ull);

    assert_int_equal(pt_protect(&f->pt, 1 * GiB, 1 * GiB, PT_READ), 0);
    assert_int_equal(raw_entry(f, 1 * GiB, 3), 0x30000001c0000001ull);
    assert_int_equal(f->pt.pages_mapped[PT_1G], 1);
    assert_int_equal(pt_protect(&f->pt, 1 * GiB, 1 * GiB, RW), 0);

    /* One 4K page out of the second 2M: 1G -> 512 x 2M, then that 2M -> 512 x 4K. */
    uint64_t hole = 1 * GiB + 2 * MiB + 0x5000;
    assert_int_equal(pt_unmap(&f->pt, hole, 0x1000), 0);
    assert_int_equal(f->pt.pages_mapped[PT_1G], 0);
    assert_int_equal(f->pt.pages_mapped[PT_2M], 511);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 511);
    assert_int_equal(raw_entry(f, hole, 3) & ~ADDR_BITS, AMD_PDE_BITS(2));
    assert_int_equal(raw_entry(f, hole, 2) & ~ADDR_BITS, AMD_PDE_BITS(1));
    assert_int_equal(raw_entry(f, hole, 1), 0);
    assert_int_equal(raw_entry(f, hole - 0x1000, 1),
                     (7 * GiB + 2 * MiB + 0x4000) | 0x7000000000000001ull);
    assert_int_equal(raw_entry(f, 1 * GiB, 2), 0x70000001c0000001ull);
    assert_int_equal(raw_entry(f, 2 * GiB - 2 * MiB, 2),
                     (8 * GiB - 2 * MiB) | 0x7000000000000001ull);
    expect_unmapped(f, hole);
    expect_map(f, hole + 0x1000, 7 * GiB + 2 * MiB + 0x6000, RW, PT_4K);
    expect_map(f, 1 * GiB + 0x1000, 7 * GiB + 0x1000, RW, PT_2M);
    expect_map(f, 2 * GiB - 1, 8 * GiB - 1, RW, PT_2M);

    /* Protect one 4K page read-only: only its leaf loses IW. */
    assert_int_equal(pt_protect(&f->pt, hole + 0x1000, 0x1000, PT_READ), 0);
    assert_int_equal(raw_entry(f, hole + 0x1000, 1),
                     (7 * GiB + 2 * MiB + 0x6000) | 0x3000000000000001ull);
    assert_int_equal(raw_entry(f, hole + 0x1000, 2) & ~ADDR_BITS, AMD_PDE_BITS(1));
    expect_map(f, hole + 0x2000, 7 * GiB + 2 * MiB + 0x7000, RW, PT_4K);

    /* Everything goes, and every table below the root with it. */
    assert_int_equal(pt_unmap(&f->pt, 1 * GiB, 1 * GiB), 0);
    assert_int_equal(f->pt.tables, 1);
    expect_unmapped(f, 1 * GiB + 0x1000);
    fake_free(f);
}

/* ---- Arguments and limits ----------------------------------------------- */

static void test_bad_args(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_x86, PT_1G, 16);
    struct pt *pt = &f->pt;
    assert_int_equal(pt_map(pt, 0x1001, 0, 0x1000, RW), -E_INVAL);
    assert_int_equal(pt_map(pt, 0x1000, 0x10, 0x1000, RW), -E_INVAL);
    assert_int_equal(pt_map(pt, 0x1000, 0, 0x1800, RW), -E_INVAL);
    assert_int_equal(pt_map(pt, 0x1000, 0, 0, RW), -E_INVAL);
    assert_int_equal(pt_map(pt, 0x1000, 0, 0x1000, 0), -E_INVAL);
    assert_int_equal(pt_map(pt, 0x1000, 0, 0x1000, PT_WRITE), -E_INVAL);
    assert_int_equal(pt_map(pt, 0x1000, 0, 0x1000, RW | 0x20), -E_INVAL);
    assert_int_equal(pt_map(pt, 1ull << 48, 0, 0x1000, RW), -E_RANGE);
    assert_int_equal(pt_map(pt, (1ull << 48) - 0x1000, 0, 0x2000, RW), -E_RANGE);
    assert_int_equal(pt_map(pt, 0xfffffffffffff000ull, 0, 0x2000, RW), -E_RANGE);
    assert_int_equal(pt_map(pt, 0, 1ull << 52, 0x1000, RW), -E_RANGE);
    assert_int_equal(pt_map(pt, 0, (1ull << 52) - 0x1000, 0x2000, RW), -E_RANGE);
    assert_int_equal(pt_map(pt, 0, 0xfffffffffffff000ull, 0x2000, RW), -E_RANGE);
    assert_int_equal(pt_unmap(pt, 0x800, 0x1000), -E_INVAL);
    assert_int_equal(pt_unmap(pt, 0x1000, 0), -E_INVAL);
    assert_int_equal(pt_unmap(pt, 1ull << 48, 0x1000), -E_RANGE);
    assert_int_equal(pt_protect(pt, 0x1000, 0x10, PT_READ), -E_INVAL);
    assert_int_equal(pt_protect(pt, (1ull << 48) - 0x1000, 0x2000, PT_READ), -E_RANGE);
    assert_int_equal(f->pt.tables, 1);
    /* The very top of both address spaces. */
    uint64_t va_top = (1ull << 48) - 2 * MiB, pa_top = (1ull << 52) - 2 * MiB;
    assert_int_equal(pt_map(pt, va_top, pa_top, 2 * MiB, RW), 0);
    expect_map(f, (1ull << 48) - 1, (1ull << 52) - 1, RW, PT_2M);
    expect_unmapped(f, 1ull << 48);
    expect_unmapped(f, (1ull << 48) + va_top); /* does not alias into the table */
    expect_unmapped(f, 0);
    assert_int_equal(pt_unmap(pt, (1ull << 48) - 0x1000, 0x1000), 0);
    expect_map(f, (1ull << 48) - 0x2000, (1ull << 52) - 0x2000, RW, PT_4K);
    expect_unmapped(f, (1ull << 48) - 0x1000);
    assert_int_equal(pt_unmap(pt, 0, 1ull << 48), 0);
    assert_int_equal(f->pt.pages_mapped[PT_4K], 0);
    expect_unmapped(f, va_top);
    fake_free(f);
}

/* ---- Allocation failure ------------------------------------------------- */

static void test_nomem_mid_map(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_ept, PT_1G, 64);
    assert_int_equal(pt_map(&f->pt, 0, 0x10000000, 2 * MiB - 0x1000, RW), 0);
    /* [3G - 8K, 3G + 8K) needs a PD and PT below 3G, then a PD and PT above. */
    uint64_t va = 3 * GiB - 0x2000, size = 0x4000;
    f->fail_after = 2;
    uint64_t mapped[4];
    memcpy(mapped, f->pt.pages_mapped, sizeof(mapped));
    unsigned tables = f->pt.tables;
    assert_int_equal(pt_map(&f->pt, va, 0x20000000, size, RW), -E_NOMEM);
    assert_memory_equal(mapped, f->pt.pages_mapped, sizeof(mapped));
    assert_int_equal(f->pt.tables, tables); /* the PD and PT it got are freed again */
    assert_int_equal(f->in_use, tables);
    for (uint64_t off = 0; off < size; off += PAGE_SIZE)
        expect_unmapped(f, va + off);
    expect_linear(f, 0, 0x10000000, 2 * MiB - 0x1000, RW);
    /* Still usable: the retry succeeds and the earlier mapping is untouched. */
    f->fail_after = -1;
    assert_int_equal(pt_map(&f->pt, va, 0x20000000, size, RW), 0);
    expect_linear(f, va, 0x20000000, size, RW);
    expect_linear(f, 0, 0x10000000, 2 * MiB - 0x1000, RW);
    fake_free(f);
}

/* Fail at every possible allocation of a big ragged map, checking each time. */
static void test_nomem_every_point(void **state)
{
    (void)state;
    uint64_t va = 1 * GiB - 2 * MiB - 0x3000, size = 2 * GiB + 4 * MiB + 0x5000;
    uint64_t pa = 64 * GiB - 2 * MiB - 0x3000;
    for (long budget = 0;; budget++) {
        struct fake *f = fake_new(&pt_format_npt, PT_1G, 64);
        assert_int_equal(pt_map(&f->pt, 8 * GiB, 0, 0x1000, PT_READ), 0);
        f->fail_after = budget;
        int rc = pt_map(&f->pt, va, pa, size, RWX);
        f->fail_after = -1;
        if (rc == 0) {
            assert_true(budget > 3);
            expect_map(f, 1 * GiB, pa + 2 * MiB + 0x3000, RWX, PT_1G);
            expect_map(f, va, pa, RWX, PT_4K);
            fake_free(f);
            break;
        }
        assert_int_equal(rc, -E_NOMEM);
        assert_int_equal(f->pt.tables, 4); /* root, PDPT, PD, PT of the page at 8G */
        assert_int_equal(f->in_use, 4);
        assert_int_equal(f->pt.pages_mapped[PT_4K], 1);
        assert_int_equal(f->pt.pages_mapped[PT_2M], 0);
        assert_int_equal(f->pt.pages_mapped[PT_1G], 0);
        for (uint64_t off = 0; off < size; off += 2 * MiB)
            expect_unmapped(f, va + off);
        expect_unmapped(f, va + size - 0x1000);
        expect_map(f, 8 * GiB, 0, PT_READ, PT_4K);
        fake_free(f);
    }
}

static void test_nomem_split(void **state)
{
    (void)state;
    struct fake *f = fake_new(&pt_format_x86, PT_1G, 16);
    assert_int_equal(pt_map(&f->pt, 1 * GiB, 1 * GiB, 1 * GiB, RWX), 0);
    for (long budget = 0; budget < 3; budget++) {
        f->fail_after = budget;
        /* Needs a 1G->2M split and a 2M->4K split at each end. */
        int rc = pt_unmap(&f->pt, 1 * GiB + 0x1000, 0x1000);
        int rc2 = pt_protect(&f->pt, 1 * GiB + 0x5000, 0x1000, PT_READ);
        f->fail_after = -1;
        if (budget < 2) {
            assert_int_equal(rc, -E_NOMEM);
            expect_linear(f, 1 * GiB, 1 * GiB, 4 * MiB, RWX); /* translations unchanged */
        } else {
            assert_int_equal(rc, 0);
            expect_unmapped(f, 1 * GiB + 0x1000);
        }
        if (budget < 2) {
            assert_int_equal(rc2, -E_NOMEM);
            /* Budget 1 got the 1G->2M split done before failing: same translation. */
            expect_map(f, 1 * GiB + 0x5000, 1 * GiB + 0x5000, RWX, budget == 0 ? PT_1G : PT_2M);
        } else {
            assert_int_equal(rc2, 0);
            expect_map(f, 1 * GiB + 0x5000, 1 * GiB + 0x5000, PT_READ, PT_4K);
        }
    }
    expect_map(f, 1 * GiB, 1 * GiB, RWX, PT_4K);
    expect_map(f, 2 * GiB - 1, 2 * GiB - 1, RWX, PT_2M);
    fake_free(f);
}

/* ---- Table pages are freed as they empty --------------------------------- */

#define CYCLES 10000

/* A guest revoking one page of a 2M-mapped region, then the region, then mapping it back
 * whole: the split PT used to stay behind, empty, and be overwritten by the 2M leaf,
 * leaking one table page per cycle (10000 after 10000 cycles; a partition's table budget
 * is 256). */
static void test_unmap_map_cycles_free_tables(void **state)
{
    (void)state;
    const uint64_t region = 6 * MiB, page = region + 0x5000;
    struct fake *f = fake_new(&pt_format_npt, PT_2M, 16);
    assert_int_equal(pt_map(&f->pt, region, 1 * GiB, 2 * MiB, RWX), 0);
    unsigned tables = f->pt.tables;
    size_t in_use = f->in_use;
    assert_int_equal(tables, 3); /* root, PDPT, PD */
    for (unsigned i = 0; i < CYCLES; i++) {
        assert_int_equal(pt_unmap(&f->pt, page, PAGE_SIZE), 0);
        assert_int_equal(f->pt.tables, tables + 1); /* the split PT */
        expect_unmapped(f, page);
        assert_int_equal(pt_unmap(&f->pt, region, 2 * MiB), 0);
        assert_int_equal(pt_map(&f->pt, region, 1 * GiB, 2 * MiB, RWX), 0);
    }
    assert_int_equal(f->pt.tables, tables);
    assert_int_equal(f->in_use, in_use);
    expect_map(f, page, 1 * GiB + 0x5000, RWX, PT_2M);

    /* One page unmapped and mapped back, over and over: one split, then nothing more. */
    for (unsigned i = 0; i < CYCLES; i++) {
        assert_int_equal(pt_unmap(&f->pt, page, PAGE_SIZE), 0);
        assert_int_equal(pt_map(&f->pt, page, 1 * GiB + 0x5000, PAGE_SIZE, RWX), 0);
    }
    assert_int_equal(f->pt.tables, tables + 1);
    assert_int_equal(f->in_use, in_use + 1);
    expect_linear(f, region, 1 * GiB, 2 * MiB, RWX);
    /* And everything unmapped leaves the root alone. */
    assert_int_equal(pt_unmap(&f->pt, region, 2 * MiB), 0);
    assert_int_equal(f->pt.tables, 1);
    assert_int_equal(f->in_use, 1);
    fake_free(f);
}

/* Splits at every level, then unmapping whole ranges: every table below the root goes. */
static void test_unmap_frees_every_level(void **state)
{
    (void)state;
    const struct pt_format *fmts[] = {&pt_format_x86, &pt_format_npt, &pt_format_ept};
    for (size_t k = 0; k < ARRAY_SIZE(fmts); k++) {
        struct fake *f = fake_new(fmts[k], PT_1G, 64);
        /* Two 1G leaves under one PDPT, and a ragged 4K range in another PML4 slot. */
        assert_int_equal(pt_map(&f->pt, 1 * GiB, 4 * GiB, 2 * GiB, RW), 0);
        assert_int_equal(pt_map(&f->pt, 512 * GiB - 0x3000, 0x3000, 0x6000, RW), 0);
        /* root, the PDPT under PML4[0] (also above the ragged range's lower half, with its
         * PD and PT), and PDPT, PD and PT for its upper half under PML4[1] */
        assert_int_equal(f->pt.tables, 1 + 1 + 2 + 3);
        /* Split a 1G leaf down to 4K with a hole, and a 2M leaf of the other one. */
        assert_int_equal(pt_unmap(&f->pt, 1 * GiB + 3 * MiB, PAGE_SIZE), 0);
        assert_int_equal(pt_protect(&f->pt, 2 * GiB + 4 * MiB, 2 * MiB, PT_READ), 0);
        assert_int_equal(pt_unmap(&f->pt, 3 * GiB - 2 * MiB + 0x1000, 0x1000), 0);
        assert_int_equal(f->pt.tables, 7 + 2 + 1 + 1); /* PD+PT, PD, PT */
        /* A whole range that covers part of the split 1G only: its PT goes, its PD stays. */
        assert_int_equal(pt_unmap(&f->pt, 1 * GiB + 2 * MiB, 2 * MiB), 0);
        assert_int_equal(f->pt.tables, 7 + 2 + 1);
        expect_map(f, 1 * GiB + 4 * MiB, 4 * GiB + 4 * MiB, RW, PT_2M);
        /* The rest, with holes, in two ragged pieces across every boundary. */
        assert_int_equal(pt_unmap(&f->pt, 0, 2 * GiB + 0x7000), 0);
        assert_int_equal(pt_unmap(&f->pt, 2 * GiB + 0x7000, 512 * GiB + 1 * MiB), 0);
        assert_int_equal(
            f->pt.pages_mapped[PT_4K] + f->pt.pages_mapped[PT_2M] + f->pt.pages_mapped[PT_1G], 0);
        assert_int_equal(f->pt.tables, 1);
        assert_int_equal(f->in_use, 1);
        /* The root is as new: every entry empty. */
        const uint64_t *root = fake_p2v(f, f->pt.root);
        for (unsigned i = 0; i < 512; i++)
            assert_int_equal(root[i], 0);
        /* Freed pages are reused. */
        size_t high = f->used;
        assert_int_equal(pt_map(&f->pt, 0x1000, 0x1000, 0x1000, RW), 0);
        assert_int_equal(f->used, high);
        fake_free(f);
    }
}

/* ---- Randomized comparison against a per-page model ------------------- */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

struct ref_page {
    bool mapped;
    unsigned flags;
    uint64_t pa;
};

struct rnd_cfg {
    const struct pt_format *fmt;
    enum pt_page_size max_page;
    uint64_t va_base;
    uint64_t pages; /* size of the address space modelled, in 4K pages */
    unsigned ops;
    uint64_t units[3];   /* op ranges are mostly multiples of one of these page counts */
    unsigned full_every; /* compare every page after every this many ops (else ends + sample) */
};

static unsigned random_flags(const struct pt_format *fmt)
{
    unsigned fl = PT_READ | ((unsigned)rnd() & (PT_WRITE | PT_EXEC | PT_UNCACHED | PT_USER));
    if (fmt != &pt_format_x86)
        fl &= ~PT_USER; /* not reported back by NPT/EPT */
    if (fmt == &pt_format_amdvi)
        fl &= PT_READ | PT_WRITE; /* the only rights AMD-Vi encodes */
    return fl;
}

static void ref_check_page(struct fake *f, const struct rnd_cfg *c, const struct ref_page *ref,
                           uint64_t i)
{
    uint64_t pa = 0;
    unsigned fl = 0;
    int rc = pt_lookup(&f->pt, c->va_base + i * PAGE_SIZE + 0x7f8, &pa, &fl, NULL);
    if (!ref[i].mapped) {
        assert_int_equal(rc, -E_NOENT);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(pa, ref[i].pa + 0x7f8);
    assert_int_equal(fl, ref[i].flags);
}

static void random_run(const struct rnd_cfg *c, size_t pool_pages)
{
    struct fake *f = fake_new(c->fmt, c->max_page, pool_pages);
    struct ref_page *ref = calloc(c->pages, sizeof(*ref));
    assert_non_null(ref);
    uint64_t nmapped = 0;

    for (unsigned op = 0; op < c->ops; op++) {
        /* A range: mostly unit-aligned, sometimes ragged by a few pages. */
        uint64_t unit = c->units[rnd_below(ARRAY_SIZE(c->units))];
        uint64_t first = rnd_below(c->pages / unit) * unit;
        uint64_t n = (1 + rnd_below(3)) * unit;
        if (rnd_below(3) == 0)
            first += rnd_below(unit < 512 ? unit : 512);
        if (rnd_below(3) == 0)
            n = 1 + rnd_below(n);
        if (first + n > c->pages)
            n = c->pages - first;
        uint64_t va = c->va_base + first * PAGE_SIZE, size = n * PAGE_SIZE;
        unsigned kind = (unsigned)rnd_below(20);
        kind = kind < 8 ? 0 : kind < 15 ? 1 : 2; /* map 40%, unmap 35%, protect 25% */
        unsigned fl = random_flags(c->fmt);
        bool any = false, all = true;
        for (uint64_t i = first; i < first + n; i++) {
            any |= ref[i].mapped;
            all &= ref[i].mapped;
        }

        if (kind == 0) { /* map: pa in the same 1G phase as va, or off by a random page count */
            uint64_t pa = ((1 + rnd_below(1000)) << 30) + (va & (1 * GiB - 1));
            if (rnd_below(4) == 0)
                pa += rnd_below(512) * PAGE_SIZE;
            int rc = pt_map(&f->pt, va, pa, size, fl);
            assert_int_equal(rc, any ? -E_EXIST : 0);
            if (!any) {
                for (uint64_t i = 0; i < n; i++)
                    ref[first + i] = (struct ref_page){true, fl, pa + i * PAGE_SIZE};
                nmapped += n;
            }
        } else if (kind == 1) {
            assert_int_equal(pt_unmap(&f->pt, va, size), 0);
            for (uint64_t i = first; i < first + n; i++) {
                nmapped -= ref[i].mapped;
                ref[i].mapped = false;
            }
        } else {
            int rc = pt_protect(&f->pt, va, size, fl);
            assert_int_equal(rc, all ? 0 : -E_NOENT);
            if (all)
                for (uint64_t i = first; i < first + n; i++)
                    ref[i].flags = fl;
        }

        if (op % c->full_every == c->full_every - 1) {
            for (uint64_t i = 0; i < c->pages; i++)
                ref_check_page(f, c, ref, i);
        } else {
            /* Around both ends of the range (where splits happen), and a sample. */
            uint64_t ends[2] = {first, first + n};
            for (int k = 0; k < 2; k++)
                for (uint64_t i = ends[k] > 520 ? ends[k] - 520 : 0;
                     i < ends[k] + 520 && i < c->pages; i++)
                    ref_check_page(f, c, ref, i);
            for (int k = 0; k < 512; k++)
                ref_check_page(f, c, ref, rnd_below(c->pages));
        }
        /* The leaf counters add up to the mapped size. */
        uint64_t got = f->pt.pages_mapped[PT_4K] + f->pt.pages_mapped[PT_2M] * 512 +
                       f->pt.pages_mapped[PT_1G] * 512 * 512;
        assert_int_equal(got, nmapped);
    }
    for (uint64_t i = 0; i < c->pages; i++)
        ref_check_page(f, c, ref, i);
    expect_unmapped(f, c->va_base - PAGE_SIZE);
    expect_unmapped(f, c->va_base + c->pages * PAGE_SIZE);
    assert_int_equal(f->in_use, f->pt.tables);
    assert_int_equal(pt_unmap(&f->pt, c->va_base, c->pages * PAGE_SIZE), 0);
    assert_int_equal(f->pt.tables, 1);
    free(ref);
    fake_free(f);
}

static void test_random_small(void **state)
{
    (void)state;
    const struct pt_format *fmts[] = {&pt_format_x86, &pt_format_npt, &pt_format_ept};
    for (size_t i = 0; i < ARRAY_SIZE(fmts); i++) {
        /* 16 MiB straddling the 3G boundary, 2M pages at most. */
        struct rnd_cfg c = {.fmt = fmts[i],
                            .max_page = PT_2M,
                            .va_base = 3 * GiB - 8 * MiB,
                            .pages = 4096,
                            .ops = 1200,
                            .units = {1, 16, 512},
                            .full_every = 4};
        random_run(&c, 8192);
    }
}

static void test_random_1g(void **state)
{
    (void)state;
    /* 4 GiB with 1G pages; ranges in 4K, 2M or 1G units. */
    struct rnd_cfg c = {.fmt = &pt_format_ept,
                        .max_page = PT_1G,
                        .va_base = 4 * GiB,
                        .pages = 1024 * 1024,
                        .ops = 300,
                        .units = {1, 512, 262144},
                        .full_every = 100};
    random_run(&c, 16384);
}

static void test_random_amdvi(void **state)
{
    (void)state;
    struct rnd_cfg c = {.fmt = &pt_format_amdvi,
                        .max_page = PT_1G,
                        .va_base = 1 * GiB - 8 * MiB,
                        .pages = 4096,
                        .ops = 1200,
                        .units = {1, 16, 512},
                        .full_every = 4};
    random_run(&c, 8192);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_args),
        cmocka_unit_test(test_1g_leaf),
        cmocka_unit_test(test_mixed_sizes),
        cmocka_unit_test(test_max_page),
        cmocka_unit_test(test_nothing_outside),
        cmocka_unit_test(test_exist_overlap),
        cmocka_unit_test(test_unmap_split_2m),
        cmocka_unit_test(test_unmap_split_1g),
        cmocka_unit_test(test_protect_split),
        cmocka_unit_test(test_ept_encoding),
        cmocka_unit_test(test_npt_encoding),
        cmocka_unit_test(test_x86_encoding_and_user),
        cmocka_unit_test(test_amdvi_encoding),
        cmocka_unit_test(test_amdvi_protect_unmap_split),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_nomem_mid_map),
        cmocka_unit_test(test_nomem_every_point),
        cmocka_unit_test(test_nomem_split),
        cmocka_unit_test(test_unmap_map_cycles_free_tables),
        cmocka_unit_test(test_unmap_frees_every_level),
        cmocka_unit_test(test_random_small),
        cmocka_unit_test(test_random_1g),
        cmocka_unit_test(test_random_amdvi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
