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
    uint64_t requests, errors, largest_batch; /* counters, printed at shutdown */
};

/* Writes the header (magic last, with release), head = tail = 0, state OK; zeroes the rest
 * of the ring and the counters. */
void ring_consumer_init(struct ring_consumer *c, struct sc_ring *ring, uint16_t service,
                        uint32_t vcpu);

/* The service: reads the private copy of a request and fills req->status (a value >= 0 or a
 * negative errno) and req->arg[] with the results. It cannot change the opcode, flags or tag
 * the guest sees: those are restored from the request before the copy is written back.
 * status is preset to -E_NOSYS, so a handler that ignores an opcode reports it. */
typedef void (*ring_handler)(void *ctx, struct sc_ring_slot *req);

/* One pass: reads head once (acquire). If head - tail > SC_RING_SLOTS the ring is marked
 * broken (state BROKEN in shared memory, c->broken) and -E_BADMSG is returned, now and on
 * every later pass. Otherwise serves up to max_batch pending requests in order: each slot is
 * read once into a local copy, handled, written back, then tail is published (release).
 * Returns the number served. The shared tail is rewritten from the private one whenever it
 * differs, so a guest scribbling on it changes nothing the side core does. */
int ring_consumer_poll(struct ring_consumer *c, unsigned max_batch, ring_handler handle,
                       void *ctx);

#endif
