/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: a side core never waits on a guest core. args="role=unmap" (2 vCPUs): vCPU 0
 * unmaps and maps back 64 pages through its pt ring while vCPU 1 sits in long traps
 * (SC_HC_NULL, made slow by the configuration's debug slow_trap_ms). args="role=ping" (1 vCPU,
 * another partition on the same side core): null requests through its ring meanwhile, with
 * their latency. Rings only: no LAPIC access (each vCPU keeps its own ring client). Timings are
 * printed, never judged. */
#include "core/fmt.h"
#include "sidecore/guest.h"

#define PAGES 64
#define PAGE 4096ull
#define MIB2 (2ull << 20)
#define RWX (SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC)
#define PATTERN 0x6b6b6b6b00000000ull
#define SLOW_TRAP_MIN_MS 100 /* a trap shorter than this: the configuration lacks slow_trap_ms */
#define PING_MS 1500         /* how long role=ping keeps sending null requests */
#define GUARD_MS 10000       /* hang guard only */

static struct sc_svc_client clients[2];
static uint64_t tsc_hz;
static int failures;
/* role=unmap: vCPU 1 says it is trapping, vCPU 0 that it is done */
static uint32_t trapping, in_trap, unmaps_done;

#define check(ok, ...)                                                                             \
    do {                                                                                           \
        if (!sc_check((ok), __VA_ARGS__))                                                          \
            __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);                                    \
    } while (0)

static uint64_t ms_to_tsc(uint64_t ms)
{
    return (tsc_hz ? tsc_hz : 1000000000ull) / 1000 * ms; /* 1 GHz if unknown */
}

static uint64_t tsc_to_us(uint64_t t)
{
    return t / ((tsc_hz ? tsc_hz : 1000000000ull) / 1000000);
}

/* "role=NAME" in the command line: 1 unmap, 2 ping, 0 neither. */
static int role(const char *cmdline)
{
    static const char *const names[] = {"role=unmap", "role=ping"};
    for (int r = 0; r < 2; r++) {
        unsigned n = 0;
        while (names[r][n] && cmdline[n] == names[r][n])
            n++;
        if (!names[r][n] && (cmdline[n] == '\0' || cmdline[n] == ' '))
            return r + 1;
    }
    return 0;
}

static int64_t pt(struct sc_svc_client *c, uint16_t op, uint64_t gpa, uint64_t rights,
                  uint64_t out[6])
{
    uint64_t args[6] = {gpa, PAGE, rights};
    return sc_svc_client_call(c, SC_SERVICE_PT, op, args, out);
}

/* vCPU 1: one slow trap after another until vCPU 0 is through. */
static void sit_in_traps(void)
{
    uint64_t n = 0, shortest = ~0ull, longest = 0;
    __atomic_store_n(&trapping, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&unmaps_done, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&in_trap, 1, __ATOMIC_RELEASE);
        uint64_t t0 = sc_rdtsc();
        sc_hypercall(SC_HC_NULL, 0, 0, 0);
        uint64_t t = sc_rdtsc() - t0;
        __atomic_store_n(&in_trap, 0, __ATOMIC_RELEASE);
        n++;
        shortest = t < shortest ? t : shortest;
        longest = t > longest ? t : longest;
    }
    check(n > 0 && tsc_to_us(shortest) >= SLOW_TRAP_MIN_MS * 1000,
          "vCPU 1: sat in %llu traps meanwhile, %llu to %llu ms each (want >= %u ms: debug "
          "slow_trap_ms)",
          (unsigned long long)n, (unsigned long long)tsc_to_us(shortest) / 1000,
          (unsigned long long)tsc_to_us(longest) / 1000, SLOW_TRAP_MIN_MS);
}

/* vCPU 0: each page unmapped (which must take effect: pt_query finds nothing) and mapped
 * back (its contents intact), every request through the pt ring. */
static void unmap_pages(struct sc_svc_client *c, const struct sc_boot_info *bi)
{
    uint64_t base = ((bi->free_gpa + MIB2 - 1) & ~(MIB2 - 1)) + MIB2;
    check(base + PAGES * PAGE <= bi->stacks_gpa,
          "vCPU 0: pages 0x%llx..0x%llx lie in the free area", (unsigned long long)base,
          (unsigned long long)(base + PAGES * PAGE));
    for (unsigned k = 0; k < PAGES; k++)
        *(volatile uint64_t *)(uintptr_t)(base + k * PAGE) = PATTERN | k;

    uint64_t guard = sc_rdtsc() + ms_to_tsc(GUARD_MS);
    while (!__atomic_load_n(&trapping, __ATOMIC_ACQUIRE) && sc_rdtsc() < guard)
        sc_pause();

    unsigned unmapped = 0, gone = 0, mapped = 0, intact = 0, during_trap = 0;
    int64_t bad_status = 0;
    uint64_t longest = 0, t_start = sc_rdtsc();
    struct sc_exit_counters a, b;
    int ea = sc_exit_counters(0, &a);
    for (unsigned k = 0; k < PAGES; k++) {
        uint64_t page = base + k * PAGE, out[6];
        uint64_t t0 = sc_rdtsc();
        int64_t st = pt(c, SC_OP_PT_UNMAP, page, 0, NULL);
        uint64_t t = sc_rdtsc() - t0;
        longest = t > longest ? t : longest;
        during_trap += __atomic_load_n(&in_trap, __ATOMIC_ACQUIRE);
        if (st == 0)
            unmapped++;
        else if (!bad_status)
            bad_status = st;
        gone += pt(c, SC_OP_PT_QUERY, page, 0, out) == -SC_ENOENT; /* applied, whatever st */
        if (pt(c, SC_OP_PT_MAP, page, RWX, NULL) == 0)
            mapped++;
        intact += *(volatile uint64_t *)(uintptr_t)page == (PATTERN | k);
    }
    uint64_t total = sc_rdtsc() - t_start;
    int eb = sc_exit_counters(0, &b);
    __atomic_store_n(&unmaps_done, 1, __ATOMIC_RELEASE);

    uint64_t exits = b.total - a.total - 1;
    uint64_t nmis = b.by_reason[SC_EXIT_NMI] - a.by_reason[SC_EXIT_NMI];
    check(unmapped == PAGES && gone == PAGES,
          "vCPU 0: %u of %u unmaps through the ring returned 0 (first other status %lld), %u "
          "took effect (pt_query: -ENOENT)",
          unmapped, PAGES, (long long)bad_status, gone);
    check(mapped == PAGES && intact == PAGES,
          "vCPU 0: %u of %u pages mapped back through the ring, %u with their contents", mapped,
          PAGES, intact);
    check(!ea && !eb && exits == PAGES && nmis == PAGES,
          "vCPU 0: %llu exits during the %u unmaps, %llu of them NMI kicks (want one kick per "
          "unmap, no other exit)",
          (unsigned long long)exits, PAGES, (unsigned long long)nmis);
    sc_printf("flushwait: vCPU 0: %u unmaps + queries + maps in %llu ms, longest unmap %llu us, "
              "%u completed while vCPU 1 sat in a trap\n",
              PAGES, (unsigned long long)tsc_to_us(total) / 1000,
              (unsigned long long)tsc_to_us(longest), during_trap);
}

/* role=ping: null requests for PING_MS, each timed. */
static void ping(struct sc_svc_client *c)
{
    uint64_t n = 0, ok = 0, longest = 0, sum = 0;
    int64_t bad = 0;
    uint64_t end = sc_rdtsc() + ms_to_tsc(PING_MS);
    while (sc_rdtsc() < end) {
        uint64_t t0 = sc_rdtsc();
        int64_t st = sc_svc_client_call(c, SC_SERVICE_PT, SC_OP_NULL, NULL, NULL);
        uint64_t t = sc_rdtsc() - t0;
        n++;
        sum += t;
        longest = t > longest ? t : longest;
        if (st == 0)
            ok++;
        else if (!bad)
            bad = st;
    }
    check(n > 0 && ok == n,
          "ping: %llu of %llu null requests completed with status 0 (first "
          "other status %lld)",
          (unsigned long long)ok, (unsigned long long)n, (long long)bad);
    sc_printf("flushwait: ping: %llu null requests in %u ms, mean %llu us, longest %llu us\n",
              (unsigned long long)n, PING_MS, (unsigned long long)tsc_to_us(sum / (n ? n : 1)),
              (unsigned long long)tsc_to_us(longest));
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id;
    tsc_hz = bi->tsc_hz;
    int r = role(bi->cmdline);
    unsigned want = r == 1 ? 2 : 1;
    if (!r || bi->vcpu_count != want) {
        sc_fail("flushwait: want args=role=unmap on 2 vCPUs or role=ping on 1 (%u vCPUs)",
                bi->vcpu_count);
        return 1;
    }
    struct sc_svc_client *c = &clients[id];
    int err =
        sc_svc_client_init(c, (void *)(uintptr_t)bi->ring_window_gpa, bi->ring_window_size, id);
    if (err) {
        sc_fail("vCPU %u: no rings (%d)", id, err);
        return 1;
    }
    if (r == 2)
        ping(c);
    else if (id == 0)
        unmap_pages(c, bi);
    else
        sit_in_traps();
    return __atomic_load_n(&failures, __ATOMIC_RELAXED);
}
