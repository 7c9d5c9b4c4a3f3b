/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Virtual CPUID: the host's answers, minus virtualization extensions (no nested
 * guests), plus the hypervisor bit and the sidecore leaves. */
#include "vmexit/cpuid.h"

#include "guest-stubs/include/sidecore/abi.h"

void cpuid_virtualize(uint32_t leaf, uint32_t subleaf, const struct cpuid_values *host,
                      const struct cpuid_guest_view *g, struct cpuid_values *out)
{
    (void)subleaf;
    *out = *host;
    switch (leaf) {
    case 1:
        out->ecx &= ~(CPUID_1_ECX_VMX | CPUID_1_ECX_OSXSAVE);
        out->ecx |= CPUID_1_ECX_HV | (g->osxsave ? CPUID_1_ECX_OSXSAVE : 0);
        /* initial APIC ID of the core it really runs on: the LAPIC is passed through */
        out->ebx = (out->ebx & 0x00ffffffu) | (g->apic_id << 24);
        break;
    case 0xb:
    case 0x1f: /* x2APIC ID of the core asked: the vCPU's, wherever CPUID really ran */
        out->edx = g->apic_id;
        break;
    case 0x80000001:
        out->ecx &= ~CPUID_8000_0001_ECX_SVM;
        break;
    case 0x8000001e: /* AMD extended APIC ID */
        out->eax = g->apic_id;
        break;
    case 0x8000000a: /* SVM features: none for the guest */
        *out = (struct cpuid_values){0, 0, 0, 0};
        break;
    case SC_CPUID_SIGNATURE:
        *out = (struct cpuid_values){SC_CPUID_MAX, SC_SIGNATURE_EBX, SC_SIGNATURE_ECX,
                                     SC_SIGNATURE_EDX};
        break;
    case SC_CPUID_VCPU:
        *out = (struct cpuid_values){g->vcpu_id, g->vcpu_count, SC_ABI_VERSION, 0};
        break;
    case SC_CPUID_RINGS:
        *out = (struct cpuid_values){(uint32_t)g->ring_gpa, (uint32_t)(g->ring_gpa >> 32),
                                     g->ring_size, 0};
        break;
    default:
        if (leaf > SC_CPUID_MAX && leaf < 0x80000000u && leaf >= 0x40000000u)
            *out = (struct cpuid_values){0, 0, 0, 0}; /* unknown hypervisor leaves */
        break;
    }
}
