/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The exit policy, written once for every backend, and the one run loop. Plain C,
 * host-tested through a fake backend: what the policy needs from the rest of the
 * hypervisor (the CPU, the APIC, the log, stopping a partition) comes through
 * struct exit_hooks. */
#ifndef VMEXIT_EXIT_H
#define VMEXIT_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmexit/backend.h"
#include "vmexit/cpuid.h"

struct vcpu;

/* Hypervisor services the policy uses; the hypervisor's are vcpu_exit_hooks
 * (exit_hooks.c), a host test brings its own. */
struct exit_hooks {
    /* CPUID as the physical CPU answers it, and what the vCPU is told about itself */
    void (*host_cpuid)(uint32_t leaf, uint32_t subleaf, struct cpuid_values *out);
    struct cpuid_guest_view (*cpuid_view)(const struct vcpu *v);
    /* the trap-path hypercall in the vCPU's environment (hypercall_dispatch) */
    int64_t (*hypercall)(struct vcpu *v, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2);
    /* the local APIC: its mode, a core's APIC ID, a fixed IPI */
    bool (*x2apic_mode)(void);
    uint32_t (*apic_id)(unsigned cpu);
    void (*send_ipi)(uint32_t apic_id, uint8_t vector);
    /* write an LVT of this core's x2APIC that the policy accepted: 0, or nonzero if this
     * LAPIC has no such LVT */
    int (*lapic_write)(uint32_t msr, uint64_t value);
    /* the partition's emulated devices (the virtio-pci disk): does one decode guest-physical
     * gpa; a register access at gpa (size 1, 2, 4 or 8; *value in for a write, out for a
     * read); an access to an I/O port: false when no device has the port */
    bool (*device_at)(const struct vcpu *v, uint64_t gpa);
    void (*device_mmio)(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *value);
    bool (*device_port)(struct vcpu *v, uint16_t port, unsigned size, bool write, uint32_t *value);
    /* load XCR0 (a value exit_xsetbv accepted) into this core: the guest's own, as the
     * hypervisor keeps no extended state of its own */
    int (*xsetbv)(uint64_t xcr0);   /* 0, or nonzero if this core cannot (no CR4.OSXSAVE) */
    void (*warn)(const char *line); /* one log line at warning level */
    /* stop the vCPU's partition: the reason logged, the vCPU's state dumped, the other
     * vCPUs kicked out; this vCPU is VCPU_STOPPED afterwards */
    void (*stop)(struct vcpu *v, const char *reason);
    /* before each entry, events held: apply pending requests; true = leave the run loop */
    bool (*before_entry)(struct vcpu *v);
    /* right before the entry, after every check, events held: the vCPU is in guest mode
     * (a TLB flush now waits for it, and one asked for until now is applied at this entry);
     * and right after the exit: it is not any more */
    void (*guest_enter)(struct vcpu *v);
    void (*guest_exit)(struct vcpu *v);
};

extern const struct exit_hooks vcpu_exit_hooks;

/* What the policy handles an exit with. */
struct exit_ctx {
    struct vcpu *v;
    const struct vcpu_backend *be;
    const struct exit_hooks *hooks;
};

enum exit_action {
    EXIT_RESUME, /* enter the guest again */
    EXIT_LEAVE,  /* the vCPU exited or its partition was stopped: leave the run loop */
};

/* One decoded exit: counted by reason, then handled. Nothing is skipped: an exit the
 * policy has no handler for stops the partition with a dump naming the vendor's code. */
enum exit_action exit_dispatch(const struct exit_ctx *c, const struct vcpu_exit *e);

/* On the vCPU's core: enter the guest and handle exits until the vCPU exits, is parked
 * or is stopped (run.c). */
void vcpu_run(struct vcpu *v, const struct vcpu_backend *be, const struct exit_hooks *hooks);

#endif
