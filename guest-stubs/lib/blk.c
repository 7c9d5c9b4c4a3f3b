/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A virtio-blk driver over one split virtqueue that the io side core polls (no notify). */
#include <stddef.h>

/* By path: "sidecore/blk.h" would find the hypervisor's device model first (-I order). */
#include "sidecore/blkdev.h"
#include "sidecore/guest.h"

#define Q SC_BLK_QUEUE_SIZE
#define TRIPLES (Q / 3) /* a request takes descriptors 3k, 3k+1, 3k+2 */
#define RFLAGS_IF 0x200ull

_Static_assert((Q & (Q - 1)) == 0 && Q >= 4 && Q <= 256, "queue size: a power of two");

/* The virtqueue (virtio 1.x 2.7): descriptor table, available ring (driver-written), used
 * ring (device-written, on its own cache lines), and the one request's header and status. */
struct vq_avail {
    uint16_t flags, idx, ring[Q], used_event;
};
struct vq_used {
    uint16_t flags, idx;
    struct sc_vq_used_elem ring[Q];
    uint16_t avail_event;
};
static struct {
    struct sc_vq_desc desc[Q];
    struct vq_avail avail __attribute__((aligned(64)));
    struct vq_used used __attribute__((aligned(64)));
    struct sc_blk_req_header hdr __attribute__((aligned(64)));
    uint8_t status;
} vq __attribute__((aligned(4096)));

_Static_assert(offsetof(struct vq_avail, ring) == 4, "avail ring layout");
_Static_assert(offsetof(struct vq_used, ring) == 4, "used ring layout");
_Static_assert(sizeof(vq.hdr) == 16, "virtio-blk header");

static bool ready;
static uint8_t vector_mode; /* 0: polled completion */
static uint16_t avail_idx;  /* private copy of vq.avail.idx */
static uint16_t used_seen;  /* completions consumed */
static uint64_t irqs;       /* completion interrupts (written by the handler) */
static struct sc_blk_stats stats;

static void on_completion_irq(uint8_t vector)
{
    (void)vector;
    __atomic_add_fetch(&irqs, 1, __ATOMIC_RELAXED);
    lapic_eoi();
}

static uint64_t irq_count(void)
{
    return __atomic_load_n(&irqs, __ATOMIC_RELAXED);
}

static uint64_t read_rflags(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f) : : "memory");
    return f;
}

static bool completed(void)
{
    return __atomic_load_n(&vq.used.idx, __ATOMIC_ACQUIRE) != used_seen;
}

/* io requests go through this vCPU's ring if it has one, else through the trap. */
static int64_t io_request(uint16_t op, const uint64_t args[6], uint64_t out[6])
{
    if (sc_svc_self())
        return sc_svc_ring(SC_SERVICE_IO, op, args, out);
    return sc_svc_trap(SC_SERVICE_IO, op, args, out);
}

int sc_blk_info(uint64_t *sectors)
{
    uint64_t out[6] = {0};
    int64_t rc = io_request(SC_OP_BLK_INFO, NULL, out);
    if (rc < 0)
        return (int)rc;
    *sectors = out[0];
    return 0;
}

int sc_blk_setup(uint8_t vector)
{
    if (vector != 0 && vector < 32)
        return -SC_EINVAL;
    if (vector) {
        int err = lapic_init();
        if (err)
            return err;
        sc_set_irq_handler(vector, on_completion_irq);
    }
    const uint64_t args[6] = {(uint64_t)(uintptr_t)vq.desc,
                              (uint64_t)(uintptr_t)&vq.avail,
                              (uint64_t)(uintptr_t)&vq.used,
                              Q,
                              vector,
                              0};
    int64_t rc = io_request(SC_OP_BLK_SETUP, args, NULL);
    if (rc < 0)
        return (int)rc;
    /* The device starts from the indices in RAM: a request that timed out is forgotten. */
    used_seen = __atomic_load_n(&vq.used.idx, __ATOMIC_ACQUIRE);
    vector_mode = vector;
    ready = true;
    return 0;
}

/* Fills a chain header -> [data] -> status and makes it available (one release store). */
static uint16_t submit(uint32_t type, uint64_t sector, void *buf, uint32_t len, bool dev_writes)
{
    uint16_t head = (uint16_t)(avail_idx % TRIPLES * 3), i = head;
    vq.hdr = (struct sc_blk_req_header){.type = type, .reserved = 0, .sector = sector};
    vq.status = 0xff;
    vq.desc[i] = (struct sc_vq_desc){(uint64_t)(uintptr_t)&vq.hdr, sizeof(vq.hdr),
                                     SC_VQ_DESC_F_NEXT, (uint16_t)(i + 1)};
    if (len) {
        i++;
        vq.desc[i] = (struct sc_vq_desc){
            (uint64_t)(uintptr_t)buf, len,
            (uint16_t)(SC_VQ_DESC_F_NEXT | (dev_writes ? SC_VQ_DESC_F_WRITE : 0)),
            (uint16_t)(i + 1)};
    }
    i++;
    vq.desc[i] = (struct sc_vq_desc){(uint64_t)(uintptr_t)&vq.status, 1, SC_VQ_DESC_F_WRITE, 0};
    vq.avail.ring[avail_idx % Q] = head;
    avail_idx++;
    __atomic_store_n(&vq.avail.idx, avail_idx, __ATOMIC_RELEASE);
    return head;
}

static int wait_polled(void)
{
    for (uint64_t spun = 0; !completed(); spun++) {
        if (spun >= SC_BLK_SPINS)
            return -SC_ETIMEDOUT;
        sc_pause();
    }
    return 0;
}

/* Halts until the completion and its IPI are both in (interrupts off between the check and
 * the sti;hlt pair, so an IPI arriving meanwhile wakes the hlt instead of being missed). */
static int wait_irq(uint64_t irqs_before)
{
    int rc = 0;
    bool was_on = read_rflags() & RFLAGS_IF;
    sc_irq_disable();
    for (uint64_t wakeups = 0; !(completed() && irq_count() != irqs_before); wakeups++) {
        if (wakeups >= SC_BLK_WAKEUPS) {
            rc = -SC_ETIMEDOUT;
            break;
        }
        stats.halts++;
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
    stats.irqs += irq_count() - irqs_before;
    if (was_on)
        sc_irq_enable();
    return rc;
}

static int request(uint32_t type, uint64_t sector, void *buf, uint32_t len, bool dev_writes,
                   uint32_t want_len, bool trap)
{
    if (!ready)
        return -SC_ENODEV;
    uint64_t irqs_before = irq_count();
    uint16_t head = submit(type, sector, buf, len, dev_writes);
    int64_t kick = 0;
    if (trap) {
        stats.kicks++;
        kick = sc_svc_trap(SC_SERVICE_IO, SC_OP_BLK_KICK, NULL, NULL);
        if (kick > 0)
            stats.kicked += (uint64_t)kick;
    }
    int rc = vector_mode ? wait_irq(irqs_before) : wait_polled();
    if (rc) {
        stats.timeouts++;
        ready = false; /* in flight for good, or the queue is broken: set it up again */
        return kick < 0 ? (int)kick : rc;
    }
    struct sc_vq_used_elem e = vq.used.ring[used_seen % Q];
    used_seen++;
    uint8_t status = __atomic_load_n(&vq.status, __ATOMIC_RELAXED);
    stats.requests++;
    if (status != SC_BLK_S_OK)
        stats.errors++;
    switch (status) {
    case SC_BLK_S_OK:
        return e.id == head && e.len == want_len ? 0 : -SC_EIO;
    case SC_BLK_S_UNSUPP:
        return -SC_ENOSYS;
    default:
        return -SC_EIO;
    }
}

static int rw(bool write, uint64_t sector, void *buf, uint32_t nsectors, bool trap)
{
    if (!buf || nsectors == 0 || nsectors > SC_BLK_MAX_SECTORS)
        return -SC_EINVAL;
    uint32_t len = nsectors * SC_BLK_SECTOR;
    return request(write ? SC_BLK_T_OUT : SC_BLK_T_IN, sector, buf, len, !write,
                   write ? 1 : len + 1, trap);
}

int sc_blk_rw(bool write, uint64_t sector, void *buf, uint32_t nsectors)
{
    return rw(write, sector, buf, nsectors, false);
}

int sc_blk_rw_trap(bool write, uint64_t sector, void *buf, uint32_t nsectors)
{
    return rw(write, sector, buf, nsectors, true);
}

int sc_blk_flush(void)
{
    return request(SC_BLK_T_FLUSH, 0, NULL, 0, false, 1, false);
}

int sc_blk_get_id(char id[SC_BLK_ID_BYTES])
{
    return request(SC_BLK_T_GET_ID, 0, id, SC_BLK_ID_BYTES, true, SC_BLK_ID_BYTES + 1, false);
}

void sc_blk_get_stats(struct sc_blk_stats *out)
{
    *out = stats;
}
