/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The run loop (vmexit/run.c) through a fake backend: events are held from before the
 * checks until the guest exits, released on every way out, and the loop leaves exactly
 * when the vCPU exited, was parked or stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "fake_backend.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/exit.h"
#include "vmexit/vcpu.h"

static struct vcpu *v0;

static int setup(void **state)
{
    (void)state;
    fake_reset(1);
    v0 = &fake_partition.vcpus[0];
    return 0;
}

static void run(const struct vcpu_exit *exits, unsigned n)
{
    fake.exits = exits;
    fake.nexits = n;
    vcpu_run(v0, &fake_backend, &fake_hooks);
}

static void test_entries_until_the_guest_exits(void **state)
{
    (void)state;
    static const struct vcpu_exit exits[] = {
        {.reason = VCPU_EXIT_NMI},
        {.reason = VCPU_EXIT_CPUID, .insn_len = 2},
        {.reason = VCPU_EXIT_HYPERCALL, .insn_len = 3},
    };
    fake.host_cpuid = (struct cpuid_values){SC_HC_EXIT, 0, 0, 0}; /* CPUID leaves rax so */
    v0->regs.rdi = 3;
    run(exits, ARRAY_SIZE(exits));
    assert_string_equal(fake.trace, "enable "
                                    "hold check in enter out release decode "
                                    "hold check in enter out release decode "
                                    "hold check in enter out release decode");
    assert_int_equal(fake.next_exit, 3);
    assert_int_equal(v0->state, VCPU_EXITED);
    assert_int_equal(fake.exit_status, 3);
    assert_int_equal(v0->counters.total, 3);
    assert_int_equal(fake.stops, 0);
}

static void test_stopped_partition_is_not_entered(void **state)
{
    (void)state;
    (void)life_stop(&fake_partition.life);
    run(NULL, 0);
    assert_string_equal(fake.trace, "enable hold release");
    assert_int_equal(v0->state, VCPU_STOPPED);
    assert_int_equal(fake.stops, 0); /* whoever stopped it dumped its own vCPU */
}

static void test_parked_before_entry(void **state)
{
    (void)state;
    fake.stop_before_entry = true;
    run(NULL, 0);
    assert_string_equal(fake.trace, "enable hold check release");
    assert_int_equal(v0->state, VCPU_PARKED);
}

/* Another core stopped the partition and kicked this one: the NMI exit is counted and
 * the next check, with events held again, leaves without entering. */
static void test_kick_of_a_stop_leaves(void **state)
{
    (void)state;
    static const struct vcpu_exit exits[] = {{.reason = VCPU_EXIT_NMI}};
    fake.stop_on_nmi = true;
    run(exits, ARRAY_SIZE(exits));
    assert_string_equal(fake.trace, "enable hold check in enter out release decode hold release");
    assert_int_equal(v0->state, VCPU_STOPPED);
    assert_int_equal(v0->counters.by_reason[SC_EXIT_NMI], 1);
    assert_int_equal(fake.stops, 0);
}

static void test_stopping_exit_leaves(void **state)
{
    (void)state;
    static const struct vcpu_exit exits[] = {
        {.reason = VCPU_EXIT_TRIPLE_FAULT, .rip = 0x1234},
        {.reason = VCPU_EXIT_NMI},
    };
    run(exits, ARRAY_SIZE(exits));
    assert_string_equal(fake.trace, "enable hold check in enter out release decode");
    assert_int_equal(fake.next_exit, 1);
    assert_int_equal(fake.stops, 1);
    assert_string_equal(fake.stop_reason, "triple fault (shutdown) at rip 1234");
    assert_int_equal(v0->state, VCPU_STOPPED);
}

static void test_refused_state_is_never_entered(void **state)
{
    (void)state;
    fake.enable_rc = -22;
    run(NULL, 0);
    assert_string_equal(fake.trace, "enable");
    assert_int_equal(fake.stops, 1);
    assert_string_equal(fake.stop_reason, "fake refuses the state");
    assert_int_equal(v0->state, VCPU_STOPPED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_entries_until_the_guest_exits, setup),
        cmocka_unit_test_setup(test_stopped_partition_is_not_entered, setup),
        cmocka_unit_test_setup(test_parked_before_entry, setup),
        cmocka_unit_test_setup(test_kick_of_a_stop_leaves, setup),
        cmocka_unit_test_setup(test_stopping_exit_leaves, setup),
        cmocka_unit_test_setup(test_refused_state_is_never_entered, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
