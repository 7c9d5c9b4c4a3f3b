/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Carving the hypervisor's memory out of a loader's map: only free memory changes type,
 * whole pages, and a map that cannot hold the split is left as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/boot_mem.h"
#include "core/klib.h"

static struct boot_info bi;

static void map(const uint64_t (*r)[3], unsigned n)
{
    memset(&bi, 0, sizeof(bi));
    for (unsigned i = 0; i < n; i++)
        bi.mem[i] = (struct boot_mem_range){r[i][0], r[i][1], (uint32_t)r[i][2], 0};
    bi.nmem = n;
}

static void expect(const uint64_t (*r)[3], unsigned n)
{
    assert_int_equal(bi.nmem, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(bi.mem[i].base, r[i][0]);
        assert_int_equal(bi.mem[i].size, r[i][1]);
        assert_int_equal(bi.mem[i].type, r[i][2]);
    }
}

enum {
    U = BOOT_MEM_USABLE,
    R = BOOT_MEM_RESERVED,
    H = BOOT_MEM_HYPERVISOR,
    B = BOOT_MEM_BOOT_SERVICES
};

static void test_inside_one_range(void **state)
{
    (void)state;
    static const uint64_t before[][3] = {{0, 0x9f000, U}, {0x100000, 0x700000, U}};
    map(before, 2);
    /* unaligned: widened to the pages it touches */
    assert_int_equal(boot_mem_carve(&bi, 0x200800, 0x1000, H), 0);
    static const uint64_t after[][3] = {
        {0, 0x9f000, U}, {0x100000, 0x100000, U}, {0x200000, 0x2000, H}, {0x202000, 0x5fe000, U}};
    expect(after, 4);
    /* at the very start and at the very end of a range: two pieces each */
    assert_int_equal(boot_mem_carve(&bi, 0, 0x1000, H), 0);
    assert_int_equal(boot_mem_carve(&bi, 0x7ff000, 0x1000, H), 0);
    static const uint64_t edges[][3] = {{0, 0x1000, H},          {0x1000, 0x9e000, U},
                                        {0x100000, 0x100000, U}, {0x200000, 0x2000, H},
                                        {0x202000, 0x5fd000, U}, {0x7ff000, 0x1000, H}};
    expect(edges, 6);
    /* nothing at all */
    assert_int_equal(boot_mem_carve(&bi, 0x300000, 0, H), 0);
    expect(edges, 6);
}

static void test_only_free_memory_changes(void **state)
{
    (void)state;
    static const uint64_t before[][3] = {
        {0x100000, 0x100000, U}, {0x200000, 0x100000, R}, {0x300000, 0x100000, B}};
    map(before, 3);
    /* across all three: the reserved range stays reserved, the boot-services one is split */
    assert_int_equal(boot_mem_carve(&bi, 0x180000, 0x200000, H), 0);
    static const uint64_t after[][3] = {{0x100000, 0x80000, U},
                                        {0x180000, 0x80000, H},
                                        {0x200000, 0x100000, R},
                                        {0x300000, 0x80000, H},
                                        {0x380000, 0x80000, B}};
    expect(after, 5);
    /* outside every range: nothing */
    assert_int_equal(boot_mem_carve(&bi, 0x10000000, 0x1000, H), 0);
    expect(after, 5);
    /* a range reaching the top of the address space does not wrap */
    static const uint64_t top[][3] = {{0xffffffffffe00000ull, 0x1ff000, U}};
    map(top, 1);
    assert_int_equal(boot_mem_carve(&bi, 0xfffffffffff00000ull, 0x200000, H), 0);
    static const uint64_t top_after[][3] = {{0xffffffffffe00000ull, 0x100000, U},
                                            {0xfffffffffff00000ull, 0xff000, H}};
    expect(top_after, 2);
}

static void test_full_map_left_alone(void **state)
{
    (void)state;
    memset(&bi, 0, sizeof(bi));
    for (uint32_t i = 0; i < BOOT_MAX_MEM_RANGES; i++)
        bi.mem[i] = (struct boot_mem_range){(uint64_t)i * 0x100000, 0x100000, U, 0};
    bi.nmem = BOOT_MAX_MEM_RANGES;
    struct boot_info copy = bi;
    /* a carve inside one range needs two more entries */
    assert_int_equal(boot_mem_carve(&bi, 0x480000, 0x1000, H), -E_NOSPC);
    assert_memory_equal(&bi, &copy, sizeof(bi));
    /* a whole range changes type in place: no more entries needed */
    assert_int_equal(boot_mem_carve(&bi, 0x400000, 0x100000, H), 0);
    assert_int_equal(bi.nmem, BOOT_MAX_MEM_RANGES);
    assert_int_equal(bi.mem[4].type, H);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside_one_range),
        cmocka_unit_test(test_only_free_memory_changes),
        cmocka_unit_test(test_full_map_left_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
