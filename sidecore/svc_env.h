/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The hardware side of the services: what a validated request does to a
 * partition (nested tables, IPIs, kicks, console, CPUID), for either transport. */
#ifndef SIDECORE_SVC_ENV_H
#define SIDECORE_SVC_ENV_H

#include <stdint.h>

#include "guest-stubs/include/sidecore/ring.h"

struct vcpu;

/* The trap path, svc_execute_trap, is declared in vmexit/svc_trap.h, where it is called. */

/* Ring path: on the side core serving this ring; a ring_handler for ring_consumer_poll. */
struct svc_ring_ctx {
    struct vcpu *v;
    unsigned service;
};
void svc_ring_handler(void *ctx, struct sc_ring_slot *slot);
/* Serve a vCPU's block queue (io side core each pass; SC_OP_BLK_KICK on a trap);
 * returns requests completed, or -E_BADMSG once the queue is broken. */
int svc_blk_poll(struct vcpu *v);

#endif
