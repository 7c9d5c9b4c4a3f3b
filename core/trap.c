/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Exceptions print a full register dump and park only the CPU that took them. */
#include "core/trap.h"

#include "core/apic.h"
#include "core/cpu.h"
#include "core/cpu_work.h"
#include "core/exception_names.h"
#include "core/fmt.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/percpu.h"
#include "core/stacks.h"

static void dump(const struct trap_frame *f)
{
    log_error("exception %s (vector %llu) error code 0x%llx", exception_name(f->vector),
              (unsigned long long)f->vector, (unsigned long long)f->error_code);
    log_error("  rip %016llx  cs %04llx  rflags %016llx  rsp %016llx  ss %04llx",
              (unsigned long long)f->rip, (unsigned long long)f->cs, (unsigned long long)f->rflags,
              (unsigned long long)f->rsp, (unsigned long long)f->ss);
    log_error("  rax %016llx  rbx %016llx  rcx %016llx  rdx %016llx", (unsigned long long)f->rax,
              (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    log_error("  rsi %016llx  rdi %016llx  rbp %016llx  r8  %016llx", (unsigned long long)f->rsi,
              (unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
    log_error("  r9  %016llx  r10 %016llx  r11 %016llx  r12 %016llx", (unsigned long long)f->r9,
              (unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
    log_error("  r13 %016llx  r14 %016llx  r15 %016llx", (unsigned long long)f->r13,
              (unsigned long long)f->r14, (unsigned long long)f->r15);
    log_error("  cr0 %016llx  cr2 %016llx  cr3 %016llx  cr4 %016llx",
              (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
              (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

void trap_dispatch(struct trap_frame *f)
{
    switch (f->vector) {
    case VECTOR_WAKEUP:
        apic_eoi();
        return;
    case VECTOR_SPURIOUS:
        /* a spurious interrupt takes no EOI; a guest's IPI on the same vector (every vector
         * is the guest's) that reached its core while in the hypervisor does */
        if (apic_in_service(VECTOR_SPURIOUS)) {
            __atomic_fetch_add(&this_cpu()->pub.stray_irqs, 1, __ATOMIC_RELAXED);
            apic_eoi();
        }
        return;
    case VECTOR_NMI:
        /* a wake: the interrupted loop takes its work (cpu_work.h); a hlt about to start
         * after the mailbox was found empty is skipped, or this wake would be lost */
        {
            struct percpu *pc = this_cpu();
            __atomic_fetch_add(&pc->pub.nmis, 1, __ATOMIC_RELAXED);
            pc->nmi_taken = 1;
            if (f->rip >= (uintptr_t)&cpu_work_halt && f->rip < (uintptr_t)cpu_work_halt_end)
                f->rip = (uintptr_t)cpu_work_halt_end;
            else if (f->rip >= pc->nmi_restart_start && f->rip < pc->nmi_restart_end)
                f->rip = pc->nmi_restart_start;
            return;
        }
    default: {
        if (f->vector >= 32) {
            /* a stray interrupt meant for a guest that has left this core */
            __atomic_fetch_add(&this_cpu()->pub.stray_irqs, 1, __ATOMIC_RELAXED);
            apic_eoi();
            return;
        }
        /* an exception in the hypervisor: dump and stop this CPU only */
        log_emergency(); /* it may hold the log lock: it faulted while printing */
        char reason[80];
        uint64_t cr2 = read_cr2();
        const char *stack = NULL;
        if (f->vector == VECTOR_PAGE_FAULT || f->vector == VECTOR_DOUBLE_FAULT)
            stack = stacks_guard_hit(this_cpu(), cr2);
        if (stack) {
            /* the #PF of an overflow cannot be pushed on the overflowed stack: it comes as
             * a double fault, on the IST stack, and CR2 names the guard page */
            log_error("cpu %u: stack overflow (guard page hit at %#llx, below its %s stack)",
                      this_cpu_index(), (unsigned long long)cr2, stack);
            ksnprintf(reason, sizeof(reason), "stack overflow (guard page of its %s stack hit)",
                      stack);
        } else {
            ksnprintf(reason, sizeof(reason), "exception %s at rip %llx", exception_name(f->vector),
                      (unsigned long long)f->rip);
        }
        dump(f);
        cpu_park(reason);
    }
    }
}
