/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Request rings under load: a guest thread and a side-core thread, no loss, duplicate or reorder;
 * some completions deferred until a third thread (a sibling vCPU's flush) acknowledges them. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "xorshift.h"

#include "core/klib.h"
#include "guest-stubs/include/sidecore/ring_client.h"
#include "sidecore/ring_consumer.h"

/* Requests in all. The ThreadSanitizer build defines RING_STRESS_TOTAL to keep the same
 * 10^7 unless it is too slow on a 2-core machine (see test/CMakeLists.txt). */
#ifndef RING_STRESS_TOTAL
#define RING_STRESS_TOTAL 10000000ull
#endif
#define TOTAL ((uint64_t)RING_STRESS_TOTAL)
#define N SC_RING_SLOTS
/* The 32-bit ring counters start just below the wrap, so every run crosses it. */
#define START 0xffff0000u
#define SEED_PRODUCER 0x5eed0001cafef00dull
#define SEED_CONSUMER 0x5eed0002deadbeefull
#define SEED_ACKER 0x5eed0003f1a5f1a5ull
/* sc_ring_call never times out here: a stuck consumer is caught by the ctest timeout. */
#define CALL_SPINS (1ull << 60)

static struct sc_ring ring __attribute__((aligned(4096)));
static struct ring_consumer consumer;
static int stop; /* set (atomically) by either side when it found an error */
/* Deferred completions: the side core hands out generations, the acknowledging thread catches
 * up with them now and then, as a sibling vCPU acknowledges a flush at its next entry. */
static uint64_t issued, acked;
static int consumer_done;

/* What request number i carries besides i itself. */
static uint64_t checksum(uint64_t i)
{
    return (i + 0x1234) * 0x9e3779b97f4a7c15ull ^ 0xa5a5a5a5a5a5a5a5ull;
}

static uint16_t opcode_of(uint64_t i)
{
    return (uint16_t)(i % 7 == 0 ? SC_OP_NULL : 0x100 + i % 13);
}

/* Requests whose completion waits for an acknowledgement (rare enough that the waits, which
 * on a shared 2-core machine can last a scheduler time slice, keep the run short). */
#define DEFER_EVERY 1009
static bool deferred(uint64_t i)
{
    return i % DEFER_EVERY == 5;
}

/* Waiting, politely: another engineer's build may be sharing the two cores. */
static void backoff(unsigned *spins)
{
    if (++*spins % 256 == 0)
        sched_yield();
    else
        sc_ring_cpu_relax();
}

static void report(const char *who, uint64_t i, const char *what, uint64_t got, uint64_t want)
{
    if (!__atomic_exchange_n(&stop, 1, __ATOMIC_ACQ_REL))
        fprintf(stderr, "%s: request %llu: %s: got %#llx, want %#llx\n", who, (unsigned long long)i,
                what, (unsigned long long)got, (unsigned long long)want);
}

/* ---- side core */

struct service_state {
    uint64_t next; /* the request number expected next */
};

static enum ring_outcome handler(void *ctx, struct sc_ring_slot *req, uint64_t *wait)
{
    struct service_state *st = ctx;
    const uint64_t i = st->next;
    if (req->arg[0] != i)
        report("consumer", i, "sequence number", req->arg[0], i);
    else if (req->arg[1] != checksum(i))
        report("consumer", i, "checksum", req->arg[1], checksum(i));
    else if (req->tag != (uint32_t)(START + i))
        report("consumer", i, "tag", req->tag, (uint32_t)(START + i));
    else if (req->opcode != opcode_of(i))
        report("consumer", i, "opcode", req->opcode, opcode_of(i));
    st->next++;
    req->arg[1] = req->arg[0] + 1;
    req->arg[2] = ~req->arg[0];
    req->status = 0;
    if (!deferred(i))
        return RING_COMPLETE;
    *wait = __atomic_add_fetch(&issued, 1, __ATOMIC_SEQ_CST);
    return RING_DEFERRED;
}

static bool ready(void *ctx, uint64_t wait, struct sc_ring_slot *req)
{
    (void)ctx;
    (void)req;
    return __atomic_load_n(&acked, __ATOMIC_ACQUIRE) >= wait;
}

static const struct ring_ops ops = {handler, ready};

static void *acker_main(void *unused)
{
    uint64_t rng = SEED_ACKER;
    while (!__atomic_load_n(&consumer_done, __ATOMIC_ACQUIRE)) {
        uint64_t gen = __atomic_load_n(&issued, __ATOMIC_SEQ_CST);
        for (uint64_t k = xorshift64(&rng) % 64; k > 0; k--) /* takes its time */
            sc_ring_cpu_relax();
        __atomic_store_n(&acked, gen, __ATOMIC_RELEASE);
        sched_yield(); /* the other two threads are the ones under test */
    }
    return NULL;
}

static void *consumer_main(void *unused)
{
    struct service_state st = {0};
    uint64_t rng = SEED_CONSUMER;
    unsigned idle = 0;
    /* until every request completed: the last one may be deferred */
    while (consumer.requests < TOTAL && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        unsigned max_batch = 1 + (unsigned)(xorshift64(&rng) % N);
        int r = ring_consumer_poll(&consumer, max_batch, &ops, &st);
        if (r < 0) {
            report("consumer", st.next, "poll", (uint64_t)(int64_t)r, 0);
            break;
        }
        if ((unsigned)r > max_batch)
            report("consumer", st.next, "served more than max_batch", (unsigned)r, max_batch);
        if (r == 0)
            backoff(&idle);
    }
    __atomic_store_n(&consumer_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* ---- guest */

struct producer {
    struct sc_ring_client cl;
    uint64_t posted;  /* requests reserved so far (request number cl.head - START) */
    uint64_t checked; /* completions verified so far */
    uint64_t calls, batches;
};

static void check_completion(struct producer *p, const struct sc_ring_slot *s, uint64_t i)
{
    if (s->status != 0)
        report("producer", i, "status", (uint64_t)s->status, 0);
    else if (s->tag != (uint32_t)(START + i))
        report("producer", i, "tag", s->tag, (uint32_t)(START + i));
    else if (s->opcode != opcode_of(i))
        report("producer", i, "opcode", s->opcode, opcode_of(i));
    else if (s->arg[0] != i || s->arg[1] != i + 1 || s->arg[2] != ~i)
        report("producer", i, "results", s->arg[1], i + 1);
}

/* Verifies every completed request not verified yet, in order. */
static void drain(struct producer *p)
{
    while (p->checked < p->posted && sc_ring_done(&p->cl, (uint32_t)(START + p->checked))) {
        check_completion(p, sc_ring_slot_of(&p->cl, (uint32_t)(START + p->checked)), p->checked);
        p->checked++;
    }
}

static void fill(struct sc_ring_slot *s, uint64_t i)
{
    s->opcode = opcode_of(i);
    s->flags = 0;
    s->tag = (uint32_t)(START + i);
    s->status = -1;
    s->arg[0] = i;
    s->arg[1] = checksum(i);
    for (int a = 2; a < 6; a++)
        s->arg[a] = i * (uint64_t)a;
}

static void produce(struct producer *p)
{
    uint64_t rng = SEED_PRODUCER;
    unsigned spins = 0;
    sc_ring_client_init(&p->cl, &ring);
    while (p->posted < TOTAL && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        uint64_t r = xorshift64(&rng);
        uint64_t batch = 1 + r % N;
        if (batch > TOTAL - p->posted)
            batch = TOTAL - p->posted;

        if (batch == 1 && (r >> 32) % 2 == 0) {
            /* a synchronous call; its slot (and every earlier one) must be verified before
             * a new request can reuse it, so wait for room first */
            drain(p);
            while (p->posted - p->checked >= N && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
                backoff(&spins);
                drain(p);
            }
            if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
                return;
            const uint64_t i = p->posted;
            uint64_t args[6], out[6];
            struct sc_ring_slot tmp;
            fill(&tmp, i);
            memcpy(args, tmp.arg, sizeof(args));
            int64_t st = sc_ring_call(&p->cl, opcode_of(i), args, out, CALL_SPINS);
            p->posted++;
            p->calls++;
            if (st != 0)
                report("producer", i, "call status", (uint64_t)st, 0);
            else if (out[0] != i || out[1] != i + 1 || out[2] != ~i)
                report("producer", i, "call results", out[1], i + 1);
            drain(p); /* verifies the slot too: the call used tag = its request number */
            continue;
        }

        for (uint64_t k = 0; k < batch; k++) {
            /* room for one more that does not reuse an unverified slot */
            while (p->posted - p->checked >= N) {
                if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
                    return;
                sc_ring_publish(&p->cl); /* the side core cannot free slots not yet posted */
                backoff(&spins);
                drain(p);
            }
            struct sc_ring_slot *s = sc_ring_reserve(&p->cl);
            if (!s) {
                /* tail >= every verified request, so there must be room */
                report("producer", p->posted, "reserve refused with room", 0, 1);
                return;
            }
            fill(s, p->posted);
            p->posted++;
        }
        uint32_t last = sc_ring_publish(&p->cl);
        if (last != (uint32_t)(START + p->posted - 1))
            report("producer", p->posted - 1, "publish", last, (uint32_t)(START + p->posted - 1));
        p->batches++;
        drain(p);
    }
    while (p->checked < p->posted && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        backoff(&spins);
        drain(p);
    }
}

static void test_stress(void **state)
{
    ring_consumer_init(&consumer, &ring, SC_SERVICE_PT, 3);
    ring.head = ring.tail = START;
    consumer.tail = START;

    pthread_t thread, acker;
    assert_int_equal(pthread_create(&thread, NULL, consumer_main, NULL), 0);
    assert_int_equal(pthread_create(&acker, NULL, acker_main, NULL), 0);
    struct producer p = {0};
    produce(&p);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(pthread_join(acker, NULL), 0);

    assert_int_equal(__atomic_load_n(&stop, __ATOMIC_ACQUIRE), 0);
    assert_int_equal(p.posted, TOTAL);
    assert_int_equal(p.checked, TOTAL);
    assert_int_equal(consumer.requests, TOTAL);
    assert_int_equal(consumer.errors, 0);
    assert_false(consumer.broken);
    assert_int_equal(ring.state, SC_RING_OK);
    assert_int_equal(ring.head, (uint32_t)(START + TOTAL));
    assert_int_equal(ring.tail, (uint32_t)(START + TOTAL));
    assert_true(consumer.largest_batch >= 1 && consumer.largest_batch <= N);
    assert_true(p.calls > 0 && p.batches > 0);
    assert_false(consumer.deferred);
    assert_true(consumer.deferrals > 0 && consumer.deferrals <= TOTAL / DEFER_EVERY + 1);
    printf("%llu requests: %llu batches, %llu calls, largest side-core batch %llu, %llu "
           "completions deferred\n",
           (unsigned long long)TOTAL, (unsigned long long)p.batches, (unsigned long long)p.calls,
           (unsigned long long)consumer.largest_batch, (unsigned long long)consumer.deferrals);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
