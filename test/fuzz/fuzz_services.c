/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libFuzzer target: service_execute with an arbitrary ring request against a fake partition. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "guest-stubs/include/sidecore/ring.h"
#include "sidecore/services.h"

/* Input layout (little endian):
 *   byte  0      bits 0-1: the service (3 is none); bits 2-7: vCPU count - 1 (1..64)
 *   bytes 1-64   the request slot as the guest wrote it (struct sc_ring_slot). Its tag, which
 *                the services never interpret, also steers the fake partition:
 *                  bits  0-5   the caller's vCPU (modulo the count)
 *                  bit   6     the pt hooks fail (map -E_NOMEM, unmap -E_BUSY,
 *                              protect -E_PERM, query -E_IO)
 *                  bit   7     the block hooks fail (info -E_NODEV, setup -E_BUSY,
 *                              kick -E_IO)
 *                  bits  8-14  send_ipi fails with -E_IO on its n-th call (0: never)
 *                  bit   15    kick fails with -E_BUSY
 *                  bit   16    stop_vcpu fails with -E_PERM
 *                  bits 17-22  the highest basic CPUID leaf (0..63)
 *                  bits 23-28  the highest extended leaf, 0x80000000 + n (63: 0, none)
 *   bytes 65..   guest RAM; its size is the rest of the input clamped to [4 KiB, 64 KiB],
 *                zero-filled when the input is shorter (an exact-size buffer for ASan) */
#define HEADER_SIZE (1 + sizeof(struct sc_ring_slot))
#define RAM_MIN (4 * 1024)
#define RAM_MAX (64 * 1024)
#define PAGE 4096ull
#define MAX_VCPUS 64

#define TRAP_IF(c)                                                                                 \
    do {                                                                                           \
        if (c)                                                                                     \
            __builtin_trap();                                                                      \
    } while (0)

struct world {
    uint8_t *ram;
    uint64_t ram_size;
    unsigned nvcpus, caller;
    unsigned service;
    struct sc_ring_slot req; /* the request as posted */
    int pt_fail, kick_fail, stop_fail, blk_fail;
    unsigned ipi_fail_at;
    uint32_t max_basic, max_ext;
    /* what the hooks saw */
    unsigned map_calls, unmap_calls, protect_calls, query_calls, ipi_calls, kick_calls, stop_calls,
        console_calls, cpuid_calls, blk_calls, counters_calls;
    uint64_t console_bytes; /* a console text may come in pieces, in order */
    uint64_t ipi_seen;      /* vCPUs that got an IPI */
    unsigned query_rights;
    uint64_t query_page;
};

static struct world w;

static int pt_range_ok(uint64_t gpa, uint64_t size)
{
    return size != 0 && (gpa & (PAGE - 1)) == 0 && (size & (PAGE - 1)) == 0 &&
           (unsigned __int128)gpa + size <= w.ram_size;
}

static int rights_ok(uint64_t rights)
{
    return (rights & SC_PT_READ) && !(rights & ~(uint64_t)(SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC));
}

/* Each hook: only for its own opcode on its own service, with the request's own values. */
static void expect_op(unsigned service, uint16_t opcode)
{
    TRAP_IF(w.service != service || w.req.opcode != opcode || w.req.flags != 0);
}

static int f_pt_map(void *ctx, uint64_t gpa, uint64_t size, unsigned rights)
{
    (void)ctx;
    w.map_calls++;
    expect_op(SC_SERVICE_PT, SC_OP_PT_MAP);
    TRAP_IF(!pt_range_ok(gpa, size) || !rights_ok(rights));
    TRAP_IF(gpa != w.req.arg[0] || size != w.req.arg[1] || rights != w.req.arg[2]);
    return w.pt_fail ? -E_NOMEM : 0;
}

static int f_pt_unmap(void *ctx, uint64_t gpa, uint64_t size)
{
    (void)ctx;
    w.unmap_calls++;
    expect_op(SC_SERVICE_PT, SC_OP_PT_UNMAP);
    TRAP_IF(!pt_range_ok(gpa, size));
    TRAP_IF(gpa != w.req.arg[0] || size != w.req.arg[1]);
    return w.pt_fail ? -E_BUSY : 0;
}

static int f_pt_protect(void *ctx, uint64_t gpa, uint64_t size, unsigned rights)
{
    (void)ctx;
    w.protect_calls++;
    expect_op(SC_SERVICE_PT, SC_OP_PT_PROTECT);
    TRAP_IF(!pt_range_ok(gpa, size) || !rights_ok(rights));
    TRAP_IF(gpa != w.req.arg[0] || size != w.req.arg[1] || rights != w.req.arg[2]);
    return w.pt_fail ? -E_PERM : 0;
}

/* Every third page is not mapped. */
static int query_answer(uint64_t gpa, unsigned *rights, uint64_t *page_size)
{
    uint64_t pfn = gpa / PAGE;
    if (pfn % 3 == 2)
        return -E_NOENT;
    *rights = SC_PT_READ | (unsigned)(pfn & 6);
    *page_size = pfn % 3 ? PAGE : 0x200000;
    return 0;
}

static int f_pt_query(void *ctx, uint64_t gpa, unsigned *rights, uint64_t *page_size)
{
    (void)ctx;
    w.query_calls++;
    expect_op(SC_SERVICE_PT, SC_OP_PT_QUERY);
    TRAP_IF(gpa >= w.ram_size || gpa != w.req.arg[0]);
    if (w.pt_fail)
        return -E_IO;
    int rc = query_answer(gpa, rights, page_size);
    if (rc == 0) {
        w.query_rights = *rights;
        w.query_page = *page_size;
    }
    return rc;
}

static int f_send_ipi(void *ctx, unsigned vcpu, uint8_t vector)
{
    (void)ctx;
    w.ipi_calls++;
    expect_op(SC_SERVICE_IRQ, SC_OP_IPI);
    TRAP_IF(vcpu >= w.nvcpus || vector < 32 || vector != w.req.arg[0]);
    TRAP_IF(w.ipi_seen & (1ull << vcpu)); /* once per vCPU */
    if (!(w.req.arg[2] & SC_IPI_ALL))
        TRAP_IF(!(w.req.arg[1] & (1ull << vcpu))); /* only the named ones */
    w.ipi_seen |= 1ull << vcpu;
    return w.ipi_calls == w.ipi_fail_at ? -E_IO : 0;
}

static int f_kick(void *ctx, unsigned vcpu)
{
    (void)ctx;
    w.kick_calls++;
    expect_op(SC_SERVICE_IRQ, SC_OP_VCPU_KICK);
    TRAP_IF(vcpu >= w.nvcpus || vcpu != w.req.arg[0]);
    return w.kick_fail ? -E_BUSY : 0;
}

static int f_stop_vcpu(void *ctx, unsigned vcpu, int64_t status)
{
    (void)ctx;
    w.stop_calls++;
    expect_op(SC_SERVICE_IRQ, SC_OP_VCPU_STOP);
    TRAP_IF(vcpu >= w.nvcpus || vcpu == w.caller || vcpu != w.req.arg[0]);
    TRAP_IF(status != (int64_t)w.req.arg[1]);
    return w.stop_fail ? -E_PERM : 0;
}

static int f_start_vcpu(void *ctx, unsigned vcpu, uint64_t rip, uint64_t rsp)
{
    (void)ctx;
    w.stop_calls++; /* start and stop share a counter: at most one per request */
    expect_op(SC_SERVICE_IRQ, SC_OP_VCPU_START);
    TRAP_IF(vcpu >= w.nvcpus || vcpu == w.caller || vcpu != w.req.arg[0]);
    TRAP_IF(rip != w.req.arg[1] || rsp != w.req.arg[2] || rip >= w.ram_size || rsp > w.ram_size);
    return w.stop_fail ? -E_BUSY : 0;
}

static void f_console(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    w.console_calls++;
    expect_op(SC_SERVICE_IO, SC_OP_CONSOLE);
    uint64_t gpa = w.req.arg[0] + w.console_bytes; /* where this piece starts */
    TRAP_IF(len > SC_CONSOLE_MAX || w.console_bytes + len > w.req.arg[1]);
    TRAP_IF((unsigned __int128)gpa + len > w.ram_size); /* text from outside the partition */
    w.console_bytes += len;
    TRAP_IF(len && memcmp(text, w.ram + gpa, len) != 0);
    uintptr_t t = (uintptr_t)text, r = (uintptr_t)w.ram;
    TRAP_IF(len && t < r + w.ram_size && r < t + len); /* a copy, not guest memory */
}

#define BLK_SECTORS 0x123456789ull
#define BLK_KICK_DONE 5

/* The block device's own checks are the block layer's: the service passes the request on. */
static int f_blk_info(void *ctx, uint64_t *sectors)
{
    (void)ctx;
    w.blk_calls++;
    expect_op(SC_SERVICE_IO, SC_OP_BLK_INFO);
    if (w.blk_fail)
        return -E_NODEV;
    *sectors = BLK_SECTORS;
    return 0;
}

static int f_blk_setup(void *ctx, uint64_t desc, uint64_t avail, uint64_t used, uint64_t size,
                       uint64_t vector)
{
    (void)ctx;
    w.blk_calls++;
    expect_op(SC_SERVICE_IO, SC_OP_BLK_SETUP);
    TRAP_IF(desc != w.req.arg[0] || avail != w.req.arg[1] || used != w.req.arg[2] ||
            size != w.req.arg[3] || vector != w.req.arg[4]);
    return w.blk_fail ? -E_BUSY : 0;
}

static int f_blk_kick(void *ctx)
{
    (void)ctx;
    w.blk_calls++;
    expect_op(SC_SERVICE_IO, SC_OP_BLK_KICK);
    return w.blk_fail ? -E_IO : BLK_KICK_DONE;
}

static int f_blk_poll_mode(void *ctx, bool poll)
{
    (void)ctx;
    w.blk_calls++;
    expect_op(SC_SERVICE_IO, SC_OP_BLK_POLL);
    TRAP_IF(w.req.arg[0] > 1 || poll != (w.req.arg[0] == 1)); /* 0 or 1 only reach it */
    return w.blk_fail ? -E_NODEV : 0;
}

static void fake_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_values *out)
{
    out->eax = leaf * 0x01000193u ^ subleaf;
    out->ebx = leaf + subleaf * 0x10001u;
    out->ecx = ~leaf;
    out->edx = leaf ^ 0x5a5a0000u ^ subleaf << 8;
    if (leaf == 0)
        out->eax = w.max_basic;
    else if (leaf == 0x80000000u)
        out->eax = w.max_ext;
}

static void f_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, struct cpuid_values *out)
{
    (void)ctx;
    w.cpuid_calls++;
    TRAP_IF(w.req.opcode != SC_OP_CPUID_TABLE || w.service >= SC_SERVICES || w.req.flags);
    fake_cpuid(leaf, subleaf, out);
}

/* Distinct values per vCPU and counter, so a copy of the wrong vCPU or a partial one shows. */
static uint64_t fake_counter(unsigned vcpu, unsigned i)
{
    return 0x1000000000ull * (vcpu + 1) + i * 7 + 3;
}

static void f_exit_counters(void *ctx, unsigned vcpu, struct sc_exit_counters *out)
{
    (void)ctx;
    w.counters_calls++;
    TRAP_IF(w.req.opcode != SC_OP_EXIT_COUNTERS || vcpu >= w.nvcpus || vcpu != w.req.arg[1]);
    uint64_t *words = (uint64_t *)out;
    for (unsigned i = 0; i < sizeof(*out) / 8; i++)
        words[i] = fake_counter(vcpu, i);
}

/* The ABI, written out independently of services.c. *alt is a second acceptable status
 * where two checks fail at once and their order is not part of the ABI. */
static int64_t expected(const struct sc_ring_slot *r, int64_t *alt)
{
    uint64_t a0 = r->arg[0], a1 = r->arg[1], a2 = r->arg[2];
    *alt = INT64_MIN; /* none */
    if (r->flags != 0 || w.service >= SC_SERVICES)
        return -E_INVAL;
    if (r->opcode == SC_OP_NULL)
        return 0;
    if (r->opcode == SC_OP_CPUID_TABLE) {
        struct sc_cpuid_entry t[SVC_CPUID_MAX_ENTRIES];
        uint64_t n = service_cpuid_leaves(w.max_basic, w.max_ext, t, SVC_CPUID_MAX_ENTRIES);
        if (a1 < n)
            n = a1;
        unsigned __int128 end = (unsigned __int128)a0 + n * sizeof(struct sc_cpuid_entry);
        if (end > w.ram_size || a0 > w.ram_size)
            return -E_FAULT;
        return (int64_t)n;
    }
    if (r->opcode == SC_OP_EXIT_COUNTERS) {
        if (a1 >= w.nvcpus)
            return -E_INVAL;
        return (unsigned __int128)a0 + sizeof(struct sc_exit_counters) > w.ram_size ? -E_FAULT : 0;
    }
    switch (w.service) {
    case SC_SERVICE_PT:
        switch (r->opcode) {
        case SC_OP_PT_MAP:
        case SC_OP_PT_PROTECT:
        case SC_OP_PT_UNMAP: {
            int64_t range = 0;
            if (a1 == 0 || ((a0 | a1) & (PAGE - 1)))
                range = -E_INVAL;
            else if ((unsigned __int128)a0 + a1 > w.ram_size)
                range = -E_FAULT;
            int rights_bad = r->opcode != SC_OP_PT_UNMAP && !rights_ok(a2);
            if (range && rights_bad) {
                *alt = -E_INVAL;
                return range;
            }
            if (range)
                return range;
            if (rights_bad)
                return -E_INVAL;
            if (w.pt_fail)
                return r->opcode == SC_OP_PT_MAP     ? -E_NOMEM
                       : r->opcode == SC_OP_PT_UNMAP ? -E_BUSY
                                                     : -E_PERM;
            return 0;
        }
        case SC_OP_PT_QUERY: {
            if (a0 >= w.ram_size)
                return -E_FAULT;
            if (w.pt_fail)
                return -E_IO;
            unsigned rights;
            uint64_t page;
            return query_answer(a0, &rights, &page);
        }
        default:
            return -E_NOSYS;
        }
    case SC_SERVICE_IRQ:
        switch (r->opcode) {
        case SC_OP_IPI: {
            if (a0 < 32 || a0 > SC_VECTOR_MAX || (a2 & ~(uint64_t)SC_IPI_ALL))
                return -E_INVAL;
            uint64_t all = w.nvcpus >= 64 ? ~0ull : (1ull << w.nvcpus) - 1;
            uint64_t set = (a2 & SC_IPI_ALL) ? all : a1;
            if (set == 0 || (set & ~all))
                return -E_INVAL;
            int64_t count = __builtin_popcountll(set);
            return w.ipi_fail_at && w.ipi_fail_at <= count ? -E_IO : count;
        }
        case SC_OP_VCPU_KICK:
            if (a0 >= w.nvcpus)
                return -E_INVAL;
            return w.kick_fail ? -E_BUSY : 0;
        case SC_OP_VCPU_STOP:
            if (a0 >= w.nvcpus || a0 == w.caller)
                return -E_INVAL;
            return w.stop_fail ? -E_PERM : 0;
        case SC_OP_VCPU_START:
            if (a0 >= w.nvcpus || a0 == w.caller)
                return -E_INVAL;
            if (a1 >= w.ram_size || a2 > w.ram_size || a2 < 8)
                return -E_FAULT;
            return w.stop_fail ? -E_BUSY : 0;
        default:
            return -E_NOSYS;
        }
    default: /* io */
        if (r->opcode == SC_OP_BLK_INFO)
            return w.blk_fail ? -E_NODEV : 0;
        if (r->opcode == SC_OP_BLK_SETUP)
            return w.blk_fail ? -E_BUSY : 0;
        if (r->opcode == SC_OP_BLK_KICK)
            return w.blk_fail ? -E_IO : BLK_KICK_DONE;
        if (r->opcode == SC_OP_BLK_POLL)
            return a0 > 1 ? -E_INVAL : w.blk_fail ? -E_NODEV : 0;
        if (r->opcode != SC_OP_CONSOLE)
            return -E_NOSYS;
        if (a1 > SC_CONSOLE_MAX)
            return -E_INVAL;
        return (unsigned __int128)a0 + a1 > w.ram_size ? -E_FAULT : (int64_t)a1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER_SIZE)
        return 0;
    size_t n = size - HEADER_SIZE;
    uint64_t ram_size = n < RAM_MIN ? RAM_MIN : n > RAM_MAX ? RAM_MAX : n;

    memset(&w, 0, sizeof(w));
    w.service = data[0] & 3;
    w.nvcpus = (data[0] >> 2) + 1u;
    memcpy(&w.req, data + 1, sizeof(w.req));
    uint32_t tag = w.req.tag;
    w.caller = (tag & 63) % w.nvcpus;
    w.pt_fail = (tag >> 6) & 1;
    w.blk_fail = (tag >> 7) & 1;
    w.ipi_fail_at = (tag >> 8) & 127;
    w.kick_fail = (tag >> 15) & 1;
    w.stop_fail = (tag >> 16) & 1;
    w.max_basic = (tag >> 17) & 63;
    unsigned ext = (tag >> 23) & 63;
    w.max_ext = ext == 63 ? 0 : 0x80000000u + ext;
    w.ram_size = ram_size;

    w.ram = malloc(ram_size);
    uint8_t *before = malloc(ram_size);
    if (!w.ram || !before)
        abort();
    memset(w.ram, 0, ram_size);
    memcpy(w.ram, data + HEADER_SIZE, n < ram_size ? n : ram_size);
    memcpy(before, w.ram, ram_size);

    struct svc_env env = {
        .guest_base = w.ram,
        .guest_size = ram_size,
        .vcpu = w.caller,
        .nvcpus = w.nvcpus,
        .ctx = &w,
        .pt_map = f_pt_map,
        .pt_unmap = f_pt_unmap,
        .pt_protect = f_pt_protect,
        .pt_query = f_pt_query,
        .send_ipi = f_send_ipi,
        .kick = f_kick,
        .stop_vcpu = f_stop_vcpu,
        .start_vcpu = f_start_vcpu,
        .console = f_console,
        .cpuid = f_cpuid,
        .exit_counters = f_exit_counters,
        .blk_info = f_blk_info,
        .blk_setup = f_blk_setup,
        .blk_kick = f_blk_kick,
        .blk_poll_mode = f_blk_poll_mode,
    };
    struct sc_ring_slot slot = w.req; /* the side core's private copy */
    service_execute(&env, (enum sc_service)w.service, &slot);
    int64_t st = slot.status;
    const struct sc_ring_slot *r = &w.req;

    /* statuses: a result, or an error this service or one of the hooks can give */
    TRAP_IF(st < 0 && st != -E_INVAL && st != -E_FAULT && st != -E_NOSYS && st != -E_NOENT &&
            st != -E_NOMEM && st != -E_BUSY && st != -E_PERM && st != -E_IO && st != -E_NODEV);
    int64_t alt;
    int64_t want = expected(r, &alt);
    TRAP_IF(st != want && st != alt);

    /* the request's identity is returned as it came; arguments change only for a query
     * (arg0, arg1) or a block device's size (arg0) */
    TRAP_IF(slot.opcode != r->opcode || slot.flags != r->flags || slot.tag != r->tag);
    int query_ok =
        w.service == SC_SERVICE_PT && r->opcode == SC_OP_PT_QUERY && r->flags == 0 && st == 0;
    int info_ok =
        w.service == SC_SERVICE_IO && r->opcode == SC_OP_BLK_INFO && r->flags == 0 && st == 0;
    for (unsigned i = query_ok ? 2 : info_ok ? 1 : 0; i < 6; i++)
        TRAP_IF(slot.arg[i] != r->arg[i]);
    if (query_ok)
        TRAP_IF(w.query_calls != 1 || slot.arg[0] != w.query_rights || slot.arg[1] != w.query_page);
    if (info_ok)
        TRAP_IF(w.blk_calls != 1 || slot.arg[0] != BLK_SECTORS);

    /* hooks: as many calls as the request needs, none on an error found before them */
    unsigned pt_calls = w.map_calls + w.unmap_calls + w.protect_calls + w.query_calls;
    TRAP_IF(pt_calls > 1 || w.kick_calls > 1 || w.stop_calls > 1 || w.blk_calls > 1);
    int valid_op = r->flags == 0 && w.service < SC_SERVICES;
    /* the hooks' errors are distinct from these, so these come before any hook ran */
    if (st == -E_INVAL || st == -E_FAULT || st == -E_NOSYS)
        TRAP_IF(pt_calls + w.ipi_calls + w.kick_calls + w.stop_calls + w.console_calls +
                    w.blk_calls + w.counters_calls !=
                0);
    if (valid_op && st >= 0) {
        switch (r->opcode) {
        case SC_OP_CONSOLE:
            TRAP_IF(w.console_bytes != r->arg[1]); /* all of it, each byte once */
            break;
        case SC_OP_IPI:
            TRAP_IF(w.ipi_calls != (unsigned)st ||
                    (uint64_t)__builtin_popcountll(w.ipi_seen) != (uint64_t)st);
            break;
        case SC_OP_PT_MAP:
        case SC_OP_PT_UNMAP:
        case SC_OP_PT_PROTECT:
        case SC_OP_PT_QUERY:
            TRAP_IF(pt_calls != 1);
            break;
        case SC_OP_VCPU_KICK:
            TRAP_IF(w.kick_calls != 1);
            break;
        case SC_OP_VCPU_STOP:
            TRAP_IF(w.stop_calls != 1);
            break;
        case SC_OP_BLK_INFO:
        case SC_OP_BLK_SETUP:
        case SC_OP_BLK_KICK:
            TRAP_IF(w.blk_calls != 1);
            break;
        default:
            break;
        }
    }

    TRAP_IF(w.counters_calls > 1 || (w.counters_calls && st != 0));
    if (valid_op && r->opcode == SC_OP_EXIT_COUNTERS && st == 0) {
        /* exactly the counters of the vCPU named, where it said, and nothing else */
        TRAP_IF(w.counters_calls != 1);
        uint64_t gpa = r->arg[0], bytes = sizeof(struct sc_exit_counters);
        for (unsigned i = 0; i < bytes / 8; i++) {
            uint64_t got;
            memcpy(&got, w.ram + gpa + i * 8, 8);
            TRAP_IF(got != fake_counter((unsigned)r->arg[1], i));
        }
        TRAP_IF(memcmp(w.ram, before, gpa) != 0 ||
                memcmp(w.ram + gpa + bytes, before + gpa + bytes, ram_size - gpa - bytes) != 0);
    } else if (valid_op && r->opcode == SC_OP_CPUID_TABLE && st > 0) {
        /* guest RAM changes only where a successful CPUID table went, and holds exactly it */
        struct sc_cpuid_entry t[SVC_CPUID_MAX_ENTRIES];
        unsigned total = service_cpuid_leaves(w.max_basic, w.max_ext, t, SVC_CPUID_MAX_ENTRIES);
        TRAP_IF((uint64_t)st > total || (uint64_t)st > r->arg[1]);
        uint64_t gpa = r->arg[0], bytes = (uint64_t)st * sizeof(struct sc_cpuid_entry);
        for (unsigned i = 0; i < (unsigned)st; i++) {
            struct sc_cpuid_entry e;
            struct cpuid_values v;
            memcpy(&e, w.ram + gpa + i * sizeof(e), sizeof(e));
            fake_cpuid(t[i].leaf, t[i].subleaf, &v);
            TRAP_IF(e.leaf != t[i].leaf || e.subleaf != t[i].subleaf || e.eax != v.eax ||
                    e.ebx != v.ebx || e.ecx != v.ecx || e.edx != v.edx);
            TRAP_IF(e.leaf > w.max_basic && e.leaf < SC_CPUID_SIGNATURE);
            TRAP_IF(e.leaf > SC_CPUID_MAX && (e.leaf < 0x80000000u || e.leaf > w.max_ext));
        }
        TRAP_IF(memcmp(w.ram, before, gpa) != 0 ||
                memcmp(w.ram + gpa + bytes, before + gpa + bytes, ram_size - gpa - bytes) != 0);
    } else {
        TRAP_IF(memcmp(w.ram, before, ram_size) != 0);
    }
    free(before);
    free(w.ram);
    return 0;
}
