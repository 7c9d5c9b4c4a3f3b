/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Per-CPU storage and the %gs-based accessor. */
#include "core/percpu.h"

#include "core/config.h"
#include "core/cpu.h"
#include "core/klib.h"
#include "core/palloc.h"

struct percpu *cpus;
unsigned cpu_count;

_Static_assert(MAX_CPUS <= CONFIG_MAX_CPUS, "every CPU can be named in the configuration");

_Static_assert(__builtin_offsetof(struct percpu, self) == 0, "%gs:0 holds the self pointer");
_Static_assert(__builtin_offsetof(struct percpu, pub) % 64 == 0, "public part on its own line");

static bool gs_ready; /* false until the boot CPU has set %gs */

struct percpu *this_cpu(void)
{
    struct percpu *pc;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(pc));
    return pc;
}

struct percpu *this_cpu_or_null(void)
{
    return gs_ready ? this_cpu() : NULL;
}

unsigned this_cpu_index(void)
{
    return gs_ready ? this_cpu()->index : 0;
}

void percpu_activate(struct percpu *pc)
{
    pc->self = pc;
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)pc);
    gs_ready = true;
}

int percpu_create(struct palloc *pa, const uint32_t *apic_ids, unsigned n)
{
    uint64_t bytes = ALIGN_UP((uint64_t)n * sizeof(struct percpu), PAGE_SIZE), pa_out;
    if (palloc_alloc(pa, bytes, PAGE_SIZE, 0, &pa_out))
        return -E_NOMEM;
    cpus = (struct percpu *)(uintptr_t)pa_out;
    memset(cpus, 0, bytes);
    for (unsigned i = 0; i < n; i++) {
        cpus[i].index = i;
        cpus[i].apic_id = apic_ids[i];
    }
    cpu_count = n;
    return 0;
}

int percpu_find_apic_id(uint32_t apic_id)
{
    for (unsigned i = 0; i < cpu_count; i++)
        if (cpus[i].apic_id == apic_id)
            return (int)i;
    return -1;
}
