/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Bringing up the application processors and talking to them. */
#ifndef CORE_SMP_H
#define CORE_SMP_H

#include <stdint.h>

struct palloc;

struct smp_params {
    uint64_t trampoline_page; /* physical, below 1 MiB */
    uint64_t cr3;             /* below 4 GiB */
    uint32_t timeout_ms;
    int skip_cpu; /* -1, or an index left offline on purpose (testing) */
};

struct smp_report {
    unsigned started;    /* SIPIs sent */
    unsigned online;     /* including the boot CPU */
    uint64_t elapsed_us; /* from the first INIT to the last arrival */
};

/* Start every AP in cpus[1..cpu_count) and wait for them; never hangs. */
void smp_start_aps(const struct smp_params *p, struct smp_report *out);
/* Post a command to a CPU's mailbox and wake it. */
void smp_post(unsigned cpu, uint32_t command);
/* Wait until the CPU acknowledged command or parked; 0, or -E_TIMEDOUT. */
int smp_wait_ack(unsigned cpu, uint32_t command, uint32_t timeout_ms);
/* The AP's C entry point, called by the trampoline. */
void ap_entry(uint32_t slot);
/* The boot CPU's own descriptor tables and APIC, on its new stack. */
void smp_init_bsp(void);
uint32_t cpu_apic_id_from_cpuid(void);

#endif
