/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* cpuid_virtualize: what a guest sees of the host's CPUID and of the sidecore leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/cpuid.h"

static const struct cpuid_guest_view guest = {
    .vcpu_id = 3,
    .vcpu_count = 8,
    .apic_id = 0x2a,
    .ring_gpa = 0x0000001234567000ull,
    .ring_size = 0x10000,
};

static struct cpuid_values run(uint32_t leaf, uint32_t sub, struct cpuid_values host,
                               const struct cpuid_guest_view *g)
{
    struct cpuid_values out;
    memset(&out, 0x5a, sizeof(out));
    cpuid_virtualize(leaf, sub, &host, g, &out);
    return out;
}

static void assert_regs(struct cpuid_values got, uint32_t eax, uint32_t ebx, uint32_t ecx,
                        uint32_t edx)
{
    assert_int_equal(got.eax, eax);
    assert_int_equal(got.ebx, ebx);
    assert_int_equal(got.ecx, ecx);
    assert_int_equal(got.edx, edx);
}

static void test_leaf1(void **state)
{
    (void)state;
    /* host: family/model in eax, APIC ID 0x0b, 16 logical CPUs, CLFLUSH 8; VMX set */
    struct cpuid_values host = {0x00a20f12, 0x0b100800, 0x7ffaf3ff, 0x178bfbff};
    struct cpuid_values out = run(1, 0, host, &guest);
    /* OSXSAVE (bit 27) is the guest's CR4's, clear here though the host's was set */
    assert_regs(out, 0x00a20f12, 0x2a100800,
                (0x7ffaf3ff & ~(1u << 5) & ~CPUID_1_ECX_OSXSAVE) | (1u << 31), 0x178bfbff);
    assert_int_equal(out.ecx & CPUID_1_ECX_VMX, 0);
    assert_int_equal(out.ecx & CPUID_1_ECX_HV, CPUID_1_ECX_HV);
    struct cpuid_guest_view with_osxsave = guest;
    with_osxsave.osxsave = true;
    host.ecx &= ~CPUID_1_ECX_OSXSAVE;
    assert_int_equal(run(1, 0, host, &with_osxsave).ecx & CPUID_1_ECX_OSXSAVE, CPUID_1_ECX_OSXSAVE);

    /* all bits set: only VMX (and OSXSAVE, the guest's) goes; nothing set: only HV appears */
    out = run(1, 0, (struct cpuid_values){~0u, ~0u, ~0u, ~0u}, &guest);
    assert_regs(out, ~0u, 0x2affffff, ~((1u << 5) | CPUID_1_ECX_OSXSAVE), ~0u);
    out = run(1, 0, (struct cpuid_values){0, 0, 0, 0}, &guest);
    assert_regs(out, 0, 0x2a000000, 1u << 31, 0);

    /* APIC ID 0xff and 0: the whole ebx[31:24] is replaced */
    struct cpuid_guest_view g = guest;
    g.apic_id = 0xff;
    out = run(1, 0, (struct cpuid_values){0, 0x00123456, 0, 0}, &g);
    assert_int_equal(out.ebx, 0xff123456);
    g.apic_id = 0;
    out = run(1, 0, (struct cpuid_values){0, 0xff123456, 0, 0}, &g);
    assert_int_equal(out.ebx, 0x00123456);

    /* the subleaf does not matter for leaf 1 */
    out = run(1, 7, host, &guest);
    assert_regs(out, 0x00a20f12, 0x2a100800,
                (0x7ffaf3ff & ~(1u << 5) & ~CPUID_1_ECX_OSXSAVE) | (1u << 31), 0x178bfbff);
}

static void test_leaf_80000001(void **state)
{
    (void)state;
    struct cpuid_values out =
        run(0x80000001, 0, (struct cpuid_values){0x00a20f12, 0x20000000, 0x75c237ff, 0x2fd3fbff},
            &guest);
    assert_regs(out, 0x00a20f12, 0x20000000, 0x75c237ff & ~(1u << 2), 0x2fd3fbff);
    out = run(0x80000001, 0, (struct cpuid_values){~0u, ~0u, ~0u, ~0u}, &guest);
    assert_regs(out, ~0u, ~0u, ~(1u << 2), ~0u);
    out = run(0x80000001, 0, (struct cpuid_values){0, 0, 0, 0}, &guest);
    assert_regs(out, 0, 0, 0, 0);
}

static void test_svm_features_leaf_zeroed(void **state)
{
    (void)state;
    struct cpuid_values out =
        run(0x8000000a, 0, (struct cpuid_values){0x1, 0x8000, 0, 0x1ebfbcff}, &guest);
    assert_regs(out, 0, 0, 0, 0);
    out = run(0x8000000a, 0, (struct cpuid_values){~0u, ~0u, ~0u, ~0u}, &guest);
    assert_regs(out, 0, 0, 0, 0);
}

static void test_signature_leaf(void **state)
{
    (void)state;
    struct cpuid_values out = run(SC_CPUID_SIGNATURE, 0, (struct cpuid_values){1, 2, 3, 4}, &guest);
    assert_regs(out, 0x40000002, SC_SIGNATURE_EBX, SC_SIGNATURE_ECX, SC_SIGNATURE_EDX);
    assert_int_equal(out.eax, SC_CPUID_MAX);
    char sig[13];
    memcpy(sig, &out.ebx, 4);
    memcpy(sig + 4, &out.ecx, 4);
    memcpy(sig + 8, &out.edx, 4);
    sig[12] = '\0';
    assert_string_equal(sig, "SidecoreHypv");
}

static void test_vcpu_leaf(void **state)
{
    (void)state;
    struct cpuid_values out =
        run(SC_CPUID_VCPU, 0, (struct cpuid_values){~0u, ~0u, ~0u, ~0u}, &guest);
    assert_regs(out, 3, 8, SC_ABI_VERSION, 0);
    assert_int_equal(out.ecx, 2); /* ABI 2: the boot info lists APIC IDs and the timer clock */
    struct cpuid_guest_view g = guest;
    g.vcpu_id = 0;
    g.vcpu_count = 1;
    out = run(SC_CPUID_VCPU, 0, (struct cpuid_values){~0u, ~0u, ~0u, ~0u}, &g);
    assert_regs(out, 0, 1, SC_ABI_VERSION, 0);
}

static void test_rings_leaf(void **state)
{
    (void)state;
    struct cpuid_values out =
        run(SC_CPUID_RINGS, 0, (struct cpuid_values){~0u, ~0u, ~0u, ~0u}, &guest);
    assert_regs(out, 0x34567000, 0x12, 0x10000, 0);
    struct cpuid_guest_view g = guest;
    g.ring_gpa = 0xfedcba9876543000ull;
    g.ring_size = 0xffffffff;
    out = run(SC_CPUID_RINGS, 0, (struct cpuid_values){0, 0, 0, 0}, &g);
    assert_regs(out, 0x76543000, 0xfedcba98, 0xffffffff, 0);
    g.ring_gpa = 0;
    g.ring_size = 0; /* no rings */
    out = run(SC_CPUID_RINGS, 0, (struct cpuid_values){~0u, ~0u, ~0u, ~0u}, &g);
    assert_regs(out, 0, 0, 0, 0);
}

static void test_unknown_hypervisor_leaves_zeroed(void **state)
{
    (void)state;
    static const uint32_t leaves[] = {0x40000003, 0x40000010, 0x400000ff,
                                      0x40000100, 0x4fffffff, 0x7fffffff};
    for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
        struct cpuid_values out =
            run(leaves[i], 0, (struct cpuid_values){0x11, 0x22, 0x33, 0x44}, &guest);
        assert_regs(out, 0, 0, 0, 0);
    }
}

static void test_ordinary_leaves_pass_through(void **state)
{
    (void)state;
    static const uint32_t leaves[] = {
        0, 2, 4, 7, 0xd, 0x3fffffff, 0x80000000, 0x80000008, 0x8000000b, 0xc0000000, 0xffffffff};
    const struct cpuid_values host = {0x00000010, 0x68747541, 0x444d4163, 0x69746e65};
    for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
        struct cpuid_values out = run(leaves[i], 3, host, &guest);
        assert_regs(out, host.eax, host.ebx, host.ecx, host.edx);
    }
    /* leaf 0: "AuthenticAMD" reaches the guest unchanged */
    struct cpuid_values out = run(0, 0, host, &guest);
    assert_memory_equal(&out, &host, sizeof(host));
}

/* Leaves that name the asking core's APIC ID answer with the vCPU's core, even
 * when CPUID really ran on a side core (the ring's CPUID table). */
static void test_apic_id_leaves_name_the_vcpu_core(void **state)
{
    (void)state;
    const struct cpuid_values host = {0x11, 0x22, 0x33, 0x44};
    static const uint32_t x2apic_leaves[] = {0xb, 0x1f};
    for (size_t i = 0; i < ARRAY_SIZE(x2apic_leaves); i++) {
        struct cpuid_values out = run(x2apic_leaves[i], 1, host, &guest);
        assert_regs(out, 0x11, 0x22, 0x33, guest.apic_id);
    }
    struct cpuid_values out = run(0x8000001e, 0, host, &guest);
    assert_regs(out, guest.apic_id, 0x22, 0x33, 0x44);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf1),
        cmocka_unit_test(test_leaf_80000001),
        cmocka_unit_test(test_svm_features_leaf_zeroed),
        cmocka_unit_test(test_signature_leaf),
        cmocka_unit_test(test_vcpu_leaf),
        cmocka_unit_test(test_rings_leaf),
        cmocka_unit_test(test_unknown_hypervisor_leaves_zeroed),
        cmocka_unit_test(test_ordinary_leaves_pass_through),
        cmocka_unit_test(test_apic_id_leaves_name_the_vcpu_core),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
