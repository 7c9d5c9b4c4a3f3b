/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The consumer (side-core) end of a request ring: private state, validation, the poll pass. */
#ifndef SIDECORE_RING_CONSUMER_H
#define SIDECORE_RING_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "guest-stubs/include/sidecore/ring.h"

/* What the side core keeps per ring, privately (never trust the shared copy of tail).
 * The number of slots is SC_RING_SLOTS, never the nslots field the guest can rewrite. */
struct ring_consumer {
    struct sc_ring *ring; /* shared memory */
    uint32_t tail;        /* our own copy of the consumer index */
    bool broken;
    /* A deferred request (the one at tail): applied, its completion waits for a condition. */
    bool deferred;
    uint64_t wait;            /* what ring_ops.ready checks for it */
    struct sc_ring_slot held; /* its private copy, results in: written back when ready */
    uint64_t requests, errors, largest_batch, deferrals; /* counters, printed at shutdown */
};

/* Writes the header (magic last, with release), head = tail = 0, state OK; zeroes the rest
 * of the ring and the counters. */
void ring_consumer_init(struct ring_consumer *c, struct sc_ring *ring, uint16_t service,
                        uint32_t vcpu);

/* What a handler did with a request. */
enum ring_outcome {
    RING_COMPLETE = 0, /* the copy holds the results: written back, tail moves on */
    RING_DEFERRED,     /* applied, but it may complete only once ops->ready says so */
};

/* The service. handle reads the private copy of a request and fills req->status (a value
 * >= 0 or a negative errno) and req->arg[] with the results. It cannot change the opcode,
 * flags or tag the guest sees: those are restored from the request before the copy is
 * written back. status is preset to -E_NOSYS, so a handler that ignores an opcode reports it.
 * A handler that returns RING_DEFERRED sets *wait to whatever ready needs to decide; ready is
 * then asked on this pass and on later ones (it may still change the results) until it says
 * true. Meanwhile the ring's later requests wait (completions stay in order); other rings are
 * not affected. ready may be null if handle never defers. */
struct ring_ops {
    enum ring_outcome (*handle)(void *ctx, struct sc_ring_slot *req, uint64_t *wait);
    bool (*ready)(void *ctx, uint64_t wait, struct sc_ring_slot *req);
};

/* One pass: reads head once (acquire). If head - tail > SC_RING_SLOTS, or head went back onto
 * a deferred request, the ring is marked broken (state BROKEN in shared memory, c->broken) and
 * -E_BADMSG is returned, now and on every later pass; a deferred request is still asked
 * ready on those passes (its resources may wait on it) and dropped, never written back, once
 * ready says true. Otherwise completes up
 * to max_batch requests in order: first a deferred one, if ready (else nothing), then each
 * pending slot is read once into a local copy, handled, written back, and tail is published
 * (release). Returns the number completed. The shared tail is rewritten from the private one
 * whenever it differs, so a guest scribbling on it (or on a deferred request's slot) changes
 * nothing the side core does. */
int ring_consumer_poll(struct ring_consumer *c, unsigned max_batch, const struct ring_ops *ops,
                       void *ctx);

#endif
