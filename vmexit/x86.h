/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Architectural x86 constants the exit policy and every backend share. */
#ifndef VMEXIT_X86_H
#define VMEXIT_X86_H

/* exception vectors */
#define X86_DB 1
#define X86_UD 6
#define X86_GP 13
#define X86_AC 17

#define X86_EFER_LMA (1ull << 10) /* long mode active */
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_LA57 (1ull << 12)

#define RFLAGS_RF (1ull << 16) /* resume flag: set in the rflags a fault pushes */
#define DR7_GD (1ull << 13)    /* general detect: cleared when #DB is delivered */

/* x2APIC registers through which a guest could aim an interrupt at a vector the hypervisor
 * takes as its own (an exception vector once the guest has left): their writes exit
 * (x2apic_write_exits in icr.c); all other x2APIC MSRs pass through. */
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_DEFAULT 0xfee00000ull
#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_X2APIC (1u << 10)
#define APIC_BASE_BSP (1u << 8)
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff
#define MSR_X2APIC_LVT_CMCI 0x82f
#define MSR_X2APIC_ICR 0x830
#define MSR_X2APIC_LVT_TIMER 0x832
#define MSR_X2APIC_LVT_THERMAL 0x833
#define MSR_X2APIC_LVT_PERF 0x834
#define MSR_X2APIC_LVT_LINT0 0x835
#define MSR_X2APIC_LVT_LINT1 0x836
#define MSR_X2APIC_LVT_ERROR 0x837 /* timer, thermal, perf, LINT0, LINT1, error: 0x832-0x837 */
#define MSR_X2APIC_SELF_IPI 0x83f

#endif
