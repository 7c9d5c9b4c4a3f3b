/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* UEFI memory map conversion: types, ordering, merging, padding, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "efi/memmap.h"

#define DESC 48 /* OVMF's descriptor size: 40 bytes of fields plus padding */

static uint8_t map[DESC * 64];
static size_t used;

static void add(uint32_t type, uint64_t base, uint64_t pages)
{
    uint8_t *d = map + used;
    memset(d, 0xee, DESC); /* padding must be ignored */
    memcpy(d + EFI_MD_TYPE, &type, 4);
    memcpy(d + EFI_MD_PHYS, &base, 8);
    memcpy(d + EFI_MD_PAGES, &pages, 8);
    used += DESC;
}

static int reset(void **state)
{
    (void)state;
    used = 0;
    return 0;
}

static void test_types_sorted_and_merged(void **state)
{
    (void)state;
    struct boot_mem_range out[16];
    add(7, 0x100000, 0x100); /* conventional */
    add(2, 0x300000, 0x10);  /* loader data: ours */
    add(4, 0x200000, 0x100); /* boot services data: free once the core has its own tables */
    add(9, 0x400000, 1);     /* ACPI reclaim */
    add(11, 0xfee00000, 1);  /* MMIO */
    add(5, 0x500000, 2);     /* runtime code */
    add(0, 0x0, 1);          /* reserved */
    int n = efi_memmap_convert(map, used, DESC, out, 16);
    assert_int_equal(n, 7);
    assert_int_equal(out[0].base, 0);
    assert_int_equal(out[0].type, BOOT_MEM_RESERVED);
    assert_int_equal(out[1].base, 0x100000);
    assert_int_equal(out[1].size, 0x100000);
    assert_int_equal(out[1].type, BOOT_MEM_USABLE);
    /* boot-services memory is kept apart: the firmware's tables live there at hand-off */
    assert_int_equal(out[2].base, 0x200000);
    assert_int_equal(out[2].type, BOOT_MEM_BOOT_SERVICES);
    assert_int_equal(out[3].type, BOOT_MEM_HYPERVISOR);
    assert_int_equal(out[4].type, BOOT_MEM_ACPI_RECLAIM);
    assert_int_equal(out[5].type, BOOT_MEM_FIRMWARE);
    assert_int_equal(out[6].type, BOOT_MEM_MMIO);
    for (int i = 1; i < n; i++)
        assert_true(out[i - 1].base + out[i - 1].size <= out[i].base);
}

static void test_empty_ranges_skipped(void **state)
{
    (void)state;
    struct boot_mem_range out[4];
    add(7, 0x1000, 0);
    add(7, 0x2000, 1);
    assert_int_equal(efi_memmap_convert(map, used, DESC, out, 4), 1);
    assert_int_equal(out[0].base, 0x2000);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct boot_mem_range out[2];
    add(7, 0xfffffffffffff000ull, 2); /* wraps past 2^64 */
    assert_int_equal(efi_memmap_convert(map, used, DESC, out, 2), -E_INVAL);
    assert_int_equal(efi_memmap_convert(map, used, 20, out, 2), -E_INVAL);
    used = 0;
    add(7, 0x1000, 1);
    add(9, 0x3000, 1);
    add(7, 0x5000, 1);
    assert_int_equal(efi_memmap_convert(map, used, DESC, out, 2), -E_NOSPC);
    /* a trailing partial descriptor is not read */
    assert_int_equal(efi_memmap_convert(map, DESC + DESC / 2, DESC, out, 2), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_types_sorted_and_merged, reset),
        cmocka_unit_test_setup(test_empty_ranges_skipped, reset),
        cmocka_unit_test_setup(test_bad_input, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
