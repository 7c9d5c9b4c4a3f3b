/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* What the services keep for one vCPU: the side-core ends of its request rings, its block
 * queue and the console line of the ring transport. The side-core layer owns it; struct vcpu
 * only points at it (vcpu->svc), so the vCPU layer needs none of these types. */
#ifndef SIDECORE_VCPU_SERVICES_H
#define SIDECORE_VCPU_SERVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/spinlock.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "guest-stubs/include/sidecore/ring.h"
#include "sidecore/blk.h"
#include "sidecore/ring_consumer.h"
#include "sidecore/vpci.h"
#include "vmexit/console_limit.h"

struct vcpu;
struct palloc;

struct vcpu_services {
    /* one consumer per service, served by the side core served_by[service] */
    struct ring_consumer rings[SC_SERVICES];
    uint16_t served_by[SC_SERVICES];
    bool ring_error_logged[SC_SERVICES];
    struct console_stream console_ring; /* console output by ring (the io side core) */
    /* the block device queue: polled by the io side core, or kicked by a trap */
    struct blk_queue blkq;
    struct sc_vq_desc *blk_chain; /* BLK_QUEUE_MAX: blk_poll's copy of a chain (blk_lock);
                                     allocated for partitions with a disk */
    struct spinlock blk_lock;
    bool blk_broken_logged;
    /* vCPU 0 of a partition with a disk: the virtio-pci device whose queue is this blkq
     * (queue_is_vpci once the device set it up), and the PCI address latch (port 0xcf8).
     * All of it under blk_lock: any vCPU's exit and the io side core reach it. */
    bool has_vpci, queue_is_vpci, msi_refused_logged, queue_refusal_logged;
    uint32_t pci_address;
    struct vpci_dev vpci;
};

/* Boot CPU, for each vCPU of a built partition: allocate its service state and initialise
 * its rings in the partition's ring window. 0 or -E_NOMEM. */
int vcpu_services_create(struct vcpu *v, struct palloc *pa);

#endif
