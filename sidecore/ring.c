/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Request rings, side-core end: serve a guest's pending requests without trusting its memory. */
#include "sidecore/ring_consumer.h"

#include "core/klib.h"

#define SLOT_MASK ((uint32_t)SC_RING_SLOTS - 1)

/* Guest memory is read and written with relaxed atomics, field by field: each byte of a
 * request is fetched exactly once (the compiler may neither re-read nor tear it), and a guest
 * writing concurrently is a benign race, not undefined behaviour. The ordering against head
 * and tail comes from their acquire/release accesses. */
static void slot_read(const struct sc_ring_slot *s, struct sc_ring_slot *out)
{
    out->opcode = __atomic_load_n(&s->opcode, __ATOMIC_RELAXED);
    out->flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
    out->tag = __atomic_load_n(&s->tag, __ATOMIC_RELAXED);
    out->status = __atomic_load_n(&s->status, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < ARRAY_SIZE(s->arg); i++)
        out->arg[i] = __atomic_load_n(&s->arg[i], __ATOMIC_RELAXED);
}

static void slot_write(struct sc_ring_slot *s, const struct sc_ring_slot *in)
{
    __atomic_store_n(&s->opcode, in->opcode, __ATOMIC_RELAXED);
    __atomic_store_n(&s->flags, in->flags, __ATOMIC_RELAXED);
    __atomic_store_n(&s->tag, in->tag, __ATOMIC_RELAXED);
    __atomic_store_n(&s->status, in->status, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < ARRAY_SIZE(s->arg); i++)
        __atomic_store_n(&s->arg[i], in->arg[i], __ATOMIC_RELAXED);
}

void ring_consumer_init(struct ring_consumer *c, struct sc_ring *ring, uint16_t service,
                        uint32_t vcpu)
{
    memset(ring, 0, sizeof(*ring));
    ring->version = SC_RING_VERSION;
    ring->service = service;
    ring->nslots = SC_RING_SLOTS;
    ring->vcpu = vcpu;
    __atomic_store_n(&ring->head, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&ring->tail, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&ring->state, SC_RING_OK, __ATOMIC_RELAXED);
    /* a guest that sees the magic sees a complete header */
    __atomic_store_n(&ring->magic, SC_RING_MAGIC, __ATOMIC_RELEASE);

    memset(c, 0, sizeof(*c));
    c->ring = ring;
}

/* A deferred request outlives its ring's breakage until ready says its condition holds:
 * ready may own resources for it (table pages waiting for a flush) that only it releases.
 * Its completion is not written back: nobody serves that ring any more. */
static void settle_deferred(struct ring_consumer *c, const struct ring_ops *ops, void *ctx)
{
    if (c->deferred && (!ops->ready || ops->ready(ctx, c->wait, &c->held)))
        c->deferred = false;
}

static int mark_broken(struct ring_consumer *c, const struct ring_ops *ops, void *ctx)
{
    c->broken = true;
    __atomic_store_n(&c->ring->state, SC_RING_BROKEN, __ATOMIC_RELEASE);
    settle_deferred(c, ops, ctx);
    return -E_BADMSG;
}

/* Writes the completion of the request at tail back, then publishes tail. */
static void complete(struct ring_consumer *c, const struct sc_ring_slot *req)
{
    slot_write(&c->ring->slot[c->tail & SLOT_MASK], req);
    c->tail++;
    /* the result is visible before the guest can see the request complete */
    __atomic_store_n(&c->ring->tail, c->tail, __ATOMIC_RELEASE);
    c->requests++;
    if (req->status < 0)
        c->errors++;
}

int ring_consumer_poll(struct ring_consumer *c, unsigned max_batch, const struct ring_ops *ops,
                       void *ctx)
{
    struct sc_ring *r = c->ring;

    if (c->broken) {
        /* for good; keep saying so if the guest rewrote the state */
        if (__atomic_load_n(&r->state, __ATOMIC_RELAXED) != SC_RING_BROKEN)
            __atomic_store_n(&r->state, SC_RING_BROKEN, __ATOMIC_RELEASE);
        settle_deferred(c, ops, ctx);
        return -E_BADMSG;
    }

    /* Read head once: everything below works from this snapshot. A deferred request was
     * consumed though tail has not passed it yet: head may not move back onto it. */
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    uint32_t consumed = c->tail + (c->deferred ? 1 : 0);
    if (head - consumed > SC_RING_SLOTS - (consumed - c->tail))
        return mark_broken(c, ops, ctx); /* head far ahead, or behind what we took */

    /* The guest may have scribbled on the shared tail: put ours back. */
    if (__atomic_load_n(&r->tail, __ATOMIC_RELAXED) != c->tail)
        __atomic_store_n(&r->tail, c->tail, __ATOMIC_RELEASE);

    uint32_t n = 0;
    if (c->deferred) {
        /* the ring's next requests wait behind it: completions stay in order */
        if (max_batch == 0 || (ops->ready && !ops->ready(ctx, c->wait, &c->held)))
            return 0;
        c->deferred = false;
        complete(c, &c->held);
        n++;
    }
    while (n < max_batch && head != c->tail) {
        struct sc_ring_slot req;
        slot_read(&r->slot[c->tail & SLOT_MASK], &req);
        const uint16_t opcode = req.opcode, flags = req.flags;
        const uint32_t tag = req.tag;

        req.status = -E_NOSYS;
        uint64_t wait = 0;
        enum ring_outcome out = ops->handle(ctx, &req, &wait);
        req.opcode = opcode;
        req.flags = flags;
        req.tag = tag;

        if (out == RING_DEFERRED && ops->ready && !ops->ready(ctx, wait, &req)) {
            /* keep our copy: the guest's slot is not read again */
            c->held = req;
            c->wait = wait;
            c->deferred = true;
            c->deferrals++;
            break;
        }
        complete(c, &req);
        n++;
    }
    if (n > c->largest_batch)
        c->largest_batch = n;
    return (int)n;
}
