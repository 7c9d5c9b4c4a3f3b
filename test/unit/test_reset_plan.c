/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The order the machine is reset in: the FADT's register when it is usable, then port 0xcf9,
 * then the keyboard controller, never the same port twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/acpi.h"
#include "core/reset_plan.h"

static struct acpi_info acpi;

static void fadt(bool supported, uint8_t space, uint64_t address, uint8_t value)
{
    memset(&acpi, 0, sizeof(acpi));
    acpi.has_fadt = true;
    acpi.reset_supported = supported;
    acpi.reset_reg = (struct acpi_gas){.space_id = space, .bit_width = 8, .address = address};
    acpi.reset_value = value;
}

static void expect(const struct acpi_info *a, const enum reset_kind *kinds, unsigned n)
{
    struct reset_step steps[RESET_PLAN_MAX];
    assert_int_equal(reset_plan(a, steps), n);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(steps[i].kind, kinds[i]);
}

static void test_usable_fadt_register_first(void **state)
{
    (void)state;
    fadt(true, 1, 0xb2, 0x06); /* an I/O register elsewhere */
    static const enum reset_kind all[] = {RESET_ACPI, RESET_CF9, RESET_KBC};
    expect(&acpi, all, 3);
    struct reset_step steps[RESET_PLAN_MAX];
    reset_plan(&acpi, steps);
    assert_int_equal(steps[0].port, 0xb2);
    assert_int_equal(steps[0].value, 0x06);
    assert_int_equal(steps[1].port, RESET_CF9_PORT);
    assert_int_equal(steps[2].port, RESET_KBC_PORT);
}

static void test_no_usable_register_falls_back(void **state)
{
    (void)state;
    static const enum reset_kind fallback[] = {RESET_CF9, RESET_KBC};
    fadt(false, 1, 0xcf9, 0x06); /* offered but not flagged as supported */
    expect(&acpi, fallback, 2);
    fadt(true, 0, 0xfed00000, 0x06); /* in memory space */
    expect(&acpi, fallback, 2);
    fadt(true, 1, 0, 0); /* no address */
    expect(&acpi, fallback, 2);
    fadt(true, 1, 0x10000, 1); /* beyond the I/O space */
    expect(&acpi, fallback, 2);
    expect(NULL, fallback, 2); /* no FADT at all */
}

static void test_a_port_is_tried_once(void **state)
{
    (void)state;
    fadt(true, 1, 0xcf9, 0x06); /* QEMU's and many servers' FADT: the 0xcf9 register */
    static const enum reset_kind acpi_kbc[] = {RESET_ACPI, RESET_KBC};
    expect(&acpi, acpi_kbc, 2);
    fadt(true, 1, 0x64, 0xfe);
    static const enum reset_kind acpi_cf9[] = {RESET_ACPI, RESET_CF9};
    expect(&acpi, acpi_cf9, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usable_fadt_register_first),
        cmocka_unit_test(test_no_usable_register_falls_back),
        cmocka_unit_test(test_a_port_is_tried_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
