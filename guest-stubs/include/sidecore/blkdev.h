/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libguest's virtio-blk driver: one split virtqueue in guest RAM, served by the io side core. */
#ifndef SIDECORE_GUEST_BLK_H
#define SIDECORE_GUEST_BLK_H

/* The queue (SC_BLK_QUEUE_SIZE entries) is a static array of libguest, registered with the io
 * service by SC_OP_BLK_SETUP (ring.h). From then on the side core serving the caller's io ring
 * polls it: queuing a request is a few stores to RAM and no notification, so a request and its
 * completion cost no VM exit at all. One request is in flight at a time (three descriptors:
 * header, data, status); the queue belongs to the vCPU that set it up.
 *
 * Completion:
 *   - polled (sc_blk_setup(0)): the caller spins on the used ring (PAUSE, up to
 *     SC_BLK_SPINS iterations);
 *   - by interrupt (sc_blk_setup(vector)): the side core sends an IPI with that vector after
 *     each pass that completed requests; the caller halts (sti; hlt) until both the used ring
 *     and the IPI have arrived. Each wake-up that finds them missing counts against
 *     SC_BLK_WAKEUPS: a vCPU that wants a bound when an IPI is lost keeps some periodic
 *     interrupt (a LAPIC timer) running meanwhile. The caller's interrupt flag is restored.
 * sc_blk_rw_trap queues the same request, then drives the queue through the SC_OP_BLK_KICK
 * trap (one exit), for comparison.
 *
 * Errors: 0, -SC_EIO (the device answered SC_BLK_S_IOERR or misreported the length),
 * -SC_ENOSYS (SC_BLK_S_UNSUPP), -SC_EINVAL (bad arguments), -SC_ENODEV (no disk, no queue
 * set up), -SC_ETIMEDOUT (no completion: the queue may be broken), or the io service's own
 * error from SC_OP_BLK_SETUP / SC_OP_BLK_INFO / SC_OP_BLK_KICK. */

#include <stdbool.h>
#include <stdint.h>

#include "sidecore/abi.h"
#include "sidecore/ring.h"

#define SC_BLK_QUEUE_SIZE 16
#define SC_BLK_SPINS (1ull << 28) /* PAUSE iterations while polling (seconds when emulated) */
#define SC_BLK_WAKEUPS 100000ull  /* idle wake-ups while halted for a completion */
#define SC_BLK_MAX_SECTORS 2048   /* one request moves at most 1 MiB */
#define SC_BLK_ID_BYTES 20

#ifndef SC_EIO
#define SC_EIO 5
#endif

/* What the driver has seen since the first sc_blk_setup. */
struct sc_blk_stats {
    uint64_t requests; /* completed */
    uint64_t errors;   /* of those, with a status other than SC_BLK_S_OK */
    uint64_t kicks;    /* SC_OP_BLK_KICK traps */
    uint64_t kicked;   /* requests those kicks completed themselves */
    uint64_t irqs;     /* completion interrupts taken */
    uint64_t halts;    /* HLTs while waiting for one */
    uint64_t timeouts;
};

/* Capacity of the partition's disk in 512-byte sectors: 0 or -SC_ENODEV (no disk). Through
 * the io ring if this vCPU has rings (sc_rings_init), else through the trap. */
int sc_blk_info(uint64_t *sectors);
/* Registers the queue with the io service: vector 0 for polled completion, else 32..255 for an
 * IPI on each completion (the handler is installed here). Calling it again changes the mode;
 * the queue's indices carry on. */
int sc_blk_setup(uint8_t vector);
/* Reads (write = false) or writes nsectors (1..SC_BLK_MAX_SECTORS) sectors at sector from or
 * to buf (identity-mapped RAM: the pointer is the GPA) and waits for the completion. */
int sc_blk_rw(bool write, uint64_t sector, void *buf, uint32_t nsectors);
/* The same, then SC_OP_BLK_KICK through the SC_HC_RING_OP trap instead of waiting for the
 * side core's next pass. */
int sc_blk_rw_trap(bool write, uint64_t sector, void *buf, uint32_t nsectors);
int sc_blk_flush(void);
/* The device's id string: SC_BLK_ID_BYTES bytes, NUL-padded, not necessarily terminated. */
int sc_blk_get_id(char id[SC_BLK_ID_BYTES]);
void sc_blk_get_stats(struct sc_blk_stats *out);

#endif
