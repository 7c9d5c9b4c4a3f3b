/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The exit dispatcher: every decoded exit is counted and handed to its handler; the
 * exits that only count (NMI, INTR) and those that stop the partition are handled here. */
#include "vmexit/exit.h"

#include <stdarg.h>

#include "core/fmt.h"
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"
#include "vmexit/x86.h"

void vcpu_count_exit(struct vcpu *v, enum sc_exit_reason reason)
{
    /* single writer (this core); relaxed atomics so readers never see torn values */
    __atomic_store_n(&v->counters.total, v->counters.total + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&v->counters.by_reason[reason], v->counters.by_reason[reason] + 1,
                     __ATOMIC_RELAXED);
    if (v->in_steady)
        __atomic_store_n(&v->counters.steady, v->counters.steady + 1, __ATOMIC_RELAXED);
}

enum exit_action exit_stop(const struct exit_ctx *c, const char *fmt, ...)
{
    char reason[sizeof(c->v->partition->stop_reason)];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    c->hooks->stop(c->v, reason);
    return EXIT_LEAVE;
}

void exit_warn(const struct exit_ctx *c, const char *fmt, ...)
{
    char line[192];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->hooks->warn(line);
}

void exit_inject_gp(const struct exit_ctx *c)
{
    c->be->inject_exception(c->v, X86_GP, true, 0);
}

enum exit_action exit_unexpected(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    return exit_stop(c, "unexpected exit 0x%x (%s %llx, %s %llx)", e->hw_code,
                     c->be->hw_info_names[0], (unsigned long long)e->hw_info[0],
                     c->be->hw_info_names[1], (unsigned long long)e->hw_info[1]);
}

enum exit_action exit_dispatch(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    struct vcpu *v = c->v;
    switch (e->reason) {
    case VCPU_EXIT_CPUID:
        return exit_cpuid(c, e);
    case VCPU_EXIT_HYPERCALL:
        return exit_hypercall(c, e);
    case VCPU_EXIT_MSR_READ:
    case VCPU_EXIT_MSR_WRITE:
        return exit_msr(c, e);
    case VCPU_EXIT_IO:
        return exit_io(c, e);
    case VCPU_EXIT_EXCEPTION:
        return exit_exception(c, e);
    case VCPU_EXIT_INVD:
    case VCPU_EXIT_WBINVD:
        return exit_cache_flush(c, e);
    case VCPU_EXIT_XSETBV:
        return exit_xsetbv(c, e);
    case VCPU_EXIT_NMI:
        vcpu_count_exit(v, SC_EXIT_NMI); /* a kick: the run loop checks for work */
        return EXIT_RESUME;
    case VCPU_EXIT_INTR:
        vcpu_count_exit(v, SC_EXIT_INTR);
        return EXIT_RESUME;
    case VCPU_EXIT_STAGE2_FAULT:
        return exit_stage2_fault(c, e);
    case VCPU_EXIT_TRIPLE_FAULT:
        vcpu_count_exit(v, SC_EXIT_SHUTDOWN);
        return exit_stop(c, "triple fault (shutdown) at rip %llx", (unsigned long long)e->rip);
    case VCPU_EXIT_ENTRY_FAILED: {
        vcpu_count_exit(v, SC_EXIT_OTHER);
        struct refusal why;
        if (c->be->diagnose_entry(v, &why))
            exit_warn(c, "partition '%s' vCPU %u: the entry checks say: %s", v->partition->name,
                      v->id, why.text);
        return exit_stop(c, "%s refused the guest state at entry (exit 0x%x, %s %llx)", c->be->name,
                         e->hw_code, c->be->hw_info_names[0], (unsigned long long)e->hw_info[0]);
    }
    case VCPU_EXIT_UNKNOWN:
        break;
    }
    /* VCPU_EXIT_UNKNOWN, or a reason no backend may produce */
    vcpu_count_exit(v, SC_EXIT_OTHER);
    return exit_unexpected(c, e);
}
