/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Ticket lock: fair between cores, PAUSE while waiting (emulators rely on it). Checked builds
 * record the holding CPU: taking a lock this CPU holds (a deadlock), or releasing one it does
 * not, stops at the kassert that names the line, instead of hanging or corrupting. */
#ifndef CORE_SPINLOCK_H
#define CORE_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cpu.h"
#include "core/klib.h"
#include "core/percpu.h"

struct spinlock {
    uint32_t next;
    uint32_t owner;
    uint32_t holder; /* this_cpu_index() + 1 while held, 0 when free */
};

static inline uint32_t spin_self(void)
{
    return this_cpu_index() + 1;
}

static inline void spin_lock(struct spinlock *l)
{
    kassert(__atomic_load_n(&l->holder, __ATOMIC_RELAXED) != spin_self());
    uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        cpu_relax();
    __atomic_store_n(&l->holder, spin_self(), __ATOMIC_RELAXED);
}

/* Takes l only if it is free now: true if taken. For a side core, which must never wait
 * for a lock a guest core's exit may hold for long. */
static inline bool spin_trylock(struct spinlock *l)
{
    kassert(__atomic_load_n(&l->holder, __ATOMIC_RELAXED) != spin_self());
    uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
    uint32_t free_ticket = owner; /* free: the next ticket is the one being served */
    if (!__atomic_compare_exchange_n(&l->next, &free_ticket, owner + 1, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return false;
    __atomic_store_n(&l->holder, spin_self(), __ATOMIC_RELAXED);
    return true;
}

/* For code that must run with l held. */
static inline void spin_assert_held(const struct spinlock *l)
{
    kassert(__atomic_load_n(&l->holder, __ATOMIC_RELAXED) == spin_self());
}

static inline void spin_unlock(struct spinlock *l)
{
    spin_assert_held(l);
    __atomic_store_n(&l->holder, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

#endif
