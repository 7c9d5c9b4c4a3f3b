/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest (2 vCPUs): each service operation via ring and trap: same results, exact exits. */
#include "core/fmt.h"
#include "sidecore/guest.h"

#define IPI_VECTOR 0x50
#define WAIT_MS 3000    /* IPI and kick delivery: a hang guard, never a timing assertion */
#define CPUID_CAP 128   /* entries per table */
#define BAD_OPCODE 0x7f /* no service knows it */
#define PATTERN 0x5a5a5a5a5a5a5a5aull
#define RWX (SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC)
#define MIB2 (2ull << 20)

enum transport { RING, TRAP };
static const char *const transport_name[] = {"ring", "trap"};

/* What one request must do besides its status. */
struct expect {
    bool flush;           /* flushes every vCPU: 1 exit on the caller on either path */
    uint64_t other;       /* exits on vCPU 1 (NMI kicks) */
    bool any_status;      /* the caller checks the status itself */
    int64_t status, alt;  /* the status wanted; alt, if nonzero, is accepted too */
    const uint32_t *ipis; /* IPIs vCPU 0 and vCPU 1 must take, or NULL */
};

/* One request's outcome and the exits it caused: on the caller (less the counter read that
 * ends the window) and on vCPU 1 (read remotely, which costs vCPU 1 nothing). */
struct outcome {
    int64_t status;
    uint64_t out[6];
    uint64_t own, other;
    uint32_t took[2];
    bool delivered;
    struct sc_exit_counters own0, own1;
};

static struct sc_barrier barrier;
static uint32_t ipi_count[SC_MAX_VCPUS]; /* by vCPU id (sc_vcpu_id: no exit) */
static uint32_t ipi_ready, ipi_done;
static uint64_t tsc_hz;
static int failures[SC_MAX_VCPUS];
static struct sc_cpuid_entry cpuid_table[2][CPUID_CAP];
#define CONSOLE_RING "services: a console line through the ring\n"
#define CONSOLE_TRAP "services: a console line through the trap\n"
#define CONSOLE_LEN (sizeof(CONSOLE_RING) - 1)
static const char console_text[2][sizeof(CONSOLE_RING)] = {CONSOLE_RING, CONSOLE_TRAP};
static const char post_text[] = "services: a console line posted to the ring\n";

static void on_ipi(uint8_t vector)
{
    (void)vector;
    __atomic_fetch_add(&ipi_count[sc_vcpu_id()], 1, __ATOMIC_RELAXED);
    lapic_eoi();
}

/* A PASS or FAIL line; a failure counts against vCPU id. */
#define check(id, ok, ...) (sc_check((ok), __VA_ARGS__) ? true : (failures[(id)]++, false))

static uint64_t deadline_ms(uint64_t ms)
{
    return sc_rdtsc() + (tsc_hz ? tsc_hz : 1000000000ull) / 1000 * ms; /* 1 GHz if unknown */
}

/* Waits until *p >= want; false after WAIT_MS. */
static bool wait_count(const uint32_t *p, uint32_t want)
{
    uint64_t end = deadline_ms(WAIT_MS);
    while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < want) {
        if (sc_rdtsc() > end)
            return false;
        sc_pause();
    }
    return true;
}

/* " nmi=1": the reasons that rose between a and b, less `less` hypercalls; " none". */
static void reasons(char *buf, size_t size, const struct sc_exit_counters *a,
                    const struct sc_exit_counters *b, uint64_t less)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned r = 0; r < SC_EXIT_REASONS && len < size; r++) {
        uint64_t d = b->by_reason[r] - a->by_reason[r] - (r == SC_EXIT_HYPERCALL ? less : 0);
        if (d) {
            int n = ksnprintf(buf + len, size - len, " %s=%llu", sc_exit_reason_name(r),
                              (unsigned long long)d);
            len += n > 0 ? (size_t)n : 0;
        }
    }
    if (!len)
        ksnprintf(buf, size, " none");
}

static uint64_t total_of(unsigned vcpu)
{
    struct sc_exit_counters c;
    return sc_exit_counters(vcpu, &c) ? ~0ull : c.total;
}

/* Runs one request on vCPU 0 between counter reads (vCPU 1's, its own; the request; its own),
 * waits for the IPIs it sends, then reads vCPU 1's counters until they show e->other exits
 * (a kick's NMI lands after the request completed) or WAIT_MS passed. Prints the RESULT
 * line and one check of status, exits and IPIs. */
static void run(const char *name, enum transport t, enum sc_service s, uint16_t op,
                const uint64_t args[6], const struct expect *e, struct outcome *o)
{
    uint32_t ipi0 = __atomic_load_n(&ipi_count[0], __ATOMIC_ACQUIRE);
    uint32_t ipi1 = __atomic_load_n(&ipi_count[1], __ATOMIC_ACQUIRE);
    uint64_t other0 = total_of(1);
    int e0 = sc_exit_counters(0, &o->own0);
    o->status = t == RING ? sc_svc_ring(s, op, args, o->out) : sc_svc_trap(s, op, args, o->out);
    o->delivered = true;
    if (e->ipis)
        o->delivered = wait_count(&ipi_count[0], ipi0 + e->ipis[0]) &&
                       wait_count(&ipi_count[1], ipi1 + e->ipis[1]);
    int e1 = sc_exit_counters(0, &o->own1);
    o->own = o->own1.total - o->own0.total - 1;
    uint64_t end = deadline_ms(WAIT_MS);
    do
        o->other = total_of(1) - other0;
    while (o->other < e->other && sc_rdtsc() < end);
    o->took[0] = __atomic_load_n(&ipi_count[0], __ATOMIC_ACQUIRE) - ipi0;
    o->took[1] = __atomic_load_n(&ipi_count[1], __ATOMIC_ACQUIRE) - ipi1;

    sc_printf("RESULT op=%s transport=%s exits=%llu\n", name, transport_name[t],
              (unsigned long long)o->own);
    char why[120], ipis[80] = "", want[40] = "";
    uint64_t want_own = t == TRAP || e->flush ? 1 : 0;
    reasons(why, sizeof(why), &o->own0, &o->own1, 1);
    bool status_ok = e->any_status || o->status == e->status || (e->alt && o->status == e->alt);
    if (!e->any_status)
        ksnprintf(want, sizeof(want), e->alt ? " (want %lld or %lld)" : " (want %lld)",
                  (long long)e->status, (long long)e->alt);
    bool ipi_ok = true;
    if (e->ipis) {
        ipi_ok = o->delivered && o->took[0] == e->ipis[0] && o->took[1] == e->ipis[1];
        ksnprintf(ipis, sizeof(ipis), ", IPIs taken: vCPU 0 %u (want %u), vCPU 1 %u (want %u)",
                  o->took[0], e->ipis[0], o->took[1], e->ipis[1]);
    }
    /* A kick is sent again every 10 ms to a vCPU that has not answered it (cpu_work.h): on a
     * loaded emulator a flush can cost a vCPU more than one exit, each of them an NMI. */
    uint64_t nmis = o->own1.by_reason[SC_EXIT_NMI] - o->own0.by_reason[SC_EXIT_NMI];
    bool own_ok =
        o->own == want_own || (e->flush && t == RING && o->own > want_own && o->own == nmis);
    bool other_ok = o->other == e->other || (e->other && o->other > e->other);
    check(0, !e0 && !e1 && status_ok && ipi_ok && own_ok && other_ok,
          "%s via %s: status %lld%s, exits: vCPU 0 %llu (want %llu;%s), vCPU 1 %llu (want "
          "%llu)%s",
          name, transport_name[t], (long long)o->status, want, (unsigned long long)o->own,
          (unsigned long long)want_own, why, (unsigned long long)o->other,
          (unsigned long long)e->other, ipis);
}

/* Both transports agree on the status and the first nout results. */
static void same(const char *name, const struct outcome o[2], unsigned nout)
{
    bool ok = o[RING].status == o[TRAP].status;
    for (unsigned i = 0; i < nout; i++)
        ok = ok && o[RING].out[i] == o[TRAP].out[i];
    char res[80] = "";
    if (nout)
        ksnprintf(res, sizeof(res), ", results 0x%llx/0x%llx 0x%llx/0x%llx",
                  (unsigned long long)o[RING].out[0], (unsigned long long)o[TRAP].out[0],
                  (unsigned long long)o[RING].out[1], (unsigned long long)o[TRAP].out[1]);
    check(0, ok, "%s: ring and trap agree: status %lld/%lld%s", name, (long long)o[RING].status,
          (long long)o[TRAP].status, res);
}

/* One operation through both transports (each with its own arguments). */
static void both(const char *name, enum sc_service s, uint16_t op, const uint64_t ring_args[6],
                 const uint64_t trap_args[6], const struct expect *e, unsigned nout,
                 struct outcome o[2])
{
    run(name, RING, s, op, ring_args, e, &o[RING]);
    run(name, TRAP, s, op, trap_args, e, &o[TRAP]);
    same(name, o, nout);
}

/* ---- CPUID table: the same table both ways, and the same answers as CPUID itself. */
static bool cpuid_equal(const struct sc_cpuid_entry *a, const struct sc_cpuid_entry *b)
{
    return a->leaf == b->leaf && a->subleaf == b->subleaf && a->eax == b->eax && a->ebx == b->ebx &&
           a->ecx == b->ecx && a->edx == b->edx;
}

static void test_cpuid_table(void)
{
    static const struct expect any = {.any_status = true};
    struct outcome o[2];
    for (int t = RING; t <= TRAP; t++) {
        uint64_t args[6] = {(uint64_t)(uintptr_t)cpuid_table[t], CPUID_CAP};
        run("cpuid_table", (enum transport)t, SC_SERVICE_PT, SC_OP_CPUID_TABLE, args, &any, &o[t]);
    }
    int64_t n = o[RING].status;
    check(0, n > 0 && n <= CPUID_CAP && n == o[TRAP].status,
          "cpuid_table: %lld entries via ring, %lld via trap", (long long)n,
          (long long)o[TRAP].status);
    if (n <= 0 || n != o[TRAP].status || n > CPUID_CAP)
        return;
    unsigned differ = 0;
    for (int64_t i = 0; i < n; i++) {
        const struct sc_cpuid_entry *a = &cpuid_table[RING][i], *b = &cpuid_table[TRAP][i];
        if (!cpuid_equal(a, b) && differ++ < 8)
            sc_printf("cpuid_table: entry %lld differs: ring %x.%x = %08x %08x %08x %08x, trap "
                      "%x.%x = %08x %08x %08x %08x\n",
                      (long long)i, a->leaf, a->subleaf, a->eax, a->ebx, a->ecx, a->edx, b->leaf,
                      b->subleaf, b->eax, b->ebx, b->ecx, b->edx);
    }
    check(0, differ == 0, "cpuid_table: %u of %lld entries differ between ring and trap", differ,
          (long long)n);

    static const uint32_t leaves[] = {
        0, 1, SC_CPUID_SIGNATURE, SC_CPUID_VCPU, SC_CPUID_RINGS, 0x80000000u, 0x80000001u};
    for (int t = RING; t <= TRAP; t++) {
        unsigned compared = 0, bad = 0;
        for (int64_t i = 0; i < n; i++) {
            const struct sc_cpuid_entry *e = &cpuid_table[t][i];
            bool pick = false;
            for (unsigned k = 0; k < sizeof(leaves) / sizeof(leaves[0]); k++)
                pick = pick || (e->leaf == leaves[k] && e->subleaf == 0);
            if (!pick)
                continue;
            uint32_t r[4];
            sc_cpuid(e->leaf, e->subleaf, r);
            struct sc_cpuid_entry c = {e->leaf, e->subleaf, r[0], r[1], r[2], r[3]};
            compared++;
            if (!cpuid_equal(e, &c)) {
                bad++;
                sc_printf("cpuid_table via %s: leaf %x: table %08x %08x %08x %08x, CPUID %08x "
                          "%08x %08x %08x\n",
                          transport_name[t], e->leaf, e->eax, e->ebx, e->ecx, e->edx, r[0], r[1],
                          r[2], r[3]);
            }
        }
        check(0, compared == sizeof(leaves) / sizeof(leaves[0]) && bad == 0,
              "cpuid_table via %s: leaves 0, 1, 0x40000000-2, 0x80000000-1: %u compared with the "
              "CPUID instruction, %u differ",
              transport_name[t], compared, bad);
    }
}

/* ---- pt: query, unmap, map, protect. The ring works on page pr, the trap on pt (in another
 * 2 MiB region), so both start from the same state. */
static void pattern_write(uint64_t page, uint64_t salt)
{
    volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)page;
    q[0] = page ^ PATTERN ^ salt;
    q[511] = ~page ^ salt;
}

static bool pattern_ok(uint64_t page, uint64_t salt)
{
    volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)page;
    return q[0] == (page ^ PATTERN ^ salt) && q[511] == (~page ^ salt);
}

static void rights_are(const char *name, const struct outcome o[2], uint64_t want)
{
    for (int t = RING; t <= TRAP; t++)
        check(0, o[t].out[0] == want, "%s via %s: rights 0x%llx (want 0x%llx), page size 0x%llx",
              name, transport_name[t], (unsigned long long)o[t].out[0], (unsigned long long)want,
              (unsigned long long)o[t].out[1]);
}

static void test_pt(uint64_t pr, uint64_t pt)
{
    static const struct expect plain = {0}, flush = {.flush = true, .other = 1};
    static const struct expect enoent = {.status = -SC_ENOENT};
    struct outcome o[2];
    uint64_t qr[6] = {pr}, qt[6] = {pt};
    uint64_t ur[6] = {pr, 4096}, ut[6] = {pt, 4096};
    uint64_t mr[6] = {pr, 4096, RWX}, mt[6] = {pt, 4096, RWX};
    uint64_t rr[6] = {pr, 4096, SC_PT_READ}, rt[6] = {pt, 4096, SC_PT_READ};

    pattern_write(pr, 1);
    pattern_write(pt, 1);
    both("pt_query", SC_SERVICE_PT, SC_OP_PT_QUERY, qr, qt, &plain, 2, o);
    rights_are("pt_query", o, RWX);
    for (int t = RING; t <= TRAP; t++) {
        uint64_t ps = o[t].out[1];
        check(0, ps == 4096 || ps == MIB2 || ps == 1ull << 30,
              "pt_query via %s: page 0x%llx is mapped with %llu KiB pages", transport_name[t],
              (unsigned long long)(t == RING ? pr : pt), (unsigned long long)(ps >> 10));
    }

    /* unmap: every vCPU of the partition flushes (an NMI each; the trap caller in place) */
    both("pt_unmap", SC_SERVICE_PT, SC_OP_PT_UNMAP, ur, ut, &flush, 0, o);
    both("pt_query_unmapped", SC_SERVICE_PT, SC_OP_PT_QUERY, qr, qt, &enoent, 0, o);

    both("pt_map", SC_SERVICE_PT, SC_OP_PT_MAP, mr, mt, &plain, 0, o);
    both("pt_query_mapped", SC_SERVICE_PT, SC_OP_PT_QUERY, qr, qt, &plain, 2, o);
    rights_are("pt_query_mapped", o, RWX);
    check(0, pattern_ok(pr, 1) && pattern_ok(pt, 1),
          "pt_map: pages 0x%llx and 0x%llx are back with their contents", (unsigned long long)pr,
          (unsigned long long)pt);
    pattern_write(pr, 2);
    pattern_write(pt, 2);

    /* read-only: narrowing flushes like unmap; reading still works, writing would stop us */
    both("pt_protect_r", SC_SERVICE_PT, SC_OP_PT_PROTECT, rr, rt, &flush, 0, o);
    both("pt_query_r", SC_SERVICE_PT, SC_OP_PT_QUERY, qr, qt, &plain, 2, o);
    rights_are("pt_query_r", o, SC_PT_READ);
    check(0, pattern_ok(pr, 2) && pattern_ok(pt, 2), "pt_protect_r: the read-only pages read");

    /* widening needs no flush */
    both("pt_protect_rwx", SC_SERVICE_PT, SC_OP_PT_PROTECT, mr, mt, &plain, 0, o);
    both("pt_query_rwx", SC_SERVICE_PT, SC_OP_PT_QUERY, qr, qt, &plain, 2, o);
    rights_are("pt_query_rwx", o, RWX);
    pattern_write(pr, 3);
    pattern_write(pt, 3);
    check(0, pattern_ok(pr, 3) && pattern_ok(pt, 3), "pt_protect_rwx: the pages are writable");
}

/* ---- Requests that must be refused, the same way on both transports. */
static void test_bad(const struct sc_boot_info *bi, uint64_t page)
{
    static const struct expect fault = {.status = -SC_EFAULT, .alt = -SC_EINVAL};
    static const struct expect inval = {.status = -SC_EINVAL, .alt = -SC_EFAULT};
    static const struct expect einval = {.status = -SC_EINVAL};
    static const struct expect nosys = {.status = -SC_ENOSYS};
    struct outcome o[2];
    uint64_t ram_end = bi->memory_size;
    uint64_t q[6] = {ram_end};
    uint64_t u[6] = {ram_end, 4096};
    uint64_t m[6] = {ram_end + MIB2, 4096, RWX};
    uint64_t p[6] = {SC_GPA_LAPIC, 4096, SC_PT_READ};
    uint64_t odd[6] = {page + 8, 4096};
    uint64_t write_only[6] = {page, 4096, SC_PT_WRITE};
    uint64_t cpuid[6] = {ram_end, CPUID_CAP};
    uint64_t text[6] = {ram_end - 8, 64};
    uint64_t self[6] = {0, 0};
    uint64_t far[6] = {5, 0};
    uint64_t kick[6] = {bi->vcpu_count};

    both("pt_query_bad_gpa", SC_SERVICE_PT, SC_OP_PT_QUERY, q, q, &fault, 0, o);
    both("pt_unmap_bad_gpa", SC_SERVICE_PT, SC_OP_PT_UNMAP, u, u, &fault, 0, o);
    both("pt_map_bad_gpa", SC_SERVICE_PT, SC_OP_PT_MAP, m, m, &fault, 0, o);
    both("pt_protect_bad_gpa", SC_SERVICE_PT, SC_OP_PT_PROTECT, p, p, &fault, 0, o);
    both("pt_unmap_unaligned", SC_SERVICE_PT, SC_OP_PT_UNMAP, odd, odd, &inval, 0, o);
    both("pt_protect_write_only", SC_SERVICE_PT, SC_OP_PT_PROTECT, write_only, write_only, &einval,
         0, o);
    both("cpuid_table_bad_gpa", SC_SERVICE_PT, SC_OP_CPUID_TABLE, cpuid, cpuid, &fault, 0, o);
    both("console_bad_gpa", SC_SERVICE_IO, SC_OP_CONSOLE, text, text, &fault, 0, o);
    both("unknown_opcode_pt", SC_SERVICE_PT, BAD_OPCODE, NULL, NULL, &nosys, 0, o);
    both("unknown_opcode_irq", SC_SERVICE_IRQ, BAD_OPCODE, NULL, NULL, &nosys, 0, o);
    both("unknown_opcode_io", SC_SERVICE_IO, BAD_OPCODE, NULL, NULL, &nosys, 0, o);
    both("ipi_on_pt_ring", SC_SERVICE_PT, SC_OP_IPI, NULL, NULL, &nosys, 0, o);
    both("vcpu_stop_self", SC_SERVICE_IRQ, SC_OP_VCPU_STOP, self, self, &einval, 0, o);
    both("vcpu_stop_outside", SC_SERVICE_IRQ, SC_OP_VCPU_STOP, far, far, &einval, 0, o);
    both("vcpu_kick_outside", SC_SERVICE_IRQ, SC_OP_VCPU_KICK, kick, kick, &einval, 0, o);
    /* a service number no ring has: only the trap can name it */
    run("bad_service", TRAP, (enum sc_service)7, SC_OP_NULL, NULL, &einval, &o[TRAP]);
}

/* ---- libguest's batch and post/poll: no exit either. */
static void test_batch_async(uint64_t page)
{
    struct sc_exit_counters a, b;
    struct sc_svc_batch batch;
    int64_t st[SC_RING_SLOTS];
    uint64_t out[SC_RING_SLOTS][6];
    uint64_t q[6] = {page};
    char why[120];

    sc_exit_counters(0, &a);
    int err = sc_svc_batch_begin(&batch, SC_SERVICE_PT);
    for (int i = 0; i < 8; i++)
        sc_svc_batch_add(&batch, SC_OP_NULL, NULL);
    int iq = sc_svc_batch_add(&batch, SC_OP_PT_QUERY, q);
    int ib = sc_svc_batch_add(&batch, BAD_OPCODE, NULL);
    int n = sc_svc_batch_submit(&batch);
    int w = sc_svc_batch_wait(&batch, SC_SVC_SPINS, st, out);
    sc_exit_counters(0, &b);
    uint64_t ex = b.total - a.total - 1;
    reasons(why, sizeof(why), &a, &b, 1);
    sc_printf("RESULT op=batch transport=ring exits=%llu\n", (unsigned long long)ex);
    bool shaped = !err && n == 10 && w == 0 && iq == 8 && ib == 9;
    bool nulls = shaped;
    for (int i = 0; i < 8 && shaped; i++)
        nulls = nulls && st[i] == 0;
    uint64_t rights = shaped ? out[8][0] : 0;
    int64_t refused = shaped ? st[9] : 0;
    check(0, nulls && st[8] == 0 && rights == RWX && refused == -SC_ENOSYS && ex == 0,
          "batch of %d on the pt ring, one publish, one wait (%d): 8 null, a query (rights "
          "0x%llx), an unknown opcode (%lld); %llu exits (want 0;%s)",
          n, w, (unsigned long long)rights, (long long)refused, (unsigned long long)ex, why);

    /* a full ring: SC_RING_SLOTS requests fit, the next does not */
    sc_exit_counters(0, &a);
    err = sc_svc_batch_begin(&batch, SC_SERVICE_IRQ);
    int added = 0, more;
    while ((more = sc_svc_batch_add(&batch, SC_OP_NULL, NULL)) >= 0)
        added++;
    n = sc_svc_batch_submit(&batch);
    w = sc_svc_batch_wait(&batch, SC_SVC_SPINS, st, NULL);
    sc_exit_counters(0, &b);
    ex = b.total - a.total - 1;
    bool all = w == 0;
    uint32_t tags = 0;
    for (int i = 0; i < added && all; i++) {
        all = st[i] == 0;
        const struct sc_ring_slot *slot = sc_ring_slot_of(batch.rc, batch.first + (uint32_t)i);
        tags += slot->tag == batch.first + (uint32_t)i;
    }
    sc_printf("RESULT op=batch_full transport=ring exits=%llu\n", (unsigned long long)ex);
    check(0,
          !err && added == SC_RING_SLOTS && more == -SC_EBUSY && n == added && all &&
              tags == (uint32_t)added && ex == 0,
          "full batch on the irq ring: %d requests fit (the next: %d), all null, %u tags "
          "returned, %llu exits",
          added, more, tags, (unsigned long long)ex);

    /* post on all three rings, then poll */
    uint64_t text[6] = {(uint64_t)(uintptr_t)post_text, sizeof(post_text) - 1};
    sc_exit_counters(0, &a);
    int64_t seq[3] = {sc_svc_post(SC_SERVICE_PT, SC_OP_PT_QUERY, q),
                      sc_svc_post(SC_SERVICE_IRQ, SC_OP_NULL, NULL),
                      sc_svc_post(SC_SERVICE_IO, SC_OP_CONSOLE, text)};
    int64_t pst[3] = {1, 1, 1};
    uint64_t pout[3][6] = {{0}};
    bool got[3] = {false, false, false};
    int done = 0;
    uint64_t end = deadline_ms(WAIT_MS);
    while (done < 3 && sc_rdtsc() < end) {
        for (int i = 0; i < 3; i++)
            if (!got[i] && seq[i] >= 0 && sc_svc_poll(seq[i], &pst[i], pout[i]) == 1) {
                got[i] = true;
                done++;
            }
        sc_pause();
    }
    int unposted = sc_svc_poll(seq[1] + 1000, NULL, NULL);
    sc_exit_counters(0, &b);
    ex = b.total - a.total - 1;
    sc_printf("RESULT op=post transport=ring exits=%llu\n", (unsigned long long)ex);
    check(0,
          done == 3 && pst[0] == 0 && pout[0][0] == RWX && pst[1] == 0 &&
              pst[2] == (int64_t)(sizeof(post_text) - 1) && unposted == -SC_EINVAL && ex == 0,
          "post/poll on pt, irq, io: sequence numbers 0x%llx 0x%llx 0x%llx, %d complete, "
          "status %lld %lld %lld, an unposted number: %d, %llu exits",
          (unsigned long long)seq[0], (unsigned long long)seq[1], (unsigned long long)seq[2], done,
          (long long)pst[0], (long long)pst[1], (long long)pst[2], unposted,
          (unsigned long long)ex);
}

/* ---- vCPU 0's part while vCPU 1 sits quietly in the barrier. */
static void phase_ops(const struct sc_boot_info *bi, uint64_t pr, uint64_t pt)
{
    static const struct expect plain = {0}, kicks = {.other = 1}, any = {.any_status = true};
    struct outcome o[2];
    both("null", SC_SERVICE_PT, SC_OP_NULL, NULL, NULL, &plain, 0, o);
    both("null_irq", SC_SERVICE_IRQ, SC_OP_NULL, NULL, NULL, &plain, 0, o);
    both("null_io", SC_SERVICE_IO, SC_OP_NULL, NULL, NULL, &plain, 0, o);
    test_cpuid_table();
    test_pt(pr, pt);

    uint64_t kick[6] = {1};
    both("vcpu_kick", SC_SERVICE_IRQ, SC_OP_VCPU_KICK, kick, kick, &kicks, 0, o);

    for (int t = RING; t <= TRAP; t++) {
        uint64_t args[6] = {(uint64_t)(uintptr_t)console_text[t], CONSOLE_LEN};
        run("console", (enum transport)t, SC_SERVICE_IO, SC_OP_CONSOLE, args, &any, &o[t]);
    }
    check(0, o[RING].status == (int64_t)CONSOLE_LEN && o[RING].status == o[TRAP].status,
          "console: a line through each path, status %lld via ring, %lld via trap (want %llu)",
          (long long)o[RING].status, (long long)o[TRAP].status, (unsigned long long)CONSOLE_LEN);

    test_bad(bi, pr);
    test_batch_async(pr);
}

/* ---- IPIs from vCPU 0; vCPU 1 waits with interrupts on and counts its own exits. */
static void phase_ipi_sender(const struct sc_boot_info *bi)
{
    static const uint32_t to_1[2] = {0, 1}, to_both[2] = {1, 1};
    unsigned count = bi->vcpu_count;
    uint64_t one[6] = {IPI_VECTOR, 1u << 1, 0};
    uint64_t set[6] = {IPI_VECTOR, (1u << 0) | (1u << 1), 0};
    uint64_t all[6] = {IPI_VECTOR, 0, SC_IPI_ALL};
    uint64_t bad_vector[6] = {20, 1u << 1, 0};
    uint64_t outside[6] = {IPI_VECTOR, 1ull << (count > 5 ? count : 5), 0};
    const struct expect e_one = {.status = 1, .ipis = to_1};
    const struct expect e_set = {.status = 2, .ipis = to_both};
    const struct expect e_all = {.status = count, .ipis = count == 2 ? to_both : NULL};
    static const struct expect einval = {.status = -SC_EINVAL};
    struct outcome o[2];

    if (!wait_count(&ipi_ready, 1)) {
        check(0, false, "vCPU 1 never got ready for the IPIs");
        return;
    }
    both("ipi_vcpu1", SC_SERVICE_IRQ, SC_OP_IPI, one, one, &e_one, 0, o);
    both("ipi_set", SC_SERVICE_IRQ, SC_OP_IPI, set, set, &e_set, 0, o);
    both("ipi_all", SC_SERVICE_IRQ, SC_OP_IPI, all, all, &e_all, 0, o);
    both("ipi_bad_vector", SC_SERVICE_IRQ, SC_OP_IPI, bad_vector, bad_vector, &einval, 0, o);
    both("ipi_outside", SC_SERVICE_IRQ, SC_OP_IPI, outside, outside, &einval, 0, o);
    __atomic_store_n(&ipi_done, 1, __ATOMIC_RELEASE);
}

static void phase_ipi_receiver(unsigned id)
{
    struct sc_exit_counters a, b;
    char why[120];
    uint32_t before = __atomic_load_n(&ipi_count[id], __ATOMIC_ACQUIRE);
    int ea = sc_exit_counters(id, &a);
    __atomic_store_n(&ipi_ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&ipi_done, __ATOMIC_ACQUIRE))
        sc_pause();
    int eb = sc_exit_counters(id, &b);
    uint32_t got = __atomic_load_n(&ipi_count[id], __ATOMIC_ACQUIRE) - before;
    uint64_t ex = b.total - a.total - 1;
    reasons(why, sizeof(why), &a, &b, 1);
    check(id, !ea && !eb && got == 6 && ex == 0,
          "vCPU %u: took %u IPIs on vector 0x%x with interrupts enabled (want 6), %llu exits of "
          "its own while waiting (want 0;%s)",
          id, got, IPI_VECTOR, (unsigned long long)ex, why);
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id, count = bi->vcpu_count;
    tsc_hz = bi->tsc_hz;
    if (count != 2) {
        sc_fail("services runs on 2 vCPUs, not %u", count);
        return 1;
    }
    int err = sc_rings_init(bi);
    struct sc_ring *r[SC_SERVICES];
    for (unsigned s = 0; s < SC_SERVICES; s++)
        r[s] = sc_svc_ring_of((enum sc_service)s);
    check(id, !err && r[0] && r[1] && r[2],
          "vCPU %u: rings found (%d): window 0x%llx+0x%llx, pt 0x%llx irq 0x%llx io 0x%llx", id,
          err, (unsigned long long)bi->ring_window_gpa, (unsigned long long)bi->ring_window_size,
          (unsigned long long)(uintptr_t)r[0], (unsigned long long)(uintptr_t)r[1],
          (unsigned long long)(uintptr_t)r[2]);
    if (err)
        return 1;
    sc_set_irq_handler(IPI_VECTOR, on_ipi);
    sc_irq_enable();

    /* two test pages in different 2 MiB regions of the free area */
    uint64_t pr = ((bi->free_gpa + MIB2 - 1) & ~(MIB2 - 1)) + 3 * 4096;
    uint64_t pt = pr + MIB2;
    bool room = pt + 4096 <= bi->stacks_gpa;
    if (id == 0)
        check(0, room, "test pages 0x%llx and 0x%llx lie in the free area [0x%llx, 0x%llx)",
              (unsigned long long)pr, (unsigned long long)pt, (unsigned long long)bi->free_gpa,
              (unsigned long long)bi->stacks_gpa);

    sc_barrier(&barrier, count);
    if (id == 0 && room)
        phase_ops(bi, pr, pt);
    sc_barrier(&barrier, count); /* vCPU 1 waits here, quietly, while vCPU 0 works */
    if (id == 0)
        phase_ipi_sender(bi);
    else
        phase_ipi_receiver(id);
    sc_barrier(&barrier, count);
    sc_irq_disable();
    if (id == 0) {
        int all = failures[0] + failures[1];
        if (all == 0)
            sc_pass("services: every check passed on both vCPUs");
        else
            sc_fail("services: %d checks failed", all);
    }
    return failures[id];
}
