/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The hardware side of the services: what a validated request does to a
 * partition (nested tables, IPIs, kicks, console, CPUID), for either transport. */
#ifndef SIDECORE_SVC_ENV_H
#define SIDECORE_SVC_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "guest-stubs/include/sidecore/ring.h"
#include "sidecore/blk.h"
#include "sidecore/ring_consumer.h"
#include "vmexit/npt_retire.h"

struct vcpu;

/* The trap path, svc_execute_trap, is declared in vmexit/svc_trap.h, where it is called: on
 * the caller's own core, an unmap or narrowing protect returns once every vCPU of the
 * partition in guest mode flushed. */

/* Ring path: on the side core serving this ring, the two ring_ops of ring_consumer_poll (ctx
 * is a struct svc_ring_ctx). An unmap or narrowing protect is applied, then deferred: ready
 * once every vCPU of the partition in guest mode flushed, or the partition ended. */
struct svc_ring_ctx {
    struct vcpu *v;
    unsigned service;
    struct npt_retired held; /* table pages of the deferred unmap, reusable once it completes */
    uint64_t woken_us;       /* when its flush's wakes were last sent (cpu_work_now_us) */
};
enum ring_outcome svc_ring_handler(void *ctx, struct sc_ring_slot *slot, uint64_t *wait);
bool svc_ring_ready(void *ctx, uint64_t wait, struct sc_ring_slot *slot);
/* Who serves a vCPU's block queue. A side core never waits for the queue's lock: a guest
 * core's exit may hold it to serve a whole queue; the side core then tries again next pass. */
enum blk_server {
    BLK_PASS,      /* the io side core's pass: a polled queue only, BLK_BATCH requests */
    BLK_RING_KICK, /* SC_OP_BLK_KICK on the ring: BLK_BATCH requests, either mode */
    BLK_TRAP,      /* a guest core's exit (SC_OP_BLK_KICK by trap, the virtio-pci notify
                      register): every request available, waiting for the lock */
};
#define BLK_BATCH 8 /* block requests per queue per side-core pass */
/* Serve the queue and send the completion interrupt: the queue's vector, or the virtio-pci
 * device's MSI-X message. Returns requests completed (0 also when the side core found the
 * lock taken), -E_INVAL for a queue never set up, or -E_BADMSG once the queue is broken. */
int svc_blk_poll(struct vcpu *v, enum blk_server who);
/* The block device's view of the vCPU's partition: its RAM and disk. */
struct blk_backend svc_blk_backend(const struct vcpu *v);
/* The APIC ID of the core a vCPU is pinned to. */
uint32_t vcpu_apic(const struct vcpu *v);

#endif
