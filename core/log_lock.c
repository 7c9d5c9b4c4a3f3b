/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The console lock: test-and-set with the holder named. */
#include "core/log_lock.h"

static void relax(void)
{
#if defined(__x86_64__)
    __builtin_ia32_pause(); /* emulators switch CPUs on it */
#endif
}

static bool try_take(struct log_lock *l, uint32_t me)
{
    uint32_t free_lock = 0;
    return __atomic_load_n(&l->holder, __ATOMIC_RELAXED) == 0 &&
           __atomic_compare_exchange_n(&l->holder, &free_lock, me, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

enum log_lock_got log_lock_acquire(struct log_lock *l, unsigned cpu, uint64_t spins)
{
    uint32_t me = cpu + 1;
    /* only this CPU ever stores its own number: a relaxed read is exact about it */
    if (__atomic_load_n(&l->holder, __ATOMIC_RELAXED) == me)
        return LOG_LOCK_REENTERED;
    for (uint64_t i = 0; !try_take(l, me); i++) {
        if (spins != LOG_LOCK_FOREVER && i >= spins)
            return LOG_LOCK_FORCED;
        relax();
    }
    return LOG_LOCK_TAKEN;
}

void log_lock_release(struct log_lock *l, unsigned cpu, enum log_lock_got got)
{
    if (got == LOG_LOCK_TAKEN && __atomic_load_n(&l->holder, __ATOMIC_RELAXED) == cpu + 1)
        __atomic_store_n(&l->holder, 0, __ATOMIC_RELEASE);
}

bool log_lock_abandon(struct log_lock *l, unsigned cpu)
{
    uint32_t me = cpu + 1;
    return __atomic_compare_exchange_n(&l->holder, &me, 0, false, __ATOMIC_RELEASE,
                                       __ATOMIC_RELAXED);
}
