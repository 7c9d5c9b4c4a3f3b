/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The MSRs a guest reaches without an exit (vmexit/msr_pass.c): VMCB/VMCS-held state and its
 * own LAPIC; the validated x2APIC writes and every other MSR exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmexit/msr_pass.h"

static void test_guest_state_msrs_pass_both_ways(void **state)
{
    (void)state;
    static const uint32_t held[] = {0x174,      0x175,      0x176,      0xc0000080, 0xc0000081,
                                    0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101,
                                    0xc0000102, 0xc0000103, 0x6e0,      0x277};
    for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
        assert_true(msr_passes(held[i], false));
        assert_true(msr_passes(held[i], true));
    }
    unsigned n;
    const struct msr_pass *list = msr_pass_list(&n);
    assert_int_equal(n, sizeof(held) / sizeof(held[0]) + 1); /* and MISC_ENABLE, below */
    for (unsigned i = 0; i < n; i++)
        assert_true(list[i].msr < 0x800 || list[i].msr > 0x8ff); /* the range has its own rule */
}

/* Read by Linux's first CPU checks on Intel, before it has an IDT; never written by a guest:
 * a write that changed it would change the core under the hypervisor too. */
static void test_misc_enable_is_read_only(void **state)
{
    (void)state;
    assert_true(msr_passes(0x1a0, false));
    assert_false(msr_passes(0x1a0, true));
}

static void test_x2apic_writes_that_raise_interrupts_exit(void **state)
{
    (void)state;
    assert_true(msr_passes(0x80b, true));  /* EOI */
    assert_true(msr_passes(0x808, true));  /* TPR */
    assert_true(msr_passes(0x838, true));  /* timer initial count */
    assert_true(msr_passes(0x830, false)); /* ICR reads are harmless */
    assert_false(msr_passes(0x830, true)); /* ICR */
    assert_false(msr_passes(0x83f, true)); /* self-IPI */
    assert_false(msr_passes(0x832, true)); /* timer LVT */
    assert_false(msr_passes(0x837, true)); /* error LVT */
    assert_false(msr_passes(0x82f, true)); /* CMCI LVT */
}

static void test_everything_else_exits(void **state)
{
    (void)state;
    static const uint32_t owned_by_nobody[] = {0x1b,  0x10,  0x3a,       0x8b,
                                               0x1d9, 0x2ff, 0xc0010015, 0xc0011029};
    for (size_t i = 0; i < sizeof(owned_by_nobody) / sizeof(owned_by_nobody[0]); i++) {
        assert_false(msr_passes(owned_by_nobody[i], false));
        assert_false(msr_passes(owned_by_nobody[i], true));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_state_msrs_pass_both_ways),
        cmocka_unit_test(test_misc_enable_is_read_only),
        cmocka_unit_test(test_x2apic_writes_that_raise_interrupts_exit),
        cmocka_unit_test(test_everything_else_exits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
