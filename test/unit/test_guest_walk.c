/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The guest page-table walk on fake guest RAM: page sizes, 5 levels, and tables that point
 * outside RAM or are not present. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "vmexit/guest_walk.h"
#include "vmexit/x86.h"

#define RAM (1u << 20)
static uint8_t *ram;

static int setup(void **state)
{
    (void)state;
    ram = calloc(1, RAM);
    return ram ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(ram);
    return 0;
}

static void entry(uint64_t table, unsigned index, uint64_t value)
{
    memcpy(ram + table + 8 * index, &value, 8);
}

static const struct guest_paging long4 = {X86_CR0_PG | 1, 0x1000, X86_CR4_PAE, X86_EFER_LMA};

static void test_page_sizes(void **state)
{
    (void)state;
    uint64_t gpa;
    /* 4 KiB: 0x0000_7f80_4020_3123 -> 0x9000 + 0x123 */
    uint64_t lin = (0xffull << 39) | (1ull << 30) | (1ull << 21) | (3ull << 12) | 0x123;
    entry(0x1000, 0xff, 0x2000 | 3);
    entry(0x2000, 1, 0x3000 | 3);
    entry(0x3000, 1, 0x4000 | 3);
    entry(0x4000, 3, 0x9000 | 3 | (1ull << 63)); /* NX set: not our business */
    assert_int_equal(guest_linear_to_phys(ram, RAM, &long4, lin, &gpa), 0);
    assert_int_equal(gpa, 0x9123);
    /* 2 MiB at the directory */
    entry(0x3000, 2, 0x40000000ull | 0x83);
    assert_int_equal(guest_linear_to_phys(ram, RAM, &long4,
                                          (0xffull << 39) | (1ull << 30) | (2ull << 21) | 0x12345,
                                          &gpa),
                     0);
    assert_int_equal(gpa, 0x40012345ull);
    /* 1 GiB at the PDPT */
    entry(0x2000, 3, 0x80000000ull | 0x83);
    assert_int_equal(
        guest_linear_to_phys(ram, RAM, &long4, (0xffull << 39) | (3ull << 30) | 0x2345678, &gpa),
        0);
    assert_int_equal(gpa, 0x82345678ull);
    /* paging off: the address itself */
    struct guest_paging off = {1, 0, 0, 0};
    assert_int_equal(guest_linear_to_phys(ram, RAM, &off, 0xabc000, &gpa), 0);
    assert_int_equal(gpa, 0xabc000);
    /* legacy 32-bit and PAE paging without long mode are not walked */
    struct guest_paging pae = {X86_CR0_PG | 1, 0x1000, X86_CR4_PAE, 0};
    assert_int_equal(guest_linear_to_phys(ram, RAM, &pae, 0, &gpa), -E_NOSYS);
}

static void test_five_levels(void **state)
{
    (void)state;
    struct guest_paging la57 = long4;
    la57.cr4 |= X86_CR4_LA57;
    uint64_t gpa, lin = (5ull << 48) | 0x77;
    entry(0x1000, 5, 0x2000 | 3);
    entry(0x2000, 0, 0x3000 | 3);
    entry(0x3000, 0, 0x4000 | 3);
    entry(0x4000, 0, 0x5000 | 3);
    entry(0x5000, 0, 0x6000 | 3);
    assert_int_equal(guest_linear_to_phys(ram, RAM, &la57, lin, &gpa), 0);
    assert_int_equal(gpa, 0x6077);
    /* the same tables with 4 levels: index 5 of the top table is not present */
    assert_int_equal(guest_linear_to_phys(ram, RAM, &long4, lin, &gpa), -E_FAULT);
}

static void test_hostile_tables(void **state)
{
    (void)state;
    uint64_t gpa;
    struct guest_paging pg = long4;
    pg.cr3 = RAM; /* the top table past the end of RAM */
    assert_int_equal(guest_linear_to_phys(ram, RAM, &pg, 0, &gpa), -E_FAULT);
    pg.cr3 = ~0ull; /* address bits only: still outside */
    assert_int_equal(guest_linear_to_phys(ram, RAM, &pg, 0, &gpa), -E_FAULT);
    entry(0x1000, 0, 0xfffff000ull | 3); /* a table outside RAM */
    assert_int_equal(guest_linear_to_phys(ram, RAM, &long4, 0, &gpa), -E_FAULT);
    entry(0x1000, 0, 0x1000 | 3); /* a table pointing at itself: 4 steps, then a "page" */
    assert_int_equal(guest_linear_to_phys(ram, RAM, &long4, 0x10, &gpa), 0);
    assert_int_equal(gpa, 0x1010);
    entry(0x1000, 0, 0x2000); /* not present */
    assert_int_equal(guest_linear_to_phys(ram, RAM, &long4, 0, &gpa), -E_FAULT);
    /* a read that runs into a page outside RAM stops there */
    entry(0x1000, 0, 0x2000 | 3);
    entry(0x2000, 0, 0x3000 | 3);
    entry(0x3000, 0, 0x4000 | 3);
    entry(0x4000, 0, (RAM - 0x1000) | 3);
    entry(0x4000, 1, (uint64_t)RAM | 3);
    uint8_t buf[15];
    ram[RAM - 3] = 0xaa;
    assert_int_equal(guest_read_linear(ram, RAM, &long4, 0xffd, buf, sizeof(buf)), 3);
    assert_int_equal(buf[0], 0xaa);
    assert_int_equal(guest_read_linear(ram, RAM, &long4, 0x1000, buf, sizeof(buf)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_page_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_five_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_tables, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
