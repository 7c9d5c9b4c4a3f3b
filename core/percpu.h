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

struct percpu_public {
    uint32_t state;          /* enum cpu_state, atomic */
    uint32_t command;        /* enum cpu_command, atomic: CPU_WORK_COMMAND's payload */
    uint32_t acked;          /* last command completed, atomic */
    struct cpu_mailbox work; /* cross-core work (cpu_work.h) */
    uint32_t nmis;           /* NMIs taken in the hypervisor (kicks) */
    uint32_t stray_irqs;     /* interrupts for a guest that had left (acknowledged) */
    uint64_t arrival_tsc;
    char park_reason[80];
} __attribute__((aligned(64)));

struct sidecore_cpu;

struct percpu {
    struct percpu *self; /* %gs:0, so this_cpu() is one load */
    unsigned index;
    uint32_t apic_id;
    uint64_t stack_top;            /* of the main stack it runs on (0: the boot stack) */
    uint64_t stack_guard;          /* the unmapped page below that stack (core/stacks.c) */
    struct sidecore_cpu *sidecore; /* its state if it is a side core (sidecore/sidecore.c) */
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
/* Point %gs at this CPU's data; done first on every CPU. */
void percpu_activate(struct percpu *pc);
/* Index of the CPU with this APIC ID, or -1. */
int percpu_find_apic_id(uint32_t apic_id);

#endif
