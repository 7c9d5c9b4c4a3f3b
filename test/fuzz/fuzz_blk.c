/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libFuzzer target: the virtio-blk device model on guest RAM the guest writes at will. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/klib.h"
#include "sidecore/blk.h"
#include "test/fuzz/fuzz_input.h"

/* Input: u16 RAM size (256 + v % 32 KiB), u16 disk size in bytes, then the SC_OP_BLK_SETUP
 * arguments u16 desc, u16 avail, u16 used, u16 size, u8 vector (raw: setup validates them),
 * then operations, each an opcode byte (modulo OP_COUNT) and its operands (little endian; a
 * truncated operand reads as 0):
 *   WRITE  u16 offset (mod RAM size), u8 length, bytes: the guest writes its RAM
 *   FILL   u16 offset, u16 length, u8 value: the guest fills its RAM
 *   POLL   u8 max: one pass of the device
 *   SETUP  the five setup arguments again
 * RAM and the disk are heap blocks of exactly their size, so ASan sees any access outside.
 * After every pass: the result is -E_BADMSG or at most min(max, size) completions, broken
 * stays broken, the counters and used->idx follow the completions, and the disk changed only
 * through an OUT request inside it (checked exactly on passes that served one request: the
 * request is decoded again from RAM as it was before the pass). */
enum { OP_WRITE, OP_FILL, OP_POLL, OP_SETUP, OP_COUNT };

struct world {
    struct blk_backend b;
    struct blk_queue q;
    uint8_t *ram_before, *disk_before;
    bool set_up;
};

static void do_setup(struct world *w, struct input *in)
{
    uint64_t desc = u16(in), avail = u16(in), used = u16(in), size = u16(in), vector = u8(in);
    struct blk_queue before = w->q;
    int r = blk_setup(&w->q, &w->b, desc, avail, used, size, vector);
    CHECK(r == 0 || r == -E_INVAL || r == -E_FAULT);
    if (r) {
        CHECK(memcmp(&before, &w->q, sizeof(before)) == 0);
        return;
    }
    CHECK(w->q.ready && !w->q.broken && w->q.completed == 0 && w->q.errors == 0);
    CHECK(w->q.size == size && w->q.vector == vector);
    w->set_up = true;
}

static uint16_t get16(const uint8_t *ram, uint64_t gpa)
{
    uint16_t v;
    memcpy(&v, ram + gpa, sizeof(v));
    return v;
}

/* The request at head, which completed with SC_BLK_S_OK, decoded again from RAM as it was
 * before the pass. An OUT (the only request that may write the disk): copies the bytes it
 * wrote into out and returns their disk offset; anything else: -1. */
static int64_t model_out(const struct world *w, const struct blk_queue *q, uint16_t head,
                         uint8_t *out, uint64_t *len)
{
    const uint8_t *ram = w->ram_before;
    struct sc_vq_desc d[BLK_QUEUE_MAX];
    unsigned n = 0;
    uint16_t i = head;
    for (;;) {
        if (i >= q->size || n == q->size)
            return -1;
        memcpy(&d[n], ram + q->desc + 16ull * i, sizeof(d[n]));
        if (!(d[n++].flags & SC_VQ_DESC_F_NEXT))
            break;
        i = d[n - 1].next;
    }
    if (n < 2 || d[0].len != sizeof(struct sc_blk_req_header) || d[0].addr >= w->b.guest_size ||
        d[0].addr + 16 > w->b.guest_size)
        return -1;
    struct sc_blk_req_header h;
    memcpy(&h, ram + d[0].addr, sizeof(h));
    if (h.type != SC_BLK_T_OUT)
        return -1;
    uint64_t total = 0;
    for (unsigned k = 1; k + 1 < n; k++) {
        CHECK(d[k].addr <= w->b.guest_size && d[k].len <= w->b.guest_size - d[k].addr);
        CHECK(total + d[k].len <= w->b.disk_size);
        memcpy(out + total, ram + d[k].addr, d[k].len);
        total += d[k].len;
    }
    *len = total;
    CHECK(h.sector <= w->b.disk_size / SC_BLK_SECTOR);
    return (int64_t)(h.sector * SC_BLK_SECTOR);
}

static void do_poll(struct world *w, unsigned max, uint8_t *scratch)
{
    struct blk_queue before = w->q;
    memcpy(w->ram_before, w->b.guest, w->b.guest_size);
    memcpy(w->disk_before, w->b.disk, w->b.disk_size);
    int r = blk_poll(&w->q, &w->b, max);
    const struct blk_queue *q = &w->q;
    uint64_t served = q->completed - before.completed;
    bool disk_same = memcmp(w->disk_before, w->b.disk, w->b.disk_size) == 0;

    if (!before.ready) {
        CHECK(r == 0 && memcmp(&before, q, sizeof(before)) == 0);
        CHECK(memcmp(w->ram_before, w->b.guest, w->b.guest_size) == 0 && disk_same);
        return;
    }
    if (before.broken) {
        CHECK(r == -E_BADMSG && memcmp(&before, q, sizeof(before)) == 0);
        CHECK(memcmp(w->ram_before, w->b.guest, w->b.guest_size) == 0 && disk_same);
        return;
    }
    CHECK(r == -E_BADMSG || (r >= 0 && (unsigned)r <= max && (unsigned)r <= q->size));
    CHECK(r == -E_BADMSG ? q->broken : !q->broken);
    CHECK(served <= q->size && served <= max);
    if (r >= 0)
        CHECK(served == (uint64_t)r);
    CHECK(q->errors - before.errors <= served);
    CHECK((uint16_t)(q->used_idx - before.used_idx) == served);
    CHECK((uint16_t)(q->last_avail - before.last_avail) == served);
    if (served)
        CHECK(get16(w->b.guest, q->used + 2) == q->used_idx); /* the last write of the pass */
    if (served == 0) {
        CHECK(disk_same);
        return;
    }
    if (served > 1)
        return; /* a later request may have read what an earlier one wrote */

    /* one request: RAM before the pass is exactly what the device decoded */
    uint16_t head = get16(w->ram_before, q->avail + 4 + 2ull * (before.last_avail & (q->size - 1)));
    if (q->errors != before.errors) {
        CHECK(disk_same); /* failed: the disk is as it was */
        return;
    }
    uint64_t len = 0;
    int64_t off = model_out(w, q, head, scratch, &len);
    if (off < 0) {
        CHECK(disk_same); /* not an OUT */
        return;
    }
    CHECK((uint64_t)off + len <= w->b.disk_size);
    CHECK(memcmp(w->b.disk + off, scratch, len) == 0);
    CHECK(memcmp(w->b.disk, w->disk_before, (size_t)off) == 0);
    CHECK(memcmp(w->b.disk + off + len, w->disk_before + off + len,
                 w->b.disk_size - (uint64_t)off - len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct world w = {0};
    size_t ram_size = 256 + u16(&in) % (32 * 1024);
    size_t disk_size = u16(&in);
    /* exactly their sizes (malloc(0) included: ASan reports any byte of it) */
    static struct sc_vq_desc chain[BLK_QUEUE_MAX];
    w.b = (struct blk_backend){malloc(ram_size), ram_size, malloc(disk_size), disk_size, chain};
    w.ram_before = malloc(ram_size);
    w.disk_before = malloc(disk_size);
    uint8_t *scratch = malloc(disk_size); /* the data of one successful OUT */
    if (!w.b.guest || !w.ram_before || (disk_size && (!w.b.disk || !w.disk_before || !scratch)))
        abort();
    memset(w.b.guest, 0, ram_size);
    for (size_t i = 0; i < disk_size; i++)
        w.b.disk[i] = (uint8_t)(i * 13 + 5);
    do_setup(&w, &in);

    while (in.left) {
        switch (u8(&in) % OP_COUNT) {
        case OP_WRITE: {
            size_t off = u16(&in) % ram_size, len = u8(&in);
            if (len > ram_size - off)
                len = ram_size - off;
            for (size_t i = 0; i < len; i++)
                w.b.guest[off + i] = u8(&in);
            break;
        }
        case OP_FILL: {
            size_t off = u16(&in) % ram_size, len = u16(&in);
            uint8_t v = u8(&in);
            if (len > ram_size - off)
                len = ram_size - off;
            memset(w.b.guest + off, v, len);
            break;
        }
        case OP_POLL:
            do_poll(&w, u8(&in), scratch);
            break;
        case OP_SETUP:
            do_setup(&w, &in);
            break;
        }
    }
    do_poll(&w, BLK_QUEUE_MAX, scratch); /* whatever the guest left behind */
    free(scratch);
    free(w.disk_before);
    free(w.ram_before);
    free(w.b.disk);
    free(w.b.guest);
    return 0;
}
