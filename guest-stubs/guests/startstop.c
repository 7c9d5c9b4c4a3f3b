/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: vCPU 0 stops vCPU 1 and starts it again elsewhere through the irq ring. */
#include "sidecore/guest.h"

#define STOP_STATUS 7
#define TRIES 2000000u

static uint32_t spinning, restarted;
static uint8_t stack1[16384] __attribute__((aligned(16)));

/* Where vCPU 1 starts again: fresh stack, no IDT, rdi = its boot information. */
static __attribute__((noreturn, used)) void restarted_entry(const struct sc_boot_info *bi)
{
    sc_printf("PASS: vCPU %u: started again by vCPU 0 at its new entry (boot info says vCPU %u)\n",
              bi->vcpu_id, bi->vcpu_id);
    __atomic_store_n(&restarted, 1, __ATOMIC_RELEASE);
    sc_exit(0);
}

static int64_t irq(uint16_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    const uint64_t args[6] = {a0, a1, a2, 0, 0, 0};
    return sc_svc_ring(SC_SERVICE_IRQ, op, args, NULL);
}

int main(const struct sc_boot_info *bi)
{
    if (sc_rings_init(bi)) {
        sc_fail("vCPU %u: no request rings", bi->vcpu_id);
        return 1;
    }
    if (bi->vcpu_id == 1) {
        __atomic_store_n(&spinning, 1, __ATOMIC_RELEASE);
        for (;;)
            __builtin_ia32_pause(); /* until vCPU 0 stops us */
    }
    if (bi->vcpu_count != 2) {
        sc_fail("vCPU 0: needs exactly 2 vCPUs, has %u", bi->vcpu_count);
        return 1;
    }
    while (!__atomic_load_n(&spinning, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();

    uint64_t entry = (uint64_t)(uintptr_t)restarted_entry;
    uint64_t stack = (uint64_t)(uintptr_t)(stack1 + sizeof(stack1)) - 8; /* as after a call */
    int failures = 0;
    int64_t rc = irq(SC_OP_VCPU_START, 1, entry, stack);
    if (rc == -SC_EBUSY)
        sc_pass("vCPU 0: starting the running vCPU 1 is refused with -EBUSY");
    else
        failures++, sc_fail("vCPU 0: starting the running vCPU 1 returned %lld", (long long)rc);

    rc = irq(SC_OP_VCPU_STOP, 1, STOP_STATUS, 0);
    if (rc == 0)
        sc_pass("vCPU 0: vCPU 1 stopped through the ring");
    else
        failures++, sc_fail("vCPU 0: stopping vCPU 1 returned %lld", (long long)rc);

    /* the stop completes on vCPU 1's core: start refuses with -EBUSY until then */
    unsigned tries = 0;
    do
        rc = irq(SC_OP_VCPU_START, 1, entry, stack);
    while (rc == -SC_EBUSY && ++tries < TRIES);
    if (rc == 0)
        sc_pass("vCPU 0: vCPU 1 started again through the ring");
    else
        failures++, sc_fail("vCPU 0: starting the stopped vCPU 1 returned %lld", (long long)rc);

    for (tries = 0; !__atomic_load_n(&restarted, __ATOMIC_ACQUIRE) && tries < TRIES * 50; tries++)
        __builtin_ia32_pause();
    if (__atomic_load_n(&restarted, __ATOMIC_ACQUIRE))
        sc_pass("vCPU 0: vCPU 1 ran its new entry");
    else
        failures++, sc_fail("vCPU 0: vCPU 1 never reached its new entry");
    return failures ? 1 : 0;
}
