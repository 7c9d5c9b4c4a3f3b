/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Cross-core work (cpu_work.h): bits, wakes and the re-send schedule. */
#include "core/cpu_work.h"

#include "core/klib.h"

void cpu_work_set_wake(unsigned cpu, bool by_nmi)
{
    __atomic_store_n(&cpu_work_mailbox(cpu)->wake_nmi, by_nmi, __ATOMIC_RELEASE);
}

void cpu_work_post(unsigned cpu, uint32_t bits)
{
    struct cpu_mailbox *mb = cpu_work_mailbox(cpu);
    /* seq_cst: ordered after the payload and before the owner's next look (cpu_work.h) */
    uint32_t old = __atomic_fetch_or(&mb->pending, bits, __ATOMIC_SEQ_CST);
    if ((old & bits) == bits)
        return; /* every bit was pending already: its wake is on its way */
    __atomic_fetch_add(&mb->posts, 1, __ATOMIC_RELAXED);
    cpu_work_send_wake(cpu, __atomic_load_n(&mb->wake_nmi, __ATOMIC_RELAXED));
}

uint32_t cpu_work_take(struct cpu_mailbox *mb, uint32_t mask)
{
    if (!(__atomic_load_n(&mb->pending, __ATOMIC_RELAXED) & mask))
        return 0; /* the common case costs a plain load, no locked instruction */
    return __atomic_fetch_and(&mb->pending, ~mask, __ATOMIC_ACQUIRE) & mask;
}

bool cpu_work_pending(const struct cpu_mailbox *mb, uint32_t mask)
{
    return __atomic_load_n(&mb->pending, __ATOMIC_ACQUIRE) & mask;
}

void cpu_work_resend(unsigned cpu)
{
    struct cpu_mailbox *mb = cpu_work_mailbox(cpu);
    __atomic_fetch_add(&mb->resends, 1, __ATOMIC_RELAXED);
    cpu_work_send_wake(cpu, __atomic_load_n(&mb->wake_nmi, __ATOMIC_RELAXED));
}

int cpu_work_wait(bool (*done)(void *arg), void (*resend)(void *arg), void *arg,
                  uint64_t timeout_us)
{
    uint64_t start = cpu_work_now_us(), last_send = start;
    for (;;) {
        if (done(arg))
            return 0;
        uint64_t now = cpu_work_now_us();
        if (timeout_us != CPU_WORK_FOREVER && now - start >= timeout_us)
            return -E_TIMEDOUT;
        if (now - last_send >= CPU_WORK_RESEND_US) {
            resend(arg);
            last_send = now;
        }
        cpu_work_relax();
    }
}
