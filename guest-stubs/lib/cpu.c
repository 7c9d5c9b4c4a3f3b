/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* CPU-level helpers shared by the vCPUs of a partition: the spin barrier and TSC waits. */
#include "sidecore/guest.h"

void sc_wait_until(uint64_t tsc_deadline)
{
    while (sc_rdtsc() < tsc_deadline)
        sc_pause();
}

/* Sense by generation: the last arrival resets the count and bumps the generation, which
 * releases the waiters; a fast vCPU re-entering sees the new generation, so it is reusable. */
void sc_barrier(struct sc_barrier *b, unsigned count)
{
    if (count <= 1)
        return;
    uint32_t gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == count) {
        __atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->generation, gen + 1, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen)
        sc_pause();
}
