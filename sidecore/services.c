/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Request validation and dispatch for the pt, irq and io services. Everything
 * a request names is checked against the caller's own partition first. */
#include "sidecore/services.h"

#include "core/klib.h"

#define PAGE 4096ull

const char *service_opcode_name(uint16_t op)
{
    switch (op) {
    case SC_OP_NULL:
        return "null";
    case SC_OP_CPUID_TABLE:
        return "cpuid_table";
    case SC_OP_EXIT_COUNTERS:
        return "exit_counters";
    case SC_OP_PT_MAP:
        return "pt_map";
    case SC_OP_PT_UNMAP:
        return "pt_unmap";
    case SC_OP_PT_PROTECT:
        return "pt_protect";
    case SC_OP_PT_QUERY:
        return "pt_query";
    case SC_OP_IPI:
        return "ipi";
    case SC_OP_VCPU_KICK:
        return "vcpu_kick";
    case SC_OP_VCPU_STOP:
        return "vcpu_stop";
    case SC_OP_VCPU_START:
        return "vcpu_start";
    case SC_OP_CONSOLE:
        return "console";
    case SC_OP_BLK_INFO:
        return "blk_info";
    case SC_OP_BLK_SETUP:
        return "blk_setup";
    case SC_OP_BLK_KICK:
        return "blk_kick";
    case SC_OP_BLK_POLL:
        return "blk_poll";
    default:
        return "unknown";
    }
}

/* [gpa, gpa + len) lies in the caller's RAM (written so that no sum can wrap). */
static bool in_ram(const struct svc_env *e, uint64_t gpa, uint64_t len)
{
    return gpa <= e->guest_size && len <= e->guest_size - gpa;
}

/* A page-aligned, non-empty range inside the caller's RAM. */
static int ram_range(const struct svc_env *e, uint64_t gpa, uint64_t size)
{
    if (size == 0 || (gpa | size) & (PAGE - 1))
        return -E_INVAL;
    if (gpa >= e->guest_size || size > e->guest_size - gpa)
        return -E_FAULT;
    return 0;
}

static int rights_ok(uint64_t rights)
{
    const uint64_t all = SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC;
    return (rights & SC_PT_READ) && !(rights & ~all);
}

static int64_t do_pt(const struct svc_env *e, struct sc_ring_slot *r)
{
    uint64_t gpa = r->arg[0], size = r->arg[1], rights = r->arg[2];
    int rc;
    switch (r->opcode) {
    case SC_OP_PT_MAP:
        if ((rc = ram_range(e, gpa, size)))
            return rc;
        return rights_ok(rights) ? e->pt_map(e->ctx, gpa, size, (unsigned)rights) : -E_INVAL;
    case SC_OP_PT_UNMAP:
        return (rc = ram_range(e, gpa, size)) ? rc : e->pt_unmap(e->ctx, gpa, size);
    case SC_OP_PT_PROTECT:
        if ((rc = ram_range(e, gpa, size)))
            return rc;
        return rights_ok(rights) ? e->pt_protect(e->ctx, gpa, size, (unsigned)rights) : -E_INVAL;
    case SC_OP_PT_QUERY: {
        if (gpa >= e->guest_size)
            return -E_FAULT;
        unsigned got = 0;
        uint64_t page_size = 0;
        rc = e->pt_query(e->ctx, gpa, &got, &page_size);
        if (rc)
            return rc;
        r->arg[0] = got;
        r->arg[1] = page_size;
        return 0;
    }
    default:
        return -E_NOSYS;
    }
}

static int64_t do_ipi(const struct svc_env *e, const struct sc_ring_slot *r)
{
    uint64_t vector = r->arg[0], set = r->arg[1], flags = r->arg[2];
    if (vector < SC_VECTOR_MIN || vector > SC_VECTOR_MAX || (flags & ~(uint64_t)SC_IPI_ALL))
        return -E_INVAL;
    if (flags & SC_IPI_ALL)
        set = e->nvcpus >= 64 ? ~0ull : (1ull << e->nvcpus) - 1;
    else if (set == 0 || (e->nvcpus < 64 && (set >> e->nvcpus)))
        return -E_INVAL; /* empty, or names a vCPU outside the partition */
    int64_t sent = 0;
    for (unsigned v = 0; v < e->nvcpus && v < 64; v++) {
        if (!(set & (1ull << v)))
            continue;
        int rc = e->send_ipi(e->ctx, v, (uint8_t)vector);
        if (rc)
            return rc;
        sent++;
    }
    return sent;
}

static int64_t do_irq(const struct svc_env *e, struct sc_ring_slot *r)
{
    switch (r->opcode) {
    case SC_OP_IPI:
        return do_ipi(e, r);
    case SC_OP_VCPU_KICK:
        return r->arg[0] < e->nvcpus ? e->kick(e->ctx, (unsigned)r->arg[0]) : -E_INVAL;
    case SC_OP_VCPU_STOP:
        if (r->arg[0] >= e->nvcpus || r->arg[0] == e->vcpu)
            return -E_INVAL; /* a vCPU ends itself with SC_HC_EXIT */
        return e->stop_vcpu(e->ctx, (unsigned)r->arg[0], (int64_t)r->arg[1]);
    case SC_OP_VCPU_START:
        if (r->arg[0] >= e->nvcpus || r->arg[0] == e->vcpu)
            return -E_INVAL;
        if (r->arg[1] >= e->guest_size || r->arg[2] > e->guest_size || r->arg[2] < 8)
            return -E_FAULT; /* the entry and the stack lie in the partition's RAM */
        return e->start_vcpu(e->ctx, (unsigned)r->arg[0], r->arg[1], r->arg[2]);
    default:
        return -E_NOSYS;
    }
}

/* The text goes out in pieces through a small copy: a whole SC_CONSOLE_MAX buffer would
 * be 4 KiB of the trap path's stack (the hook assembles lines across calls anyway). */
#define CONSOLE_PIECE 256

static int64_t do_console(const struct svc_env *e, const struct sc_ring_slot *r)
{
    char text[CONSOLE_PIECE];
    uint64_t gpa = r->arg[0], len = r->arg[1];
    if (len > SC_CONSOLE_MAX)
        return -E_INVAL;
    if (!in_ram(e, gpa, len))
        return -E_FAULT;
    for (uint64_t off = 0; off < len; off += CONSOLE_PIECE) {
        size_t n = len - off < CONSOLE_PIECE ? (size_t)(len - off) : CONSOLE_PIECE;
        memcpy(text, e->guest_base + gpa + off, n); /* one read of guest memory */
        e->console(e->ctx, text, n);
    }
    return (int64_t)len;
}

static int64_t do_io(const struct svc_env *e, struct sc_ring_slot *r)
{
    switch (r->opcode) {
    case SC_OP_CONSOLE:
        return do_console(e, r);
    case SC_OP_BLK_INFO: {
        uint64_t sectors = 0;
        int rc = e->blk_info(e->ctx, &sectors);
        if (rc)
            return rc;
        r->arg[0] = sectors;
        return 0;
    }
    case SC_OP_BLK_SETUP: /* the queue's own checks are the block layer's (sidecore/blk.c) */
        return e->blk_setup(e->ctx, r->arg[0], r->arg[1], r->arg[2], r->arg[3], r->arg[4]);
    case SC_OP_BLK_KICK:
        return e->blk_kick(e->ctx);
    case SC_OP_BLK_POLL:
        if (r->arg[0] > 1)
            return -E_INVAL;
        return e->blk_poll_mode(e->ctx, r->arg[0] == 1);
    default:
        return -E_NOSYS;
    }
}

/* Calls fn(ctx, index, leaf, subleaf) for each leaf of the table, in order; returns how
 * many leaves there are. */
static unsigned for_each_cpuid_leaf(uint32_t max_basic, uint32_t max_ext,
                                    void (*fn)(void *ctx, unsigned i, uint32_t l, uint32_t s),
                                    void *ctx)
{
    unsigned n = 0;
    for (uint32_t l = 0; l <= max_basic && l <= 0x20; l++) {
        unsigned subleaves = (l == 4 || l == 0xb || l == 0xd || l == 0x1f) ? 4 : l == 7 ? 2 : 1;
        for (uint32_t s = 0; s < subleaves; s++)
            fn(ctx, n++, l, s);
    }
    for (uint32_t l = SC_CPUID_SIGNATURE; l <= SC_CPUID_MAX; l++)
        fn(ctx, n++, l, 0);
    for (uint32_t l = 0x80000000u; l <= max_ext && l <= 0x80000021u; l++)
        fn(ctx, n++, l, 0);
    return n;
}

struct leaf_list {
    struct sc_cpuid_entry *out;
    unsigned max;
};

static void list_leaf(void *ctx, unsigned i, uint32_t l, uint32_t s)
{
    const struct leaf_list *ll = ctx;
    if (i < ll->max)
        ll->out[i] = (struct sc_cpuid_entry){l, s, 0, 0, 0, 0};
}

unsigned service_cpuid_leaves(uint32_t max_basic, uint32_t max_ext, struct sc_cpuid_entry *out,
                              unsigned max)
{
    struct leaf_list ll = {out, max};
    unsigned n = for_each_cpuid_leaf(max_basic, max_ext, list_leaf, &ll);
    return n < max ? n : max;
}

static void count_leaf(void *ctx, unsigned i, uint32_t l, uint32_t s)
{
    /* counting only */
}

/* The first n entries go straight to guest memory, one at a time: the whole table would
 * be 3 KiB of the trap path's stack. */
struct leaf_writer {
    const struct svc_env *e;
    uint64_t gpa;
    unsigned n;
};

static void write_leaf(void *ctx, unsigned i, uint32_t l, uint32_t s)
{
    const struct leaf_writer *w = ctx;
    if (i >= w->n)
        return;
    struct cpuid_values v;
    w->e->cpuid(w->e->ctx, l, s, &v);
    struct sc_cpuid_entry entry = {l, s, v.eax, v.ebx, v.ecx, v.edx};
    memcpy(w->e->guest_base + w->gpa + (uint64_t)i * sizeof(entry), &entry, sizeof(entry));
}

static int64_t do_cpuid_table(const struct svc_env *e, struct sc_ring_slot *r)
{
    uint64_t gpa = r->arg[0], capacity = r->arg[1];
    struct cpuid_values v0, v8;
    e->cpuid(e->ctx, 0, 0, &v0);
    e->cpuid(e->ctx, 0x80000000u, 0, &v8);
    unsigned n = for_each_cpuid_leaf(v0.eax, v8.eax, count_leaf, NULL);
    if (n > SVC_CPUID_MAX_ENTRIES)
        n = SVC_CPUID_MAX_ENTRIES;
    if (capacity < n)
        n = (unsigned)capacity;
    uint64_t bytes = (uint64_t)n * sizeof(struct sc_cpuid_entry);
    if (!in_ram(e, gpa, bytes))
        return -E_FAULT;
    struct leaf_writer w = {e, gpa, n};
    for_each_cpuid_leaf(v0.eax, v8.eax, write_leaf, &w);
    return n;
}

/* The snapshot is taken into a private copy, then written to the guest in one piece. */
static int64_t do_exit_counters(const struct svc_env *e, const struct sc_ring_slot *r)
{
    uint64_t gpa = r->arg[0], vcpu = r->arg[1];
    struct sc_exit_counters snapshot;
    if (vcpu >= e->nvcpus)
        return -E_INVAL;
    if (!in_ram(e, gpa, sizeof(snapshot)))
        return -E_FAULT;
    e->exit_counters(e->ctx, (unsigned)vcpu, &snapshot);
    memcpy(e->guest_base + gpa, &snapshot, sizeof(snapshot));
    return 0;
}

void service_execute(const struct svc_env *e, enum sc_service service, struct sc_ring_slot *r)
{
    int64_t status;
    if (r->flags != 0 || service >= SC_SERVICES)
        status = -E_INVAL;
    else if (r->opcode == SC_OP_NULL)
        status = 0;
    else if (r->opcode == SC_OP_CPUID_TABLE)
        status = do_cpuid_table(e, r);
    else if (r->opcode == SC_OP_EXIT_COUNTERS)
        status = do_exit_counters(e, r);
    else if (service == SC_SERVICE_PT)
        status = do_pt(e, r);
    else if (service == SC_SERVICE_IRQ)
        status = do_irq(e, r);
    else
        status = do_io(e, r);
    r->status = status;
}
