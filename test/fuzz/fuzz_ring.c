/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libFuzzer target: a request ring whose guest writes arbitrary bytes between side-core passes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/klib.h"
#include "guest-stubs/include/sidecore/ring_client.h"
#include "sidecore/ring_consumer.h"
#include "test/fuzz/fuzz_input.h"

/* Input: bytes 0-3 the start value of head and tail (little endian), then operations, each
 * an opcode byte (taken modulo OP_COUNT) and its operands; a truncated operand reads as 0.
 *   WRITE  u16 offset (mod ring size), u8 length, bytes: the guest writes anywhere in the ring
 *   POLL   u8 max_batch, u8 race (nonzero: the guest fills the slot with it while it is served)
 *   POST   u8 count: the guest client reserves up to count slots, fills them and publishes
 *   HEAD   u32: the guest stores head
 *   TAIL   u32: the guest stores tail (the side core's)
 *   CLIENT the guest client restarts from the shared head
 *   CALL   u8 spins: a synchronous call nobody serves concurrently
 *   DONE   u32 delta: sc_ring_done and sc_ring_slot_of on the client's head + delta
 * A side-core pass is checked against a model: which slots it serves (the copies the handler
 * sees must be those slots as they were when the pass began), how many, what it writes back,
 * its private tail, its counters, and that a broken ring stays broken. A request whose tag has
 * (tag & 7) == 6 is deferred: ready says yes on its ((tag >> 3) & 3)-th asking (0: at once),
 * and the ring holds it meanwhile. */
enum { OP_WRITE, OP_POLL, OP_POST, OP_HEAD, OP_TAIL, OP_CLIENT, OP_CALL, OP_DONE, OP_COUNT };

#define N SC_RING_SLOTS
#define MASK ((uint32_t)N - 1)
/* One pass, as the handler sees it. */
struct pass {
    struct sc_ring *ring;
    struct sc_ring snap; /* the ring when the pass began */
    uint32_t base;       /* the private tail when the pass began */
    unsigned max_batch, calls;
    uint8_t race;
    uint32_t tags[N];
    /* deferred requests: the last one deferred, and how often ready was asked about it */
    uint64_t deferrals, held_wait;
    unsigned asks;
    uint32_t held_tag;
};

static bool deferrable(uint32_t tag)
{
    return (tag & 7) == 6;
}

static unsigned asks_until_ready(uint32_t tag)
{
    return (tag >> 3) & 3;
}

static int64_t result_status(uint32_t tag)
{
    return (tag & 3) == 1 ? -E_INVAL : (int64_t)(tag & 0xffff);
}

static enum ring_outcome handler(void *ctx, struct sc_ring_slot *req, uint64_t *wait)
{
    struct pass *ps = ctx;
    /* never more than the batch, never more than the ring holds */
    CHECK(ps->calls < ps->max_batch && ps->calls < N);
    /* a private copy, not the shared slot */
    CHECK((const uint8_t *)req + sizeof(*req) <= (const uint8_t *)ps->ring ||
          (const uint8_t *)req >= (const uint8_t *)(ps->ring + 1));
    /* ... of the next slot in order, as it was */
    uint32_t idx = (ps->base + ps->calls) & MASK;
    const struct sc_ring_slot *want = &ps->snap.slot[idx];
    CHECK(req->opcode == want->opcode && req->flags == want->flags && req->tag == want->tag);
    CHECK(memcmp(req->arg, want->arg, sizeof(req->arg)) == 0);
    CHECK(req->status == -E_NOSYS);
    ps->tags[ps->calls++] = req->tag;

    if (ps->race) /* the guest rewrites the slot under the side core's feet */
        memset(&ps->ring->slot[idx], ps->race, sizeof(ps->ring->slot[idx]));
    req->status = result_status(req->tag);
    for (int i = 0; i < 6; i++)
        req->arg[i] = ~req->arg[i];
    /* a service cannot rename the request */
    req->opcode = 0xbeef;
    req->flags = 0xf00d;
    req->tag ^= 0xffffffffu;
    if (!deferrable(want->tag))
        return RING_COMPLETE;
    *wait = ++ps->deferrals;
    return RING_DEFERRED;
}

static bool ready(void *ctx, uint64_t wait, struct sc_ring_slot *req)
{
    struct pass *ps = ctx;
    if (wait != ps->held_wait) { /* asked about a new one */
        CHECK(wait == ps->deferrals);
        ps->held_wait = wait;
        ps->held_tag = req->tag;
        ps->asks = 0;
    }
    /* the consumer's copy, identity restored, results in */
    CHECK(req->tag == ps->held_tag && deferrable(req->tag));
    CHECK(req->status == result_status(req->tag));
    return ps->asks++ >= asks_until_ready(req->tag);
}

static const struct ring_ops ops = {handler, ready};

struct model {
    uint32_t tail;
    bool broken;
    uint64_t requests, errors, largest_batch, deferrals;
    /* the request held at tail, if any: what its completion must be, and how often ready
     * was asked about it so far */
    bool deferred;
    struct sc_ring_slot held;
    unsigned asks;
};

/* Checks the completion written back into slot idx against the request as it was. */
static void check_completion(struct model *m, const struct sc_ring_slot *before,
                             const struct sc_ring_slot *after)
{
    CHECK(after->opcode == before->opcode && after->flags == before->flags);
    CHECK(after->tag == before->tag);
    CHECK(after->status == result_status(before->tag));
    for (int i = 0; i < 6; i++)
        CHECK(after->arg[i] == ~before->arg[i]);
    m->requests++;
    if (after->status < 0)
        m->errors++;
}

static void do_poll(struct ring_consumer *c, struct model *m, struct pass *ps, unsigned max_batch,
                    uint8_t race)
{
    struct sc_ring *ring = c->ring;
    memcpy(&ps->snap, ring, sizeof(*ring));
    uint32_t head = ps->snap.head;
    uint32_t pending = head - m->tail;
    /* head far off, or back onto a request the side core already took and holds */
    bool broken = m->broken || pending > N || (m->deferred && pending == 0);
    /* a held request is asked about once per pass that may complete something */
    bool ask = !broken && m->deferred && max_batch > 0;
    bool held_done = ask && m->asks >= asks_until_ready(m->held.tag);
    ps->ring = ring;
    ps->base = m->tail + held_done;
    ps->max_batch = max_batch - held_done;
    ps->calls = 0;
    ps->race = race;
    CHECK(c->tail == m->tail && c->broken == m->broken && c->deferred == m->deferred);

    int r = ring_consumer_poll(c, max_batch, &ops, ps);

    if (broken) {
        /* broken now, and for good; a held request is still asked about on every pass (what
         * waits on it is released by ready), then dropped: never written back */
        CHECK(r == -E_BADMSG);
        CHECK(ps->calls == 0);
        CHECK(c->broken);
        CHECK(ring->state == SC_RING_BROKEN);
        CHECK(c->tail == m->tail);
        if (m->deferred) {
            uint32_t idx = m->tail & MASK;
            CHECK(memcmp(&ring->slot[idx], &ps->snap.slot[idx], sizeof(ring->slot[idx])) == 0);
            if (m->asks++ >= asks_until_ready(m->held.tag))
                m->deferred = false;
        }
        CHECK(c->deferred == m->deferred);
        m->broken = true;
    } else {
        uint32_t done = 0, handled = 0;
        if (ask)
            m->asks++;
        if (held_done) {
            check_completion(m, &m->held, &ring->slot[m->tail & MASK]);
            m->deferred = false;
            done = 1;
        }
        /* then the pending requests in order, up to the batch, until one is held */
        while (!m->deferred && done < max_batch && m->tail + done != head) {
            uint32_t idx = (m->tail + done) & MASK;
            const struct sc_ring_slot *before = &ps->snap.slot[idx];
            CHECK(handled < ps->calls && ps->tags[handled] == before->tag);
            handled++;
            if (deferrable(before->tag) && asks_until_ready(before->tag) > 0) {
                m->deferred = true;
                m->held = *before;
                m->asks = 1;
                m->deferrals++;
                break;
            }
            check_completion(m, before, &ring->slot[idx]);
            done++;
        }
        CHECK(r >= 0 && (uint32_t)r == done && ps->calls == handled);
        CHECK(!c->broken && c->deferred == m->deferred);
        /* the private tail moved by what completed and never passed the head it read */
        m->tail += done;
        CHECK(c->tail == m->tail);
        CHECK(head - c->tail <= N);
        CHECK(__atomic_load_n(&ring->tail, __ATOMIC_RELAXED) == c->tail);
        if (done > m->largest_batch)
            m->largest_batch = done;
    }
    CHECK(c->requests == m->requests && c->errors == m->errors);
    CHECK(c->largest_batch == m->largest_batch && c->deferrals == m->deferrals);
}

static bool slot_in_ring(const struct sc_ring *ring, const struct sc_ring_slot *s)
{
    uintptr_t a = (uintptr_t)s, lo = (uintptr_t)&ring->slot[0];
    return a >= lo && a <= (uintptr_t)&ring->slot[N - 1] && (a - lo) % sizeof(*s) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    /* exactly the ring, on the heap: ASan sees any access outside it */
    struct sc_ring *ring = malloc(sizeof(*ring));
    struct pass *ps = calloc(1, sizeof(*ps));
    if (!ring || !ps)
        abort();
    struct ring_consumer c;
    struct model m = {0};
    ring_consumer_init(&c, ring, SC_SERVICE_IO, 1);
    uint32_t start = u32(&in);
    ring->head = ring->tail = c.tail = m.tail = start;
    struct sc_ring_client cl;
    sc_ring_client_init(&cl, ring);
    uint32_t next_tag = 0;

    while (in.left) {
        switch (u8(&in) % OP_COUNT) {
        case OP_WRITE: {
            size_t off = u8(&in);
            off = (off | (size_t)u8(&in) << 8) % sizeof(*ring);
            size_t len = u8(&in);
            if (len > sizeof(*ring) - off)
                len = sizeof(*ring) - off;
            for (size_t i = 0; i < len; i++)
                ((uint8_t *)ring)[off + i] = u8(&in);
            break;
        }
        case OP_POLL: {
            unsigned max_batch = u8(&in);
            uint8_t race = u8(&in);
            do_poll(&c, &m, ps, max_batch, race);
            break;
        }
        case OP_POST: {
            unsigned count = u8(&in);
            for (unsigned i = 0; i < count; i++) {
                uint32_t tail = ring->tail;
                uint32_t seq = cl.head;
                struct sc_ring_slot *s = sc_ring_reserve(&cl);
                CHECK(!s == (seq - tail >= N)); /* refused exactly when full */
                if (!s)
                    break;
                CHECK(slot_in_ring(ring, s) && s == sc_ring_slot_of(&cl, seq));
                s->opcode = (uint16_t)(SC_OP_NULL + i);
                s->flags = 0;
                s->tag = next_tag++;
                s->status = 0;
                for (int a = 0; a < 6; a++)
                    s->arg[a] = (uint64_t)s->tag << 8 | (uint64_t)a;
            }
            uint32_t last = sc_ring_publish(&cl);
            CHECK(last == cl.head - 1 && ring->head == cl.head);
            break;
        }
        case OP_HEAD:
            ring->head = u32(&in);
            break;
        case OP_TAIL:
            ring->tail = u32(&in);
            break;
        case OP_CLIENT:
            sc_ring_client_init(&cl, ring);
            CHECK(cl.head == ring->head);
            break;
        case OP_CALL: {
            uint64_t args[6] = {1, 2, 3, 4, 5, 6}, out[6];
            uint32_t head = cl.head;
            int64_t st = sc_ring_call(&cl, SC_OP_NULL, args, out, u8(&in));
            /* nobody serves it meanwhile: it completes only if the shared tail says so;
             * a ring whose state says broken gives up at once */
            if (st == -SC_EPIPE)
                CHECK(ring->state == SC_RING_BROKEN);
            else if (st != -SC_ETIMEDOUT)
                CHECK(cl.head == head + 1 && (int32_t)(ring->tail - head) > 0);
            break;
        }
        case OP_DONE: {
            uint32_t seq = cl.head + u32(&in);
            int done = sc_ring_done(&cl, seq);
            CHECK(done == ((int32_t)(ring->tail - seq) > 0));
            CHECK(slot_in_ring(ring, sc_ring_slot_of(&cl, seq)));
            break;
        }
        }
    }
    /* a last pass over whatever the guest left behind */
    do_poll(&c, &m, ps, N, 0);
    free(ps);
    free(ring);
    return 0;
}
