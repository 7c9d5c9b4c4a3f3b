/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: floods its rings, then corrupts them; the broken ring stays dead, traps work. */
#include "core/fmt.h"
#include "sidecore/guest.h"

#define FLOOD_MS 300
#define FLOOD_MIN (4 * SC_RING_SLOTS) /* requests per ring, however slow the side core */
#define GUARD_MS 10000                /* hang guard only, never a timing assertion */
#define PENDING_MS 500                /* how long a request on the broken ring is watched */
#define BAD_OPCODE 0x7f
#define PT_GARBAGE_AHEAD 0x10000u
#define IRQ_GARBAGE_TAIL 0xdeadbeefu
#define IO_GARBAGE_TAIL 0x8badf00du

static const char *const service_name[SC_SERVICES] = {"pt", "irq", "io"};
static const char trap_text[] = "hostile: the trap path still works\n";
static uint64_t tsc_hz;
static int failures;

__attribute__((format(printf, 3, 4))) static bool check(unsigned id, bool ok, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    (void)id;
    if (ok) {
        sc_pass("%s", buf);
    } else {
        sc_fail("%s", buf);
        __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
    }
    return ok;
}

static uint64_t deadline_ms(uint64_t ms)
{
    return sc_rdtsc() + (tsc_hz ? tsc_hz : 1000000000ull) / 1000 * ms;
}

static uint16_t flood_opcode(enum sc_service s, uint32_t seq)
{
    switch (seq % 3) {
    case 0:
        return SC_OP_NULL;
    case 1:
        return BAD_OPCODE;
    default:
        return s == SC_SERVICE_PT ? SC_OP_PT_QUERY : SC_OP_NULL;
    }
}

static bool completion_ok(const struct sc_ring_slot *slot, uint32_t seq)
{
    int64_t want = slot->opcode == BAD_OPCODE ? -SC_ENOSYS : 0;
    return slot->tag == seq && slot->status == want;
}

struct flood {
    uint64_t posted, full, wrong, publishes, ms;
    uint32_t first;
};

/* Keeps all three rings full for FLOOD_MS and at least FLOOD_MIN requests each: whatever
 * the side core frees is refilled at once, and head is republished on every round, changed
 * or not. Each completion is checked when its slot comes round again, the last
 * SC_RING_SLOTS after the drain. */
static void flood(struct sc_svc_client *c, uint64_t query_gpa, struct flood f[SC_SERVICES])
{
    for (unsigned s = 0; s < SC_SERVICES; s++)
        f[s] = (struct flood){.first = c->ring[s].head};
    uint64_t t0 = sc_rdtsc(), end = deadline_ms(FLOOD_MS), guard = deadline_ms(GUARD_MS);
    for (;;) {
        uint64_t now = sc_rdtsc(), least = f[0].posted;
        for (unsigned s = 1; s < SC_SERVICES; s++)
            least = f[s].posted < least ? f[s].posted : least;
        if ((now >= end && least >= FLOOD_MIN) || now >= guard)
            break;
        for (unsigned s = 0; s < SC_SERVICES; s++) {
            struct sc_ring_client *rc = &c->ring[s];
            struct sc_ring_slot *slot;
            while ((slot = sc_ring_reserve(rc))) {
                uint32_t seq = rc->head - 1;
                if (f[s].posted >= SC_RING_SLOTS && !completion_ok(slot, seq - SC_RING_SLOTS))
                    f[s].wrong++;
                uint64_t args[6] = {query_gpa};
                sc_svc_slot_fill(slot, flood_opcode((enum sc_service)s, seq), seq, args);
                f[s].posted++;
            }
            f[s].full++;
            sc_ring_publish(rc);
            f[s].publishes++;
        }
        sc_pause();
    }
    uint64_t ms = (sc_rdtsc() - t0) / ((tsc_hz ? tsc_hz : 1000000000ull) / 1000);
    for (unsigned s = 0; s < SC_SERVICES; s++)
        f[s].ms = ms;
}

static void drain_and_report(unsigned id, struct sc_svc_client *c, struct flood f[SC_SERVICES])
{
    uint64_t end = deadline_ms(GUARD_MS);
    for (unsigned s = 0; s < SC_SERVICES; s++) {
        struct sc_ring_client *rc = &c->ring[s];
        while (rc->head != f[s].first && !sc_ring_done(rc, rc->head - 1) && sc_rdtsc() < end)
            sc_pause();
        bool drained = rc->head == f[s].first || sc_ring_done(rc, rc->head - 1);
        uint64_t last = f[s].posted < SC_RING_SLOTS ? f[s].posted : SC_RING_SLOTS;
        for (uint32_t seq = rc->head - (uint32_t)last; drained && seq != rc->head; seq++)
            if (!completion_ok(sc_ring_slot_of(rc, seq), seq))
                f[s].wrong++;
        check(
            id, drained && f[s].wrong == 0 && f[s].posted >= FLOOD_MIN,
            "vCPU %u: flooded the %s ring for %llu ms: %llu requests, found full %llu times, head "
            "republished %llu times, all drained: %s, %llu wrong completions",
            id, service_name[s], (unsigned long long)f[s].ms, (unsigned long long)f[s].posted,
            (unsigned long long)f[s].full, (unsigned long long)f[s].publishes,
            drained ? "yes" : "no", (unsigned long long)f[s].wrong);
    }
}

/* Waits up to PENDING_MS for request seq of ring r; true if it completed. */
static bool completes(const struct sc_ring *r, uint32_t seq)
{
    uint64_t end = deadline_ms(PENDING_MS);
    while (sc_rdtsc() < end) {
        if ((int32_t)(__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) - seq) > 0)
            return true;
        sc_pause();
    }
    return false;
}

static void corrupt_pt(unsigned id, struct sc_svc_client *c)
{
    struct sc_ring *r = c->ring[SC_SERVICE_PT].ring;
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    uint32_t bad = tail + SC_RING_SLOTS + PT_GARBAGE_AHEAD;
    __atomic_store_n(&r->head, bad, __ATOMIC_RELEASE);
    check(id, true, "vCPU %u: set the pt ring's head to 0x%x, tail 0x%x + %u slots + 0x%x", id, bad,
          tail, SC_RING_SLOTS, PT_GARBAGE_AHEAD);

    uint64_t end = deadline_ms(GUARD_MS);
    while (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != SC_RING_BROKEN && sc_rdtsc() < end)
        sc_pause();
    uint32_t state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
    check(id, state == SC_RING_BROKEN, "vCPU %u: the pt ring's state is %u (want %u, broken)", id,
          state, SC_RING_BROKEN);

    /* a request where the corrupted head points ... */
    struct sc_ring_slot *slot = &r->slot[bad & (SC_RING_SLOTS - 1)];
    sc_svc_slot_fill(slot, SC_OP_NULL, bad, NULL);
    __atomic_store_n(&r->head, bad + 1, __ATOMIC_RELEASE);
    bool done_bad = completes(r, bad);
    /* ... and one through the client, whose private head is sane again */
    struct sc_ring_client *rc = &c->ring[SC_SERVICE_PT];
    struct sc_ring_slot *s2 = sc_ring_reserve(rc);
    bool done_sane = false;
    uint32_t seq = rc->head - 1;
    if (s2) {
        sc_svc_slot_fill(s2, SC_OP_NULL, seq, NULL);
        sc_ring_publish(rc);
        done_sane = completes(r, seq);
    }
    check(id, !done_bad && s2 && !done_sane,
          "vCPU %u: on the broken pt ring, requests 0x%x (corrupted head) and 0x%x (sane head) "
          "did not complete in %u ms (tail 0x%x)",
          id, bad, seq, PENDING_MS, __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE));
}

/* Garbage in a tail (the side core's field): said what happened next, not judged. */
static void corrupt_tail(unsigned id, struct sc_svc_client *c, enum sc_service s, uint32_t junk)
{
    struct sc_ring *r = c->ring[s].ring;
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    __atomic_store_n(&r->tail, junk, __ATOMIC_RELEASE);
    check(id, true, "vCPU %u: wrote garbage 0x%x into the %s ring's tail (was 0x%x)", id, junk,
          service_name[s], tail);
    uint64_t end = deadline_ms(PENDING_MS);
    while (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == junk && sc_rdtsc() < end)
        sc_pause();
    int64_t st = sc_ring_call(&c->ring[s], SC_OP_NULL, NULL, NULL, 1u << 20);
    sc_printf("hostile: vCPU %u: %s ring afterwards: tail 0x%x, state %u, a null request "
              "returned %lld\n",
              id, service_name[s], __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE),
              __atomic_load_n(&r->state, __ATOMIC_ACQUIRE), (long long)st);
}

static void trap_still_works(unsigned id, uint64_t page)
{
    uint64_t q[6] = {page}, out[6] = {0};
    uint64_t text[6] = {(uint64_t)(uintptr_t)trap_text, sizeof(trap_text) - 1};
    int64_t n0 = sc_svc_trap(SC_SERVICE_PT, SC_OP_NULL, NULL, NULL);
    int64_t qs = sc_svc_trap(SC_SERVICE_PT, SC_OP_PT_QUERY, q, out);
    int64_t n1 = sc_svc_trap(SC_SERVICE_IRQ, SC_OP_NULL, NULL, NULL);
    int64_t cs = sc_svc_trap(SC_SERVICE_IO, SC_OP_CONSOLE, text, NULL);
    check(id,
          n0 == 0 && qs == 0 && out[0] == (SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC) && n1 == 0 &&
              cs == (int64_t)(sizeof(trap_text) - 1),
          "vCPU %u: the trap path still works: pt null %lld, pt query %lld (rights 0x%llx), irq "
          "null %lld, io console %lld",
          id, (long long)n0, (long long)qs, (unsigned long long)out[0], (long long)n1,
          (long long)cs);
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id;
    tsc_hz = bi->tsc_hz;
    int err = sc_rings_init(bi);
    struct sc_svc_client *c = sc_svc_self();
    if (!check(id, !err && c, "vCPU %u: rings found (%d)", id, err))
        return 1;
    uint64_t page = bi->free_gpa; /* a RAM page to query */

    struct flood f[SC_SERVICES];
    flood(c, page, f);
    drain_and_report(id, c, f);

    corrupt_pt(id, c);
    corrupt_tail(id, c, SC_SERVICE_IRQ, IRQ_GARBAGE_TAIL);
    corrupt_tail(id, c, SC_SERVICE_IO, IO_GARBAGE_TAIL);
    trap_still_works(id, page);
    return __atomic_load_n(&failures, __ATOMIC_RELAXED);
}
