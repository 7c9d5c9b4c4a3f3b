/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The pt, irq and io services and the common ops against a fake partition with recording hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "guest-stubs/include/sidecore/ring.h"
#include "sidecore/services.h"

#define RAM_SIZE (64 * 1024)
#define NVCPUS 4
#define CALLER 1
#define MAX_IPIS 256
#define MAX_CPUID 512
#define FAKE_MAX_BASIC 0xdu
#define FAKE_MAX_EXT 0x80000008u

#define TAG 0xa5c3f00du
#define STATUS_JUNK ((int64_t)0x5a5a5a5a5a5a5a5all)
#define ARG_CANARY(i) (0xc0de000000000000ull | (uint64_t)(i))

/* One page the fake second-level tables know about. */
struct query_entry {
    uint64_t gpa; /* page base */
    unsigned rights;
    uint64_t page_size;
};

static const struct query_entry query_table[] = {
    {0x0000, SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC, 0x200000},
    {0x3000, SC_PT_READ, 0x1000},
    {0x7000, SC_PT_READ | SC_PT_WRITE, 0x1000},
    {RAM_SIZE - 0x1000, SC_PT_READ | SC_PT_EXEC, 0x1000},
};

struct recorder {
    /* pt */
    unsigned map_calls, unmap_calls, protect_calls, query_calls;
    uint64_t map_gpa, map_size, unmap_gpa, unmap_size, protect_gpa, protect_size, query_gpa;
    unsigned map_rights, protect_rights;
    int map_rc, unmap_rc, protect_rc;
    int query_rc; /* when nonzero, pt_query fails with it instead of looking up the table */
    /* irq */
    unsigned ipi_calls;
    unsigned ipi_vcpu[MAX_IPIS];
    uint8_t ipi_vector[MAX_IPIS];
    unsigned ipi_fail_at; /* the n-th call (1-based) fails with ipi_rc; 0: none */
    int ipi_rc;
    unsigned kick_calls, kick_vcpu;
    int kick_rc;
    unsigned stop_calls, stop_vcpu;
    unsigned start_calls, start_vcpu;
    uint64_t start_rip, start_rsp;
    int start_rc;
    int64_t stop_status;
    int stop_rc;
    /* io */
    unsigned console_calls;
    size_t console_len;
    size_t console_bytes;
    const char *console_ptr;
    char console_text[4 * SC_CONSOLE_MAX]; /* every call's text, one after the other */
    /* cpuid */
    unsigned cpuid_calls;
    uint32_t cpuid_leaf[MAX_CPUID], cpuid_subleaf[MAX_CPUID];
    uint32_t max_basic, max_ext;
    /* the block device (only counted: these tests cover its dispatch, not the device) */
    unsigned blk_calls;
    bool blk_poll; /* the last SC_OP_BLK_POLL mode */
    /* exit counters */
    unsigned counters_calls;
    unsigned counters_vcpu;
};

struct fixture {
    uint8_t *ram;
    uint8_t *pristine; /* what RAM held before the call */
    struct recorder rec;
    struct svc_env env;
};

static int rec_pt_map(void *ctx, uint64_t gpa, uint64_t size, unsigned rights)
{
    struct recorder *r = ctx;
    r->map_calls++;
    r->map_gpa = gpa;
    r->map_size = size;
    r->map_rights = rights;
    return r->map_rc;
}

static int rec_pt_unmap(void *ctx, uint64_t gpa, uint64_t size)
{
    struct recorder *r = ctx;
    r->unmap_calls++;
    r->unmap_gpa = gpa;
    r->unmap_size = size;
    return r->unmap_rc;
}

static int rec_pt_protect(void *ctx, uint64_t gpa, uint64_t size, unsigned rights)
{
    struct recorder *r = ctx;
    r->protect_calls++;
    r->protect_gpa = gpa;
    r->protect_size = size;
    r->protect_rights = rights;
    return r->protect_rc;
}

static int rec_pt_query(void *ctx, uint64_t gpa, unsigned *rights, uint64_t *page_size)
{
    struct recorder *r = ctx;
    r->query_calls++;
    r->query_gpa = gpa;
    if (r->query_rc) {
        *rights = 0xbad; /* a failing hook may leave garbage behind */
        *page_size = 0xbad;
        return r->query_rc;
    }
    for (size_t i = 0; i < ARRAY_SIZE(query_table); i++) {
        if ((gpa & ~0xfffull) == query_table[i].gpa) {
            *rights = query_table[i].rights;
            *page_size = query_table[i].page_size;
            return 0;
        }
    }
    *rights = 0x777;
    *page_size = 0x777;
    return -E_NOENT;
}

static int rec_send_ipi(void *ctx, unsigned vcpu, uint8_t vector)
{
    struct recorder *r = ctx;
    assert_true(r->ipi_calls < MAX_IPIS);
    r->ipi_vcpu[r->ipi_calls] = vcpu;
    r->ipi_vector[r->ipi_calls] = vector;
    r->ipi_calls++;
    return r->ipi_calls == r->ipi_fail_at ? r->ipi_rc : 0;
}

static int rec_kick(void *ctx, unsigned vcpu)
{
    struct recorder *r = ctx;
    r->kick_calls++;
    r->kick_vcpu = vcpu;
    return r->kick_rc;
}

static int rec_stop_vcpu(void *ctx, unsigned vcpu, int64_t status)
{
    struct recorder *r = ctx;
    r->stop_calls++;
    r->stop_vcpu = vcpu;
    r->stop_status = status;
    return r->stop_rc;
}

static int rec_start_vcpu(void *ctx, unsigned vcpu, uint64_t rip, uint64_t rsp)
{
    struct recorder *r = ctx;
    r->start_calls++;
    r->start_vcpu = vcpu;
    r->start_rip = rip;
    r->start_rsp = rsp;
    return r->start_rc;
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

static int rec_blk_info(void *ctx, uint64_t *sectors)
{
    struct recorder *r = ctx;
    r->blk_calls++;
    *sectors = 0x1000;
    return 0;
}

static int rec_blk_setup(void *ctx, uint64_t desc, uint64_t avail, uint64_t used, uint64_t size,
                         uint64_t vector)
{
    ((struct recorder *)ctx)->blk_calls++;
    return 0;
}

static int rec_blk_kick(void *ctx)
{
    ((struct recorder *)ctx)->blk_calls++;
    return 0;
}

static int rec_blk_poll_mode(void *ctx, bool poll)
{
    struct recorder *r = ctx;
    r->blk_calls++;
    r->blk_poll = poll;
    return 0;
}

/* The fake CPU's answer for (leaf, subleaf); leaves 0 and 0x80000000 report the maxima. */
static void fake_cpuid(uint32_t max_basic, uint32_t max_ext, uint32_t leaf, uint32_t subleaf,
                       struct cpuid_values *out)
{
    out->eax = leaf * 0x01000193u ^ subleaf * 0x9e3779b9u;
    out->ebx = leaf + 0x11110000u + subleaf;
    out->ecx = ~leaf ^ (subleaf << 16);
    out->edx = leaf ^ 0xdead0000u ^ subleaf * 7u;
    if (leaf == 0)
        out->eax = max_basic;
    else if (leaf == 0x80000000u)
        out->eax = max_ext;
}

static void rec_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, struct cpuid_values *out)
{
    struct recorder *r = ctx;
    if (r->cpuid_calls < MAX_CPUID) {
        r->cpuid_leaf[r->cpuid_calls] = leaf;
        r->cpuid_subleaf[r->cpuid_calls] = subleaf;
    }
    r->cpuid_calls++;
    fake_cpuid(r->max_basic, r->max_ext, leaf, subleaf, out);
}

/* A distinct value per vCPU and word, so the wrong vCPU or a partial copy shows. */
static uint64_t counter_word(unsigned vcpu, unsigned i)
{
    return 0xc0ull << 56 | (uint64_t)vcpu << 32 | (i * 3 + 1);
}

static void rec_exit_counters(void *ctx, unsigned vcpu, struct sc_exit_counters *out)
{
    struct recorder *r = ctx;
    r->counters_calls++;
    r->counters_vcpu = vcpu;
    uint64_t *words = (uint64_t *)out;
    for (unsigned i = 0; i < sizeof(*out) / 8; i++)
        words[i] = counter_word(vcpu, i);
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
        f->ram[i] = (uint8_t)(i * 13 + 5);
    memcpy(f->pristine, f->ram, RAM_SIZE);
    f->rec.max_basic = FAKE_MAX_BASIC;
    f->rec.max_ext = FAKE_MAX_EXT;
    f->env = (struct svc_env){
        .guest_base = f->ram,
        .guest_size = RAM_SIZE,
        .vcpu = CALLER,
        .nvcpus = NVCPUS,
        .ctx = &f->rec,
        .pt_map = rec_pt_map,
        .pt_unmap = rec_pt_unmap,
        .pt_protect = rec_pt_protect,
        .pt_query = rec_pt_query,
        .send_ipi = rec_send_ipi,
        .kick = rec_kick,
        .stop_vcpu = rec_stop_vcpu,
        .start_vcpu = rec_start_vcpu,
        .console = rec_console,
        .cpuid = rec_cpuid,
        .exit_counters = rec_exit_counters,
        .blk_info = rec_blk_info,
        .blk_setup = rec_blk_setup,
        .blk_kick = rec_blk_kick,
        .blk_poll_mode = rec_blk_poll_mode,
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
    return r->map_calls + r->unmap_calls + r->protect_calls + r->query_calls + r->ipi_calls +
           r->kick_calls + r->stop_calls + r->start_calls + r->console_calls + r->cpuid_calls +
           r->blk_calls + r->counters_calls;
}

static void assert_ram_untouched(const struct fixture *f)
{
    assert_memory_equal(f->ram, f->pristine, RAM_SIZE);
}

/* Runs one request and checks what service_execute must never change: opcode, flags, tag,
 * and the arguments (except a successful query's two results). Returns the status. */
static int64_t exec_flags(struct fixture *f, unsigned service, uint16_t opcode, uint16_t flags,
                          uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct sc_ring_slot s = {.opcode = opcode, .flags = flags, .tag = TAG, .status = STATUS_JUNK};
    s.arg[0] = a0;
    s.arg[1] = a1;
    s.arg[2] = a2;
    for (unsigned i = 3; i < 6; i++)
        s.arg[i] = ARG_CANARY(i);
    const struct sc_ring_slot before = s;
    service_execute(&f->env, (enum sc_service)service, &s);
    assert_int_equal(s.opcode, opcode);
    assert_int_equal(s.flags, flags);
    assert_int_equal(s.tag, TAG);
    assert_true(s.status != STATUS_JUNK);
    unsigned first_unchanged = 0;
    if (service == SC_SERVICE_PT && opcode == SC_OP_PT_QUERY && flags == 0 && s.status == 0)
        first_unchanged = 2;
    for (unsigned i = first_unchanged; i < 6; i++)
        assert_int_equal(s.arg[i], before.arg[i]);
    return s.status;
}

static int64_t exec(struct fixture *f, unsigned service, uint16_t opcode, uint64_t a0, uint64_t a1,
                    uint64_t a2)
{
    return exec_flags(f, service, opcode, 0, a0, a1, a2);
}

/* A query: returns the status and the two result words. */
static int64_t query(struct fixture *f, uint64_t gpa, uint64_t *rights, uint64_t *page_size)
{
    struct sc_ring_slot s = {.opcode = SC_OP_PT_QUERY, .tag = TAG, .status = STATUS_JUNK};
    s.arg[0] = gpa;
    s.arg[1] = 0x1111;
    for (unsigned i = 2; i < 6; i++)
        s.arg[i] = ARG_CANARY(i);
    service_execute(&f->env, SC_SERVICE_PT, &s);
    assert_int_equal(s.opcode, SC_OP_PT_QUERY);
    assert_int_equal(s.flags, 0);
    assert_int_equal(s.tag, TAG);
    for (unsigned i = 2; i < 6; i++)
        assert_int_equal(s.arg[i], ARG_CANARY(i));
    *rights = s.arg[0];
    *page_size = s.arg[1];
    return s.status;
}

/* Every opcode with arguments that its own service accepts. */
struct good_request {
    unsigned service;
    uint16_t opcode;
    uint64_t a0, a1, a2;
};

static const struct good_request good_requests[] = {
    {SC_SERVICE_PT, SC_OP_PT_MAP, 0x2000, 0x1000, SC_PT_READ},
    {SC_SERVICE_PT, SC_OP_PT_UNMAP, 0x2000, 0x1000, 0},
    {SC_SERVICE_PT, SC_OP_PT_PROTECT, 0x2000, 0x1000, SC_PT_READ},
    {SC_SERVICE_PT, SC_OP_PT_QUERY, 0x3000, 0, 0},
    {SC_SERVICE_IRQ, SC_OP_IPI, 40, 0x3, 0},
    {SC_SERVICE_IRQ, SC_OP_VCPU_KICK, 2, 0, 0},
    {SC_SERVICE_IRQ, SC_OP_VCPU_STOP, 2, 0, 0},
    {SC_SERVICE_IO, SC_OP_CONSOLE, 0x2000, 16, 0},
};

static const unsigned services[] = {SC_SERVICE_PT, SC_SERVICE_IRQ, SC_SERVICE_IO};

/* ---- common ops, dispatch, the slot header ---- */

static void test_null_on_every_service(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
        assert_int_equal(exec(f, services[i], SC_OP_NULL, 0, 0, 0), 0);
        assert_int_equal(exec(f, services[i], SC_OP_NULL, ~0ull, RAM_SIZE * 4ull, 0xff), 0);
    }
    assert_int_equal(total_calls(&f->rec), 0);
    assert_ram_untouched(f);
}

static void test_flags_nonzero(void **state)
{
    struct fixture *f = *state;
    static const uint16_t flags[] = {1, 2, 0x8000, 0xffff};
    for (size_t k = 0; k < ARRAY_SIZE(flags); k++) {
        for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
            assert_int_equal(exec_flags(f, services[i], SC_OP_NULL, flags[k], 0, 0, 0), -E_INVAL);
            assert_int_equal(exec_flags(f, services[i], SC_OP_CPUID_TABLE, flags[k], 0x1000, 8, 0),
                             -E_INVAL);
        }
        for (size_t i = 0; i < ARRAY_SIZE(good_requests); i++) {
            const struct good_request *g = &good_requests[i];
            assert_int_equal(exec_flags(f, g->service, g->opcode, flags[k], g->a0, g->a1, g->a2),
                             -E_INVAL);
        }
    }
    assert_int_equal(total_calls(&f->rec), 0);
    assert_ram_untouched(f);
}

static void test_bad_service(void **state)
{
    struct fixture *f = *state;
    static const unsigned bad[] = {SC_SERVICES, SC_SERVICES + 1, 255, 0x80000000u, ~0u};
    for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
        assert_int_equal(exec(f, bad[k], SC_OP_NULL, 0, 0, 0), -E_INVAL);
        assert_int_equal(exec(f, bad[k], SC_OP_CPUID_TABLE, 0x1000, 8, 0), -E_INVAL);
        for (size_t i = 0; i < ARRAY_SIZE(good_requests); i++) {
            const struct good_request *g = &good_requests[i];
            assert_int_equal(exec(f, bad[k], g->opcode, g->a0, g->a1, g->a2), -E_INVAL);
        }
    }
    assert_int_equal(total_calls(&f->rec), 0);
    assert_ram_untouched(f);
}

static void test_good_requests_on_own_service(void **state)
{
    struct fixture *f = *state;
    /* each one reaches exactly one hook (the IPI two) */
    for (size_t i = 0; i < ARRAY_SIZE(good_requests); i++) {
        const struct good_request *g = &good_requests[i];
        unsigned before = total_calls(&f->rec);
        int64_t st = exec(f, g->service, g->opcode, g->a0, g->a1, g->a2);
        if (g->opcode == SC_OP_IPI) {
            assert_int_equal(st, 2);
            assert_int_equal(total_calls(&f->rec), before + 2);
        } else if (g->opcode == SC_OP_CONSOLE) {
            assert_int_equal(st, 16);
            assert_int_equal(total_calls(&f->rec), before + 1);
        } else {
            assert_int_equal(st, 0);
            assert_int_equal(total_calls(&f->rec), before + 1);
        }
    }
    assert_int_equal(f->rec.map_calls, 1);
    assert_int_equal(f->rec.unmap_calls, 1);
    assert_int_equal(f->rec.protect_calls, 1);
    assert_int_equal(f->rec.query_calls, 1);
    assert_int_equal(f->rec.ipi_calls, 2);
    assert_int_equal(f->rec.kick_calls, 1);
    assert_int_equal(f->rec.stop_calls, 1);
    assert_int_equal(f->rec.console_calls, 1);
    assert_int_equal(f->rec.cpuid_calls, 0);
    assert_ram_untouched(f);
}

static void test_opcode_of_another_service(void **state)
{
    struct fixture *f = *state;
    for (size_t k = 0; k < ARRAY_SIZE(services); k++) {
        for (size_t i = 0; i < ARRAY_SIZE(good_requests); i++) {
            const struct good_request *g = &good_requests[i];
            if (g->service == services[k])
                continue;
            assert_int_equal(exec(f, services[k], g->opcode, g->a0, g->a1, g->a2), -E_NOSYS);
        }
    }
    /* the block device's opcodes belong to io */
    static const uint16_t blk[] = {SC_OP_BLK_INFO, SC_OP_BLK_SETUP, SC_OP_BLK_KICK, SC_OP_BLK_POLL};
    for (size_t i = 0; i < ARRAY_SIZE(blk); i++) {
        assert_int_equal(exec(f, SC_SERVICE_PT, blk[i], 0x1000, 0x2000, 0x3000), -E_NOSYS);
        assert_int_equal(exec(f, SC_SERVICE_IRQ, blk[i], 0x1000, 0x2000, 0x3000), -E_NOSYS);
    }
    assert_int_equal(total_calls(&f->rec), 0);
    assert_ram_untouched(f);
}

static void test_unknown_opcodes(void **state)
{
    struct fixture *f = *state;
    static const uint16_t ops[] = {0x03,
                                   0x0f,
                                   0x14,
                                   0x1f,
                                   0x24,
                                   0x2f,
                                   0x3e,
                                   0x3f,
                                   0x40,
                                   0x80,
                                   0x100 | SC_OP_PT_MAP,
                                   0x100 | SC_OP_CONSOLE,
                                   0x8000 | SC_OP_IPI,
                                   0xff00,
                                   0xffff};
    for (size_t k = 0; k < ARRAY_SIZE(services); k++)
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
            assert_int_equal(exec(f, services[k], ops[i], 0x2000, 0x1000, SC_PT_READ), -E_NOSYS);
    assert_int_equal(total_calls(&f->rec), 0);
    assert_ram_untouched(f);
}

static void test_opcode_names(void **state)
{
    (void)state;
    assert_string_equal(service_opcode_name(SC_OP_NULL), "null");
    assert_string_equal(service_opcode_name(SC_OP_CPUID_TABLE), "cpuid_table");
    assert_string_equal(service_opcode_name(SC_OP_PT_MAP), "pt_map");
    assert_string_equal(service_opcode_name(SC_OP_PT_UNMAP), "pt_unmap");
    assert_string_equal(service_opcode_name(SC_OP_PT_PROTECT), "pt_protect");
    assert_string_equal(service_opcode_name(SC_OP_PT_QUERY), "pt_query");
    assert_string_equal(service_opcode_name(SC_OP_IPI), "ipi");
    assert_string_equal(service_opcode_name(SC_OP_VCPU_KICK), "vcpu_kick");
    assert_string_equal(service_opcode_name(SC_OP_VCPU_STOP), "vcpu_stop");
    assert_string_equal(service_opcode_name(SC_OP_CONSOLE), "console");
    assert_string_equal(service_opcode_name(SC_OP_EXIT_COUNTERS), "exit_counters");
    assert_string_equal(service_opcode_name(0x03), "unknown");
    assert_string_equal(service_opcode_name(0xffff), "unknown");
}

/* ---- pt ---- */

static void test_pt_map_passes_exact_values(void **state)
{
    struct fixture *f = *state;
    static const struct {
        uint64_t gpa, size, rights;
    } good[] = {
        {0x2000, 0x1000, SC_PT_READ},
        {0x0, RAM_SIZE, SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC},
        {RAM_SIZE - 0x1000, 0x1000, SC_PT_READ | SC_PT_EXEC},
        {0x5000, 0x3000, SC_PT_READ | SC_PT_WRITE},
    };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        assert_int_equal(
            exec(f, SC_SERVICE_PT, SC_OP_PT_MAP, good[i].gpa, good[i].size, good[i].rights), 0);
        assert_int_equal(f->rec.map_calls, i + 1);
        assert_int_equal(f->rec.map_gpa, good[i].gpa);
        assert_int_equal(f->rec.map_size, good[i].size);
        assert_int_equal(f->rec.map_rights, good[i].rights);
    }
    /* the hook's answer is the status */
    f->rec.map_rc = -E_NOMEM;
    assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_MAP, 0x4000, 0x2000, SC_PT_READ), -E_NOMEM);
    f->rec.map_rc = -E_BUSY;
    assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_MAP, 0x4000, 0x2000, SC_PT_READ), -E_BUSY);
    assert_int_equal(f->rec.map_calls, ARRAY_SIZE(good) + 2);
    assert_int_equal(total_calls(&f->rec), ARRAY_SIZE(good) + 2);
    assert_ram_untouched(f);
}

static void test_pt_unmap_passes_exact_values(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_UNMAP, 0x6000, 0x2000, 0), 0);
    assert_int_equal(f->rec.unmap_calls, 1);
    assert_int_equal(f->rec.unmap_gpa, 0x6000);
    assert_int_equal(f->rec.unmap_size, 0x2000);
    /* arg2 means nothing to unmap */
    assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_UNMAP, 0, RAM_SIZE, ~0ull), 0);
    assert_int_equal(f->rec.unmap_calls, 2);
    assert_int_equal(f->rec.unmap_gpa, 0);
    assert_int_equal(f->rec.unmap_size, RAM_SIZE);
    f->rec.unmap_rc = -E_BUSY;
    assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_UNMAP, RAM_SIZE - 0x1000, 0x1000, 0), -E_BUSY);
    assert_int_equal(f->rec.unmap_gpa, RAM_SIZE - 0x1000);
    assert_int_equal(f->rec.unmap_size, 0x1000);
    assert_int_equal(total_calls(&f->rec), 3);
    assert_ram_untouched(f);
}

static void test_pt_protect_passes_exact_values(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_PROTECT, 0x8000, 0x4000, SC_PT_READ), 0);
    assert_int_equal(f->rec.protect_calls, 1);
    assert_int_equal(f->rec.protect_gpa, 0x8000);
    assert_int_equal(f->rec.protect_size, 0x4000);
    assert_int_equal(f->rec.protect_rights, SC_PT_READ);
    assert_int_equal(
        exec(f, SC_SERVICE_PT, SC_OP_PT_PROTECT, 0x1000, 0x1000, SC_PT_READ | SC_PT_EXEC), 0);
    assert_int_equal(f->rec.protect_rights, SC_PT_READ | SC_PT_EXEC);
    f->rec.protect_rc = -E_PERM;
    assert_int_equal(
        exec(f, SC_SERVICE_PT, SC_OP_PT_PROTECT, 0x0, RAM_SIZE, SC_PT_READ | SC_PT_WRITE), -E_PERM);
    assert_int_equal(f->rec.protect_gpa, 0);
    assert_int_equal(f->rec.protect_size, RAM_SIZE);
    assert_int_equal(f->rec.protect_rights, SC_PT_READ | SC_PT_WRITE);
    assert_int_equal(f->rec.protect_calls, 3);
    assert_int_equal(total_calls(&f->rec), 3);
    assert_ram_untouched(f);
}

/* Bad ranges for map, unmap and protect; the hooks are never called. */
static void test_pt_bad_ranges(void **state)
{
    struct fixture *f = *state;
    enum { INVAL, FAULT, EITHER };
    static const struct {
        uint64_t gpa, size;
        int want;
    } bad[] = {
        {0x1001, 0x1000, INVAL},                            /* unaligned GPA */
        {0x1800, 0x1000, INVAL},                            /* unaligned GPA */
        {0x1000, 0x800, INVAL},                             /* unaligned size */
        {0x1000, 0x1001, INVAL},                            /* unaligned size */
        {0x1000, 0, INVAL},                                 /* empty */
        {0, 0, INVAL},                                      /* empty */
        {RAM_SIZE, 0x1000, FAULT},                          /* starting at the end */
        {RAM_SIZE - 0x1000, 0x2000, FAULT},                 /* one page past the end */
        {0, RAM_SIZE + 0x1000, FAULT},                      /* one page too long */
        {1ull << 32, 0x1000, FAULT},                        /* far beyond (and 0 in 32 bits) */
        {0x1000, 1ull << 32, FAULT},                        /* far too long */
        {0xfffffffffffff000ull, 0x2000, EITHER},            /* gpa + size wraps to 0x1000 */
        {0x1000, 0xfffffffffffff000ull, EITHER},            /* gpa + size wraps to 0 */
        {0x2000, 0xfffffffffffff000ull, EITHER},            /* gpa + size wraps to 0x1000 */
        {0ull - RAM_SIZE, RAM_SIZE, EITHER},                /* ends exactly at 2^64 */
        {0ull - 0x1000, 0x1000 + RAM_SIZE, EITHER},         /* wraps well inside RAM */
        {RAM_SIZE - 0x1000, 0xfffffffffffff000ull, EITHER}, /* wraps inside RAM */
        {0xfff, 0xfffffffffffff001ull, INVAL},              /* unaligned, and wraps to 0 */
    };
    static const uint16_t ops[] = {SC_OP_PT_MAP, SC_OP_PT_UNMAP, SC_OP_PT_PROTECT};
    for (size_t k = 0; k < ARRAY_SIZE(ops); k++) {
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
            int64_t st =
                exec(f, SC_SERVICE_PT, ops[k], bad[i].gpa, bad[i].size, SC_PT_READ | SC_PT_WRITE);
            if (bad[i].want == INVAL)
                assert_int_equal(st, -E_INVAL);
            else if (bad[i].want == FAULT)
                assert_int_equal(st, -E_FAULT);
            else
                assert_true(st == -E_FAULT || st == -E_INVAL);
        }
    }
    assert_int_equal(total_calls(&f->rec), 0);
    assert_ram_untouched(f);
}

static void test_pt_bad_rights(void **state)
{
    struct fixture *f = *state;
    static const uint64_t bad[] = {
        0,
        SC_PT_WRITE,
        SC_PT_EXEC,
        SC_PT_WRITE | SC_PT_EXEC,
        SC_PT_READ | 0x8,
        SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC | 0x80,
        SC_PT_READ | 0x100,
        SC_PT_READ | (1ull << 31),
        SC_PT_READ | (1ull << 32), /* READ once truncated to 32 bits */
        SC_PT_READ | (1ull << 63),
        ~0ull,
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_MAP, 0x2000, 0x1000, bad[i]), -E_INVAL);
        assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_PROTECT, 0x2000, 0x1000, bad[i]),
                         -E_INVAL);
    }
    assert_int_equal(total_calls(&f->rec), 0);

    static const uint64_t good[] = {SC_PT_READ, SC_PT_READ | SC_PT_WRITE, SC_PT_READ | SC_PT_EXEC,
                                    SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_MAP, 0x2000, 0x1000, good[i]), 0);
        assert_int_equal(f->rec.map_rights, good[i]);
        assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_PT_PROTECT, 0x2000, 0x1000, good[i]), 0);
        assert_int_equal(f->rec.protect_rights, good[i]);
    }
    assert_int_equal(f->rec.map_calls, ARRAY_SIZE(good));
    assert_int_equal(f->rec.protect_calls, ARRAY_SIZE(good));
    assert_ram_untouched(f);
}

static void test_pt_query_results(void **state)
{
    struct fixture *f = *state;
    uint64_t rights, page_size;
    for (size_t i = 0; i < ARRAY_SIZE(query_table); i++) {
        uint64_t gpa = query_table[i].gpa + (i * 0x123) % 0x1000; /* anywhere in the page */
        assert_int_equal(query(f, gpa, &rights, &page_size), 0);
        assert_int_equal(f->rec.query_gpa, gpa);
        assert_int_equal(rights, query_table[i].rights);
        assert_int_equal(page_size, query_table[i].page_size);
    }
    /* the last byte of RAM */
    assert_int_equal(query(f, RAM_SIZE - 1, &rights, &page_size), 0);
    assert_int_equal(f->rec.query_gpa, RAM_SIZE - 1);
    assert_int_equal(rights, SC_PT_READ | SC_PT_EXEC);
    assert_int_equal(page_size, 0x1000);
    assert_int_equal(f->rec.query_calls, ARRAY_SIZE(query_table) + 1);
    assert_int_equal(total_calls(&f->rec), ARRAY_SIZE(query_table) + 1);
    assert_ram_untouched(f);
}

static void test_pt_query_errors_leave_args(void **state)
{
    struct fixture *f = *state;
    uint64_t rights, page_size;
    /* not mapped: the hook's -E_NOENT, arguments as they came */
    assert_int_equal(query(f, 0x5000, &rights, &page_size), -E_NOENT);
    assert_int_equal(f->rec.query_calls, 1);
    assert_int_equal(f->rec.query_gpa, 0x5000);
    assert_int_equal(rights, 0x5000);
    assert_int_equal(page_size, 0x1111);

    /* another error of the hook is passed through */
    f->rec.query_rc = -E_BUSY;
    assert_int_equal(query(f, 0x3000, &rights, &page_size), -E_BUSY);
    assert_int_equal(f->rec.query_calls, 2);
    assert_int_equal(rights, 0x3000);
    assert_int_equal(page_size, 0x1111);
    f->rec.query_rc = 0;

    /* beyond RAM: the hook is not asked */
    static const uint64_t bad[] = {RAM_SIZE,   RAM_SIZE + 1,          RAM_SIZE + 0x1000,
                                   1ull << 32, (1ull << 32) | 0x3000, ~0ull};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(query(f, bad[i], &rights, &page_size), -E_FAULT);
        assert_int_equal(rights, bad[i]);
        assert_int_equal(page_size, 0x1111);
    }
    assert_int_equal(f->rec.query_calls, 2);
    assert_int_equal(total_calls(&f->rec), 2);
    assert_ram_untouched(f);
}

/* ---- irq ---- */

static void test_ipi_bad_vectors(void **state)
{
    struct fixture *f = *state;
    static const uint64_t bad[] = {0,    1, 2, 31, 256, 257, 0x120, 1ull << 32, (1ull << 32) | 40,
                                   ~0ull};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, bad[i], 0x3, 0), -E_INVAL);
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, bad[i], 0, SC_IPI_ALL), -E_INVAL);
    }
    assert_int_equal(total_calls(&f->rec), 0);

    /* the edges are accepted */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 32, 0x1, 0), 1);
    assert_int_equal(f->rec.ipi_vector[0], 32);
    assert_int_equal(f->rec.ipi_vcpu[0], 0);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, SC_VECTOR_MAX, 0x8, 0), 1);
    assert_int_equal(f->rec.ipi_vector[1], SC_VECTOR_MAX);
    assert_int_equal(f->rec.ipi_vcpu[1], 3);
    assert_int_equal(total_calls(&f->rec), 2);
    /* an exception vector, and a value beyond 8 bits */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0x1f, 0x8, 0), -E_INVAL);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0x100, 0x8, 0), -E_INVAL);
    assert_int_equal(total_calls(&f->rec), 2);
}

static void test_ipi_bad_sets(void **state)
{
    struct fixture *f = *state;
    static const uint64_t bad[] = {
        0,                    /* empty */
        1u << NVCPUS,         /* vCPU 4 of a 4-vCPU partition */
        0x1 | (1u << NVCPUS), /* valid vCPU 0 plus one outside: nothing may be sent */
        0xf | 0x20,
        1ull << 32,
        1ull << 63,
        ~0ull,
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 40, bad[i], 0), -E_INVAL);
    assert_int_equal(total_calls(&f->rec), 0);

    /* a smaller partition: vCPU 2 is outside */
    f->env.nvcpus = 2;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 40, 0x4, 0), -E_INVAL);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 40, 0x7, 0), -E_INVAL);
    assert_int_equal(total_calls(&f->rec), 0);
}

static void test_ipi_set(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0x41, 0xa, 0), 2); /* {1,3} */
    assert_int_equal(f->rec.ipi_calls, 2);
    assert_int_equal(f->rec.ipi_vcpu[0], 1);
    assert_int_equal(f->rec.ipi_vcpu[1], 3);
    assert_int_equal(f->rec.ipi_vector[0], 0x41);
    assert_int_equal(f->rec.ipi_vector[1], 0x41);

    /* the caller may be in the set; one target alone */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0xee, 1u << CALLER, 0), 1);
    assert_int_equal(f->rec.ipi_calls, 3);
    assert_int_equal(f->rec.ipi_vcpu[2], CALLER);
    assert_int_equal(f->rec.ipi_vector[2], 0xee);

    /* all four named explicitly */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0x50, 0xf, 0), 4);
    assert_int_equal(f->rec.ipi_calls, 7);
    for (unsigned v = 0; v < NVCPUS; v++) {
        assert_int_equal(f->rec.ipi_vcpu[3 + v], v);
        assert_int_equal(f->rec.ipi_vector[3 + v], 0x50);
    }
    assert_int_equal(total_calls(&f->rec), 7);
    assert_ram_untouched(f);
}

static void test_ipi_all(void **state)
{
    struct fixture *f = *state;
    /* the set is ignored with SC_IPI_ALL */
    static const uint64_t sets[] = {0, 0x2, ~0ull};
    for (size_t k = 0; k < ARRAY_SIZE(sets); k++) {
        unsigned base = f->rec.ipi_calls;
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0xec, sets[k], SC_IPI_ALL), NVCPUS);
        assert_int_equal(f->rec.ipi_calls, base + NVCPUS);
        for (unsigned v = 0; v < NVCPUS; v++) {
            assert_int_equal(f->rec.ipi_vcpu[base + v], v);
            assert_int_equal(f->rec.ipi_vector[base + v], 0xec);
        }
    }
    /* a one-vCPU partition */
    f->env.nvcpus = 1;
    f->env.vcpu = 0;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0x30, 0, SC_IPI_ALL), 1);
    assert_int_equal(f->rec.ipi_vcpu[3 * NVCPUS], 0);
    assert_int_equal(f->rec.ipi_calls, 3 * NVCPUS + 1);
    /* 64 vCPUs, the most a partition has */
    f->env.nvcpus = 64;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0x30, 0, SC_IPI_ALL), 64);
    for (unsigned v = 0; v < 64; v++)
        assert_int_equal(f->rec.ipi_vcpu[3 * NVCPUS + 1 + v], v);
    assert_int_equal(total_calls(&f->rec), 3 * NVCPUS + 1 + 64);
}

static void test_ipi_set_of_64(void **state)
{
    struct fixture *f = *state;
    f->env.nvcpus = 64;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0x99, (1ull << 63) | 1, 0), 2);
    assert_int_equal(f->rec.ipi_calls, 2);
    assert_int_equal(f->rec.ipi_vcpu[0], 0);
    assert_int_equal(f->rec.ipi_vcpu[1], 63);
    f->env.nvcpus = 63;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 0x99, (1ull << 63) | 1, 0), -E_INVAL);
    assert_int_equal(f->rec.ipi_calls, 2);
}

static void test_ipi_bad_flags(void **state)
{
    struct fixture *f = *state;
    static const uint64_t bad[] = {
        0x2, 0x3, 0x80, 1ull << 31, 1ull << 32, 1ull << 63, (1ull << 63) | SC_IPI_ALL, ~0ull};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 40, 0x3, bad[i]), -E_INVAL);
    assert_int_equal(total_calls(&f->rec), 0);
}

static void test_ipi_error_is_returned(void **state)
{
    struct fixture *f = *state;
    f->rec.ipi_rc = -E_IO;
    f->rec.ipi_fail_at = 1;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 40, 0xa, 0), -E_IO);
    assert_int_equal(f->rec.ipi_vcpu[0], 1);

    f->rec.ipi_calls = 0;
    f->rec.ipi_fail_at = 2;
    f->rec.ipi_rc = -E_BUSY;
    int64_t st = exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 40, 0, SC_IPI_ALL);
    assert_int_equal(st, -E_BUSY);
    assert_true(f->rec.ipi_calls >= 2 && f->rec.ipi_calls <= NVCPUS);
    assert_int_equal(f->rec.ipi_vcpu[0], 0);
    assert_int_equal(f->rec.ipi_vcpu[1], 1);

    /* the last one fails */
    f->rec.ipi_calls = 0;
    f->rec.ipi_fail_at = 2;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_IPI, 40, 0xa, 0), -E_BUSY);
    assert_int_equal(f->rec.ipi_calls, 2);
    assert_int_equal(f->rec.ipi_vcpu[1], 3);
}

static void test_kick(void **state)
{
    struct fixture *f = *state;
    static const uint64_t bad[] = {NVCPUS, NVCPUS + 1, 64, 1ull << 32, (1ull << 32) | 2, ~0ull};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_KICK, bad[i], 0, 0), -E_INVAL);
    assert_int_equal(total_calls(&f->rec), 0);

    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_KICK, 2, 0x77, 0x88), 0);
    assert_int_equal(f->rec.kick_calls, 1);
    assert_int_equal(f->rec.kick_vcpu, 2);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_KICK, NVCPUS - 1, 0, 0), 0);
    assert_int_equal(f->rec.kick_vcpu, NVCPUS - 1);
    f->rec.kick_rc = -E_BUSY;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_KICK, 0, 0, 0), -E_BUSY);
    assert_int_equal(f->rec.kick_vcpu, 0);
    assert_int_equal(f->rec.kick_calls, 3);
    assert_int_equal(total_calls(&f->rec), 3);
}

static void test_stop(void **state)
{
    struct fixture *f = *state;
    static const uint64_t bad[] = {CALLER, (1ull << 32) | CALLER, NVCPUS, (1ull << 32) | 2, ~0ull};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_STOP, bad[i], 5, 0), -E_INVAL);
    assert_int_equal(total_calls(&f->rec), 0);

    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_STOP, 3, (uint64_t)-5, 0), 0);
    assert_int_equal(f->rec.stop_calls, 1);
    assert_int_equal(f->rec.stop_vcpu, 3);
    assert_true(f->rec.stop_status == -5);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_STOP, 0, 0x7fffffffffffffffull, 0), 0);
    assert_int_equal(f->rec.stop_vcpu, 0);
    assert_true(f->rec.stop_status == INT64_MAX);
    f->rec.stop_rc = -E_PERM;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_STOP, 2, 42, 0), -E_PERM);
    assert_int_equal(f->rec.stop_vcpu, 2);
    assert_true(f->rec.stop_status == 42);
    assert_int_equal(f->rec.stop_calls, 3);

    /* another caller may stop vCPU 1 */
    f->env.vcpu = 3;
    f->rec.stop_rc = 0;
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_STOP, CALLER, 1, 0), 0);
    assert_int_equal(f->rec.stop_vcpu, CALLER);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_STOP, 3, 1, 0), -E_INVAL);
    assert_int_equal(f->rec.stop_calls, 4);
    assert_int_equal(total_calls(&f->rec), 4);
}

static void test_start(void **state)
{
    struct fixture *f = *state;
    /* the caller, a vCPU outside the partition: -EINVAL; entry or stack outside RAM: -EFAULT */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_START, CALLER, 0x1000, 0x2000), -E_INVAL);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_START, NVCPUS, 0x1000, 0x2000), -E_INVAL);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_START, 2, RAM_SIZE, 0x2000), -E_FAULT);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_START, 2, 0x1000, RAM_SIZE + 8), -E_FAULT);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_START, 2, 0x1000, 0), -E_FAULT);
    assert_int_equal(total_calls(&f->rec), 0);
    /* a stack top at the very end of RAM is fine */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_START, 2, 0x1000, RAM_SIZE), 0);
    assert_int_equal(f->rec.start_calls, 1);
    assert_int_equal(f->rec.start_vcpu, 2);
    assert_int_equal(f->rec.start_rip, 0x1000);
    assert_int_equal(f->rec.start_rsp, RAM_SIZE);
    f->rec.start_rc = -E_BUSY; /* not stopped: the hook says so */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_VCPU_START, 3, 0x2000, 0x3000), -E_BUSY);
    /* only on the irq ring */
    assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_VCPU_START, 3, 0x2000, 0x3000), -E_NOSYS);
    assert_int_equal(f->rec.start_calls, 2);
}

/* ---- io ---- */

static void test_console_copies_exact_bytes(void **state)
{
    struct fixture *f = *state;
    static const char msg[] = "hello from vCPU 1\n";
    const size_t len = sizeof(msg) - 1;
    memcpy(f->ram + 0x2345, msg, len);
    memcpy(f->pristine + 0x2345, msg, len);
    assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_CONSOLE, 0x2345, len, 0), (int64_t)len);
    assert_int_equal(f->rec.console_calls, 1);
    assert_int_equal(f->rec.console_len, len);
    assert_memory_equal(f->rec.console_text, msg, len);
    /* a copy, never a pointer into guest RAM */
    uintptr_t p = (uintptr_t)f->rec.console_ptr, r = (uintptr_t)f->ram;
    assert_false(p + len > r && p < r + RAM_SIZE);
    assert_int_equal(total_calls(&f->rec), 1);
    assert_ram_untouched(f);
}

static void test_console_lengths(void **state)
{
    struct fixture *f = *state;
    /* zero: nothing printed */
    assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_CONSOLE, 0x2000, 0, 0), 0);
    assert_int_equal(f->rec.console_bytes, 0);
    assert_true(f->rec.console_calls <= 1);

    unsigned calls = f->rec.console_calls;
    assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_CONSOLE, 0x4000, SC_CONSOLE_MAX, 0),
                     SC_CONSOLE_MAX);
    assert_true(f->rec.console_calls > calls);
    assert_int_equal(f->rec.console_bytes, SC_CONSOLE_MAX);
    assert_memory_equal(f->rec.console_text, f->ram + 0x4000, SC_CONSOLE_MAX);
    calls = f->rec.console_calls;

    static const uint64_t too_long[] = {SC_CONSOLE_MAX + 1, SC_CONSOLE_MAX * 2, 1ull << 32,
                                        (1ull << 32) | 16, ~0ull};
    for (size_t i = 0; i < ARRAY_SIZE(too_long); i++)
        assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_CONSOLE, 0x4000, too_long[i], 0), -E_INVAL);
    assert_int_equal(f->rec.console_calls, calls);
    assert_int_equal(f->rec.console_bytes, SC_CONSOLE_MAX);
    assert_ram_untouched(f);
}

static void test_console_bounds(void **state)
{
    struct fixture *f = *state;
    /* ending exactly at the end of RAM */
    assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_CONSOLE, RAM_SIZE - 7, 7, 0), 7);
    assert_int_equal(f->rec.console_len, 7);
    assert_memory_equal(f->rec.console_text, f->ram + RAM_SIZE - 7, 7);
    assert_int_equal(
        exec(f, SC_SERVICE_IO, SC_OP_CONSOLE, RAM_SIZE - SC_CONSOLE_MAX, SC_CONSOLE_MAX, 0),
        SC_CONSOLE_MAX);
    assert_int_equal(f->rec.console_bytes, 7 + SC_CONSOLE_MAX);
    assert_memory_equal(f->rec.console_text + 7, f->ram + RAM_SIZE - SC_CONSOLE_MAX,
                        SC_CONSOLE_MAX);
    unsigned calls = f->rec.console_calls;

    static const uint64_t bad[][2] = {
        {RAM_SIZE - 6, 7}, {RAM_SIZE, 1},   {RAM_SIZE + 0x1000, 16},           {1ull << 32, 1},
        {~0ull, 1},        {~0ull - 3, 16}, {0ull - RAM_SIZE, SC_CONSOLE_MAX}, {RAM_SIZE + 1, 0},
        {~0ull, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_CONSOLE, bad[i][0], bad[i][1], 0), -E_FAULT);
    assert_int_equal(f->rec.console_calls, calls);
    assert_int_equal(total_calls(&f->rec), calls);
    assert_ram_untouched(f);
}

/* ---- the CPUID table ---- */

#define ENTRY_SIZE sizeof(struct sc_cpuid_entry)

static unsigned reference_leaves(uint32_t max_basic, uint32_t max_ext, struct sc_cpuid_entry *out)
{
    return service_cpuid_leaves(max_basic, max_ext, out, SVC_CPUID_MAX_ENTRIES);
}

/* The n entries at gpa are the reference leaves with the hook's registers. */
static void assert_table_at(const struct fixture *f, uint64_t gpa, unsigned n)
{
    struct sc_cpuid_entry ref[SVC_CPUID_MAX_ENTRIES];
    unsigned total = reference_leaves(f->rec.max_basic, f->rec.max_ext, ref);
    assert_true(n <= total);
    for (unsigned i = 0; i < n; i++) {
        struct sc_cpuid_entry e;
        memcpy(&e, f->ram + gpa + i * ENTRY_SIZE, sizeof(e));
        struct cpuid_values v;
        fake_cpuid(f->rec.max_basic, f->rec.max_ext, ref[i].leaf, ref[i].subleaf, &v);
        assert_int_equal(e.leaf, ref[i].leaf);
        assert_int_equal(e.subleaf, ref[i].subleaf);
        assert_int_equal(e.eax, v.eax);
        assert_int_equal(e.ebx, v.ebx);
        assert_int_equal(e.ecx, v.ecx);
        assert_int_equal(e.edx, v.edx);
    }
    /* nothing outside the table changed */
    size_t bytes = n * ENTRY_SIZE;
    assert_memory_equal(f->ram, f->pristine, gpa);
    assert_memory_equal(f->ram + gpa + bytes, f->pristine + gpa + bytes, RAM_SIZE - gpa - bytes);
}

static void test_cpuid_leaves_list(void **state)
{
    (void)state;
    struct sc_cpuid_entry t[SVC_CPUID_MAX_ENTRIES];
    unsigned n = reference_leaves(FAKE_MAX_BASIC, FAKE_MAX_EXT, t);
    /* 0..0xd with 4 subleaves of 4, 0xb, 0xd and 2 of 7; 3 hypervisor; 9 extended */
    assert_int_equal(n, 14 + 3 + 1 + 3 + 3 + 3 + 9);
    bool hv[3] = {false, false, false}, l7[2] = {false, false};
    for (unsigned i = 0; i < n; i++) {
        uint32_t l = t[i].leaf;
        assert_true(l <= FAKE_MAX_BASIC || (l >= SC_CPUID_SIGNATURE && l <= SC_CPUID_MAX) ||
                    (l >= 0x80000000u && l <= FAKE_MAX_EXT));
        assert_int_equal(t[i].eax | t[i].ebx | t[i].ecx | t[i].edx, 0);
        if (l >= SC_CPUID_SIGNATURE && l <= SC_CPUID_MAX) {
            assert_int_equal(t[i].subleaf, 0);
            hv[l - SC_CPUID_SIGNATURE] = true;
        }
        if (l == 7) {
            assert_true(t[i].subleaf < 2);
            l7[t[i].subleaf] = true;
        }
        /* no duplicates */
        for (unsigned j = 0; j < i; j++)
            assert_false(t[j].leaf == l && t[j].subleaf == t[i].subleaf);
    }
    assert_true(hv[0] && hv[1] && hv[2]);
    assert_true(l7[0] && l7[1]);
    assert_int_equal(SC_CPUID_MAX, 0x40000002u);

    /* max limits how many are written */
    struct sc_cpuid_entry small[5];
    memset(small, 0xee, sizeof(small));
    assert_int_equal(service_cpuid_leaves(FAKE_MAX_BASIC, FAKE_MAX_EXT, small, 4), 4);
    assert_memory_equal(small, t, 4 * ENTRY_SIZE);
    const uint8_t *tail = (const uint8_t *)&small[4];
    for (size_t i = 0; i < ENTRY_SIZE; i++)
        assert_int_equal(tail[i], 0xee);
    assert_int_equal(service_cpuid_leaves(FAKE_MAX_BASIC, FAKE_MAX_EXT, small, 0), 0);

    /* a CPU without extended leaves, and one with only leaf 0 */
    n = reference_leaves(0, 0, t);
    assert_int_equal(n, 1 + 3);
    assert_int_equal(t[0].leaf, 0);
    n = reference_leaves(1, 0x80000000u, t);
    assert_int_equal(n, 2 + 3 + 1);
    assert_int_equal(t[n - 1].leaf, 0x80000000u);

    /* huge maxima are capped and still fit the table */
    n = reference_leaves(0xffffffffu, 0xffffffffu, t);
    assert_true(n <= SVC_CPUID_MAX_ENTRIES);
    for (unsigned i = 0; i < n; i++)
        assert_true(t[i].leaf <= 0x20 ||
                    (t[i].leaf >= SC_CPUID_SIGNATURE && t[i].leaf <= SC_CPUID_MAX) ||
                    (t[i].leaf >= 0x80000000u && t[i].leaf <= 0x80000021u));
}

static void test_cpuid_table_whole(void **state)
{
    struct fixture *f = *state;
    struct sc_cpuid_entry ref[SVC_CPUID_MAX_ENTRIES];
    unsigned n = reference_leaves(FAKE_MAX_BASIC, FAKE_MAX_EXT, ref);
    const uint64_t gpa = 0x1008;
    assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_CPUID_TABLE, gpa, 100, 0), n);
    assert_table_at(f, gpa, n);
    /* only the cpuid hook was used, with leaves of the table or the two maxima */
    assert_int_equal(total_calls(&f->rec), f->rec.cpuid_calls);
    assert_true(f->rec.cpuid_calls >= n);
    for (unsigned i = 0; i < f->rec.cpuid_calls && i < MAX_CPUID; i++) {
        uint32_t l = f->rec.cpuid_leaf[i];
        assert_true(l <= FAKE_MAX_BASIC || (l >= SC_CPUID_SIGNATURE && l <= SC_CPUID_MAX) ||
                    (l >= 0x80000000u && l <= FAKE_MAX_EXT));
    }
    /* the table holds the hypervisor leaves and subleaves 0 and 1 of leaf 7 */
    bool hv[3] = {false, false, false}, l7[2] = {false, false};
    for (unsigned i = 0; i < n; i++) {
        struct sc_cpuid_entry e;
        memcpy(&e, f->ram + gpa + i * ENTRY_SIZE, sizeof(e));
        if (e.leaf >= SC_CPUID_SIGNATURE && e.leaf <= SC_CPUID_MAX)
            hv[e.leaf - SC_CPUID_SIGNATURE] = true;
        if (e.leaf == 7 && e.subleaf < 2)
            l7[e.subleaf] = true;
        assert_false(e.leaf > FAKE_MAX_BASIC && e.leaf < SC_CPUID_SIGNATURE);
        assert_false(e.leaf > FAKE_MAX_EXT);
    }
    assert_true(hv[0] && hv[1] && hv[2]);
    assert_true(l7[0] && l7[1]);
}

static void test_cpuid_table_on_every_service(void **state)
{
    struct fixture *f = *state;
    struct sc_cpuid_entry ref[SVC_CPUID_MAX_ENTRIES];
    unsigned n = reference_leaves(FAKE_MAX_BASIC, FAKE_MAX_EXT, ref);
    for (size_t k = 0; k < ARRAY_SIZE(services); k++) {
        uint64_t gpa = 0x4000 + k * 0x1000;
        assert_int_equal(exec(f, services[k], SC_OP_CPUID_TABLE, gpa, n, 0), n);
        assert_table_at(f, gpa, n);
        memcpy(f->pristine + gpa, f->ram + gpa, n * ENTRY_SIZE);
    }
    assert_int_equal(total_calls(&f->rec), f->rec.cpuid_calls);
}

static void test_cpuid_table_other_maxima(void **state)
{
    struct fixture *f = *state;
    static const uint32_t maxima[][2] = {
        {0x1, 0x80000001u}, {0x7, 0x80000000u},  {0x20, 0x80000021u},
        {0x16, 0},          {0x1f, 0x80000020u}, {0xffffffffu, 0xffffffffu},
    };
    for (size_t k = 0; k < ARRAY_SIZE(maxima); k++) {
        f->rec.max_basic = maxima[k][0];
        f->rec.max_ext = maxima[k][1];
        struct sc_cpuid_entry ref[SVC_CPUID_MAX_ENTRIES];
        unsigned n = reference_leaves(maxima[k][0], maxima[k][1], ref);
        assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_CPUID_TABLE, 0x100, ~0ull, 0), n);
        assert_table_at(f, 0x100, n);
        memcpy(f->pristine, f->ram, RAM_SIZE);
    }
}

static void test_cpuid_table_capacity(void **state)
{
    struct fixture *f = *state;
    struct sc_cpuid_entry ref[SVC_CPUID_MAX_ENTRIES];
    unsigned n = reference_leaves(FAKE_MAX_BASIC, FAKE_MAX_EXT, ref);
    /* no room: nothing written */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_CPUID_TABLE, 0x2000, 0, 0), 0);
    assert_ram_untouched(f);
    /* an empty table at the end of RAM: accepted or refused, never written */
    int64_t st = exec(f, SC_SERVICE_IRQ, SC_OP_CPUID_TABLE, RAM_SIZE, 0, 0);
    assert_true(st == 0 || st == -E_FAULT);
    assert_ram_untouched(f);

    static const unsigned caps[] = {1, 5, 17};
    for (size_t k = 0; k < ARRAY_SIZE(caps); k++) {
        assert_true(caps[k] < n);
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_CPUID_TABLE, 0x3000, caps[k], 0), caps[k]);
        assert_table_at(f, 0x3000, caps[k]); /* and no byte beyond */
        memcpy(f->ram, f->pristine, RAM_SIZE);
    }
    /* exactly the table's size, and one more */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_CPUID_TABLE, 0x3000, n - 1, 0), n - 1);
    assert_table_at(f, 0x3000, n - 1);
    memcpy(f->ram, f->pristine, RAM_SIZE);
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_CPUID_TABLE, 0x3000, n + 1, 0), n);
    assert_table_at(f, 0x3000, n);
    memcpy(f->ram, f->pristine, RAM_SIZE);
    /* a capacity that would be small if truncated to 32 bits */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_CPUID_TABLE, 0x3000, (1ull << 32) | 2, 0), n);
    assert_table_at(f, 0x3000, n);
}

static void test_cpuid_table_bad_destination(void **state)
{
    struct fixture *f = *state;
    struct sc_cpuid_entry ref[SVC_CPUID_MAX_ENTRIES];
    unsigned n = reference_leaves(FAKE_MAX_BASIC, FAKE_MAX_EXT, ref);
    const uint64_t bytes = n * ENTRY_SIZE;
    static const uint64_t far[] = {RAM_SIZE, RAM_SIZE + 1, RAM_SIZE + 0x1000, 1ull << 32, ~0ull};
    for (size_t i = 0; i < ARRAY_SIZE(far); i++) {
        assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_CPUID_TABLE, far[i], n, 0), -E_FAULT);
        assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_CPUID_TABLE, far[i], 1, 0), -E_FAULT);
    }
    const uint64_t partial[] = {RAM_SIZE - bytes + 1, RAM_SIZE - 1, ~0ull - bytes + 2,
                                0ull - 0x1000, 0ull - RAM_SIZE};
    for (size_t i = 0; i < ARRAY_SIZE(partial); i++)
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_CPUID_TABLE, partial[i], n, 0), -E_FAULT);
    /* one entry hanging over the end */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_CPUID_TABLE, RAM_SIZE - ENTRY_SIZE + 1, 1, 0),
                     -E_FAULT);
    assert_int_equal(total_calls(&f->rec), f->rec.cpuid_calls);
    assert_ram_untouched(f);

    /* exactly at the end is fine */
    assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_CPUID_TABLE, RAM_SIZE - bytes, n, 0), n);
    assert_table_at(f, RAM_SIZE - bytes, n);
}

/* ---- exit counters (common op) ---- */

static void assert_counters_at(const struct fixture *f, uint64_t gpa, unsigned vcpu)
{
    const size_t bytes = sizeof(struct sc_exit_counters);
    for (unsigned i = 0; i < bytes / 8; i++) {
        uint64_t got;
        memcpy(&got, f->ram + gpa + i * 8, 8);
        assert_int_equal(got, counter_word(vcpu, i));
    }
    assert_memory_equal(f->ram, f->pristine, gpa);
    assert_memory_equal(f->ram + gpa + bytes, f->pristine + gpa + bytes, RAM_SIZE - gpa - bytes);
}

static void test_exit_counters_of_each_vcpu(void **state)
{
    struct fixture *f = *state;
    for (unsigned v = 0; v < NVCPUS; v++) {
        unsigned service = services[v % ARRAY_SIZE(services)];
        uint64_t gpa = 0x2008 + v * 0x400; /* 8-byte aligned is all the guest owes */
        assert_int_equal(exec(f, service, SC_OP_EXIT_COUNTERS, gpa, v, 0), 0);
        assert_int_equal(f->rec.counters_vcpu, v);
        assert_counters_at(f, gpa, v);
        memcpy(f->pristine, f->ram, RAM_SIZE);
    }
    assert_int_equal(total_calls(&f->rec), NVCPUS);
    /* exactly at the end of RAM */
    const uint64_t end = RAM_SIZE - sizeof(struct sc_exit_counters);
    assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_EXIT_COUNTERS, end, 0, 0), 0);
    assert_counters_at(f, end, 0);
}

static void test_exit_counters_refused(void **state)
{
    struct fixture *f = *state;
    const uint64_t bytes = sizeof(struct sc_exit_counters);
    static const uint64_t vcpus[] = {NVCPUS, NVCPUS + 1, 1ull << 32, ~0ull};
    for (size_t i = 0; i < ARRAY_SIZE(vcpus); i++)
        assert_int_equal(exec(f, SC_SERVICE_IRQ, SC_OP_EXIT_COUNTERS, 0x100, vcpus[i], 0),
                         -E_INVAL);
    const uint64_t gpas[] = {RAM_SIZE - bytes + 1, RAM_SIZE - 8, RAM_SIZE, ~0ull,
                             ~0ull - bytes + 2};
    for (size_t i = 0; i < ARRAY_SIZE(gpas); i++)
        assert_int_equal(exec(f, SC_SERVICE_PT, SC_OP_EXIT_COUNTERS, gpas[i], 0, 0), -E_FAULT);
    assert_int_equal(total_calls(&f->rec), 0);
    assert_ram_untouched(f);
}

/* SC_OP_BLK_POLL: 1 polls, 0 asks for notifications, anything else is refused unseen. */
static void test_blk_poll_mode(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_BLK_POLL, 0, 0, 0), 0);
    assert_false(f->rec.blk_poll);
    assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_BLK_POLL, 1, 0, 0), 0);
    assert_true(f->rec.blk_poll);
    assert_int_equal(f->rec.blk_calls, 2);
    static const uint64_t bad[] = {2, 0x101, 1ull << 32, ~0ull};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(exec(f, SC_SERVICE_IO, SC_OP_BLK_POLL, bad[i], 0, 0), -E_INVAL);
    assert_int_equal(f->rec.blk_calls, 2);
    assert_string_equal(service_opcode_name(SC_OP_BLK_POLL), "blk_poll");
}

static void test_status_overwritten(void **state)
{
    struct fixture *f = *state;
    /* exec() checks that the stale status is replaced on every path; this covers a status
     * that equals a plausible result */
    struct sc_ring_slot s = {.opcode = SC_OP_NULL, .tag = 7, .status = -E_INVAL};
    service_execute(&f->env, SC_SERVICE_IO, &s);
    assert_int_equal(s.status, 0);
    s = (struct sc_ring_slot){.opcode = 0x7777, .tag = 7, .status = 0};
    service_execute(&f->env, SC_SERVICE_IO, &s);
    assert_int_equal(s.status, -E_NOSYS);
    assert_int_equal(s.opcode, 0x7777);
    assert_int_equal(s.tag, 7);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_null_on_every_service),
        T(test_flags_nonzero),
        T(test_bad_service),
        T(test_good_requests_on_own_service),
        T(test_opcode_of_another_service),
        T(test_unknown_opcodes),
        T(test_opcode_names),
        T(test_pt_map_passes_exact_values),
        T(test_pt_unmap_passes_exact_values),
        T(test_pt_protect_passes_exact_values),
        T(test_pt_bad_ranges),
        T(test_pt_bad_rights),
        T(test_pt_query_results),
        T(test_pt_query_errors_leave_args),
        T(test_ipi_bad_vectors),
        T(test_ipi_bad_sets),
        T(test_ipi_set),
        T(test_ipi_all),
        T(test_ipi_set_of_64),
        T(test_ipi_bad_flags),
        T(test_ipi_error_is_returned),
        T(test_kick),
        T(test_stop),
        T(test_start),
        T(test_console_copies_exact_bytes),
        T(test_console_lengths),
        T(test_console_bounds),
        T(test_cpuid_leaves_list),
        T(test_cpuid_table_whole),
        T(test_cpuid_table_on_every_service),
        T(test_cpuid_table_other_maxima),
        T(test_cpuid_table_capacity),
        T(test_cpuid_table_bad_destination),
        T(test_exit_counters_of_each_vcpu),
        T(test_exit_counters_refused),
        T(test_blk_poll_mode),
        T(test_status_overwritten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
