/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The console lock. It names the CPU holding it, so that a CPU entering it again (an
 * exception or a panic while it was printing) goes on instead of waiting for itself, and
 * a CPU that stops for good can let it go. A plain test-and-set lock: with a ticket
 * queue, a CPU stopped while queued would hold up every CPU behind it. Portable
 * (host-tested). */
#ifndef CORE_LOG_LOCK_H
#define CORE_LOG_LOCK_H

#include <stdbool.h>
#include <stdint.h>

struct log_lock {
    uint32_t holder; /* 0: free, else the holding CPU's index + 1 (atomic) */
};

enum log_lock_got {
    LOG_LOCK_TAKEN,     /* ours: give it back with log_lock_release */
    LOG_LOCK_REENTERED, /* this CPU held it already: it was interrupted while printing */
    LOG_LOCK_FORCED,    /* another CPU still held it when the wait ran out: print anyway */
};

#define LOG_LOCK_FOREVER UINT64_MAX

/* Take the lock for cpu, waiting at most `spins` rounds. */
enum log_lock_got log_lock_acquire(struct log_lock *l, unsigned cpu, uint64_t spins);
/* Give it back if log_lock_acquire took it; otherwise nothing changes. */
void log_lock_release(struct log_lock *l, unsigned cpu, enum log_lock_got got);
/* A CPU stopping for good lets the lock go if it holds it; true if it did. */
bool log_lock_abandon(struct log_lock *l, unsigned cpu);

#endif
