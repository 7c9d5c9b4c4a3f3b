/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The one virtual CPUID every guest sees (host-tested). */
#ifndef VMEXIT_CPUID_H
#define VMEXIT_CPUID_H

#include <stdbool.h>
#include <stdint.h>

struct cpuid_values {
    uint32_t eax, ebx, ecx, edx;
};

struct cpuid_guest_view {
    uint32_t vcpu_id;
    uint32_t vcpu_count;
    uint32_t apic_id; /* of the physical core the vCPU is pinned to */
    uint64_t ring_gpa;
    uint32_t ring_size;
    bool osxsave; /* the guest's own CR4.OSXSAVE (leaf 1 reports it, not the host's) */
};

/* host: what the CPU answered for (leaf, subleaf); out: what the guest sees. */
void cpuid_virtualize(uint32_t leaf, uint32_t subleaf, const struct cpuid_values *host,
                      const struct cpuid_guest_view *g, struct cpuid_values *out);

#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HV (1u << 31)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define X86_CR4_OSXSAVE (1ull << 18)
#define CPUID_8000_0001_ECX_SVM (1u << 2)

#endif
