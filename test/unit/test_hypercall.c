/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The trap-path hypercall dispatcher against a fake partition with recording callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/hypercall.h"

#define RAM_SIZE (64 * 1024)
#define NVCPUS 4

struct recorder {
    unsigned console_calls;
    size_t console_len;
    size_t console_bytes; /* over all calls */
    const char *console_ptr;
    char console_text[4 * SC_CONSOLE_MAX]; /* every call's text, one after the other */
    unsigned counters_calls;
    unsigned counters_vcpu;
    int counters_null_for; /* counters_of returns NULL for this vCPU; -1: none */
    struct sc_exit_counters counters[NVCPUS];
    unsigned begin_calls, end_calls, exit_calls;
    uint64_t end_value;
    int64_t exit_status;
};

struct fixture {
    uint8_t *ram;
    uint8_t *pristine; /* what RAM held before the call */
    struct recorder rec;
    struct hc_context c;
};

static const struct sc_exit_counters *rec_counters_of(void *ctx, unsigned vcpu)
{
    struct recorder *r = ctx;
    r->counters_calls++;
    r->counters_vcpu = vcpu;
    if ((int)vcpu == r->counters_null_for || vcpu >= NVCPUS)
        return NULL;
    return &r->counters[vcpu];
}

static void rec_console(void *ctx, const char *text, size_t len)
{
    struct recorder *r = ctx;
    r->console_calls++;
    r->console_len = len;
    r->console_ptr = text;
    assert_true(len <= SC_CONSOLE_MAX);
    assert_true(r->console_bytes + len <= sizeof(r->console_text));
    memcpy(r->console_text + r->console_bytes, text, len); /* a long text may come in pieces */
    r->console_bytes += len;
}

static void rec_steady_begin(void *ctx)
{
    ((struct recorder *)ctx)->begin_calls++;
}

static uint64_t rec_steady_end(void *ctx)
{
    struct recorder *r = ctx;
    r->end_calls++;
    return r->end_value;
}

static void rec_exit(void *ctx, int64_t status)
{
    struct recorder *r = ctx;
    r->exit_calls++;
    r->exit_status = status;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->ram = malloc(RAM_SIZE);
    f->pristine = malloc(RAM_SIZE);
    if (!f->ram || !f->pristine)
        return -1;
    for (size_t i = 0; i < RAM_SIZE; i++)
        f->ram[i] = (uint8_t)(i * 7 + 3);
    memcpy(f->pristine, f->ram, RAM_SIZE);
    f->rec.counters_null_for = -1;
    for (unsigned v = 0; v < NVCPUS; v++) {
        struct sc_exit_counters *k = &f->rec.counters[v];
        k->total = 1000 * (v + 1);
        k->steady = 10 * (v + 1);
        for (unsigned r = 0; r < SC_EXIT_REASONS; r++)
            k->by_reason[r] = 0x0101010101010101ull * (v + 1) + r;
    }
    f->c = (struct hc_context){
        .guest_base = f->ram,
        .guest_size = RAM_SIZE,
        .vcpu_id = 1,
        .vcpu_count = NVCPUS,
        .ctx = &f->rec,
        .counters_of = rec_counters_of,
        .console = rec_console,
        .steady_begin = rec_steady_begin,
        .steady_end = rec_steady_end,
        .exit = rec_exit,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->ram);
    free(f->pristine);
    free(f);
    return 0;
}

static unsigned total_calls(const struct recorder *r)
{
    return r->console_calls + r->counters_calls + r->begin_calls + r->end_calls + r->exit_calls;
}

static void assert_ram_untouched(const struct fixture *f)
{
    assert_memory_equal(f->ram, f->pristine, RAM_SIZE);
}

static int64_t hc(struct fixture *f, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    return hypercall_dispatch(&f->c, op, a0, a1, a2);
}

static void test_null(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hc(f, SC_HC_NULL, 0, 0, 0), 0);
    assert_int_equal(hc(f, SC_HC_NULL, ~0ull, RAM_SIZE * 2ull, 12345), 0);
    assert_int_equal(total_calls(&f->rec), 0);
    assert_ram_untouched(f);
}

static void test_console_copies_exact_bytes(void **state)
{
    struct fixture *f = *state;
    static const char msg[] = "hello, guest\n";
    const size_t len = sizeof(msg) - 1;
    memcpy(f->ram + 0x2000, msg, len);
    memcpy(f->pristine + 0x2000, msg, len);
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, 0x2000, len, 0), (int64_t)len);
    assert_int_equal(f->rec.console_calls, 1);
    assert_int_equal(f->rec.console_len, len);
    assert_memory_equal(f->rec.console_text, msg, len);
    /* the callback gets the hypervisor's copy, never a pointer into guest RAM */
    uintptr_t p = (uintptr_t)f->rec.console_ptr;
    assert_false(p >= (uintptr_t)f->ram && p < (uintptr_t)f->ram + RAM_SIZE);
    assert_ram_untouched(f);
    assert_int_equal(total_calls(&f->rec), 1);
}

static void test_console_length_zero(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, 0x2000, 0, 0), 0);
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, RAM_SIZE, 0, 0), 0);
    assert_int_equal(f->rec.console_bytes, 0);
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, RAM_SIZE + 1, 0, 0), -E_FAULT);
    assert_int_equal(f->rec.console_bytes, 0);
}

static void test_console_max_length(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, 0x4000, SC_CONSOLE_MAX, 0), SC_CONSOLE_MAX);
    unsigned calls = f->rec.console_calls;
    assert_true(calls >= 1);
    assert_int_equal(f->rec.console_bytes, SC_CONSOLE_MAX);
    assert_memory_equal(f->rec.console_text, f->ram + 0x4000, SC_CONSOLE_MAX);

    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, 0x4000, SC_CONSOLE_MAX + 1, 0), -E_INVAL);
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, 0x4000, ~0ull, 0), -E_INVAL);
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, 0x4000, 1ull << 32, 0), -E_INVAL);
    /* too long is reported before a bad address */
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, ~0ull, SC_CONSOLE_MAX + 1, 0), -E_INVAL);
    assert_int_equal(f->rec.console_calls, calls);
    assert_ram_untouched(f);
}

static void test_console_bounds(void **state)
{
    struct fixture *f = *state;
    /* ending exactly at the end of RAM */
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, RAM_SIZE - 16, 16, 0), 16);
    assert_int_equal(f->rec.console_calls, 1);
    assert_memory_equal(f->rec.console_text, f->ram + RAM_SIZE - 16, 16);
    assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, RAM_SIZE - SC_CONSOLE_MAX, SC_CONSOLE_MAX, 0),
                     SC_CONSOLE_MAX);
    assert_int_equal(f->rec.console_bytes, 16 + SC_CONSOLE_MAX);
    assert_memory_equal(f->rec.console_text + 16, f->ram + RAM_SIZE - SC_CONSOLE_MAX,
                        SC_CONSOLE_MAX);
    unsigned calls = f->rec.console_calls;

    static const uint64_t bad[][2] = {
        {RAM_SIZE - 15, 16},               /* one byte past the end */
        {RAM_SIZE, 1},                     /* starting at the end */
        {RAM_SIZE + 0x1000, 8},            /* beyond RAM */
        {1ull << 32, 1},                   /* beyond, and truncating to 32 bits would be 0 */
        {~0ull, 1},                        /* gpa + len wraps to 0 */
        {~0ull - 3, 16},                   /* gpa + len wraps to 12 */
        {0ull - RAM_SIZE, SC_CONSOLE_MAX}, /* wraps well inside RAM */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(hc(f, SC_HC_CONSOLE_WRITE, bad[i][0], bad[i][1], 0), -E_FAULT);
    assert_int_equal(f->rec.console_calls, calls);
    assert_int_equal(total_calls(&f->rec), calls);
    assert_ram_untouched(f);
}

static void test_exit_counters_copied(void **state)
{
    struct fixture *f = *state;
    const uint64_t gpa = 0x3000;
    const size_t n = sizeof(struct sc_exit_counters);
    assert_int_equal(hc(f, SC_HC_EXIT_COUNTERS, gpa, 2, 0), 0);
    assert_int_equal(f->rec.counters_calls, 1);
    assert_int_equal(f->rec.counters_vcpu, 2);
    assert_memory_equal(f->ram + gpa, &f->rec.counters[2], n);
    /* nothing around the structure changed */
    assert_memory_equal(f->ram, f->pristine, gpa);
    assert_memory_equal(f->ram + gpa + n, f->pristine + gpa + n, RAM_SIZE - gpa - n);

    /* at the very end of RAM, for the last vCPU */
    assert_int_equal(hc(f, SC_HC_EXIT_COUNTERS, RAM_SIZE - n, NVCPUS - 1, 0), 0);
    assert_memory_equal(f->ram + RAM_SIZE - n, &f->rec.counters[NVCPUS - 1], n);
    assert_int_equal(f->rec.counters_vcpu, NVCPUS - 1);
}

static void test_exit_counters_bad_vcpu(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hc(f, SC_HC_EXIT_COUNTERS, 0x3000, NVCPUS, 0), -E_INVAL);
    assert_int_equal(hc(f, SC_HC_EXIT_COUNTERS, 0x3000, ~0ull, 0), -E_INVAL);
    /* 2^32 + 1 would be vCPU 1 if truncated to unsigned */
    assert_int_equal(hc(f, SC_HC_EXIT_COUNTERS, 0x3000, (1ull << 32) | 1, 0), -E_INVAL);
    assert_int_equal(f->rec.counters_calls, 0);
    assert_ram_untouched(f);

    f->c.vcpu_count = 2;
    assert_int_equal(hc(f, SC_HC_EXIT_COUNTERS, 0x3000, 2, 0), -E_INVAL);
    assert_int_equal(f->rec.counters_calls, 0);

    /* the service knows no counters for that vCPU */
    f->c.vcpu_count = NVCPUS;
    f->rec.counters_null_for = 1;
    assert_int_equal(hc(f, SC_HC_EXIT_COUNTERS, 0x3000, 1, 0), -E_INVAL);
    assert_int_equal(f->rec.counters_calls, 1);
    assert_int_equal(f->rec.counters_vcpu, 1);
    assert_ram_untouched(f);
}

static void test_exit_counters_bad_destination(void **state)
{
    struct fixture *f = *state;
    const uint64_t n = sizeof(struct sc_exit_counters);
    static const uint64_t bad[] = {RAM_SIZE - n + 1, RAM_SIZE,  RAM_SIZE + 0x10000, ~0ull,
                                   ~0ull - n + 2,    1ull << 40};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(hc(f, SC_HC_EXIT_COUNTERS, bad[i], 0, 0), -E_FAULT);
    assert_ram_untouched(f);
}

static void test_exit_passes_status(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hc(f, SC_HC_EXIT, 0, 0, 0), 0);
    assert_int_equal(f->rec.exit_calls, 1);
    assert_int_equal(f->rec.exit_status, 0);
    assert_int_equal(hc(f, SC_HC_EXIT, 7, 99, 99), 0);
    assert_int_equal(f->rec.exit_status, 7);
    assert_int_equal(hc(f, SC_HC_EXIT, (uint64_t)-2, 0, 0), 0);
    assert_int_equal(f->rec.exit_calls, 3);
    assert_true(f->rec.exit_status == -2);
    assert_int_equal(total_calls(&f->rec), 3);
}

static void test_steady_phase(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hc(f, SC_HC_STEADY_BEGIN, 0, 0, 0), 0);
    assert_int_equal(f->rec.begin_calls, 1);
    assert_int_equal(f->rec.end_calls, 0);
    f->rec.end_value = 12345;
    assert_int_equal(hc(f, SC_HC_STEADY_END, 0, 0, 0), 12345);
    assert_int_equal(f->rec.end_calls, 1);
    f->rec.end_value = 0;
    assert_int_equal(hc(f, SC_HC_STEADY_END, 0, 0, 0), 0);
    assert_int_equal(f->rec.end_calls, 2);
    assert_int_equal(f->rec.begin_calls, 1);
    assert_int_equal(total_calls(&f->rec), 3);
}

static void test_unknown_opcodes(void **state)
{
    struct fixture *f = *state;
    static const uint64_t ops[] = {SC_HC_COUNT,
                                   SC_HC_COUNT + 1,
                                   0x100,
                                   ~0ull,
                                   (1ull << 32) | SC_HC_CONSOLE_WRITE,
                                   (1ull << 63) | SC_HC_EXIT};
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
        assert_int_equal(hc(f, ops[i], 0x2000, 16, 0), -E_NOSYS);
    assert_int_equal(total_calls(&f->rec), 0);
    assert_ram_untouched(f);
}

/* SC_HC_RING_OP: the slot is copied in once, handled, and copied back whole. */
static unsigned ring_calls;
static unsigned ring_service;
static struct sc_ring_slot ring_seen;

static int64_t rec_ring_op(void *ctx, unsigned service, struct sc_ring_slot *slot)
{
    (void)ctx;
    ring_calls++;
    ring_service = service;
    ring_seen = *slot;
    slot->arg[0] = 0xabcdef;
    slot->tag = 0x5555; /* the dispatcher writes back what the handler left */
    return 42;
}

static void test_ring_op(void **state)
{
    struct fixture *f = *state;
    f->c.ring_op = rec_ring_op;
    ring_calls = 0;
    struct sc_ring_slot req = {.opcode = SC_OP_PT_QUERY, .tag = 7, .arg = {0x3000}};
    memcpy(f->ram + 0x1000, &req, sizeof(req));
    assert_int_equal(hc(f, SC_HC_RING_OP, SC_SERVICE_PT, 0x1000, 0), 42);
    assert_int_equal(ring_calls, 1);
    assert_int_equal(ring_service, SC_SERVICE_PT);
    assert_int_equal(ring_seen.opcode, SC_OP_PT_QUERY);
    assert_int_equal(ring_seen.tag, 7);
    assert_int_equal(ring_seen.arg[0], 0x3000);
    struct sc_ring_slot out;
    memcpy(&out, f->ram + 0x1000, sizeof(out));
    assert_int_equal(out.status, 42);
    assert_int_equal(out.arg[0], 0xabcdef);
    /* bad service, slot past RAM, slot straddling the end: refused, handler not called */
    assert_int_equal(hc(f, SC_HC_RING_OP, SC_SERVICES, 0x1000, 0), -E_INVAL);
    assert_int_equal(hc(f, SC_HC_RING_OP, SC_SERVICE_IO, RAM_SIZE, 0), -E_FAULT);
    assert_int_equal(hc(f, SC_HC_RING_OP, SC_SERVICE_IO, RAM_SIZE - 32, 0), -E_FAULT);
    assert_int_equal(hc(f, SC_HC_RING_OP, SC_SERVICE_IO, ~0ull - 16, 0), -E_FAULT);
    assert_int_equal(ring_calls, 1);
    /* an environment without services answers -ENOSYS */
    f->c.ring_op = NULL;
    assert_int_equal(hc(f, SC_HC_RING_OP, SC_SERVICE_PT, 0x1000, 0), -E_NOSYS);
}

static void test_guest_copy_from_bounds(void **state)
{
    struct fixture *f = *state;
    uint8_t *buf = malloc(RAM_SIZE);
    assert_non_null(buf);
    memset(buf, 0xee, RAM_SIZE);
    assert_int_equal(guest_copy_from(&f->c, buf, 0, RAM_SIZE), 0);
    assert_memory_equal(buf, f->ram, RAM_SIZE);
    memset(buf, 0xee, RAM_SIZE);
    assert_int_equal(guest_copy_from(&f->c, buf, RAM_SIZE - 3, 3), 0);
    assert_memory_equal(buf, f->ram + RAM_SIZE - 3, 3);
    assert_int_equal(buf[3], 0xee);
    assert_int_equal(guest_copy_from(&f->c, buf, RAM_SIZE, 0), 0);

    memset(buf, 0xee, RAM_SIZE);
    static const uint64_t bad[][2] = {
        {0, RAM_SIZE + 1}, {RAM_SIZE - 3, 4}, {RAM_SIZE + 1, 0}, {1, ~0ull},
        {~0ull, 2},        {2, ~0ull - 1},    {~0ull, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(guest_copy_from(&f->c, buf, bad[i][0], bad[i][1]), -E_FAULT);
    for (size_t i = 0; i < RAM_SIZE; i++)
        assert_int_equal(buf[i], 0xee);
    free(buf);
    assert_ram_untouched(f);
}

static void test_guest_copy_to_bounds(void **state)
{
    struct fixture *f = *state;
    static const uint8_t src[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(guest_copy_to(&f->c, RAM_SIZE - 8, src, 8), 0);
    assert_memory_equal(f->ram + RAM_SIZE - 8, src, 8);
    memcpy(f->pristine + RAM_SIZE - 8, src, 8);
    assert_int_equal(guest_copy_to(&f->c, 0, src, 8), 0);
    memcpy(f->pristine, src, 8);
    assert_int_equal(guest_copy_to(&f->c, RAM_SIZE, src, 0), 0);
    assert_ram_untouched(f);

    static const uint64_t bad[][2] = {
        {RAM_SIZE - 7, 8}, {RAM_SIZE, 1},  {RAM_SIZE + 1, 0},
        {~0ull, 1},        {~0ull - 3, 8}, {1ull << 32, 8},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(guest_copy_to(&f->c, bad[i][0], src, bad[i][1]), -E_FAULT);
    assert_ram_untouched(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_null),
        T(test_console_copies_exact_bytes),
        T(test_console_length_zero),
        T(test_console_max_length),
        T(test_console_bounds),
        T(test_exit_counters_copied),
        T(test_exit_counters_bad_vcpu),
        T(test_exit_counters_bad_destination),
        T(test_exit_passes_status),
        T(test_steady_phase),
        T(test_unknown_opcodes),
        T(test_ring_op),
        T(test_guest_copy_from_bounds),
        T(test_guest_copy_to_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
