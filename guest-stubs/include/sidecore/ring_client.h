/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Request rings, guest end (the single producer): reserve, publish in batches, wait, call. */
#ifndef SIDECORE_RING_CLIENT_H
#define SIDECORE_RING_CLIENT_H

/* Header-only and free of any C library, so that freestanding guests and a Linux patch can
 * use it as is. Not thread safe: one client per ring, on the vCPU that owns the ring.
 *
 * Sequence numbers: request number s lives in slot[s % SC_RING_SLOTS] and is complete when
 * the side core's tail has passed it. They are free-running 32-bit counters, compared with
 * (int32_t)(a - b), so they stay meaningful across the wrap as long as a caller does not
 * hold on to one for 2^31 requests. */

#ifdef __KERNEL__
#include <linux/types.h> /* a Linux guest patch includes this header as is */
#else
#include <stdint.h>
#endif

#include "ring.h"

#ifndef SC_EPIPE
#define SC_EPIPE 32 /* the ring is broken: only the trap path is left */
#endif
#ifndef SC_ETIMEDOUT
#define SC_ETIMEDOUT 110 /* the same value as in abi.h */
#endif

struct sc_ring_client {
    struct sc_ring *ring;
    uint32_t head; /* private copy: the next request number, reserved or not */
};

static inline void sc_ring_cpu_relax(void)
{
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

/* Starts from the head in shared memory (the ring may already have served requests). */
static inline void sc_ring_client_init(struct sc_ring_client *c, struct sc_ring *ring)
{
    c->ring = ring;
    c->head = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
}

/* The next slot if the ring has room (reserved but unpublished slots count as used), or
 * a null pointer when it is full. The caller fills opcode, flags = 0, tag and arg[]. */
static inline struct sc_ring_slot *sc_ring_reserve(struct sc_ring_client *c)
{
    /* acquire: the side core's last writes into the slot we are about to reuse are done */
    uint32_t tail = __atomic_load_n(&c->ring->tail, __ATOMIC_ACQUIRE);
    if ((uint32_t)(c->head - tail) >= SC_RING_SLOTS)
        return (struct sc_ring_slot *)0; /* full (or a tail that makes no sense) */
    return &c->ring->slot[c->head++ & (SC_RING_SLOTS - 1)];
}

/* Makes every slot reserved so far visible to the side core with a single release store of
 * head. Returns the number of the last published request (head - 1). */
static inline uint32_t sc_ring_publish(struct sc_ring_client *c)
{
    __atomic_store_n(&c->ring->head, c->head, __ATOMIC_RELEASE);
    return c->head - 1;
}

/* Non-zero when request number seq is complete; its slot then holds the results. */
static inline int sc_ring_done(const struct sc_ring_client *c, uint32_t seq)
{
    uint32_t tail = __atomic_load_n(&c->ring->tail, __ATOMIC_ACQUIRE);
    return (int32_t)(tail - seq) > 0;
}

/* The slot of request number seq: read its status and arg[] once sc_ring_done says so, and
 * before reserving SC_RING_SLOTS more requests (which reuses it). */
static inline struct sc_ring_slot *sc_ring_slot_of(const struct sc_ring_client *c, uint32_t seq)
{
    return &c->ring->slot[seq & (SC_RING_SLOTS - 1)];
}

/* A synchronous request: waits for room, posts {opcode, tag = its request number, args}
 * (args may be null: zeros), waits for the completion and copies arg[] to out (may be
 * null). Returns the status, or -SC_ETIMEDOUT when the ring stayed full or the request
 * stayed pending for `spins` PAUSE iterations in all; a request that timed out is still
 * posted and completes later into its slot, unread. */
static inline int64_t sc_ring_call(struct sc_ring_client *c, uint16_t opcode,
                                   const uint64_t args[6], uint64_t out[6], uint64_t spins)
{
    /* declarations first: Linux builds with -Wdeclaration-after-statement */
    uint64_t spun = 0;
    struct sc_ring_slot *s;
    uint32_t seq;
    int i;

    while (!(s = sc_ring_reserve(c))) {
        if (spun++ >= spins)
            return -SC_ETIMEDOUT;
        sc_ring_cpu_relax();
    }
    s->opcode = opcode;
    s->flags = 0;
    s->tag = c->head - 1;
    s->status = 0;
    for (i = 0; i < 6; i++)
        s->arg[i] = args ? args[i] : 0;

    seq = sc_ring_publish(c);
    while (!sc_ring_done(c, seq)) {
        if (spun++ >= spins)
            return -SC_ETIMEDOUT;
        /* state shares tail's cache line: checking it costs nothing */
        if (__atomic_load_n(&c->ring->state, __ATOMIC_ACQUIRE) == SC_RING_BROKEN)
            return -SC_EPIPE;
        sc_ring_cpu_relax();
    }
    if (out)
        for (i = 0; i < 6; i++)
            out[i] = s->arg[i];
    return s->status;
}

#endif
