/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Per-CPU data: a private part only its own CPU touches, and a cache-aligned
 * public part that is the only thing other cores read or write. */
#ifndef CORE_PERCPU_H
#define CORE_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cpu_work.h"
#include "core/desc.h"

/* CPU indices the hypervisor handles (x2APIC IDs may be any 32-bit value); the per-CPU
 * structures themselves are allocated for the CPUs present only. */
#define MAX_CPUS 1024
#define CPU_STACK_SIZE (16 * 1024)
#define CPU_IST_STACK_SIZE (8 * 1024)
/* Room for the virtualization backend's per-CPU data (struct svm_cpu; a VMX backend's too),
 * which lives in struct percpu; each backend asserts that its own fits. */
#define PERCPU_BACKEND_BYTES 64

/* Life of a CPU as the boot CPU sees it. */
enum cpu_state {
    CPU_ABSENT = 0, /* not started (not in the MADT, or left offline on purpose) */
    CPU_STARTING,   /* INIT-SIPI-SIPI sent, not yet arrived */
    CPU_ONLINE,     /* arrived in C, waiting for its role */
    CPU_IN_ROLE,    /* running its role (side core loop / guest core) */
    CPU_PARKED,     /* stopped after an exception or panic; reason in park_reason */
    CPU_TIMED_OUT,  /* did not arrive within the AP time-out */
};

/* Commands the boot CPU posts in a CPU's mailbox. */
enum cpu_command {
    CPU_CMD_NONE = 0,
    CPU_CMD_TAKE_ROLE, /* enter the role the configuration gives */
    CPU_CMD_RUN,       /* guest cores: enter the guest (after the boot report) */
    CPU_CMD_HALT,      /* stop for shutdown */
};

/* The only part of a CPU's data other CPUs read or write, on cache lines of its own. For
 * each field: who writes it, and the ordering that makes its readers see what they need. */
struct percpu_public {
    /* enum cpu_state. The boot CPU: ABSENT -> STARTING, and STARTING -> TIMED_OUT by
     * compare-and-swap; the CPU itself: STARTING -> ONLINE by compare-and-swap (the loser
     * stays out of the way), then -> IN_ROLE and -> PARKED. Release stores, acquire loads:
     * arrival_tsc and park_reason are written before the state that announces them. */
    uint32_t state;
    /* enum cpu_command: the boot CPU (release), then it posts CPU_WORK_COMMAND; the CPU
     * takes the bit before it reads the command (acquire), so a newer one is never missed. */
    uint32_t command;
    /* The last command the CPU completed: the CPU (release); the boot CPU waits on it. */
    uint32_t acked;
    /* Cross-core work: any CPU posts, the CPU takes (core/cpu_work.h has the ordering). */
    struct cpu_mailbox work;
    /* Statistics the CPU counts (relaxed) and the boot CPU reports: NMIs taken in the
     * hypervisor, and interrupts meant for a guest that had already left the core. */
    uint32_t nmis;
    uint32_t stray_irqs;
    uint64_t arrival_tsc; /* the CPU, before its state turns ONLINE */
    char park_reason[80]; /* the CPU, before its state turns PARKED */
} __attribute__((aligned(64)));

struct sidecore_cpu;

/* A CPU's data. Everything but pub is private: written by the CPU itself, or by the boot CPU
 * before the CPU starts (its index, APIC ID, stacks) or takes its role (sidecore). */
struct percpu {
    struct percpu *self; /* %gs:0, so this_cpu() is one load */
    unsigned index;
    uint32_t apic_id;
    uint64_t stack_top;            /* of the main stack it runs on (0: the boot stack) */
    uint64_t stack_guard;          /* the unmapped page below that stack (core/stacks.c) */
    uint64_t stack_block;          /* its stacks and their guard pages (core/stacks.c) */
    bool emergency;                /* in an exception or a panic: the log lock is not waited for */
    struct sidecore_cpu *sidecore; /* its state if it is a side core (sidecore/sidecore.c) */
    /* NMIs in the hypervisor (core/trap.c). nmi_taken is set by every one; whoever must not
     * miss one clears it first and looks at it last (the VMX entry: vmexit/vmx). An NMI at
     * an rip in [nmi_restart_start, nmi_restart_end) resumes at nmi_restart_start, so such
     * a last look cannot be passed by an NMI that comes just after it. */
    volatile uint8_t nmi_taken;
    uintptr_t nmi_restart_start, nmi_restart_end;
    uint8_t backend[PERCPU_BACKEND_BYTES] __attribute__((aligned(16)));
    struct gdt_table gdt;
    struct tss tss;
    struct percpu_public pub;
} __attribute__((aligned(64)));

/* cpus[0 .. cpu_count): the boot CPU first, then the MADT's order. */
extern struct percpu *cpus;
extern unsigned cpu_count;

struct palloc;
/* Boot CPU, once, before any per-CPU use: allocate n entries and give them their APIC IDs
 * (apic_ids[0] is the boot CPU). 0 or -E_NOMEM. */
int percpu_create(struct palloc *pa, const uint32_t *apic_ids, unsigned n);

struct percpu *this_cpu(void);
unsigned this_cpu_index(void);
/* NULL until the boot CPU activated its per-CPU data (early boot, the loader's calls). */
struct percpu *this_cpu_or_null(void);
/* Point %gs at this CPU's data; done first on every CPU. */
void percpu_activate(struct percpu *pc);
/* Index of the CPU with this APIC ID, or -1. */
int percpu_find_apic_id(uint32_t apic_id);

#endif
