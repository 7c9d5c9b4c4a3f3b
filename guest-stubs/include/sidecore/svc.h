/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Service requests of one vCPU: its three rings (call, batch, post/poll) and the trap path. */
#ifndef SIDECORE_SVC_H
#define SIDECORE_SVC_H

/* Header-only and free of any C library, like ring_client.h, so that libguest and a Linux
 * patch share it. Everything works on an explicit per-vCPU client: libguest keeps one per
 * vCPU (guest.h finds the caller's), a Linux patch would keep one per CPU and use it with
 * preemption off. Not thread safe: a client belongs to the vCPU whose rings it holds, and
 * interrupt handlers must not use the client their vCPU is using.
 *
 * Request numbers (ring_client.h) identify a request on its ring; sc_svc_post hands out
 * "sequence numbers" that also name the ring: (service << 32) | request number. */

#include "abi.h" /* <stdint.h>, or <linux/types.h> under __KERNEL__ */
#include "ring.h"
#include "ring_client.h"

#ifndef SC_EPIPE
#define SC_EPIPE 32 /* the ring is broken (state SC_RING_BROKEN): only the trap path is left */
#endif

/* Default spin limit of a synchronous call, in PAUSE iterations (seconds under emulation). */
#define SC_SVC_SPINS (1ull << 28)

struct sc_svc_client {
    struct sc_ring_client ring[SC_SERVICES];
    uint32_t vcpu;
    uint64_t spins; /* limit of sc_svc_client_call and sc_svc_batch_wait */
};

/* The ring of (vcpu, service) in a window mapped at `window` (GPA: see ring.h) of
 * window_size bytes, if its header says so: magic, version, service, vCPU, slot count.
 * Returns it, or a null pointer (window too small or header wrong). */
static inline struct sc_ring *sc_svc_ring_at(void *window, uint64_t window_size, uint32_t vcpu,
                                             enum sc_service s)
{
    struct sc_ring *r;
    if (!window || SC_RING_OFFSET(vcpu, s) + SC_RING_BYTES > window_size)
        return (struct sc_ring *)0;
    r = (struct sc_ring *)((uint8_t *)window + SC_RING_OFFSET(vcpu, s));
    /* acquire: the hypervisor writes the magic last */
    if (__atomic_load_n(&r->magic, __ATOMIC_ACQUIRE) != SC_RING_MAGIC ||
        r->version != SC_RING_VERSION || r->service != (uint16_t)s || r->vcpu != vcpu ||
        r->nslots != SC_RING_SLOTS)
        return (struct sc_ring *)0;
    return r;
}

/* Sets c up for vCPU vcpu: checks the headers of its SC_SERVICES rings. 0, -SC_EINVAL if
 * a header is wrong or the window too small (c is then unusable). */
static inline int sc_svc_client_init(struct sc_svc_client *c, void *window, uint64_t window_size,
                                     uint32_t vcpu)
{
    int s;
    c->vcpu = vcpu;
    c->spins = SC_SVC_SPINS;
    for (s = 0; s < SC_SERVICES; s++) {
        struct sc_ring *r = sc_svc_ring_at(window, window_size, vcpu, (enum sc_service)s);
        if (!r)
            return -SC_EINVAL;
        sc_ring_client_init(&c->ring[s], r);
    }
    return 0;
}

/* ---- Synchronous call through the ring: the status, or -SC_ETIMEDOUT after c->spins
 * PAUSE iterations (the request then completes later, unread), or -SC_EPIPE if the ring is
 * broken. out may be null. */
static inline int sc_svc_broken(const struct sc_ring_client *rc)
{
    return __atomic_load_n(&rc->ring->state, __ATOMIC_ACQUIRE) == SC_RING_BROKEN;
}

static inline int64_t sc_svc_client_call(struct sc_svc_client *c, enum sc_service s, uint16_t op,
                                         const uint64_t args[6], uint64_t out[6])
{
    int64_t status;
    if ((unsigned)s >= SC_SERVICES)
        return -SC_EINVAL;
    if (sc_svc_broken(&c->ring[s]))
        return -SC_EPIPE;
    status = sc_ring_call(&c->ring[s], op, args, out, c->spins);
    return status == -SC_ETIMEDOUT && sc_svc_broken(&c->ring[s]) ? -SC_EPIPE : status;
}

/* ---- The same request as a trap: SC_HC_RING_OP with the slot's guest-physical address
 * (libguest: the pointer itself; Linux: a per-CPU slot and its __pa, not the stack, which may
 * be vmalloc'ed), made with the guest's own hypercall (VMMCALL or VMCALL, SC_BOOT_VMCALL).
 * The hypervisor writes the results into the slot. */

/* Fills slot with {op, tag, args} (args may be null: zeros) for the trap path. */
static inline void sc_svc_slot_fill(struct sc_ring_slot *slot, uint16_t op, uint32_t tag,
                                    const uint64_t args[6])
{
    int i;
    slot->opcode = op;
    slot->flags = 0;
    slot->tag = tag;
    slot->status = 0;
    for (i = 0; i < 6; i++)
        slot->arg[i] = args ? args[i] : 0;
}

/* ---- Batches: several requests on one ring, one publish, one wait (for the last; the
 * side core completes in order), then every result. At most SC_RING_SLOTS requests minus
 * those still pending on the ring. Between begin and submit nothing else may use the ring. */
struct sc_svc_batch {
    struct sc_ring_client *rc;
    uint32_t first; /* request number of the first request */
    uint32_t count;
    int submitted;
};

static inline void sc_svc_batch_init(struct sc_svc_batch *b, struct sc_svc_client *c,
                                     enum sc_service s)
{
    b->rc = (unsigned)s < SC_SERVICES ? &c->ring[s] : (struct sc_ring_client *)0;
    b->first = b->rc ? b->rc->head : 0;
    b->count = 0;
    b->submitted = 0;
}

/* Reserves and fills the next slot (args may be null). Returns the request's index in the
 * batch, -SC_EBUSY when the ring is full, -SC_EINVAL on a bad service or after submit. */
static inline int sc_svc_batch_add(struct sc_svc_batch *b, uint16_t op, const uint64_t args[6])
{
    struct sc_ring_slot *slot;
    if (!b->rc || b->submitted)
        return -SC_EINVAL;
    slot = sc_ring_reserve(b->rc);
    if (!slot)
        return -SC_EBUSY;
    sc_svc_slot_fill(slot, op, b->first + b->count, args);
    return (int)b->count++;
}

/* Publishes every request added, with one store of head. Returns how many. */
static inline int sc_svc_batch_submit(struct sc_svc_batch *b)
{
    if (!b->rc || b->submitted)
        return -SC_EINVAL;
    b->submitted = 1;
    if (b->count)
        sc_ring_publish(b->rc);
    return (int)b->count;
}

/* Waits (at most spins PAUSE iterations) for the last request, then copies each request's
 * status and arg[] to status[i] and out[i] (either may be null). 0, -SC_ETIMEDOUT, or
 * -SC_EPIPE when the ring is broken. */
static inline int sc_svc_batch_wait(struct sc_svc_batch *b, uint64_t spins, int64_t status[],
                                    uint64_t (*out)[6])
{
    uint64_t spun = 0;
    uint32_t i;
    int k;
    if (!b->rc || !b->submitted)
        return -SC_EINVAL;
    if (!b->count)
        return 0;
    while (!sc_ring_done(b->rc, b->first + b->count - 1)) {
        if (sc_svc_broken(b->rc)) /* state shares tail's cache line: free to watch */
            return -SC_EPIPE;
        if (spun++ >= spins)
            return -SC_ETIMEDOUT;
        sc_ring_cpu_relax();
    }
    for (i = 0; i < b->count; i++) {
        const struct sc_ring_slot *slot = sc_ring_slot_of(b->rc, b->first + i);
        if (status)
            status[i] = slot->status;
        if (out)
            for (k = 0; k < 6; k++)
                out[i][k] = slot->arg[k];
    }
    return 0;
}

/* ---- Asynchronous requests: post now, poll later. The results stay in the slot until
 * SC_RING_SLOTS further requests are posted on that ring: poll before that. */
static inline int64_t sc_svc_client_post(struct sc_svc_client *c, enum sc_service s, uint16_t op,
                                         const uint64_t args[6])
{
    struct sc_ring_slot *slot;
    uint32_t seq;
    if ((unsigned)s >= SC_SERVICES)
        return -SC_EINVAL;
    slot = sc_ring_reserve(&c->ring[s]);
    if (!slot)
        return -SC_EBUSY;
    seq = c->ring[s].head - 1;
    sc_svc_slot_fill(slot, op, seq, args);
    sc_ring_publish(&c->ring[s]);
    return (int64_t)((uint64_t)s << 32 | seq);
}

/* 1 when the request of sequence number seq is complete (its status and arg[] are then
 * copied to *status and out, either may be null), 0 while pending, -SC_EINVAL for a
 * sequence number no post returned, -SC_EPIPE when it never will (broken ring). */
static inline int sc_svc_client_poll(struct sc_svc_client *c, int64_t seq, int64_t *status,
                                     uint64_t out[6])
{
    uint64_t s = (uint64_t)seq >> 32;
    uint32_t n = (uint32_t)seq;
    const struct sc_ring_slot *slot;
    int k;
    if (seq < 0 || s >= SC_SERVICES || (int32_t)(c->ring[s].head - n) <= 0)
        return -SC_EINVAL;
    if (!sc_ring_done(&c->ring[s], n))
        return sc_svc_broken(&c->ring[s]) ? -SC_EPIPE : 0;
    slot = sc_ring_slot_of(&c->ring[s], n);
    if (status)
        *status = slot->status;
    if (out)
        for (k = 0; k < 6; k++)
            out[k] = slot->arg[k];
    return 1;
}

#endif
