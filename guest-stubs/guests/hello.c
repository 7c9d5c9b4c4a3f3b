/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: greets from each vCPU and checks the hypervisor CPUID leaves against the boot info.
 */
#include "sidecore/guest.h"

/* The boot info strings are fixed arrays that need not be terminated. */
static void copy_name(char *dst, const char *src, unsigned size)
{
    unsigned i = 0;
    for (; i + 1 < size && src[i]; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

int main(const struct sc_boot_info *bi)
{
    int failures = 0;
    char name[sizeof(bi->partition) + 1];
    copy_name(name, bi->partition, sizeof(name));

    sc_printf("hello from vCPU %u of %u, partition '%s', %llu MiB\n", bi->vcpu_id, bi->vcpu_count,
              name, (unsigned long long)(bi->memory_size >> 20));

    if (bi->version == SC_ABI_VERSION && bi->vcpu_id < bi->vcpu_count) {
        sc_pass("vCPU %u: boot info version %u", bi->vcpu_id, bi->version);
    } else {
        sc_fail("vCPU %u: boot info version %u (want %u), vCPU id %u of %u", bi->vcpu_id,
                bi->version, SC_ABI_VERSION, bi->vcpu_id, bi->vcpu_count);
        failures++;
    }

    uint32_t r[4];
    sc_cpuid(SC_CPUID_SIGNATURE, 0, r);
    if (r[1] == SC_SIGNATURE_EBX && r[2] == SC_SIGNATURE_ECX && r[3] == SC_SIGNATURE_EDX &&
        r[0] >= SC_CPUID_VCPU) {
        sc_pass("vCPU %u: CPUID 0x40000000 signature SidecoreHypv, max leaf 0x%x", bi->vcpu_id,
                r[0]);
    } else {
        sc_fail("vCPU %u: CPUID 0x40000000 eax=0x%x ebx=0x%x ecx=0x%x edx=0x%x", bi->vcpu_id, r[0],
                r[1], r[2], r[3]);
        failures++;
    }

    sc_cpuid(SC_CPUID_VCPU, 0, r);
    if (r[0] == bi->vcpu_id && r[1] == bi->vcpu_count && r[2] == SC_ABI_VERSION) {
        sc_pass("vCPU %u: CPUID 0x40000001 vCPU %u of %u, ABI %u", bi->vcpu_id, r[0], r[1], r[2]);
    } else {
        sc_fail("vCPU %u: CPUID 0x40000001 eax=%u ebx=%u ecx=%u, boot info says vCPU %u of %u "
                "ABI %u",
                bi->vcpu_id, r[0], r[1], r[2], bi->vcpu_id, bi->vcpu_count, SC_ABI_VERSION);
        failures++;
    }
    return failures;
}
