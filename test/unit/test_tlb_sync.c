/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Guest TLB flush protocol (vmexit/tlb_sync.c): who is waited for, and a flush never missed. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "xorshift.h"

#include "vmexit/tlb_sync.h"

/* A vCPU out of guest mode is never waited for; it flushes when it next enters. */
static void test_not_in_guest(void **state)
{
    (void)state;
    struct tlb_sync s = {0};
    struct tlb_vcpu v = {0};
    uint32_t g = tlb_sync_begin(&s);
    assert_int_equal(g, 1);
    assert_false(tlb_sync_in_guest(&v));
    assert_true(tlb_sync_flushed(&v, g));
    assert_true(tlb_sync_enter(&v, &s)); /* flushes on this entry */
    assert_int_equal(v.done, g);
    assert_true(tlb_sync_in_guest(&v));
    assert_true(tlb_sync_flushed(&v, g));
    tlb_sync_exit(&v);
    assert_false(tlb_sync_enter(&v, &s)); /* once */
}

/* A vCPU in guest mode is waited for until it leaves it (the kick's exit) or acknowledges. */
static void test_in_guest(void **state)
{
    (void)state;
    struct tlb_sync s = {0};
    struct tlb_vcpu v = {0}, w = {0};
    assert_false(tlb_sync_enter(&v, &s)); /* nothing requested yet */
    assert_false(tlb_sync_enter(&w, &s));
    uint32_t g = tlb_sync_begin(&s);
    assert_true(tlb_sync_in_guest(&v));
    assert_false(tlb_sync_flushed(&v, g));
    assert_false(tlb_sync_flushed(&w, g));
    tlb_sync_exit(&v); /* kicked out: done with g, whenever it comes back */
    assert_true(tlb_sync_flushed(&v, g));
    assert_true(tlb_sync_enter(&v, &s));
    assert_true(tlb_sync_flushed(&v, g)); /* in guest again, flushed for g */

    /* two generations before w leaves: one flush covers both */
    uint32_t g2 = tlb_sync_begin(&s);
    assert_false(tlb_sync_flushed(&v, g2));
    assert_false(tlb_sync_flushed(&w, g));
    tlb_sync_exit(&w);
    assert_true(tlb_sync_enter(&w, &s));
    assert_int_equal(w.done, g2);
    assert_true(tlb_sync_flushed(&w, g) && tlb_sync_flushed(&w, g2));
    assert_false(tlb_sync_enter(&w, &s));
}

/* The 32-bit generation wraps. */
static void test_wrap(void **state)
{
    (void)state;
    struct tlb_sync s = {0xfffffffeu};
    struct tlb_vcpu v = {0, 0xfffffffeu};
    assert_false(tlb_sync_enter(&v, &s));
    uint32_t g1 = tlb_sync_begin(&s), g2 = tlb_sync_begin(&s), g3 = tlb_sync_begin(&s);
    assert_int_equal(g3, 1);
    assert_false(tlb_sync_flushed(&v, g1));
    tlb_sync_exit(&v);
    assert_true(tlb_sync_enter(&v, &s));
    assert_int_equal(v.done, 1);
    assert_true(tlb_sync_flushed(&v, g1) && tlb_sync_flushed(&v, g2) && tlb_sync_flushed(&v, g3));
    uint32_t g4 = tlb_sync_begin(&s);
    assert_false(tlb_sync_flushed(&v, g4));
}

/* ---- Threads: a requester and vCPUs, the kick a flag the vCPU's guest loop polls. Each vCPU
 * knows the generation its TLB was last flushed for; whenever, in guest mode, it sees that
 * the requester completed a later generation, a flush was missed. */
#define VCPUS 1              /* one per free core: the requester needs a core of its own too */
#define ROUNDS 200000u       /* generations at least, */
#define MIN_SESSIONS 100000u /* and guest sessions of each vCPU at least, */
#define LIMIT_S 20           /* unless this many seconds passed (a loaded machine) */

struct sim_vcpu {
    struct tlb_vcpu t;
    uint32_t kicked;
    uint64_t sessions, flushes;
    uint64_t seed;
};

static struct tlb_sync sync_;
static struct sim_vcpu sims[VCPUS];
static uint32_t completed; /* the last generation the requester found complete */
static int finished, missed;
static uint32_t missed_have, missed_want;

static void *vcpu_main(void *arg)
{
    struct sim_vcpu *v = arg;
    uint32_t flushed_for = 0;
    while (!__atomic_load_n(&finished, __ATOMIC_ACQUIRE)) {
        if (tlb_sync_enter(&v->t, &sync_)) {
            flushed_for = v->t.done;
            v->flushes++;
        }
        __atomic_store_n(&v->sessions, v->sessions + 1, __ATOMIC_RELAXED);
        for (uint64_t n = xorshift64(&v->seed) % 256; n > 0; n--) { /* guest code */
            uint32_t c = __atomic_load_n(&completed, __ATOMIC_ACQUIRE);
            if ((int32_t)(flushed_for - c) < 0 &&
                !__atomic_exchange_n(&missed, 1, __ATOMIC_ACQ_REL)) {
                missed_have = flushed_for;
                missed_want = c;
            }
            if (__atomic_exchange_n(&v->kicked, 0, __ATOMIC_ACQ_REL))
                break; /* the kick's exit */
        }
        tlb_sync_exit(&v->t);
        for (uint64_t n = xorshift64(&v->seed) % 64; n > 0; n--) /* the exit handler */
            __asm__ volatile("pause");
        if (v->sessions % 4096 == 0)
            sched_yield(); /* a shared machine: let the others run */
    }
    return NULL;
}

static uint64_t fewest_sessions(void)
{
    uint64_t least = ~0ull;
    for (unsigned i = 0; i < VCPUS; i++) {
        uint64_t n = __atomic_load_n(&sims[i].sessions, __ATOMIC_RELAXED);
        least = n < least ? n : least;
    }
    return least;
}

static void test_never_missed(void **state)
{
    (void)state;
    pthread_t threads[VCPUS];
    for (unsigned i = 0; i < VCPUS; i++) {
        sims[i].seed = 0x5eed0000f00du + i;
        assert_int_equal(pthread_create(&threads[i], NULL, vcpu_main, &sims[i]), 0);
    }
    uint64_t kicks = 0, waits = 0;
    uint32_t r = 0;
    time_t t0 = time(NULL);
    while (!__atomic_load_n(&missed, __ATOMIC_ACQUIRE) && time(NULL) - t0 < LIMIT_S &&
           (r < ROUNDS || fewest_sessions() < MIN_SESSIONS)) {
        r++;
        uint32_t g = tlb_sync_begin(&sync_);
        for (unsigned i = 0; i < VCPUS; i++)
            if (tlb_sync_in_guest(&sims[i].t)) {
                __atomic_store_n(&sims[i].kicked, 1, __ATOMIC_RELEASE);
                kicks++;
            }
        for (unsigned i = 0; i < VCPUS; i++) {
            unsigned spins = 0;
            while (!tlb_sync_flushed(&sims[i].t, g)) {
                waits++;
                if (++spins % 1024 == 0)
                    sched_yield();
            }
        }
        __atomic_store_n(&completed, g, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&finished, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < VCPUS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    printf("%u generations: %llu kicks, %llu waiting polls\n", r, (unsigned long long)kicks,
           (unsigned long long)waits);
    for (unsigned i = 0; i < VCPUS; i++)
        printf("vCPU %u: %llu guest sessions, %llu flushes\n", i,
               (unsigned long long)sims[i].sessions, (unsigned long long)sims[i].flushes);
    if (missed)
        fprintf(stderr,
                "a vCPU ran in guest mode flushed for generation %u after generation %u "
                "completed\n",
                missed_have, missed_want);
    assert_int_equal(missed, 0);
    assert_true(kicks > 0);
    for (unsigned i = 0; i < VCPUS; i++)
        assert_true(sims[i].flushes > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_in_guest),
        cmocka_unit_test(test_in_guest),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_never_missed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
