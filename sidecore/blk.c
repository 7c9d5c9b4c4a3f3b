/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The virtio-blk device model of the io service: validates and serves a split virtqueue. */
#include "sidecore/blk.h"

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"

#define DESC_BYTES 16ull
#define USED_ELEM_BYTES 8ull
#define RING_HEADER 4ull /* flags, idx */
#define HEADER_BYTES ((uint32_t)sizeof(struct sc_blk_req_header))
#define MAX_WRITTEN 0xffffffffull /* used.len is 32 bits: status byte included */

_Static_assert(sizeof(BLK_ID) - 1 <= BLK_ID_BYTES, "the id fits its field");

/* What became of one request. */
enum outcome {
    DONE,   /* status and used len are set: complete it */
    BROKEN, /* the queue cannot be trusted any more: stop serving it */
};

/* [gpa, gpa + len) inside guest RAM (no wrap). */
static bool in_ram(const struct blk_backend *b, uint64_t gpa, uint64_t len)
{
    return gpa <= b->guest_size && len <= b->guest_size - gpa;
}

static bool rings_in_ram(const struct blk_backend *b, uint64_t desc, uint64_t avail, uint64_t used,
                         uint64_t size)
{
    return in_ram(b, desc, DESC_BYTES * size) && in_ram(b, avail, RING_HEADER + 2 * size) &&
           in_ram(b, used, RING_HEADER + USED_ELEM_BYTES * size);
}

/* The 16-bit idx fields live in guest memory, 2-byte aligned (checked at setup). */
static uint16_t *idx_field(const struct blk_backend *b, uint64_t ring)
{
    return (uint16_t *)(void *)(b->guest + ring + 2);
}

static void write_used_flags(const struct blk_queue *q, const struct blk_backend *b)
{
    uint16_t flags = q->notify ? 0 : SC_VQ_USED_F_NO_NOTIFY;
    __atomic_store_n((uint16_t *)(void *)(b->guest + q->used), flags, __ATOMIC_RELEASE);
}

void blk_set_notify(struct blk_queue *q, const struct blk_backend *b, bool notify)
{
    q->notify = notify;
    if (q->ready && rings_in_ram(b, q->desc, q->avail, q->used, q->size))
        write_used_flags(q, b);
}

int blk_setup(struct blk_queue *q, const struct blk_backend *b, uint64_t desc, uint64_t avail,
              uint64_t used, uint64_t size, uint64_t vector)
{
    if ((uintptr_t)b->guest & 3)
        return -E_INVAL; /* the host mapping itself: atomics need natural alignment */
    if (desc & 15 || avail & 1 || used & 3)
        return -E_INVAL;
    if (size == 0 || size > BLK_QUEUE_MAX || (size & (size - 1)))
        return -E_INVAL;
    if (vector != 0 && (vector < SC_VECTOR_MIN || vector > SC_VECTOR_MAX))
        return -E_INVAL;
    if (!rings_in_ram(b, desc, avail, used, size))
        return -E_FAULT;
    *q = (struct blk_queue){
        .desc = desc,
        .avail = avail,
        .used = used,
        .size = (uint16_t)size,
        .last_avail = __atomic_load_n(idx_field(b, avail), __ATOMIC_ACQUIRE),
        .used_idx = __atomic_load_n(idx_field(b, used), __ATOMIC_RELAXED),
        .vector = (uint8_t)vector,
        .ready = true,
        .notify = q->notify,
    };
    write_used_flags(q, b);
    return 0;
}

/* Copies the chain starting at head, each descriptor once, into d[]. Returns its length,
 * or 0 if it cannot be followed (an index outside the table, or longer than the table:
 * a loop). */
static unsigned copy_chain(const struct blk_queue *q, const struct blk_backend *b, uint16_t head,
                           struct sc_vq_desc *d)
{
    uint16_t i = head;
    for (unsigned n = 0; n < q->size; n++) {
        if (i >= q->size)
            return 0;
        memcpy(&d[n], b->guest + q->desc + DESC_BYTES * i, sizeof(d[n]));
        if (!(d[n].flags & SC_VQ_DESC_F_NEXT))
            return n + 1;
        i = d[n].next;
    }
    return 0;
}

enum direction { DEV_READS, DEV_WRITES, EITHER };

/* The data descriptors: inside RAM, in the direction the request needs. Sets *total. */
static bool data_ok(const struct blk_backend *b, const struct sc_vq_desc *d, unsigned n,
                    enum direction dir, uint64_t *total)
{
    uint64_t sum = 0; /* at most 255 * (2^32 - 1): no overflow */
    for (unsigned k = 0; k < n; k++) {
        bool writes = d[k].flags & SC_VQ_DESC_F_WRITE;
        if (!in_ram(b, d[k].addr, d[k].len))
            return false;
        if ((dir == DEV_READS && writes) || (dir == DEV_WRITES && !writes))
            return false;
        sum += d[k].len;
    }
    *total = sum;
    return true;
}

/* IN or OUT over the data descriptors: checked completely before a byte moves. */
static uint8_t transfer(const struct blk_backend *b, const struct sc_blk_req_header *h,
                        const struct sc_vq_desc *d, unsigned n, uint32_t *written)
{
    bool in = h->type == SC_BLK_T_IN;
    uint64_t total, capacity = b->disk_size / SC_BLK_SECTOR;
    if (!data_ok(b, d, n, in ? DEV_WRITES : DEV_READS, &total))
        return SC_BLK_S_IOERR;
    /* a request moves at most SC_BLK_MAX_BYTES: one guest cannot make the shared
     * io side core copy gigabytes per pass while other partitions wait */
    if (total % SC_BLK_SECTOR || total > SC_BLK_MAX_BYTES || (in && total >= MAX_WRITTEN))
        return SC_BLK_S_IOERR;
    uint64_t sectors = total / SC_BLK_SECTOR;
    if (h->sector > capacity || sectors > capacity - h->sector)
        return SC_BLK_S_IOERR;
    uint64_t off = h->sector * SC_BLK_SECTOR;
    for (unsigned k = 0; k < n; k++) {
        uint8_t *g = b->guest + d[k].addr;
        if (in)
            memcpy(g, b->disk + off, d[k].len);
        else
            memcpy(b->disk + off, g, d[k].len);
        off += d[k].len;
    }
    if (in)
        *written += (uint32_t)total;
    return SC_BLK_S_OK;
}

static uint8_t get_id(const struct blk_backend *b, const struct sc_vq_desc *d, unsigned n,
                      uint32_t *written)
{
    static const char id[BLK_ID_BYTES] = BLK_ID; /* NUL-padded */
    uint64_t total;
    if (!data_ok(b, d, n, DEV_WRITES, &total))
        return SC_BLK_S_IOERR;
    uint32_t done = 0;
    for (unsigned k = 0; k < n && done < BLK_ID_BYTES; k++) {
        uint32_t len = d[k].len < BLK_ID_BYTES - done ? d[k].len : BLK_ID_BYTES - done;
        memcpy(b->guest + d[k].addr, id + done, len);
        done += len;
    }
    *written += done;
    return SC_BLK_S_OK;
}

/* Serves the chain at head: sets *status and *written (used len), or says the queue broke. */
static enum outcome serve(const struct blk_queue *q, const struct blk_backend *b, uint16_t head,
                          uint64_t *status_gpa, uint8_t *status, uint32_t *written)
{
    struct sc_vq_desc *d = b->chain;
    unsigned n = copy_chain(q, b, head, d);
    if (n == 0)
        return BROKEN;
    const struct sc_vq_desc *st = &d[n - 1];
    if ((st->flags & (SC_VQ_DESC_F_INDIRECT | SC_VQ_DESC_F_WRITE)) != SC_VQ_DESC_F_WRITE ||
        st->len != 1 || !in_ram(b, st->addr, 1))
        return BROKEN; /* nowhere to say what happened */
    *status_gpa = st->addr;
    *written = 1;
    for (unsigned k = 0; k < n; k++) {
        if (d[k].flags & SC_VQ_DESC_F_INDIRECT) {
            *status = SC_BLK_S_UNSUPP;
            return DONE;
        }
    }
    const struct sc_vq_desc *hd = &d[0];
    if (n < 2 || (hd->flags & SC_VQ_DESC_F_WRITE) || hd->len != HEADER_BYTES ||
        !in_ram(b, hd->addr, HEADER_BYTES)) {
        *status = SC_BLK_S_IOERR;
        *written = 0;
        return DONE;
    }
    struct sc_blk_req_header h;
    memcpy(&h, b->guest + hd->addr, sizeof(h));
    const struct sc_vq_desc *data = &d[1];
    unsigned ndata = n - 2;
    uint64_t total;
    switch (h.type) {
    case SC_BLK_T_IN:
    case SC_BLK_T_OUT:
        *status = transfer(b, &h, data, ndata, written);
        return DONE;
    case SC_BLK_T_FLUSH: /* every write is already in the image */
        *status = data_ok(b, data, ndata, EITHER, &total) ? SC_BLK_S_OK : SC_BLK_S_IOERR;
        return DONE;
    case SC_BLK_T_GET_ID:
        *status = get_id(b, data, ndata, written);
        return DONE;
    default:
        *status = SC_BLK_S_UNSUPP;
        return DONE;
    }
}

static int mark_broken(struct blk_queue *q)
{
    q->broken = true;
    return -E_BADMSG;
}

int blk_poll(struct blk_queue *q, const struct blk_backend *b, unsigned max)
{
    if (q->broken)
        return -E_BADMSG;
    if (!q->ready)
        return 0;
    if (!rings_in_ram(b, q->desc, q->avail, q->used, q->size))
        return mark_broken(q); /* RAM shrank under the queue: never happens in the hypervisor */
    uint16_t avail_idx = __atomic_load_n(idx_field(b, q->avail), __ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (pending > q->size)
        return mark_broken(q);
    unsigned n = pending < max ? pending : max;
    uint16_t mask = (uint16_t)(q->size - 1);
    for (unsigned i = 0; i < n; i++) {
        uint16_t head;
        memcpy(&head, b->guest + q->avail + RING_HEADER + 2ull * (q->last_avail & mask),
               sizeof(head));
        uint64_t status_gpa = 0;
        uint8_t status = SC_BLK_S_IOERR;
        uint32_t written = 0;
        if (serve(q, b, head, &status_gpa, &status, &written) == BROKEN)
            return mark_broken(q);
        q->last_avail++;
        b->guest[status_gpa] = status;
        struct sc_vq_used_elem e = {.id = head, .len = written};
        memcpy(b->guest + q->used + RING_HEADER + USED_ELEM_BYTES * (q->used_idx & mask), &e,
               sizeof(e));
        q->used_idx++;
        __atomic_store_n(idx_field(b, q->used), q->used_idx, __ATOMIC_RELEASE);
        q->completed++;
        if (status != SC_BLK_S_OK)
            q->errors++;
    }
    return (int)n;
}
