/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A partition's nested tables: its RAM with the largest pages, its LAPIC, nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "vmexit/npt.h"

#define POOL_PAGES 64
#define LAPIC 0xfee00000ull

static uint8_t *pool;
static unsigned used;

static int alloc_page(void *ctx, uint64_t *pa)
{
    (void)ctx;
    if (used == POOL_PAGES)
        return -E_NOMEM;
    *pa = (uint64_t)(used++ + 1) * PAGE_SIZE; /* fake "physical" addresses from 4K up */
    memset(pool + (*pa - PAGE_SIZE), 0, PAGE_SIZE);
    return 0;
}

static void *virt(void *ctx, uint64_t pa)
{
    (void)ctx;
    return pool + (pa - PAGE_SIZE);
}

static void free_page(void *ctx, uint64_t pa)
{
    (void)ctx;
    (void)pa; /* nothing here unmaps */
}

static const struct pt_mem mem = {NULL, alloc_page, virt, free_page};

static int setup(void **state)
{
    (void)state;
    pool = aligned_alloc(PAGE_SIZE, POOL_PAGES * PAGE_SIZE);
    used = 0;
    return pool ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(pool);
    return 0;
}

static void expect_translation(const struct pt *npt, uint64_t gpa, uint64_t hpa)
{
    uint64_t pa;
    unsigned flags;
    assert_int_equal(pt_lookup(npt, gpa, &pa, &flags, NULL), 0);
    assert_int_equal(pa, hpa);
    assert_true(flags & PT_WRITE);
}

static void expect_unmapped(const struct pt *npt, uint64_t gpa)
{
    uint64_t pa;
    assert_int_equal(pt_lookup(npt, gpa, &pa, NULL, NULL), -E_NOENT);
}

static void test_partition_of_3g_uses_1g_pages(void **state)
{
    (void)state;
    struct pt npt;
    const uint64_t base = 5 * GiB, size = 3 * GiB;
    assert_int_equal(pt_init(&npt, &pt_format_npt, &mem, PT_1G), 0);
    assert_int_equal(npt_map_partition(&npt, base, size, LAPIC, 0xfee00000ull), 0);
    /* [4K, 2M) in 4K pages, [2M, 1G) in 2M pages, [1G, 3G) in two 1G pages */
    assert_int_equal(npt.pages_mapped[PT_4K], 511 + 1); /* + the LAPIC page */
    assert_int_equal(npt.pages_mapped[PT_2M], 511);
    assert_int_equal(npt.pages_mapped[PT_1G], 2);
    expect_unmapped(&npt, 0);
    expect_unmapped(&npt, PAGE_SIZE - 1);
    expect_translation(&npt, PAGE_SIZE, base + PAGE_SIZE);
    expect_translation(&npt, 2 * MiB + 123, base + 2 * MiB + 123);
    expect_translation(&npt, size - 1, base + size - 1);
    expect_unmapped(&npt, size);
    expect_translation(&npt, LAPIC, 0xfee00000ull);
    expect_unmapped(&npt, LAPIC + PAGE_SIZE);
    expect_unmapped(&npt, LAPIC - PAGE_SIZE);
    unsigned flags;
    uint64_t pa;
    assert_int_equal(pt_lookup(&npt, LAPIC, &pa, &flags, NULL), 0);
    assert_true(flags & PT_UNCACHED);
    assert_int_equal(pt_lookup(&npt, 8 * MiB, &pa, &flags, NULL), 0);
    assert_false(flags & PT_UNCACHED);
}

static void test_nothing_outside_partition(void **state)
{
    (void)state;
    struct pt npt;
    const uint64_t base = 64 * MiB, size = 16 * MiB;
    assert_int_equal(pt_init(&npt, &pt_format_npt, &mem, PT_2M), 0);
    assert_int_equal(npt_map_partition(&npt, base, size, LAPIC, LAPIC), 0);
    assert_int_equal(npt.pages_mapped[PT_1G], 0);
    /* every 4K page up to 4 GiB: mapped exactly when inside RAM (or the LAPIC page) */
    for (uint64_t gpa = 0; gpa < 4 * GiB; gpa += (gpa < 32 * MiB ? PAGE_SIZE : 2 * MiB)) {
        uint64_t pa;
        int rc = pt_lookup(&npt, gpa, &pa, NULL, NULL);
        bool inside = (gpa >= PAGE_SIZE && gpa < size) || gpa == LAPIC;
        assert_int_equal(rc, inside ? 0 : -E_NOENT);
        if (inside && gpa != LAPIC)
            assert_int_equal(pa, base + gpa);
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct pt npt;
    assert_int_equal(pt_init(&npt, &pt_format_npt, &mem, PT_2M), 0);
    assert_int_equal(npt_map_partition(&npt, 3 * MiB, 16 * MiB, LAPIC, LAPIC), -E_INVAL);
    assert_int_equal(npt_map_partition(&npt, 2 * MiB, PAGE_SIZE, LAPIC, LAPIC), -E_INVAL);
    assert_int_equal(npt_map_partition(&npt, 2 * MiB, 16 * MiB + 1, LAPIC, LAPIC), -E_INVAL);
    /* RAM reaching the LAPIC window would alias it */
    assert_int_equal(npt_map_partition(&npt, 0, 4 * GiB, LAPIC, LAPIC), -E_INVAL);
    assert_int_equal(npt.pages_mapped[PT_4K] + npt.pages_mapped[PT_2M], 0);
}

/* In x2APIC mode the LAPIC is reached through MSRs: no page at its xAPIC address, so a
 * guest cannot write the ICR behind the hypervisor's back. */
static void test_x2apic_partition_has_no_lapic_page(void **state)
{
    (void)state;
    struct pt npt;
    assert_int_equal(pt_init(&npt, &pt_format_npt, &mem, PT_2M), 0);
    assert_int_equal(npt_map_partition(&npt, 2 * MiB, 16 * MiB, LAPIC, 0), 0);
    uint64_t pa;
    unsigned flags;
    assert_int_not_equal(pt_lookup(&npt, LAPIC, &pa, &flags, NULL), 0);
    assert_int_equal(npt.pages_mapped[PT_4K], 511); /* [4K, 2M): RAM only, no LAPIC page */
    expect_translation(&npt, 2 * MiB, 4 * MiB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_partition_of_3g_uses_1g_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_outside_partition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x2apic_partition_has_no_lapic_page, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
