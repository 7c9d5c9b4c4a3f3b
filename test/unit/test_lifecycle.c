/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Partition lifecycle: exits, stops, restarts and the hypervisor's stop in every order,
 * and a restart racing the last exit on two threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmexit/lifecycle.h"

static void test_all_exit_finishes(void **state)
{
    (void)state;
    struct partition_life l;
    life_init(&l, 3);
    assert_int_equal(life_state(&l), PARTITION_IDLE);
    life_enter(&l);
    life_enter(&l); /* the second vCPU entering changes nothing */
    assert_int_equal(life_state(&l), PARTITION_RUNNING);
    assert_false(life_vcpu_exited(&l));
    assert_false(life_vcpu_exited(&l));
    assert_true(life_vcpu_exited(&l)); /* the last one */
    assert_int_equal(life_state(&l), PARTITION_FINISHED);
    assert_int_equal(life_exited(&l), 3);
    assert_false(life_vcpu_exited(&l)); /* never counts past every vCPU */
    assert_int_equal(life_exited(&l), 3);
}

/* vCPU 1 parked (counts as exited), started again, then everyone exits. */
static void test_resume_then_last_exit(void **state)
{
    (void)state;
    struct partition_life l;
    life_init(&l, 2);
    life_enter(&l);
    assert_false(life_vcpu_exited(&l)); /* vCPU 1 parked */
    assert_true(life_vcpu_resume(&l));  /* and started again */
    assert_int_equal(life_exited(&l), 0);
    assert_false(life_vcpu_exited(&l)); /* vCPU 0 exits: vCPU 1 still runs */
    assert_int_equal(life_state(&l), PARTITION_RUNNING);
    assert_true(life_vcpu_exited(&l));
    assert_int_equal(life_state(&l), PARTITION_FINISHED);
}

/* The last running vCPU exits before the parked one's restart lands: the restart is void
 * and the partition stays finished (it used to be revived while FINISHED). */
static void test_last_exit_then_resume_is_void(void **state)
{
    (void)state;
    struct partition_life l;
    life_init(&l, 2);
    life_enter(&l);
    assert_false(life_vcpu_exited(&l)); /* vCPU 1 parked */
    assert_true(life_vcpu_exited(&l));  /* vCPU 0 exits: every vCPU has exited */
    assert_false(life_vcpu_resume(&l));
    assert_int_equal(life_state(&l), PARTITION_FINISHED);
    assert_int_equal(life_exited(&l), 2);
}

static void test_stop(void **state)
{
    (void)state;
    struct partition_life l;
    life_init(&l, 2);
    assert_true(life_stop(&l)); /* an idle partition can be stopped */
    assert_false(life_stop(&l));
    assert_false(life_vcpu_resume(&l));
    life_enter(&l);
    assert_int_equal(life_state(&l), PARTITION_STOPPED);
    life_vcpu_exited(&l);
    assert_false(life_vcpu_exited(&l)); /* a stopped partition never becomes finished */
    assert_int_equal(life_state(&l), PARTITION_STOPPED);

    life_init(&l, 1);
    life_enter(&l);
    assert_true(life_vcpu_exited(&l));
    assert_false(life_stop(&l)); /* a finished one is not stopped after the fact */
    assert_int_equal(life_state(&l), PARTITION_FINISHED);
}

/* Two threads: vCPU 0 exits for good while vCPU 1 (parked) is started again. Whatever the
 * order, either the restart was void and the partition finished, or vCPU 1 runs and the
 * partition is still running with one exited vCPU. */
struct race {
    struct partition_life l;
    uint32_t ready, go;
    bool resumed;
};

static void *resume_thread(void *arg)
{
    struct race *r = arg;
    __atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
        ;
    r->resumed = life_vcpu_resume(&r->l);
    return NULL;
}

static void test_resume_races_last_exit(void **state)
{
    (void)state;
    unsigned revived = 0, void_starts = 0;
    for (unsigned i = 0; i < 500; i++) {
        struct race r = {.ready = 0};
        life_init(&r.l, 2);
        life_enter(&r.l);
        life_vcpu_exited(&r.l); /* vCPU 1 parked */
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, resume_thread, &r), 0);
        while (!__atomic_load_n(&r.ready, __ATOMIC_ACQUIRE))
            ;
        __atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
        bool finished = life_vcpu_exited(&r.l); /* vCPU 0 leaves */
        pthread_join(t, NULL);
        if (r.resumed) {
            assert_false(finished);
            assert_int_equal(life_state(&r.l), PARTITION_RUNNING);
            assert_int_equal(life_exited(&r.l), 1);
            revived++;
        } else {
            assert_true(finished);
            assert_int_equal(life_state(&r.l), PARTITION_FINISHED);
            assert_int_equal(life_exited(&r.l), 2);
            void_starts++;
        }
    }
    print_message("restart won %u times, last exit won %u times\n", revived, void_starts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_exit_finishes),
        cmocka_unit_test(test_resume_then_last_exit),
        cmocka_unit_test(test_last_exit_then_resume_is_void),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_resume_races_last_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
