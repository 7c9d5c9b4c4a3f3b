/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: an endless stream of #DB. With RFLAGS.TF set every instruction traps, and the
 * #DB handler returns with TF still set in the pushed rflags, so the guest never runs two
 * instructions without an exception. It checks that the first CHECKED arrive as the CPU
 * raises them (DR6.BS, TF in the frame) and that each one was an exception exit, then
 * loops for good: the partition's run time-out must stop it. */
#include "sidecore/guest.h"

#define CHECKED 1000
#define X86_DB 1
#define RFLAGS_TF (1ull << 8)
#define DR6_BS (1ull << 14)
#define DR6_INIT 0xffff0ff0ull

static uint64_t dbs, with_bs, with_tf;

static bool on_db(struct sc_trap_frame *f)
{
    uint64_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    __asm__ volatile("mov %0, %%dr6" : : "r"(DR6_INIT)); /* as a handler must: DR6 is sticky */
    dbs++;
    with_bs += (dr6 & DR6_BS) != 0;
    with_tf += (f->rflags & RFLAGS_TF) != 0;
    return true; /* iretq restores TF: the next instruction traps again */
}

static void single_step(bool on)
{
    if (on)
        __asm__ volatile("pushfq; orq %0, (%%rsp); popfq" : : "i"(RFLAGS_TF) : "memory", "cc");
    else
        __asm__ volatile("pushfq; andq %0, (%%rsp); popfq" : : "i"(~RFLAGS_TF) : "memory", "cc");
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id;
    struct sc_exit_counters a, b;
    int failures = 0;
    sc_set_exception_handler(X86_DB, on_db);
    sc_exit_counters(id, &a);
    single_step(true);
    while (__atomic_load_n(&dbs, __ATOMIC_RELAXED) < CHECKED)
        sc_pause();
    single_step(false); /* the popfq that clears TF still traps once */
    sc_exit_counters(id, &b);
    uint64_t taken = dbs, exc = b.by_reason[SC_EXIT_EXCEPTION] - a.by_reason[SC_EXIT_EXCEPTION];
    /* the last one follows the popfq that cleared TF: its frame has TF clear */
    if (taken >= CHECKED && with_bs == taken && with_tf == taken - 1) {
        sc_pass("dbloop: %llu #DB taken, each with DR6.BS set, TF set in the rflags pushed but "
                "after the popfq clearing it",
                (unsigned long long)taken);
    } else {
        sc_fail("dbloop: %llu #DB taken, %llu with DR6.BS, %llu with TF in the frame",
                (unsigned long long)taken, (unsigned long long)with_bs,
                (unsigned long long)with_tf);
        failures++;
    }
    if (exc == taken) {
        sc_pass("dbloop: exception exits rose by %llu, one per #DB", (unsigned long long)exc);
    } else {
        sc_fail("dbloop: exception exits rose by %llu for %llu #DB", (unsigned long long)exc,
                (unsigned long long)taken);
        failures++;
    }
    if (failures)
        return failures;
    sc_printf("dbloop: single-stepping for good\n");
    single_step(true);
    for (;;)
        sc_pause();
}
