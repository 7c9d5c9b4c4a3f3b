/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest (2 vCPUs): vCPU 1 loops on an MSR the partition does not own, so nearly every
 * exit of its leaves a #GP to inject; vCPU 0 stops it and starts it again, ROUNDS times.
 * A restarted vCPU begins with a reset CPU state and no IDT: an event left from before its
 * stop would be delivered there and triple-fault it. */
#include "sidecore/guest.h"

#define ROUNDS 40
#define UNOWNED_MSR 0x4b564d99u
#define INSN_LEN_RDMSR 2
#define TRIES 20000000u

static uint32_t ready_round; /* the round vCPU 1 entered its MSR loop in, plus one */
static uint64_t gp_taken;
static uint8_t stack1[16384] __attribute__((aligned(16)));

static bool skip_rdmsr(struct sc_trap_frame *f)
{
    __atomic_fetch_add(&gp_taken, 1, __ATOMIC_RELAXED);
    f->rip += INSN_LEN_RDMSR;
    return true;
}

static __attribute__((noreturn)) void msr_loop(unsigned round)
{
    __atomic_store_n(&ready_round, round + 1, __ATOMIC_RELEASE);
    for (;;)
        (void)sc_rdmsr(UNOWNED_MSR); /* each one: an exit and an injected #GP */
}

/* Where vCPU 1 starts again: a reset CPU state, rdi = its boot information. */
static __attribute__((noreturn, used)) void restarted_entry(const struct sc_boot_info *bi)
{
    sc_vcpu_setup(bi);
    msr_loop(__atomic_load_n(&ready_round, __ATOMIC_ACQUIRE));
}

static int64_t irq(uint16_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    const uint64_t args[6] = {a0, a1, a2, 0, 0, 0};
    return sc_svc_ring(SC_SERVICE_IRQ, op, args, NULL);
}

static bool wait_round(uint32_t want)
{
    for (unsigned t = 0; t < TRIES; t++)
        if (__atomic_load_n(&ready_round, __ATOMIC_ACQUIRE) >= want)
            return true;
    return false;
}

int main(const struct sc_boot_info *bi)
{
    if (bi->vcpu_count != 2 || sc_rings_init(bi)) {
        sc_fail("vCPU %u: needs 2 vCPUs and request rings", bi->vcpu_id);
        return 1;
    }
    sc_set_exception_handler(13, skip_rdmsr);
    if (bi->vcpu_id == 1)
        msr_loop(0);

    uint64_t entry = (uint64_t)(uintptr_t)restarted_entry;
    uint64_t stack = (uint64_t)(uintptr_t)(stack1 + sizeof(stack1)) - 8; /* as after a call */
    unsigned round;
    for (round = 0; round < ROUNDS; round++) {
        if (!wait_round(round + 1)) {
            sc_fail("vCPU 0: vCPU 1 did not reach its MSR loop in round %u", round);
            return 1;
        }
        uint64_t before = __atomic_load_n(&gp_taken, __ATOMIC_ACQUIRE);
        while (__atomic_load_n(&gp_taken, __ATOMIC_ACQUIRE) < before + 3)
            sc_pause(); /* it is really looping on injected #GPs */
        /* the last round stops it with status 0: the partition can pass */
        int64_t rc = irq(SC_OP_VCPU_STOP, 1, round + 1 == ROUNDS ? 0 : 7, 0);
        if (rc) {
            sc_fail("vCPU 0: stopping vCPU 1 in round %u returned %lld", round, (long long)rc);
            return 1;
        }
        if (round + 1 == ROUNDS)
            break;
        unsigned tries = 0;
        do
            rc = irq(SC_OP_VCPU_START, 1, entry, stack);
        while (rc == -SC_EBUSY && ++tries < TRIES);
        if (rc) {
            sc_fail("vCPU 0: starting vCPU 1 in round %u returned %lld", round, (long long)rc);
            return 1;
        }
    }
    sc_pass("vCPU 0: stopped vCPU 1 inside a loop of injected #GPs and started it again %u "
            "times; it never took an event from before its stop (%llu #GPs handled)",
            ROUNDS - 1, (unsigned long long)__atomic_load_n(&gp_taken, __ATOMIC_ACQUIRE));
    return 0;
}
