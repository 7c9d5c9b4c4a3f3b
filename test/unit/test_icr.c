/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* icr_validate: which IPIs a guest's x2APIC ICR write may become, and which never. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/icr.h"
#include "vmexit/x86.h"

/* x2APIC ICR fields */
#define VEC(v) ((uint64_t)(v))
#define MODE(m) ((uint64_t)(m) << 8)
#define LOGICAL (1ull << 11)
#define ASSERT_LEVEL (1ull << 14)
#define SH_SELF (1ull << 18)
#define SH_ALL_INCL (2ull << 18)
#define SH_ALL_EXCL (3ull << 18)
#define DEST(d) ((uint64_t)(d) << 32)

enum { FIXED = 0, LOWEST = 1, SMI = 2, RSVD3 = 3, NMI = 4, INIT = 5, SIPI = 6, EXTINT = 7 };

/* A partition of four cores; the sender is vCPU 1 (APIC ID 6). */
static const uint32_t ids[] = {4, 6, 9, 17};
static const struct icr_partition_view part = {ids, 4, 1};
/* APIC IDs that belong to other partitions or to nobody (0xffffffff: x2APIC broadcast) */
static const uint32_t foreign[] = {0, 1, 5, 7, 16, 18, 0x104, 0x10006, 0xff, 0xffffffff};

static int validate(uint64_t icr, const struct icr_partition_view *p, struct icr_decision *d)
{
    memset(d, 0xa5, sizeof(*d)); /* so a stale target count would show */
    return icr_validate(icr, p, d);
}

static void test_fixed_to_partition_core(void **state)
{
    (void)state;
    struct icr_decision d;
    for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
        assert_int_equal(validate(DEST(ids[i]) | MODE(FIXED) | VEC(0x40), &part, &d), 0);
        assert_int_equal(d.vector, 0x40);
        assert_int_equal(d.ntargets, 1);
        assert_int_equal(d.targets[0], ids[i]);
    }
    /* level assert and trigger bits do not change the decision */
    assert_int_equal(validate(DEST(9) | ASSERT_LEVEL | VEC(0xee), &part, &d), 0);
    assert_int_equal(d.vector, 0xee);
    assert_int_equal(d.ntargets, 1);
    assert_int_equal(d.targets[0], 9);
}

static void test_fixed_outside_partition(void **state)
{
    (void)state;
    struct icr_decision d;
    for (size_t i = 0; i < ARRAY_SIZE(foreign); i++) {
        assert_int_equal(validate(DEST(foreign[i]) | VEC(0x40), &part, &d), -E_PERM);
        assert_int_equal(d.ntargets, 0);
    }
}

static void test_other_delivery_modes_refused(void **state)
{
    (void)state;
    static const unsigned modes[] = {LOWEST, SMI, RSVD3, NMI, INIT, SIPI, EXTINT};
    static const uint64_t shapes[] = {DEST(6),     DEST(4),     DEST(5),          SH_SELF,
                                      SH_ALL_INCL, SH_ALL_EXCL, DEST(4) | LOGICAL};
    struct icr_decision d;
    for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
        for (size_t s = 0; s < ARRAY_SIZE(shapes); s++) {
            assert_int_equal(validate(shapes[s] | MODE(modes[m]) | VEC(0x40), &part, &d), -E_PERM);
            assert_int_equal(d.ntargets, 0);
        }
    }
    /* the classic AP start-up sequence, aimed at a core of the partition */
    assert_int_equal(validate(DEST(4) | MODE(INIT) | ASSERT_LEVEL, &part, &d), -E_PERM);
    assert_int_equal(validate(DEST(4) | MODE(SIPI) | VEC(0x08), &part, &d), -E_PERM);
    assert_int_equal(validate(DEST(4) | MODE(NMI), &part, &d), -E_PERM);
    assert_int_equal(validate(DEST(4) | MODE(SMI), &part, &d), -E_PERM);
    assert_int_equal(d.ntargets, 0);
}

static void test_low_vectors_refused(void **state)
{
    (void)state;
    struct icr_decision d;
    for (unsigned v = 0; v < 32; v++) {
        assert_int_equal(validate(DEST(4) | VEC(v), &part, &d), -E_INVAL);
        assert_int_equal(d.ntargets, 0);
        assert_int_equal(validate(SH_ALL_EXCL | VEC(v), &part, &d), -E_INVAL);
        assert_int_equal(d.ntargets, 0);
        assert_int_equal(validate(SH_SELF | VEC(v), &part, &d), -E_INVAL);
        assert_int_equal(d.ntargets, 0);
    }
    assert_int_equal(validate(DEST(4) | VEC(32), &part, &d), 0);
    assert_int_equal(d.vector, 32);
    assert_int_equal(validate(DEST(4) | VEC(SC_VECTOR_MAX), &part, &d), 0);
    assert_int_equal(d.vector, SC_VECTOR_MAX);
    /* the top of the range is the guest's too: Linux's system vectors live at 0xec-0xff */
    assert_int_equal(validate(DEST(4) | VEC(0xf0), &part, &d), 0);
    assert_int_equal(validate(DEST(4) | VEC(0x1f), &part, &d), -E_INVAL); /* an exception's */
    assert_int_equal(validate(DEST(4) | VEC(0xff), &part, &d), 0);
}

static void test_logical_mode_refused(void **state)
{
    (void)state;
    struct icr_decision d;
    assert_int_equal(validate(DEST(4) | LOGICAL | VEC(0x40), &part, &d), -E_INVAL);
    assert_int_equal(d.ntargets, 0);
    assert_int_equal(validate(DEST(0xffffffff) | LOGICAL | VEC(0x40), &part, &d), -E_INVAL);
    assert_int_equal(d.ntargets, 0);
}

static void test_shorthand_self(void **state)
{
    (void)state;
    struct icr_decision d;
    /* the destination field is ignored with a shorthand, even when it names another core */
    assert_int_equal(validate(SH_SELF | DEST(5) | VEC(0x31), &part, &d), 0);
    assert_int_equal(d.vector, 0x31);
    assert_int_equal(d.ntargets, 1);
    assert_int_equal(d.targets[0], 6);

    struct icr_partition_view last = {ids, 4, 3};
    assert_int_equal(validate(SH_SELF | VEC(0x31), &last, &d), 0);
    assert_int_equal(d.ntargets, 1);
    assert_int_equal(d.targets[0], 17);
}

static void test_shorthand_all_including_self(void **state)
{
    (void)state;
    struct icr_decision d;
    assert_int_equal(validate(SH_ALL_INCL | DEST(0xffffffff) | VEC(0x50), &part, &d), 0);
    assert_int_equal(d.vector, 0x50);
    assert_int_equal(d.ntargets, 4);
    assert_memory_equal(d.targets, ids, sizeof(ids));
}

static void test_shorthand_all_excluding_self(void **state)
{
    (void)state;
    struct icr_decision d;
    assert_int_equal(validate(SH_ALL_EXCL | VEC(0x50), &part, &d), 0);
    assert_int_equal(d.ntargets, 3);
    assert_int_equal(d.targets[0], 4);
    assert_int_equal(d.targets[1], 9);
    assert_int_equal(d.targets[2], 17);

    /* a partition of one core has nobody else to send to */
    static const uint32_t one[] = {33};
    struct icr_partition_view single = {one, 1, 0};
    assert_int_equal(validate(SH_ALL_EXCL | VEC(0x50), &single, &d), 0);
    assert_int_equal(d.ntargets, 0);
    assert_int_equal(validate(SH_ALL_INCL | VEC(0x50), &single, &d), 0);
    assert_int_equal(d.ntargets, 1);
    assert_int_equal(d.targets[0], 33);
}

static void test_largest_partition(void **state)
{
    (void)state;
    uint32_t many[ICR_MAX_TARGETS];
    for (unsigned i = 0; i < ICR_MAX_TARGETS; i++)
        many[i] = 100 + 2 * i;
    struct icr_partition_view big = {many, ICR_MAX_TARGETS, 10};
    struct icr_decision d;
    assert_int_equal(validate(SH_ALL_INCL | VEC(0x60), &big, &d), 0);
    assert_int_equal(d.ntargets, ICR_MAX_TARGETS);
    assert_memory_equal(d.targets, many, sizeof(many));
    assert_int_equal(validate(SH_ALL_EXCL | VEC(0x60), &big, &d), 0);
    assert_int_equal(d.ntargets, ICR_MAX_TARGETS - 1);
    for (unsigned i = 0; i < d.ntargets; i++)
        assert_int_equal(d.targets[i], many[i < 10 ? i : i + 1]);
    assert_int_equal(validate(DEST(100 + 2 * 63) | VEC(0x60), &big, &d), 0);
    assert_int_equal(d.targets[0], 226);
    assert_int_equal(validate(DEST(101) | VEC(0x60), &big, &d), -E_PERM);
}

/* Which x2APIC MSR writes exit: the ones that can raise an interrupt on this core. */
static void test_x2apic_write_exits(void **state)
{
    (void)state;
    for (uint32_t m = 0x800; m <= 0x8ff; m++) {
        bool want = m == 0x830 || m == 0x83f || m == 0x82f || (m >= 0x832 && m <= 0x837);
        assert_int_equal(x2apic_write_exits(m), want);
    }
}

/* An accepted LVT write: the value written to the register. */
static uint64_t lvt_ok(uint32_t msr, uint64_t value)
{
    uint64_t apply = 0xdead;
    assert_int_equal(lvt_validate(msr, value, &apply), 0);
    return apply;
}

static void test_self_ipi_and_lvt_values(void **state)
{
    (void)state;
    uint8_t v;
    assert_int_equal(self_ipi_validate(0x20, &v), 0);
    assert_int_equal(v, 0x20);
    assert_int_equal(self_ipi_validate(SC_VECTOR_MAX, &v), 0);
    assert_int_equal(self_ipi_validate(0x1f, &v), -E_INVAL);
    assert_int_equal(self_ipi_validate(SC_VECTOR_MAX + 1, &v), -E_INVAL);
    assert_int_equal(self_ipi_validate(0x140, &v), -E_INVAL); /* reserved bits */
    assert_int_equal(lvt_ok(MSR_X2APIC_LVT_TIMER, 0x40), 0x40);
    assert_int_equal(lvt_ok(MSR_X2APIC_LVT_TIMER, 0x20000 | 0x40), 0x20000 | 0x40); /* periodic */
    assert_int_equal(lvt_ok(MSR_X2APIC_LVT_TIMER, 0x40000 | 0xec), 0x40000 | 0xec); /* deadline */
    assert_int_equal(lvt_ok(MSR_X2APIC_LVT_ERROR, 0x10000 | 0x02), 0x10000 | 0x02); /* masked */
    /* masked NMI on the performance LVT raises nothing */
    assert_int_equal(lvt_ok(MSR_X2APIC_LVT_PERF, 0x10000 | 0x400), 0x10000 | 0x400);
    assert_int_equal(lvt_ok(MSR_X2APIC_LVT_TIMER, 0xec), 0xec); /* Linux's local timer vector */
    assert_int_equal(lvt_ok(MSR_X2APIC_LVT_ERROR, 0xfe), 0xfe);
    uint64_t apply;
    assert_int_equal(lvt_validate(MSR_X2APIC_LVT_TIMER, 0x02, &apply), -E_INVAL);
    assert_int_equal(lvt_validate(MSR_X2APIC_LVT_ERROR, 0x1f, &apply), -E_INVAL);
    assert_int_equal(lvt_validate(MSR_X2APIC_LVT_TIMER, 0x60000 | 0x40, &apply), -E_INVAL);
    for (uint32_t msr = MSR_X2APIC_LVT_TIMER; msr <= MSR_X2APIC_LVT_ERROR; msr++) {
        bool pin = msr == MSR_X2APIC_LVT_LINT0 || msr == MSR_X2APIC_LVT_LINT1;
        bool has_delivery = msr != MSR_X2APIC_LVT_TIMER && msr != MSR_X2APIC_LVT_ERROR;
        for (unsigned mode = 1; mode < 8; mode++) {
            int64_t rc = lvt_validate(msr, MODE(mode) | 0x40, &apply);
            if (!has_delivery) /* bits 10:8 are reserved there */
                assert_int_equal(rc, -E_INVAL);
            else if (pin && (mode == 4 || mode == 7)) /* kept masked */
                assert_int_equal(lvt_ok(msr, MODE(mode) | 0x40), 0x10000 | MODE(mode) | 0x40);
            else
                assert_int_equal(rc, -E_PERM);
        }
        /* the pins are always written masked, fixed delivery too */
        if (pin)
            assert_int_equal(lvt_ok(msr, 0xa000 | 0x40), 0x1a000 | 0x40);
        /* every reserved bit, masked or not: the write would #GP in the hypervisor */
        for (unsigned bit = 8; bit < 64; bit++) {
            uint64_t b = 1ull << bit;
            bool writable = bit == 16 || (has_delivery && bit <= 10) ||
                            (pin && (bit == 13 || bit == 15)) ||
                            (msr == MSR_X2APIC_LVT_TIMER && (bit == 17 || bit == 18));
            if (writable)
                continue;
            assert_int_equal(lvt_validate(msr, b | 0x40, &apply), -E_INVAL);
            assert_int_equal(lvt_validate(msr, b | 0x10000 | 0x40, &apply), -E_INVAL);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x2apic_write_exits),
        cmocka_unit_test(test_self_ipi_and_lvt_values),
        cmocka_unit_test(test_fixed_to_partition_core),
        cmocka_unit_test(test_fixed_outside_partition),
        cmocka_unit_test(test_other_delivery_modes_refused),
        cmocka_unit_test(test_low_vectors_refused),
        cmocka_unit_test(test_logical_mode_refused),
        cmocka_unit_test(test_shorthand_self),
        cmocka_unit_test(test_shorthand_all_including_self),
        cmocka_unit_test(test_shorthand_all_excluding_self),
        cmocka_unit_test(test_largest_partition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
