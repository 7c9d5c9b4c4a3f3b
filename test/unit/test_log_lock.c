/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The console lock: a CPU that faulted while printing neither waits for itself nor holds
 * up the others; mutual exclusion otherwise. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/log_lock.h"

#define SHORT_WAIT 1000 /* spins: long enough for nothing here, a test never hangs */

static void test_take_and_release(void **state)
{
    (void)state;
    struct log_lock l = {0};
    assert_int_equal(log_lock_acquire(&l, 0, LOG_LOCK_FOREVER), LOG_LOCK_TAKEN);
    assert_int_equal(l.holder, 1);
    log_lock_release(&l, 0, LOG_LOCK_TAKEN);
    assert_int_equal(l.holder, 0);
    assert_int_equal(log_lock_acquire(&l, 7, SHORT_WAIT), LOG_LOCK_TAKEN);
    assert_int_equal(l.holder, 8);
    log_lock_release(&l, 7, LOG_LOCK_TAKEN);
    assert_int_equal(l.holder, 0);
}

/* An exception while printing: the CPU holds the lock and prints again. */
static void test_reentry_does_not_wait_for_itself(void **state)
{
    (void)state;
    struct log_lock l = {0};
    assert_int_equal(log_lock_acquire(&l, 3, LOG_LOCK_FOREVER), LOG_LOCK_TAKEN);
    assert_int_equal(log_lock_acquire(&l, 3, SHORT_WAIT), LOG_LOCK_REENTERED);
    assert_int_equal(log_lock_acquire(&l, 3, LOG_LOCK_FOREVER), LOG_LOCK_REENTERED);
    /* the inner line's release leaves the outer one's lock alone */
    log_lock_release(&l, 3, LOG_LOCK_REENTERED);
    assert_int_equal(l.holder, 4);
    log_lock_release(&l, 3, LOG_LOCK_TAKEN);
    assert_int_equal(l.holder, 0);
}

/* A CPU in trouble waits for another's line only so long, then prints anyway, and its
 * release does not free the holder's lock. */
static void test_bounded_wait_forces(void **state)
{
    (void)state;
    struct log_lock l = {0};
    assert_int_equal(log_lock_acquire(&l, 1, LOG_LOCK_FOREVER), LOG_LOCK_TAKEN);
    assert_int_equal(log_lock_acquire(&l, 2, SHORT_WAIT), LOG_LOCK_FORCED);
    assert_int_equal(log_lock_acquire(&l, 2, 0), LOG_LOCK_FORCED);
    log_lock_release(&l, 2, LOG_LOCK_FORCED);
    assert_int_equal(l.holder, 2);
    log_lock_release(&l, 2, LOG_LOCK_TAKEN); /* not its lock: nothing happens */
    assert_int_equal(l.holder, 2);
    log_lock_release(&l, 1, LOG_LOCK_TAKEN);
    assert_int_equal(log_lock_acquire(&l, 2, 0), LOG_LOCK_TAKEN);
}

/* A CPU that parks lets the lock go, only if it is its own. */
static void test_abandon(void **state)
{
    (void)state;
    struct log_lock l = {0};
    assert_false(log_lock_abandon(&l, 0));
    assert_int_equal(log_lock_acquire(&l, 5, LOG_LOCK_FOREVER), LOG_LOCK_TAKEN);
    assert_false(log_lock_abandon(&l, 4));
    assert_int_equal(l.holder, 6);
    assert_true(log_lock_abandon(&l, 5));
    assert_int_equal(l.holder, 0);
    assert_int_equal(log_lock_acquire(&l, 4, SHORT_WAIT), LOG_LOCK_TAKEN);
}

/* ---- threads as CPUs ---- */

#define THREADS 4
#define ROUNDS 20000

struct shared {
    struct log_lock lock;
    unsigned long counter; /* changed only under the lock, non-atomically */
    unsigned inside;       /* CPUs inside at once: must stay at most 1 */
    unsigned max_inside;
};

struct worker {
    struct shared *s;
    unsigned cpu;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (unsigned i = 0; i < ROUNDS; i++) {
        enum log_lock_got got = log_lock_acquire(&w->s->lock, w->cpu, LOG_LOCK_FOREVER);
        unsigned in = __atomic_add_fetch(&w->s->inside, 1, __ATOMIC_RELAXED);
        if (in > w->s->max_inside)
            w->s->max_inside = in;
        w->s->counter++;
        __atomic_sub_fetch(&w->s->inside, 1, __ATOMIC_RELAXED);
        log_lock_release(&w->s->lock, w->cpu, got);
    }
    return NULL;
}

static void test_mutual_exclusion(void **state)
{
    (void)state;
    struct shared s = {0};
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        w[i] = (struct worker){&s, i};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(s.counter, (unsigned long)THREADS * ROUNDS);
    assert_int_equal(s.max_inside, 1);
    assert_int_equal(s.lock.holder, 0);
}

/* A CPU parks holding the lock (faulted while printing): a CPU waiting without limit
 * gets it once the parked one abandons it. */
static void *wait_forever(void *arg)
{
    struct log_lock *l = arg;
    return (void *)(uintptr_t)log_lock_acquire(l, 1, LOG_LOCK_FOREVER);
}

static void test_parked_holder_does_not_block_others(void **state)
{
    (void)state;
    struct log_lock l = {0};
    assert_int_equal(log_lock_acquire(&l, 2, LOG_LOCK_FOREVER), LOG_LOCK_TAKEN);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_forever, &l), 0);
    /* the exception path on CPU 2: prints (re-entering), then parks */
    assert_int_equal(log_lock_acquire(&l, 2, SHORT_WAIT), LOG_LOCK_REENTERED);
    assert_true(log_lock_abandon(&l, 2));
    void *got;
    pthread_join(t, &got);
    assert_int_equal((uintptr_t)got, LOG_LOCK_TAKEN);
    assert_int_equal(l.holder, 2); /* CPU 1's now */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_and_release),
        cmocka_unit_test(test_reentry_does_not_wait_for_itself),
        cmocka_unit_test(test_bounded_wait_forces),
        cmocka_unit_test(test_abandon),
        cmocka_unit_test(test_mutual_exclusion),
        cmocka_unit_test(test_parked_holder_does_not_block_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
