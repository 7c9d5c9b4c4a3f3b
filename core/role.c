/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Role entry: a CPU announces its role and acknowledges it. What it then runs (side-core
 * services, a guest vCPU) is role_run, above this layer (boot/role_run.c). */
#include "core/role.h"

#include "core/cpu.h"
#include "core/fmt.h"
#include "core/hv.h"
#include "core/log.h"
#include "core/percpu.h"

/* Position of cpu among the partition's cores: its vCPU id. */
static unsigned vcpu_index(const struct cfg_partition *p, unsigned cpu)
{
    unsigned n = 0;
    for (unsigned c = 0; c < cpu; c++)
        n += cpu_set_has(&p->cpus, c);
    return n;
}

void role_describe(const struct config *cfg, unsigned cpu, char *buf, unsigned size)
{
    struct cpu_role r = config_cpu_role(cfg, cpu);
    switch (r.kind) {
    case ROLE_SIDECORE: {
        const struct cfg_sidecore *s = &cfg->sidecores[r.index];
        int n = ksnprintf(buf, size, "side core:");
        for (unsigned sv = 0; sv < SERVICE_COUNT && (unsigned)n < size; sv++)
            if (s->services & (1u << sv))
                n += ksnprintf(buf + n, size - (unsigned)n, " %s", service_name((enum service)sv));
        if ((unsigned)n < size)
            ksnprintf(buf + n, size - (unsigned)n, " (poll %s)", poll_policy_name(s->poll));
        return;
    }
    case ROLE_GUEST: {
        const struct cfg_partition *p = &cfg->partitions[r.index];
        ksnprintf(buf, size, "guest core: partition '%s' vCPU %u", p->name, vcpu_index(p, cpu));
        return;
    }
    case ROLE_UNUSED:
        ksnprintf(buf, size, "unused");
        return;
    }
    ksnprintf(buf, size, "?");
}

/* 'debug overflow_cpu': every call keeps a frame until the stack's guard page stops it. */
static __attribute__((noinline)) unsigned recurse(volatile unsigned *depth)
{
    volatile char frame[512];
    frame[0] = (char)++*depth;
    if (*depth == 0)
        return 0; /* never (it would take 2^32 frames): the recursion is not endless to the
                     compiler */
    return recurse(depth) + (unsigned)frame[0];
}

void role_enter(struct percpu *pc)
{
    if (hv.cfg.fault_cpu == (int)pc->index) {
        log_warn("taking a deliberate #UD ('debug fault_cpu=%u')", pc->index);
        __asm__ volatile("ud2");
    }
    if (hv.cfg.silent_cpu == (int)pc->index) {
        log_warn("ignoring my role, as if its wake-up were lost ('debug silent_cpu=%u')",
                 pc->index);
        for (;;)
            halt(); /* interrupts are off: nothing acknowledges */
    }
    if (hv.cfg.log_fault_cpu == (int)pc->index)
        log_fault_holding_lock();
    if (hv.cfg.overflow_cpu == (int)pc->index) {
        log_warn("recursing until the stack overflows ('debug overflow_cpu=%u')", pc->index);
        volatile unsigned depth = 0;
        recurse(&depth);
    }
}

void role_announce(struct percpu *pc)
{
    char what[96];
    role_describe(&hv.cfg, pc->index, what, sizeof(what));
    log_info("role: %s", what);
    __atomic_store_n(&pc->pub.state, CPU_IN_ROLE, __ATOMIC_RELEASE);
}
