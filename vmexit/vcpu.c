/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Vendor-neutral vCPU services: stopping a partition, dumps, the guest console, the
 * checks before each entry, and the hypercall environment. */
#include "vmexit/vcpu.h"

#include <stdarg.h>

#include "core/apic.h"
#include "core/cpu.h"
#include "core/cpu_work.h"
#include "core/fmt.h"
#include "core/hv.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/percpu.h"
#include "core/spinlock.h"
#include "core/time.h"
#include "vmexit/hypercall.h"
#include "vmexit/partition.h"
#include "vmexit/svc_trap.h"

static const char *const reason_names[SC_EXIT_REASONS] = {
    [SC_EXIT_CPUID] = "cpuid",
    [SC_EXIT_HYPERCALL] = "hypercall",
    [SC_EXIT_MSR_READ] = "msr_read",
    [SC_EXIT_MSR_WRITE] = "msr_write",
    [SC_EXIT_IO] = "io",
    [SC_EXIT_NPF] = "npf",
    [SC_EXIT_NMI] = "nmi",
    [SC_EXIT_INTR] = "intr",
    [SC_EXIT_VINTR] = "vintr",
    [SC_EXIT_HLT] = "hlt",
    [SC_EXIT_SHUTDOWN] = "shutdown",
    [SC_EXIT_EXCEPTION] = "exception",
    [SC_EXIT_OTHER] = "other",
};

const char *exit_reason_name(unsigned r)
{
    return r < SC_EXIT_REASONS ? reason_names[r] : "?";
}

void vcpu_dump(const struct vcpu *v)
{
    struct guest_state s;
    vcpu_backend->vcpu_state(v, &s);
    const struct guest_regs *r = &s.regs;
    log_error("%s.%u guest state: rip %016llx rsp %016llx rflags %016llx cs %04x ss %04x",
              v->partition->name, v->id, (unsigned long long)s.rip, (unsigned long long)s.rsp,
              (unsigned long long)s.rflags, s.cs, s.ss);
    log_error("  rax %016llx rbx %016llx rcx %016llx rdx %016llx", (unsigned long long)r->rax,
              (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
    log_error("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx", (unsigned long long)r->rsi,
              (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->r8);
    log_error("  r9  %016llx r10 %016llx r11 %016llx r12 %016llx", (unsigned long long)r->r9,
              (unsigned long long)r->r10, (unsigned long long)r->r11, (unsigned long long)r->r12);
    log_error("  r13 %016llx r14 %016llx r15 %016llx", (unsigned long long)r->r13,
              (unsigned long long)r->r14, (unsigned long long)r->r15);
    log_error("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx",
              (unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
              (unsigned long long)s.cr4, (unsigned long long)s.efer);
}

void vcpu_stop_partition(struct vcpu *v, const char *fmt, ...)
{
    struct partition *p = v->partition;
    char reason[sizeof(p->stop_reason)];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);

    if (partition_stop(p, reason, (int)v->id)) {
        /* first to stop it: say why and show the state that led there */
        log_error("partition '%s' stopped by vCPU %u: %s", p->name, v->id, reason);
        vcpu_dump(v);
    }
    __atomic_store_n(&v->state, VCPU_STOPPED, __ATOMIC_RELEASE);
    partition_notify_coordinator();
}

void vcpu_exit_guest(struct vcpu *v, int64_t status)
{
    struct partition *p = v->partition;
    v->exit_status = status;
    __atomic_store_n(&v->state, VCPU_EXITED, __ATOMIC_RELEASE);
    life_vcpu_exited(&p->life); /* the last one finishes a running partition */
    partition_notify_coordinator();
}

/* ---- the hypercall environment of one vCPU */

static const struct sc_exit_counters *counters_of(void *ctx, unsigned id)
{
    struct vcpu *v = ctx;
    return id < v->partition->nvcpus ? &v->partition->vcpus[id].counters : NULL;
}

/* Guest text goes out line by line, prefixed, with control characters replaced, so a
 * guest can neither forge hypervisor lines nor corrupt the terminal; and bounded, since
 * every line is a synchronous UART write under the global log lock, on a side core shared
 * with other partitions for the ring transport. */
static bool console_admit(void *ctx)
{
    struct partition *p = ((struct vcpu *)ctx)->partition;
    spin_lock(&p->console_lock);
    bool ok = console_bucket_take(&p->console, rdtsc());
    spin_unlock(&p->console_lock);
    return ok;
}

static void console_emit(void *ctx, const char *line)
{
    struct vcpu *v = ctx;
    log_info("%s.%u: %s", v->partition->name, v->id, line);
}

void vcpu_console_put(struct vcpu *v, struct console_stream *s, const char *text, size_t n)
{
    struct partition *p = v->partition;
    struct console_sink sink = {v, console_admit, console_emit};
    struct console_request req = {0};
    console_feed(s, text, n, &sink, &req);
    if (!req.dropped)
        return;
    spin_lock(&p->console_lock);
    bool notice = console_bucket_dropped(&p->console, rdtsc(), req.dropped);
    uint64_t total = p->console.dropped;
    spin_unlock(&p->console_lock);
    if (notice)
        log_warn("console output of partition '%s' dropped: more than %d lines in one request "
                 "or %d lines/s (bursts of %d); %llu lines so far, noticed at most every %d s, "
                 "counted to the end",
                 p->name, CONSOLE_LINES_PER_REQUEST, CONSOLE_LINES_PER_SECOND, CONSOLE_BURST_LINES,
                 (unsigned long long)total, CONSOLE_NOTICE_SECONDS);
}

static void console(void *ctx, const char *text, size_t len)
{
    struct vcpu *v = ctx;
    vcpu_console_put(v, &v->console_trap, text, len);
}

struct cpuid_guest_view vcpu_cpuid_view(const struct vcpu *v)
{
    const struct partition *p = v->partition;
    return (struct cpuid_guest_view){v->id,
                                     p->nvcpus,
                                     cpus[v->cpu].apic_id,
                                     p->window_size ? SC_GPA_RING_WINDOW : 0,
                                     (uint32_t)p->window_size,
                                     false};
}

void vcpu_guest_enter(struct vcpu *v)
{
    if (tlb_sync_enter(&v->tlb, &v->partition->tlb))
        vcpu_backend->flush_guest_tlb(v); /* takes effect at this entry */
}

void vcpu_guest_exit(struct vcpu *v)
{
    tlb_sync_exit(&v->tlb);
}

/* The work a guest core takes on its way into the guest. A flush and its partition's stop
 * are states it reads anyway (the run loop, vcpu_guest_enter); their bits, like a kick's,
 * only woke it. */
#define GUEST_ENTRY_WORK                                                                           \
    (CPU_WORK_VCPU_STOP | CPU_WORK_VCPU_KICK | CPU_WORK_TLB_FLUSH | CPU_WORK_PARTITION_STOP)

bool vcpu_before_entry(struct vcpu *v)
{
    kassert(__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_RUNNING); /* only those enter */
    uint32_t work = cpu_work_take(&cpus[v->cpu].pub.work, GUEST_ENTRY_WORK);
    if (work & CPU_WORK_VCPU_STOP) {
        int64_t status = __atomic_load_n(&v->stop_status, __ATOMIC_RELAXED);
        log_info("partition '%s' vCPU %u stopped by a request of its partition (status %lld)",
                 v->partition->name, v->id, (long long)status);
        vcpu_exit_guest(v, status);
        __atomic_store_n(&v->state, VCPU_PARKED,
                         __ATOMIC_RELEASE); /* SC_OP_VCPU_START may follow */
        return true;
    }
    return false;
}

static void steady_begin(void *ctx)
{
    struct vcpu *v = ctx;
    __atomic_store_n(&v->counters.steady, 0, __ATOMIC_RELAXED); /* side cores read it */
    v->in_steady = true;
}

static uint64_t steady_end(void *ctx)
{
    struct vcpu *v = ctx;
    if (!v->in_steady)
        return 0; /* an END without a BEGIN measures nothing */
    /* the SC_HC_STEADY_END exit itself was counted in the phase: it is the
     * closing bracket, not steady-state work */
    v->in_steady = false;
    uint64_t steady = v->counters.steady - 1;
    __atomic_store_n(&v->counters.steady, steady, __ATOMIC_RELAXED);
    v->steady_exits = steady;
    v->steady_seen = true;
    return v->steady_exits;
}

static void guest_exit(void *ctx, int64_t status)
{
    vcpu_exit_guest(ctx, status);
}

static int64_t ring_op(void *ctx, unsigned service, struct sc_ring_slot *slot)
{
    return svc_execute_trap(ctx, service, slot);
}

/* debug slow_trap_ms: a guest core that sits in a long trap, for tests (its partition's stop
 * still ends the wait). */
static void slow_trap(const struct vcpu *v)
{
    uint64_t end = rdtsc() + hv.cfg.slow_trap_ms * (time_tsc_hz() / 1000);
    while (rdtsc() < end && !vcpu_should_stop(v))
        cpu_relax();
}

int64_t vcpu_hypercall(struct vcpu *v, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct partition *p = v->partition;
    if (op == SC_HC_NULL && hv.cfg.slow_trap_ms)
        slow_trap(v);
    struct hc_context c = {
        .guest_base = (uint8_t *)(uintptr_t)p->base,
        .guest_size = p->size,
        .vcpu_id = v->id,
        .vcpu_count = p->nvcpus,
        .ctx = v,
        .counters_of = counters_of,
        .console = console,
        .steady_begin = steady_begin,
        .steady_end = steady_end,
        .exit = guest_exit,
        .ring_op = ring_op,
    };
    return hypercall_dispatch(&c, op, a0, a1, a2);
}
