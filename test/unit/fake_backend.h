/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A fake vCPU backend and fake hypervisor hooks for the exit policy and the run loop:
 * they record what they were asked to do, so a test can assert each decision. */
#ifndef TEST_UNIT_FAKE_BACKEND_H
#define TEST_UNIT_FAKE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "vmexit/exit.h"
#include "vmexit/vcpu.h"

#define FAKE_MAX_IPIS 64
#define FAKE_GUEST_SIZE 0x10000 /* the fake partition's RAM, for hypercalls */

struct fake {
    /* the guest state the backend keeps apart from struct guest_regs */
    uint64_t rip, rflags, dr7, rsp;
    uint64_t cr0, cr3, cr4, efer; /* paging, for the MMIO handler's instruction fetch */
    uint8_t code_bits;            /* 64 after fake_reset */
    /* what the policy asked the backend */
    unsigned skips, skipped_bytes;
    unsigned injections, inj_vector, inj_error;
    bool inj_has_error;
    /* what the policy asked the hypervisor */
    bool x2apic;
    struct cpuid_values host_cpuid; /* what the "physical" CPU answers, any leaf */
    unsigned host_cpuid_calls;
    uint32_t host_cpuid_leaf, host_cpuid_sub;
    unsigned ipis;
    uint32_t ipi_apic[FAKE_MAX_IPIS];
    uint8_t ipi_vector[FAKE_MAX_IPIS];
    unsigned lapic_writes; /* x2APIC MSRs written for the guest, the last one kept */
    uint32_t lapic_msr;
    uint64_t lapic_value;
    uint32_t lapic_missing_lvt; /* this LVT does not exist: its write fails */
    unsigned xsetbvs;           /* XCR0 loads, the last value kept */
    bool xsetbv_fails;          /* the core cannot load XCR0 (no CR4.OSXSAVE) */
    uint64_t xcr0;
    char entry_diagnosis[64]; /* what diagnose_entry says, if anything */
    unsigned warns;
    char warn[256];
    unsigned stops;
    char stop_reason[128];
    unsigned hypercalls;
    int64_t exit_status;
    uint8_t guest[FAKE_GUEST_SIZE];
    /* the run loop: calls in order, one word each ("enable hold check enter ...") */
    char trace[1024];
    bool held;                     /* between hold_events and release_events */
    int enable_rc;                 /* what cpu_enable returns */
    bool stop_before_entry;        /* before_entry parks the vCPU (returns true) */
    const struct vcpu_exit *exits; /* what decode_exit hands out, one per entry */
    unsigned nexits, next_exit;
    bool stop_on_nmi; /* an NMI exit comes with the partition stopped (a stop's kick) */
    /* an emulated device: registers at [dev_base, dev_base + 0x1000) (dev_base 0: none) and
     * one I/O port (dev_port 0: none); the last access, reads answer dev_value */
    uint64_t dev_base;
    uint16_t dev_port;
    unsigned dev_calls;
    uint64_t dev_gpa, dev_value;
    unsigned dev_size;
    bool dev_write;
};

extern struct fake fake;
extern const struct vcpu_backend fake_backend;
extern const struct exit_hooks fake_hooks;
extern struct partition fake_partition;

/* Fresh fake state and a running partition "p" of nvcpus vCPUs on cores 1.. (APIC ID of
 * core n: fake_apic_id(n)). */
void fake_reset(unsigned nvcpus);
uint32_t fake_apic_id(unsigned cpu);

#endif
