/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Cross-core work: the one way a CPU asks another to do something. The poster writes the
 * payload where the work's owner keeps it, then sets the work's bit in the target's mailbox
 * and wakes the target the way it can take a wake-up: a guest core by NMI (it leaves its
 * guest at once, and a guest never sees a hypervisor vector), any other CPU by the wake-up
 * IPI. The target takes its bits in one place per loop: before each guest entry with events
 * held, in its idle waits, and in a side core's pass. A poster that waits for the work to be
 * done re-sends the wake on one bounded schedule (cpu_work_wait).
 *
 * Ordering: the bit is set with a sequentially consistent read-modify-write after the
 * payload is written, and taken with an acquire exchange, so the taker sees the payload. A
 * wake is sent only when the post set a bit that was clear: if it was already set, the wake
 * that set it is still owed to the target (it is sent after every take that cleared it),
 * so no extra NMI is needed. This file is hardware-independent (host-tested under threads);
 * the mailbox lookup, the wake and the clock are the platform's (cpu_work_hw.c). */
#ifndef CORE_CPU_WORK_H
#define CORE_CPU_WORK_H

#include <stdbool.h>
#include <stdint.h>

/* Every kind of cross-core work; where its payload lives and who takes it. */
enum cpu_work {
    CPU_WORK_COMMAND = 1u << 0,        /* boot CPU -> AP: percpu pub.command; its command loop */
    CPU_WORK_COORDINATOR = 1u << 1,    /* guest core -> boot CPU: a vCPU ended (partition.c) */
    CPU_WORK_TLB_FLUSH = 1u << 2,      /* changer -> guest core: partition tlb_sync generation */
    CPU_WORK_PARTITION_STOP = 1u << 3, /* -> guest core: its partition's state (lifecycle.h) */
    CPU_WORK_VCPU_STOP = 1u << 4,      /* SC_OP_VCPU_STOP: vcpu stop_status */
    CPU_WORK_VCPU_START = 1u << 5,     /* SC_OP_VCPU_START: vcpu start_rip, start_rsp */
    CPU_WORK_VCPU_KICK = 1u << 6,      /* SC_OP_VCPU_KICK: leave the guest once, nothing else */
};

/* The part of a CPU's public per-CPU data that cross-core work uses. */
struct cpu_mailbox {
    uint32_t pending;  /* enum cpu_work bits: set by any CPU, taken by the owner */
    uint32_t wake_nmi; /* 1: woken by NMI (a guest core); written before the first post */
    uint32_t posts;    /* posts that set a new bit (and so sent a wake): statistics */
    uint32_t resends;  /* wakes re-sent by waiters */
};

/* The boot CPU, before the first post to cpu: how cpu is woken (NMI for a guest core). */
void cpu_work_set_wake(unsigned cpu, bool by_nmi);
/* Any CPU: set bits in cpu's mailbox (its payload written before) and wake it if needed. */
void cpu_work_post(unsigned cpu, uint32_t bits);
/* The owner: take the pending bits of mask (others stay pending); 0 if none. */
uint32_t cpu_work_take(struct cpu_mailbox *mb, uint32_t mask);
bool cpu_work_pending(const struct cpu_mailbox *mb, uint32_t mask);

/* Every CPU_WORK_RESEND_US while a waiter waits, it calls resend, which re-sends the
 * wake (cpu_work_resend) to every CPU it still waits for: an emulator was seen to leave
 * a halted CPU asleep after its first wake-up IPI, and NMIs to one CPU can merge. */
#define CPU_WORK_RESEND_US 10000
#define CPU_WORK_FOREVER UINT64_MAX
void cpu_work_resend(unsigned cpu);
/* Poll done(arg) until true (0) or timeout_us passed (-E_TIMEDOUT). */
int cpu_work_wait(bool (*done)(void *arg), void (*resend)(void *arg), void *arg,
                  uint64_t timeout_us);

/* The platform's part. */
struct cpu_mailbox *cpu_work_mailbox(unsigned cpu);
void cpu_work_send_wake(unsigned cpu, bool nmi);
uint64_t cpu_work_now_us(void);
void cpu_work_relax(void);
/* The owner, interrupts off: return at once if a bit of mask is pending, else sleep until
 * woken (spurious returns are allowed; the caller loops). */
void cpu_work_sleep(struct cpu_mailbox *mb, uint32_t mask);
/* On the machine, cpu_work_sleep's test-and-halt (cpu_work_hw.c); an NMI whose return
 * address lies in [cpu_work_halt, cpu_work_halt_end) returns to cpu_work_halt_end. */
void cpu_work_halt(const uint32_t *pending, uint32_t mask);
extern const char cpu_work_halt_end[];

#endif
