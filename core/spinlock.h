/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Ticket lock: fair between cores, PAUSE while waiting (emulators rely on it). */
#ifndef CORE_SPINLOCK_H
#define CORE_SPINLOCK_H

#include <stdint.h>

#include "core/cpu.h"

struct spinlock {
    uint32_t next;
    uint32_t owner;
};

static inline void spin_lock(struct spinlock *l)
{
    uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

#endif
