/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The io service's block device: one virtio split virtqueue in guest RAM, served by polling. */
#ifndef SIDECORE_BLK_H
#define SIDECORE_BLK_H

/* Portable: no hardware access, no libc beyond core/klib.h (host-tested and fuzzed). The
 * caller serialises blk_setup and blk_poll on one queue (the side core that serves it, or
 * the trap path under the same lock).
 *
 * Everything read from the queue is copied once, then validated: the avail index once per
 * pass, each avail entry and each descriptor once. A request that can still be answered is
 * answered with a status; a queue whose state makes no sense is marked broken for good
 * (until the guest sets it up again) and never served again.
 *
 * Completion of one request (the lifecycle):
 *   the head index is read from avail->ring;
 *   its chain is copied, at most `size` descriptors (one more is a loop);
 *   the last descriptor must be a usable 1-byte device-writable status, else broken;
 *   INDIRECT anywhere -> UNSUPP; header not a 16-byte device-readable buffer in RAM -> IOERR
 *   with used len 0; otherwise the request runs (IN, OUT, FLUSH, GET_ID, else UNSUPP; data
 *   outside RAM, in the wrong direction or a sector range outside the disk -> IOERR, nothing
 *   copied);
 *   the status byte, then the used element {head, bytes written}, then used->idx (release). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-stubs/include/sidecore/ring.h"

#define BLK_QUEUE_MAX 256
#define BLK_ID "sidecore-blk"
#define BLK_ID_BYTES 20 /* virtio-blk GET_ID: a 20-byte string, NUL-padded */

struct blk_backend {
    uint8_t *guest; /* guest RAM: GPA [0, guest_size) at host pointer guest (4-byte aligned) */
    uint64_t guest_size;
    uint8_t *disk; /* the disk image (bytes; capacity = disk_size / 512) */
    uint64_t disk_size;
    /* blk_poll's copy of one chain, BLK_QUEUE_MAX descriptors (4 KiB: kept off the stack
     * of the trap path that may run it); serialised with the queue */
    struct sc_vq_desc *chain;
};

struct blk_queue {
    uint64_t desc, avail, used; /* GPAs of the three parts of the virtqueue */
    uint16_t size;              /* entries: a power of two, 1..BLK_QUEUE_MAX */
    uint16_t last_avail;        /* the next avail->ring entry to serve (free-running) */
    uint16_t used_idx;          /* the device's private copy of used->idx */
    uint8_t vector;             /* completion IPI vector; 0: the guest polls, or the virtio-pci
                                   device's MSI-X entry says (the caller decides) */
    bool ready, broken;
    bool notify; /* the driver notifies and is served in that exit; else the side core polls
                    (SC_OP_BLK_POLL). Kept across blk_setup. */
    uint64_t completed, errors; /* requests answered; of those, status != SC_BLK_S_OK */
};

/* SC_OP_BLK_SETUP: validates (desc 16-byte aligned, avail 2, used 4; every ring entirely
 * inside RAM; size a power of two 1..256; vector 0 or 32..255) and starts the queue at the
 * guest's current avail idx and used idx, and writes used->flags for the notification mode
 * (blk_set_notify). Returns 0, or -E_INVAL (alignment, size, vector,
 * a misaligned host mapping) / -E_FAULT (a ring outside RAM), and leaves q unchanged then.
 * Setting up again replaces the queue (a reset: not broken, counters cleared). */
int blk_setup(struct blk_queue *q, const struct blk_backend *b, uint64_t desc, uint64_t avail,
              uint64_t used, uint64_t size, uint64_t vector);

/* The notification mode (SC_OP_BLK_POLL): kept in q, and written to used->flags at once
 * when the queue is set up (SC_VQ_USED_F_NO_NOTIFY when polled), and at every later setup. */
void blk_set_notify(struct blk_queue *q, const struct blk_backend *b, bool notify);

/* Serves up to max available requests in order. Returns how many were completed (>= 0; 0
 * on a queue never set up), or -E_BADMSG once the queue is broken (requests completed
 * before it broke in the same pass stay published), and forever after. */
int blk_poll(struct blk_queue *q, const struct blk_backend *b, unsigned max);

#endif
