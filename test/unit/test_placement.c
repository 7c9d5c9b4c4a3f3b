/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Placement of (vCPU, service) rings on side cores, from configurations parsed from text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/klib.h"
#include "sidecore/placement.h"

#define MAX_VCPUS 300
#define UNSET 0xbeefu

struct fixture {
    struct config cfg;
    struct cfg_errors errs;
    uint16_t serving[MAX_VCPUS + 1][SC_SERVICES]; /* one row more than asked, as a guard */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    for (unsigned k = 0; k <= MAX_VCPUS; k++)
        for (unsigned s = 0; s < SC_SERVICES; s++)
            f->serving[k][s] = UNSET;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void parse(struct fixture *f, const char *text)
{
    config_defaults(&f->cfg);
    int rc = config_parse(text, strlen(text), &f->cfg, &f->errs);
    if (rc != 0 && f->errs.count)
        print_error("line %u: %s\n", f->errs.e[0].line, f->errs.e[0].msg);
    assert_int_equal(rc, 0);
}

static int place(struct fixture *f, unsigned nvcpus)
{
    assert_true(nvcpus <= MAX_VCPUS);
    return placement_compute(&f->cfg, nvcpus, f->serving);
}

/* Rows from nvcpus on were not written. */
static void assert_untouched_from(const struct fixture *f, unsigned nvcpus)
{
    for (unsigned k = nvcpus; k <= MAX_VCPUS; k++)
        for (unsigned s = 0; s < SC_SERVICES; s++)
            assert_int_equal(f->serving[k][s], UNSET);
}

static void test_one_side_core_serves_all(void **state)
{
    struct fixture *f = *state;
    parse(f, "sidecore cpu=3 services=pt,irq,io\n");
    assert_int_equal(place(f, 8), 0);
    for (unsigned k = 0; k < 8; k++)
        for (unsigned s = 0; s < SC_SERVICES; s++)
            assert_int_equal(f->serving[k][s], 3);
    assert_untouched_from(f, 8);
}

static void test_services_on_their_own_cores(void **state)
{
    struct fixture *f = *state;
    parse(f, "sidecore cpu=0 services=pt,irq\n"
             "sidecore cpu=1 services=io\n"
             "partition name=a cpus=2-3 memory=64M\n");
    assert_int_equal(place(f, 5), 0);
    for (unsigned k = 0; k < 5; k++) {
        assert_int_equal(f->serving[k][SC_SERVICE_PT], 0);
        assert_int_equal(f->serving[k][SC_SERVICE_IRQ], 0);
        assert_int_equal(f->serving[k][SC_SERVICE_IO], 1);
    }
    assert_untouched_from(f, 5);

    /* the order of the service list does not matter */
    parse(f, "sidecore cpu=9 services=io,irq\nsidecore cpu=4 services=pt\n");
    assert_int_equal(place(f, 2), 0);
    for (unsigned k = 0; k < 2; k++) {
        assert_int_equal(f->serving[k][SC_SERVICE_PT], 4);
        assert_int_equal(f->serving[k][SC_SERVICE_IRQ], 9);
        assert_int_equal(f->serving[k][SC_SERVICE_IO], 9);
    }
}

static void test_service_split_round_robin(void **state)
{
    struct fixture *f = *state;
    parse(f, "sidecore cpu=0 services=pt,irq\n"
             "sidecore cpu=1 services=pt,io\n");
    assert_int_equal(place(f, 7), 0);
    for (unsigned k = 0; k < 7; k++) {
        assert_int_equal(f->serving[k][SC_SERVICE_PT], k % 2);
        assert_int_equal(f->serving[k][SC_SERVICE_IRQ], 0);
        assert_int_equal(f->serving[k][SC_SERVICE_IO], 1);
    }
    assert_untouched_from(f, 7);
}

static void test_split_follows_configuration_order(void **state)
{
    struct fixture *f = *state;
    /* three io cores listed out of CPU order; the split follows the lines */
    parse(f, "sidecore cpu=7 services=io\n"
             "sidecore cpu=2 services=pt,irq,io\n"
             "sidecore cpu=5 services=io,irq\n");
    static const uint16_t io[] = {7, 2, 5};
    static const uint16_t irq[] = {2, 5};
    assert_int_equal(place(f, 10), 0);
    for (unsigned k = 0; k < 10; k++) {
        assert_int_equal(f->serving[k][SC_SERVICE_PT], 2);
        assert_int_equal(f->serving[k][SC_SERVICE_IRQ], irq[k % 2]);
        assert_int_equal(f->serving[k][SC_SERVICE_IO], io[k % 3]);
    }
    assert_untouched_from(f, 10);
}

static void test_many_vcpus(void **state)
{
    struct fixture *f = *state;
    parse(f, "sidecore cpu=200 services=pt\n"
             "sidecore cpu=255 services=pt,irq,io\n"
             "sidecore cpu=0 services=pt\n"
             "sidecore cpu=17 services=pt\n");
    static const uint16_t pt[] = {200, 255, 0, 17};
    assert_int_equal(place(f, MAX_VCPUS), 0);
    for (unsigned k = 0; k < MAX_VCPUS; k++) {
        assert_int_equal(f->serving[k][SC_SERVICE_PT], pt[k % 4]);
        assert_int_equal(f->serving[k][SC_SERVICE_IRQ], 255);
        assert_int_equal(f->serving[k][SC_SERVICE_IO], 255);
    }
    assert_untouched_from(f, MAX_VCPUS);
}

static void test_service_without_side_core(void **state)
{
    struct fixture *f = *state;
    static const char *const configs[] = {
        "sidecore cpu=0 services=pt,irq\n",                         /* no io */
        "sidecore cpu=0 services=io\nsidecore cpu=1 services=io\n", /* no pt, no irq */
        "sidecore cpu=0 services=pt\nsidecore cpu=1 services=io\n", /* no irq */
        "partition name=a cpus=1 memory=2M\n",                      /* no side core at all */
        "",
    };
    for (size_t i = 0; i < ARRAY_SIZE(configs); i++) {
        parse(f, configs[i]);
        assert_int_equal(place(f, 4), -E_INVAL);
    }
}

static void test_no_vcpus(void **state)
{
    struct fixture *f = *state;
    parse(f, "sidecore cpu=0 services=pt,irq\nsidecore cpu=1 services=io\n");
    assert_int_equal(place(f, 0), 0);
    assert_untouched_from(f, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_one_side_core_serves_all),
        T(test_services_on_their_own_cores),
        T(test_service_split_round_robin),
        T(test_split_follows_configuration_order),
        T(test_many_vcpus),
        T(test_service_without_side_core),
        T(test_no_vcpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
