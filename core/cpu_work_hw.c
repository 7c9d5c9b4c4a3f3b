/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Cross-core work on the machine: the mailbox in the public per-CPU data, wakes through the
 * local APIC, the TSC as the clock, and a halt no wake can slip past. */
#include "core/apic.h"
#include "core/cpu.h"
#include "core/cpu_work.h"
#include "core/percpu.h"
#include "core/time.h"
#include "core/trap.h"

struct cpu_mailbox *cpu_work_mailbox(unsigned cpu)
{
    return &cpus[cpu].pub.work;
}

void cpu_work_send_wake(unsigned cpu, bool nmi)
{
    if (nmi)
        (void)apic_send_nmi(cpus[cpu].apic_id);
    else
        (void)apic_send_fixed(cpus[cpu].apic_id, VECTOR_WAKEUP);
}

uint64_t cpu_work_now_us(void)
{
    return tsc_to_us(rdtsc());
}

void cpu_work_relax(void)
{
    cpu_relax();
}

/* With interrupts off, the wake-up IPI waits for sti, whose one-instruction shadow covers the
 * hlt. An NMI does not wait: if it lands after the mailbox test and before the hlt, its
 * handler returns to cpu_work_halt_end instead (trap.c), so the hlt cannot outlive it. */
__asm__(".text\n"
        ".global cpu_work_halt\n"
        "cpu_work_halt:\n" /* rdi: &pending, esi: mask */
        "    cli\n"
        "    testl %esi, (%rdi)\n"
        "    jnz 1f\n"
        "    sti\n"
        "    hlt\n"
        ".global cpu_work_halt_end\n"
        "cpu_work_halt_end:\n"
        "1:  cli\n"
        "    ret\n");

void cpu_work_sleep(struct cpu_mailbox *mb, uint32_t mask)
{
    cpu_work_halt(&mb->pending, mask);
}
