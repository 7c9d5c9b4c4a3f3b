/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Per-CPU storage and the %gs-based accessor. */
#include "core/percpu.h"

#include "core/cpu.h"

struct percpu cpus[MAX_CPUS];
unsigned cpu_count;

_Static_assert(__builtin_offsetof(struct percpu, self) == 0, "%gs:0 holds the self pointer");
_Static_assert(__builtin_offsetof(struct percpu, pub) % 64 == 0, "public part on its own line");

static bool gs_ready; /* false until the boot CPU has set %gs */

struct percpu *this_cpu(void)
{
    struct percpu *pc;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(pc));
    return pc;
}

unsigned this_cpu_index(void) { return gs_ready ? this_cpu()->index : 0; }

void percpu_activate(struct percpu *pc)
{
    pc->self = pc;
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)pc);
    gs_ready = true;
}

int percpu_find_apic_id(uint32_t apic_id)
{
    for (unsigned i = 0; i < cpu_count; i++)
        if (cpus[i].apic_id == apic_id)
            return (int)i;
    return -1;
}
