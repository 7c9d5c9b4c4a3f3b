/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Request rings, single-threaded: the protocol between ring_client.h and sidecore/ring.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "guest-stubs/include/sidecore/ring_client.h"
#include "sidecore/ring_consumer.h"

#define N SC_RING_SLOTS
#define MAX_SEEN 4096

static struct sc_ring ring __attribute__((aligned(4096)));
static struct sc_ring other __attribute__((aligned(4096))); /* a second ring, same side core */

/* What the handler saw, and how it behaves. */
struct service {
    unsigned calls;
    uint32_t tags[MAX_SEEN];
    uint16_t opcodes[MAX_SEEN];
    enum { ECHO, SCRIBBLE, ODD_FAILS, SILENT, RACE, DEFER } mode;
    struct sc_ring_slot *shared; /* RACE: the slot the guest rewrites while it is served */
    /* DEFER: requests with this opcode wait until released (status 100 + tag, then ready
     * adds released_status); the others echo */
    uint16_t defer_opcode;
    bool released;
    int64_t released_status;
    unsigned ready_calls;
};

#define DEFER_WAIT(tag) (0xabcd00000000ull | (tag)) /* what the handler passes to ready */

static enum ring_outcome handler(void *ctx, struct sc_ring_slot *req, uint64_t *wait)
{
    struct service *sv = ctx;
    assert_true(sv->calls < MAX_SEEN);
    sv->tags[sv->calls] = req->tag;
    sv->opcodes[sv->calls] = req->opcode;
    sv->calls++;
    switch (sv->mode) {
    case ECHO: /* results: arg[i] + 1, status = tag */
        for (int i = 0; i < 6; i++)
            req->arg[i]++;
        req->status = req->tag;
        break;
    case SCRIBBLE: /* a buggy or hostile service rewrites the identity of the request */
        req->opcode = 0xffff;
        req->flags = 0x7777;
        req->tag = 0xdeadbeef;
        req->status = 5;
        req->arg[0] = 0x1234;
        break;
    case ODD_FAILS:
        req->status = req->tag & 1 ? -E_INVAL : 0;
        break;
    case SILENT: /* forgets to set a status */
        break;
    case RACE: { /* the guest rewrites the slot while the side core works on its copy */
        struct sc_ring_slot before = *req;
        sv->shared->opcode = 0x6666;
        sv->shared->tag = 0x6666;
        sv->shared->arg[0] = 0x6666;
        assert_memory_equal(&before, req, sizeof(before));
        req->status = (int64_t)req->arg[0];
        break;
    }
    case DEFER:
        for (int i = 0; i < 6; i++)
            req->arg[i]++;
        req->status = req->tag;
        if (req->opcode != sv->defer_opcode)
            break;
        req->status = 100 + req->tag;
        *wait = DEFER_WAIT(req->tag);
        return RING_DEFERRED;
    }
    return RING_COMPLETE;
}

static bool ready(void *ctx, uint64_t wait, struct sc_ring_slot *req)
{
    struct service *sv = ctx;
    assert_int_equal(sv->mode, DEFER);
    assert_int_equal(wait, DEFER_WAIT(req->tag)); /* the handler's wait, with its own copy */
    assert_int_equal(req->opcode, sv->defer_opcode);
    sv->ready_calls++;
    if (sv->released)
        req->status += sv->released_status;
    return sv->released;
}

static const struct ring_ops ops = {handler, ready};

static int setup(void **state)
{
    memset(&ring, 0xa5, sizeof(ring));
    memset(&other, 0xa5, sizeof(other));
    return 0;
}

/* Posts count requests (tag = first_tag + i, opcode = 0x10 + i % 4, arg[i] = tag * 8 + i)
 * as one batch; returns the number of the last one. */
static uint32_t post_batch(struct sc_ring_client *cl, unsigned count, uint32_t first_tag)
{
    for (unsigned i = 0; i < count; i++) {
        struct sc_ring_slot *s = sc_ring_reserve(cl);
        assert_non_null(s);
        s->opcode = (uint16_t)(0x10 + i % 4);
        s->flags = 0;
        s->tag = first_tag + i;
        s->status = 0x5a5a;
        for (int a = 0; a < 6; a++)
            s->arg[a] = (uint64_t)(first_tag + i) * 8 + (uint64_t)a;
    }
    return sc_ring_publish(cl);
}

static void test_init_header(void **state)
{
    struct ring_consumer c;
    memset(&c, 0xa5, sizeof(c));
    ring_consumer_init(&c, &ring, SC_SERVICE_IO, 7);
    assert_int_equal(ring.magic, SC_RING_MAGIC);
    assert_memory_equal(&ring.magic, "RING", 4);
    assert_int_equal(ring.version, SC_RING_VERSION);
    assert_int_equal(ring.service, SC_SERVICE_IO);
    assert_int_equal(ring.nslots, SC_RING_SLOTS);
    assert_int_equal(ring.vcpu, 7);
    assert_int_equal(ring.head, 0);
    assert_int_equal(ring.tail, 0);
    assert_int_equal(ring.state, SC_RING_OK);
    assert_ptr_equal(c.ring, &ring);
    assert_int_equal(c.tail, 0);
    assert_false(c.broken);
    assert_int_equal(c.requests, 0);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.largest_batch, 0);
    /* nothing pending: a pass serves nothing */
    struct service sv = {0};
    assert_int_equal(ring_consumer_poll(&c, 8, &ops, &sv), 0);
    assert_int_equal(sv.calls, 0);
    struct sc_ring_client cl;
    sc_ring_client_init(&cl, &ring);
    assert_int_equal(cl.head, 0);
}

static void test_batch_in_order(void **state)
{
    static const unsigned counts[] = {1, 2, 5, 63, N};
    static const unsigned batches[] = {1, 3, 16, N, 1000};
    for (size_t ci = 0; ci < ARRAY_SIZE(counts); ci++) {
        for (size_t bi = 0; bi < ARRAY_SIZE(batches); bi++) {
            unsigned count = counts[ci], batch = batches[bi];
            struct ring_consumer c;
            struct sc_ring_client cl;
            struct service sv = {.mode = ECHO};
            ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
            sc_ring_client_init(&cl, &ring);
            uint32_t last = post_batch(&cl, count, 100);
            assert_int_equal(last, count - 1);
            assert_false(sc_ring_done(&cl, 0));

            unsigned served = 0;
            int r = ring_consumer_poll(&c, batch, &ops, &sv);
            assert_int_equal(r, count < batch ? count : batch);
            served += (unsigned)r;
            /* exactly the first r are complete */
            for (uint32_t s = 0; s < count; s++)
                assert_int_equal(sc_ring_done(&cl, s), s < served);
            while (served < count) {
                r = ring_consumer_poll(&c, batch, &ops, &sv);
                assert_true(r > 0 && (unsigned)r <= batch);
                served += (unsigned)r;
            }
            assert_int_equal(served, count);
            assert_int_equal(ring_consumer_poll(&c, batch, &ops, &sv), 0);
            assert_true(sc_ring_done(&cl, last));
            assert_int_equal(ring.tail, count);
            assert_int_equal(c.requests, count);
            assert_int_equal(c.largest_batch, count < batch ? count : batch);

            assert_int_equal(sv.calls, count);
            for (uint32_t s = 0; s < count; s++) {
                assert_int_equal(sv.tags[s], 100 + s);
                assert_int_equal(sv.opcodes[s], 0x10 + s % 4);
                const struct sc_ring_slot *slot = sc_ring_slot_of(&cl, s);
                assert_int_equal(slot->tag, 100 + s);
                assert_int_equal(slot->opcode, 0x10 + s % 4);
                assert_int_equal(slot->status, 100 + s);
                for (int a = 0; a < 6; a++)
                    assert_int_equal(slot->arg[a], (uint64_t)(100 + s) * 8 + (uint64_t)a + 1);
            }
        }
    }
}

static void test_max_batch_zero(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = ECHO};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 4, 0);
    assert_int_equal(ring_consumer_poll(&c, 0, &ops, &sv), 0);
    assert_int_equal(sv.calls, 0);
    assert_int_equal(ring.tail, 0);
    assert_int_equal(ring_consumer_poll(&c, 4, &ops, &sv), 4);
}

static void test_full_refuses_reserve(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = ECHO};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);

    /* reserved but unpublished slots count */
    for (unsigned i = 0; i < N; i++) {
        struct sc_ring_slot *s = sc_ring_reserve(&cl);
        assert_ptr_equal(s, &ring.slot[i]);
        s->tag = i;
        s->opcode = SC_OP_NULL;
    }
    assert_null(sc_ring_reserve(&cl));
    assert_int_equal(ring.head, 0);
    assert_int_equal(sc_ring_publish(&cl), N - 1);
    assert_null(sc_ring_reserve(&cl));
    /* a full ring is a valid ring */
    assert_int_equal(ring_consumer_poll(&c, 1, &ops, &sv), 1);
    assert_false(c.broken);
    /* one slot free again: the first one */
    assert_ptr_equal(sc_ring_reserve(&cl), &ring.slot[0]);
    assert_null(sc_ring_reserve(&cl));
    sc_ring_publish(&cl);
    assert_int_equal(ring_consumer_poll(&c, 1000, &ops, &sv), N);
    assert_int_equal(c.largest_batch, N);
    assert_int_equal(sv.calls, N + 1);
}

static void test_call_timeout(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    ring_consumer_init(&c, &ring, SC_SERVICE_IRQ, 1);
    sc_ring_client_init(&cl, &ring);
    const uint64_t args[6] = {1, 2, 3, 4, 5, 6};
    uint64_t out[6] = {9, 9, 9, 9, 9, 9};

    /* nobody serves the ring: the call is posted, then gives up */
    assert_int_equal(sc_ring_call(&cl, SC_OP_NULL, args, out, 100), -SC_ETIMEDOUT);
    assert_int_equal(ring.head, 1);
    assert_int_equal(ring.slot[0].tag, 0);
    assert_int_equal(ring.slot[0].arg[5], 6);
    assert_int_equal(out[0], 9);
    /* zero spins: checks once */
    assert_int_equal(sc_ring_call(&cl, SC_OP_NULL, NULL, NULL, 0), -SC_ETIMEDOUT);
    assert_int_equal(ring.head, 2);
    assert_int_equal(ring.slot[1].arg[0], 0);

    /* a full ring: the call does not post anything */
    while (sc_ring_reserve(&cl))
        ;
    sc_ring_publish(&cl);
    assert_int_equal(ring.head, N);
    assert_int_equal(sc_ring_call(&cl, SC_OP_NULL, args, out, 1000), -SC_ETIMEDOUT);
    assert_int_equal(ring.head, N);
    assert_int_equal(cl.head, N);
    /* the timed-out requests are still served, in order */
    struct service sv = {.mode = ECHO};
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), N);
    assert_int_equal(sv.tags[0], 0);
    assert_int_equal(sv.tags[1], 1);
}

/* The 32-bit counters wrap in the middle of the ring's life. */
static void test_wraparound(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = ECHO};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    const uint32_t start = 0xfffffff0u;
    ring.head = ring.tail = start;
    c.tail = start;
    sc_ring_client_init(&cl, &ring);
    assert_int_equal(cl.head, start);

    uint32_t expect = start; /* next request number to be served */
    uint32_t tag = 0;
    for (int round = 0; round < 8; round++) {
        unsigned count = (unsigned)(round * 9 % N) + 1;
        uint32_t first = cl.head;
        uint32_t last = post_batch(&cl, count, tag);
        assert_int_equal(last, first + count - 1);
        assert_false(sc_ring_done(&cl, first));
        assert_false(sc_ring_done(&cl, last));
        /* serve all but the last one */
        unsigned calls = sv.calls;
        assert_int_equal(ring_consumer_poll(&c, count - 1, &ops, &sv), (int)count - 1);
        assert_int_equal(sc_ring_done(&cl, first), count > 1);
        assert_false(sc_ring_done(&cl, last));
        assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 1);
        assert_true(sc_ring_done(&cl, last));
        assert_true(sc_ring_done(&cl, first - 1000)); /* long done */
        assert_false(sc_ring_done(&cl, last + 1));    /* not even posted */
        for (unsigned i = 0; i < count; i++) {
            assert_int_equal(sv.tags[calls + i], tag + i);
            const struct sc_ring_slot *s = sc_ring_slot_of(&cl, first + i);
            assert_ptr_equal(s, &ring.slot[(first + i) % N]);
            assert_int_equal(s->status, tag + i);
        }
        expect += count;
        tag += count;
        assert_int_equal(c.tail, expect);
        assert_int_equal(ring.tail, expect);
        assert_int_equal(ring.head, expect);
    }
    assert_true(expect < start); /* wrapped */
    assert_false(c.broken);

    /* a full ring across the wrap */
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    ring.head = ring.tail = c.tail = 0xffffffe0u;
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, N, 0);
    assert_int_equal(ring.head, 0x20);
    assert_null(sc_ring_reserve(&cl));
    sv.calls = 0;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), N);
    assert_int_equal(ring.tail, 0x20);
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(sv.tags[i], i);
}

/* Checks a ring is broken for good: shared state, private flag, and no service even after
 * the guest repairs head and state. */
static void assert_stays_broken(struct ring_consumer *c, struct service *sv)
{
    unsigned calls = sv->calls;
    assert_true(c->broken);
    assert_int_equal(ring.state, SC_RING_BROKEN);
    /* the guest repairs head and state */
    ring.head = c->tail + 1;
    ring.state = SC_RING_OK;
    assert_int_equal(ring_consumer_poll(c, N, &ops, sv), -E_BADMSG);
    assert_int_equal(ring.state, SC_RING_BROKEN);
    ring.head = c->tail;
    assert_int_equal(ring_consumer_poll(c, N, &ops, sv), -E_BADMSG);
    assert_int_equal(sv->calls, calls);
    assert_true(c->broken);
}

static void test_corrupt_head(void **state)
{
    static const uint32_t starts[] = {0, 5, 0x7fffffff, 0xfffffff0u};
    /* head - tail for each corruption: far ahead, one past full, behind, far behind */
    static const uint32_t deltas[] = {N + 1, 0x80000000u, 0xffffffffu, 0xffffff00u, 1000};
    for (size_t si = 0; si < ARRAY_SIZE(starts); si++) {
        for (size_t di = 0; di < ARRAY_SIZE(deltas); di++) {
            struct ring_consumer c;
            struct service sv = {.mode = ECHO};
            ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
            ring.tail = c.tail = starts[si];
            ring.head = starts[si] + deltas[di];
            assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), -E_BADMSG);
            assert_int_equal(sv.calls, 0);
            assert_int_equal(ring.tail, starts[si]);
            assert_int_equal(c.requests, 0);
            assert_stays_broken(&c, &sv);
        }
    }

    /* broken after serving some: head jumps back behind the private tail */
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = ECHO};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 10, 0);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 10);
    ring.head = 9;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), -E_BADMSG);
    assert_int_equal(c.requests, 10);
    assert_stays_broken(&c, &sv);
}

static void test_guest_rewrites_tail(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = ECHO};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 5, 40);

    static const uint32_t forged[] = {3, 5, 1000, 0xffffffffu, 0x80000000u};
    for (unsigned i = 0; i < ARRAY_SIZE(forged); i++) {
        ring.tail = forged[i];
        assert_int_equal(ring_consumer_poll(&c, 1, &ops, &sv), 1);
        assert_int_equal(sv.tags[i], 40 + i); /* request i, whatever the guest wrote */
        assert_int_equal(ring.tail, i + 1);
        assert_int_equal(c.tail, i + 1);
    }
    /* nothing pending: the forged tail is still put back */
    ring.tail = 77;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 0);
    assert_int_equal(ring.tail, 5);
    assert_false(c.broken);

    /* nor do the header fields the guest can also write */
    ring.nslots = 1;
    ring.magic = 0;
    post_batch(&cl, N, 0);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), N);
    ring.nslots = 0xffffffffu;
    post_batch(&cl, 3, 0);
    ring.head = c.tail + N + 1;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), -E_BADMSG);
}

static void test_handler_cannot_change_identity(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = SCRIBBLE};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 3, 500);
    ring.slot[1].flags = 3; /* a reserved value is returned as the guest wrote it */
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 3);
    for (uint32_t s = 0; s < 3; s++) {
        const struct sc_ring_slot *slot = sc_ring_slot_of(&cl, s);
        assert_int_equal(slot->opcode, 0x10 + s);
        assert_int_equal(slot->tag, 500 + s);
        assert_int_equal(slot->flags, s == 1 ? 3 : 0);
        /* the results do come back */
        assert_int_equal(slot->status, 5);
        assert_int_equal(slot->arg[0], 0x1234);
        assert_int_equal(slot->arg[1], (500 + s) * 8 + 1);
    }
}

/* The guest rewriting a slot while it is served changes neither the request the handler
 * sees (one copy) nor what is written back (the copy, with the original identity). */
static void test_no_double_fetch(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = RACE, .shared = &ring.slot[0]};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 1, 9);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 1);
    assert_int_equal(ring.slot[0].opcode, 0x10);
    assert_int_equal(ring.slot[0].tag, 9);
    assert_int_equal(ring.slot[0].arg[0], 9 * 8);
    assert_int_equal(ring.slot[0].status, 9 * 8);
}

static void test_status_preset(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = SILENT};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 2, 0); /* the guest wrote status 0x5a5a */
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 2);
    assert_int_equal(ring.slot[0].status, -E_NOSYS);
    assert_int_equal(ring.slot[1].status, -E_NOSYS);
    assert_int_equal(c.errors, 2);
}

static void test_counters(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = ODD_FAILS};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    /* batches of 3, 7, 2 (tags 0..11: six odd ones fail) */
    post_batch(&cl, 3, 0);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 3);
    post_batch(&cl, 7, 3);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 7);
    post_batch(&cl, 2, 10);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 2);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 0);
    assert_int_equal(c.requests, 12);
    assert_int_equal(c.errors, 6);
    assert_int_equal(c.largest_batch, 7);
    for (uint32_t s = 0; s < 12; s++)
        assert_int_equal(sc_ring_slot_of(&cl, s)->status, s & 1 ? -E_INVAL : 0);
    /* a broken ring counts nothing more */
    post_batch(&cl, 1, 12);
    ring.head = c.tail - 1;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), -E_BADMSG);
    assert_int_equal(c.requests, 12);
    assert_int_equal(c.errors, 6);
}

/* A deferred request holds its own ring (later requests wait: completions stay in order) and
 * nothing else: the other ring of the same side core is served on every pass. */
static void test_deferred_blocks_only_its_ring(void **state)
{
    struct ring_consumer c, d;
    struct sc_ring_client cl, dl;
    struct service sv = {.mode = DEFER, .defer_opcode = 0x11, .released_status = 5};
    struct service sd = {.mode = ECHO};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    ring_consumer_init(&d, &other, SC_SERVICE_PT, 1);
    sc_ring_client_init(&cl, &ring);
    sc_ring_client_init(&dl, &other);
    post_batch(&cl, 4, 70); /* opcodes 0x10, 0x11 (deferred), 0x12, 0x13 */
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 1);
    assert_true(c.deferred);
    assert_int_equal(sv.calls, 2); /* the one after it is not even read */
    assert_int_equal(ring.tail, 1);
    assert_true(sc_ring_done(&cl, 0));
    assert_false(sc_ring_done(&cl, 1));

    for (int pass = 0; pass < 3; pass++) {
        post_batch(&dl, 3, 200 + 3 * (uint32_t)pass);
        assert_int_equal(ring_consumer_poll(&d, N, &ops, &sd), 3);
        assert_true(sc_ring_done(&dl, dl.head - 1));
        unsigned calls = sv.calls;
        assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 0);
        assert_int_equal(sv.calls, calls); /* held: asked whether ready, not handled again */
        assert_int_equal(ring.tail, 1);
        assert_false(sc_ring_done(&cl, 1));
    }
    assert_int_equal(sv.ready_calls, 4); /* once when deferred, once per pass */
    assert_int_equal(d.requests, 9);

    /* released: the held request completes first, then the rest, in one pass */
    sv.released = true;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 3);
    assert_false(c.deferred);
    assert_int_equal(ring.tail, 4);
    const struct sc_ring_slot *held = sc_ring_slot_of(&cl, 1);
    assert_int_equal(held->tag, 71);
    assert_int_equal(held->opcode, 0x11);
    assert_int_equal(held->status, 100 + 71 + 5); /* the handler's, then ready's */
    for (int a = 0; a < 6; a++)
        assert_int_equal(held->arg[a], 71 * 8 + (uint64_t)a + 1);
    for (uint32_t s = 0; s < 4; s++)
        assert_int_equal(sv.tags[s], 70 + s);
    assert_int_equal(sc_ring_slot_of(&cl, 3)->status, 73);
    assert_int_equal(c.requests, 4);
    assert_int_equal(c.deferrals, 1);
    assert_int_equal(c.largest_batch, 3);
}

/* While a request is held, the guest rewriting its slot and the shared tail changes nothing:
 * the completion is the side core's copy, and tail stays where it was. */
static void test_deferred_guest_scribbles(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = DEFER, .defer_opcode = 0x10};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 2, 40); /* 0x10 (deferred), 0x11 */
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 0);
    assert_true(c.deferred);

    memset(&ring.slot[0], 0x77, sizeof(ring.slot[0]));
    memset(&ring.slot[1], 0x66, sizeof(ring.slot[1])); /* not read yet: the guest may */
    ring.tail = 1;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 0);
    assert_int_equal(ring.tail, 0); /* put back */
    assert_int_equal(sv.calls, 1);

    sv.released = true;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 2);
    const struct sc_ring_slot *s0 = &ring.slot[0];
    assert_int_equal(s0->opcode, 0x10);
    assert_int_equal(s0->flags, 0);
    assert_int_equal(s0->tag, 40);
    assert_int_equal(s0->status, 140);
    assert_int_equal(s0->arg[0], 40 * 8 + 1);
    assert_int_equal(sv.tags[1], 0x66666666u); /* the next request as the guest left it */
    assert_int_equal(ring.tail, 2);
}

/* A condition already met: the request completes in the same pass, never held. */
static void test_deferred_ready_at_once(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = DEFER, .defer_opcode = 0x10, .released = true};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 5, 0); /* 0x10 twice */
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 5);
    assert_false(c.deferred);
    assert_int_equal(c.deferrals, 0);
    assert_int_equal(sv.ready_calls, 2);
    assert_int_equal(ring.slot[4].status, 104);
}

/* The held request's completion counts in the batch; max_batch 0 completes nothing. */
static void test_deferred_in_batch(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = DEFER, .defer_opcode = 0x12};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 6, 0); /* 0x12 at 2, then again at 6 - not posted */
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 2);
    sv.released = true;
    assert_int_equal(ring_consumer_poll(&c, 0, &ops, &sv), 0);
    assert_true(c.deferred);
    assert_int_equal(ring_consumer_poll(&c, 1, &ops, &sv), 1);
    assert_false(c.deferred);
    assert_int_equal(ring.tail, 3);
    assert_int_equal(ring_consumer_poll(&c, 2, &ops, &sv), 2);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 1);
    assert_int_equal(ring.tail, 6);
    assert_int_equal(c.requests, 6);
}

/* Corrupted indices are still caught while a request is held; its completion is dropped
 * with the ring, even once its condition is met. */
static void test_deferred_then_broken(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = DEFER, .defer_opcode = 0x10};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, 3, 0);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 0);
    assert_true(c.deferred);
    ring.head = c.tail + N + 1;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), -E_BADMSG);
    /* still held: whatever waits on its condition (table pages) is released only by ready */
    assert_true(c.deferred);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), -E_BADMSG);
    assert_true(c.deferred);
    sv.released = true;
    ring.slot[0].status = 0x5a5a;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), -E_BADMSG);
    assert_false(c.deferred); /* settled, and dropped with the ring */
    assert_stays_broken(&c, &sv);
    assert_int_equal(ring.tail, 0);
    assert_int_equal(ring.slot[0].status, 0x5a5a); /* never written back */
    assert_int_equal(c.requests, 0);

    /* head moved back onto the held request: it cannot be taken back, and completing it
     * would put tail past head */
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    sv.released = false;
    post_batch(&cl, N, 0); /* full, the first one held */
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 0);
    assert_true(c.deferred);
    ring.head = 0;
    sv.released = true;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), -E_BADMSG);
    assert_int_equal(ring.tail, 0);
    assert_stays_broken(&c, &sv);
}

/* A held request still leaves room for a full ring behind it, and no more. */
static void test_deferred_full_ring(void **state)
{
    struct ring_consumer c;
    struct sc_ring_client cl;
    struct service sv = {.mode = DEFER, .defer_opcode = 0x10};
    ring_consumer_init(&c, &ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&cl, &ring);
    post_batch(&cl, N, 0);
    assert_null(sc_ring_reserve(&cl));
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 0);
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), 0); /* head = tail + N: still fine */
    assert_false(c.broken);
    ring.head = N + 1;
    assert_int_equal(ring_consumer_poll(&c, N, &ops, &sv), -E_BADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_init_header, setup),
        cmocka_unit_test_setup(test_batch_in_order, setup),
        cmocka_unit_test_setup(test_max_batch_zero, setup),
        cmocka_unit_test_setup(test_full_refuses_reserve, setup),
        cmocka_unit_test_setup(test_call_timeout, setup),
        cmocka_unit_test_setup(test_wraparound, setup),
        cmocka_unit_test_setup(test_corrupt_head, setup),
        cmocka_unit_test_setup(test_guest_rewrites_tail, setup),
        cmocka_unit_test_setup(test_handler_cannot_change_identity, setup),
        cmocka_unit_test_setup(test_no_double_fetch, setup),
        cmocka_unit_test_setup(test_status_preset, setup),
        cmocka_unit_test_setup(test_counters, setup),
        cmocka_unit_test_setup(test_deferred_blocks_only_its_ring, setup),
        cmocka_unit_test_setup(test_deferred_guest_scribbles, setup),
        cmocka_unit_test_setup(test_deferred_ready_at_once, setup),
        cmocka_unit_test_setup(test_deferred_in_batch, setup),
        cmocka_unit_test_setup(test_deferred_then_broken, setup),
        cmocka_unit_test_setup(test_deferred_full_ring, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
