/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Host ring benchmark: the ring code on two pinned threads, against a cache-line ping-pong. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest-stubs/include/sidecore/ring_client.h"
#include "sidecore/ring_consumer.h"

/* What this measures: the round trip of a synchronous request over the
 * same ring code the hypervisor (sidecore/ring.c) and the guests (ring_client.h) use, between
 * a "guest" thread and a "side core" thread pinned to two CPUs, against the physical limit of
 * that pair of CPUs: a plain ping-pong of two cache lines, measured the same way in the same
 * run. Both sides wait with PAUSE, as the ring code does. It reports; it never fails on a slow
 * machine. */

#define DEFAULT_N 1000000ull
#define DEFAULT_ROUNDS 10
#define BATCH 8
#define CALL_SPINS (1ull << 40) /* a timeout here means the side-core thread is gone */
#define CACHE_LINE 64

/* ---- The cycle counter: the TSC on x86-64 (lfence on both sides keeps the read in place),
 * the virtual counter on arm64 (its own fixed frequency, not cycles), else nanoseconds. */
#if defined(__x86_64__)
#define COUNTER_NAME "rdtsc"
static inline uint64_t counter(void)
{
    __builtin_ia32_lfence();
    uint64_t t = __builtin_ia32_rdtsc();
    __builtin_ia32_lfence();
    return t;
}
#elif defined(__aarch64__)
#define COUNTER_NAME "cntvct"
static inline uint64_t counter(void)
{
    uint64_t t;
    __asm__ volatile("isb; mrs %0, cntvct_el0; isb" : "=r"(t)::"memory");
    return t;
}
#else
#define COUNTER_NAME "clock_monotonic_ns"
static inline uint64_t counter(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "ring_host: %s\n", what);
    exit(1);
}

/* ---- Statistics over every stored sample. */
struct stats {
    uint64_t median, p99, min;
    double mean;    /* of the samples, in counter units */
    double ns_mean; /* wall clock over the measured loops, per sample */
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts samples[] in place. */
static struct stats summarize(uint64_t *samples, uint64_t n, uint64_t elapsed_ns)
{
    struct stats s;
    double sum = 0;
    for (uint64_t k = 0; k < n; k++)
        sum += (double)samples[k];
    qsort(samples, n, sizeof(*samples), cmp_u64);
    s.min = samples[0];
    s.median = samples[n / 2];
    s.p99 = samples[(n - 1) * 99 / 100];
    s.mean = sum / (double)n;
    s.ns_mean = (double)elapsed_ns / (double)n;
    return s;
}

/* ---- Pinning. */
static void pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (err) {
        fprintf(stderr, "ring_host: cannot pin to CPU %d: %s\n", cpu, strerror(err));
        exit(1);
    }
}

/* Runs fn(arg) on a new thread pinned to cpu (it pins itself first thing). */
struct pinned {
    int cpu;
    int ran_on; /* sched_getcpu() once pinned, for the report */
    void *(*fn)(void *);
    void *arg;
};

static void *pinned_start(void *p)
{
    struct pinned *pn = p;
    pin_self(pn->cpu);
    pn->ran_on = sched_getcpu();
    return pn->fn(pn->arg);
}

static void start_pinned(pthread_t *t, struct pinned *pn)
{
    int err = pthread_create(t, NULL, pinned_start, pn);
    if (err) {
        fprintf(stderr, "ring_host: pthread_create: %s\n", strerror(err));
        exit(1);
    }
}

static void check_ran_on(const struct pinned *pn, const char *test)
{
    if (pn->ran_on != pn->cpu)
        fprintf(stderr, "ring_host: warning: %s responder ran on CPU %d, not %d\n", test,
                pn->ran_on, pn->cpu);
}

static inline void relax(void)
{
    sc_ring_cpu_relax();
}

/* ---- Each test runs in chunks: a responder thread is started on the side CPU, `warm`
 * unrecorded round trips, `count` recorded ones into out[], the responder is stopped. The
 * tests take turns chunk by chunk (see main), so that a change of conditions on the machine
 * during the run (another tenant, a host migrating our vCPUs) reaches all of them alike and
 * their ratio stays meaningful. Each returns the wall-clock ns of its recorded loop. */

/* Cache-line ping-pong: the guest writes i into its line, the responder copies it into its
 * own line, the guest waits to see it there. Two line transfers per round trip: the least any
 * request/response protocol over shared memory can cost between these two CPUs. */
#define PP_STOP UINT64_MAX

/* 128 bytes apart, so that no adjacent-line prefetcher pairs them (the ring's head and tail
 * lines are not in one 128-byte pair either). */
struct pingpong {
    _Alignas(2 * CACHE_LINE) uint64_t ping; /* written by the guest */
    _Alignas(2 * CACHE_LINE) uint64_t pong; /* written by the responder */
    _Alignas(2 * CACHE_LINE) char pad[2 * CACHE_LINE];
};

static struct pingpong pp;

static void *pong_thread(void *p)
{
    struct pingpong *q = p;
    uint64_t last = 0;
    for (;;) {
        uint64_t v = __atomic_load_n(&q->ping, __ATOMIC_ACQUIRE);
        if (v == last) {
            relax();
            continue;
        }
        if (v == PP_STOP)
            return NULL;
        __atomic_store_n(&q->pong, v, __ATOMIC_RELEASE);
        last = v;
    }
}

static uint64_t pingpong_chunk(int cpu_side, uint64_t warm, uint64_t count, uint64_t *out)
{
    pthread_t t;
    struct pinned pn = {.cpu = cpu_side, .ran_on = -1, .fn = pong_thread, .arg = &pp};

    pp.ping = 0; /* before pthread_create: the responder sees it */
    pp.pong = 0;
    start_pinned(&t, &pn);

    uint64_t i = 1, t_ns = now_ns();
    for (uint64_t k = 0; k < warm + count; k++, i++) {
        if (k == warm)
            t_ns = now_ns();
        uint64_t t0 = counter();
        __atomic_store_n(&pp.ping, i, __ATOMIC_RELEASE);
        while (__atomic_load_n(&pp.pong, __ATOMIC_ACQUIRE) != i)
            relax();
        uint64_t t1 = counter();
        if (k >= warm)
            out[k - warm] = t1 - t0;
    }
    uint64_t elapsed = now_ns() - t_ns;

    __atomic_store_n(&pp.ping, PP_STOP, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    check_ran_on(&pn, "pingpong");
    return elapsed;
}

/* The ring: the side-core thread polls it with the hypervisor's consumer, whose service
 * answers arg0 + 1; the guest thread is its only client. One ring for the whole run (the
 * consumer and client state carry over from chunk to chunk, as they would in a guest). */
struct ring_side {
    struct ring_consumer consumer;
    _Alignas(CACHE_LINE) int stop; /* read-only for the side core until the end of a chunk */
    _Alignas(CACHE_LINE) int failed;
};

static struct ring_side side;
static struct sc_ring *ring;
static struct sc_ring_client client;
static uint64_t next_value; /* arg0 of the next request */

static enum ring_outcome plus_one(void *ctx, struct sc_ring_slot *req, uint64_t *wait)
{
    (void)ctx;
    (void)wait;
    req->arg[0] = req->arg[0] + 1;
    req->status = 0;
    return RING_COMPLETE;
}

static const struct ring_ops plus_one_ops = {plus_one, NULL};

static void *side_core_thread(void *p)
{
    struct ring_side *rs = p;
    while (!__atomic_load_n(&rs->stop, __ATOMIC_RELAXED)) {
        int served = ring_consumer_poll(&rs->consumer, SC_RING_SLOTS, &plus_one_ops, NULL);
        if (served < 0) {
            __atomic_store_n(&rs->failed, served, __ATOMIC_RELAXED);
            return NULL;
        }
        if (served == 0)
            relax();
    }
    return NULL;
}

static void ring_setup(void)
{
    ring = aligned_alloc(4096, SC_RING_BYTES);
    if (!ring)
        die("out of memory (ring)");
    ring_consumer_init(&side.consumer, ring, SC_SERVICE_PT, 0);
    sc_ring_client_init(&client, ring);
}

static void start_side_core(pthread_t *t, struct pinned *pn, int cpu_side)
{
    side.stop = 0;
    side.failed = 0;
    *pn = (struct pinned){.cpu = cpu_side, .ran_on = -1, .fn = side_core_thread, .arg = &side};
    start_pinned(t, pn);
}

static void stop_side_core(pthread_t t, const struct pinned *pn, const char *test)
{
    __atomic_store_n(&side.stop, 1, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    check_ran_on(pn, test);
    if (side.failed)
        die("the side core found the ring broken");
}

/* Synchronous round trips: sc_ring_call, one request at a time. */
static uint64_t ring_chunk(int cpu_side, uint64_t warm, uint64_t count, uint64_t *out)
{
    pthread_t t;
    struct pinned pn;
    start_side_core(&t, &pn, cpu_side);

    uint64_t t_ns = now_ns();
    for (uint64_t k = 0; k < warm + count; k++) {
        uint64_t v = next_value++;
        uint64_t args[6] = {v, 0, 0, 0, 0, 0}, res[6] = {0};
        if (k == warm)
            t_ns = now_ns();
        uint64_t t0 = counter();
        int64_t status = sc_ring_call(&client, SC_OP_NULL, args, res, CALL_SPINS);
        uint64_t t1 = counter();
        if (status != 0 || res[0] != v + 1) {
            fprintf(stderr, "ring_host: request %llu: status %lld, arg0 %llu (want %llu)\n",
                    (unsigned long long)v, (long long)status, (unsigned long long)res[0],
                    (unsigned long long)(v + 1));
            exit(1);
        }
        if (k >= warm)
            out[k - warm] = t1 - t0;
    }
    uint64_t elapsed = now_ns() - t_ns;

    stop_side_core(t, &pn, "ring_roundtrip");
    return elapsed;
}

/* Batches of BATCH requests: reserve and fill them all, publish once, wait for the last;
 * out[] gets cycles per batch. */
static uint64_t batch_chunk(int cpu_side, uint64_t warm, uint64_t count, uint64_t *out)
{
    pthread_t t;
    struct pinned pn;
    start_side_core(&t, &pn, cpu_side);

    uint64_t t_ns = now_ns();
    for (uint64_t k = 0; k < warm + count; k++) {
        if (k == warm)
            t_ns = now_ns();
        uint64_t first = next_value;
        uint64_t t0 = counter();
        for (int j = 0; j < BATCH; j++) {
            struct sc_ring_slot *s = sc_ring_reserve(&client);
            if (!s)
                die("ring full in the batched test");
            s->opcode = SC_OP_NULL;
            s->flags = 0;
            s->tag = client.head - 1;
            s->status = 0;
            s->arg[0] = next_value++;
            for (int a = 1; a < 6; a++)
                s->arg[a] = 0;
        }
        uint32_t last = sc_ring_publish(&client);
        uint64_t spun = 0;
        while (!sc_ring_done(&client, last)) {
            if (++spun > CALL_SPINS)
                die("timed out waiting for a batch");
            relax();
        }
        uint64_t t1 = counter();
        for (int j = 0; j < BATCH; j++) {
            const struct sc_ring_slot *s = sc_ring_slot_of(&client, last - (BATCH - 1) + j);
            if (s->status != 0 || s->arg[0] != first + j + 1)
                die("wrong result in the batched test");
        }
        if (k >= warm)
            out[k - warm] = t1 - t0;
    }
    uint64_t elapsed = now_ns() - t_ns;

    stop_side_core(t, &pn, "ring_batch8");
    return elapsed;
}

/* Cost of the counter() pair itself (included in every sample above), and the smallest
 * step the counter makes (some hosts advance the TSC in coarse steps). */
static uint64_t timer_overhead(uint64_t *samples, uint64_t n)
{
    for (uint64_t k = 0; k < n; k++) {
        uint64_t t0 = counter();
        uint64_t t1 = counter();
        samples[k] = t1 - t0;
    }
    return summarize(samples, n, 1).median;
}

static uint64_t counter_step(void)
{
    uint64_t step = UINT64_MAX;
    for (int k = 0; k < 10000; k++) {
#if defined(__x86_64__)
        uint64_t t0 = __builtin_ia32_rdtsc(), t1; /* back to back, no fences */
        while ((t1 = __builtin_ia32_rdtsc()) == t0)
            ;
#else
        uint64_t t0 = counter(), t1;
        while ((t1 = counter()) == t0)
            ;
#endif
        if (t1 - t0 < step)
            step = t1 - t0;
    }
    return step;
}

/* ---- The machine. */
static void cpu_model(char *out, size_t size, bool *hypervisor)
{
    snprintf(out, size, "unknown");
    *hypervisor = false;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[4096];
    bool have_model = false;
    while (fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        value[strcspn(value, "\n")] = 0;
        if (!have_model && (!strncmp(line, "model name", 10) || !strncmp(line, "Model", 5) ||
                            !strncmp(line, "cpu model", 9))) {
            snprintf(out, size, "%s", value);
            for (char *c = out; *c; c++)
                if (*c == '"')
                    *c = '\'';
            have_model = true;
        }
        if (!strncmp(line, "flags", 5) && strstr(value, " hypervisor"))
            *hypervisor = true;
    }
    fclose(f);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: ring_host [--cpus A,B] [--n N] [--rounds R]\n"
            "  --cpus A,B  guest thread on CPU A, side-core thread on CPU B\n"
            "              (default: the first two CPUs this process may use)\n"
            "  --n N       round trips per test (default %llu)\n"
            "  --rounds R  the tests take turns in R chunks each (default %d)\n",
            (unsigned long long)DEFAULT_N, DEFAULT_ROUNDS);
}

static uint64_t parse_u64(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > (1ull << 32)) {
        fprintf(stderr, "ring_host: bad %s: %s\n", what, s);
        usage();
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    int cpu_a = -1, cpu_b = -1;
    uint64_t n = DEFAULT_N, rounds = DEFAULT_ROUNDS;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage();
            return 0;
        }
        if (!strncmp(arg, "--cpus=", 7) || !strncmp(arg, "--n=", 4) ||
            !strncmp(arg, "--rounds=", 9)) {
            val = strchr(arg, '=') + 1;
        } else if (!strcmp(arg, "--cpus") || !strcmp(arg, "--n") || !strcmp(arg, "-n") ||
                   !strcmp(arg, "--rounds")) {
            if (i + 1 >= argc) {
                usage();
                return 2;
            }
            val = argv[++i];
        } else {
            fprintf(stderr, "ring_host: unknown argument %s\n", arg);
            usage();
            return 2;
        }
        if (!strncmp(arg, "--cpus", 6)) {
            if (sscanf(val, "%d,%d", &cpu_a, &cpu_b) != 2 || cpu_a < 0 || cpu_b < 0 ||
                cpu_a >= CPU_SETSIZE || cpu_b >= CPU_SETSIZE) {
                fprintf(stderr, "ring_host: bad --cpus %s (want A,B)\n", val);
                return 2;
            }
        } else if (!strncmp(arg, "--rounds", 8)) {
            rounds = parse_u64(val, "--rounds");
        } else {
            n = parse_u64(val, "--n");
        }
    }

    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed))
        die("sched_getaffinity failed");
    int ncpus = CPU_COUNT(&allowed);
    if (ncpus < 2) {
        printf("HOSTBENCH skipped reason=\"only %d CPU available to this process: the "
               "benchmark needs a guest thread and a side-core thread on two different CPUs\"\n",
               ncpus);
        return 0;
    }
    if (cpu_a < 0) {
        for (int c = 0; c < CPU_SETSIZE && cpu_b < 0; c++) {
            if (!CPU_ISSET(c, &allowed))
                continue;
            if (cpu_a < 0)
                cpu_a = c;
            else
                cpu_b = c;
        }
    }
    if (cpu_a == cpu_b) {
        fprintf(stderr, "ring_host: --cpus needs two different CPUs\n");
        return 2;
    }
    if (!CPU_ISSET(cpu_a, &allowed) || !CPU_ISSET(cpu_b, &allowed)) {
        fprintf(stderr, "ring_host: CPU %d or %d is not available to this process\n", cpu_a, cpu_b);
        return 2;
    }

    char model[256];
    bool hypervisor;
    cpu_model(model, sizeof(model), &hypervisor);

    if (rounds > n / BATCH)
        rounds = n / BATCH ? n / BATCH : 1;
    uint64_t nb = n / BATCH ? n / BATCH : 1; /* batches: about n requests in all */
    uint64_t warm = (n / 10 < 10000 ? 10000 : n / 10) / rounds; /* per chunk */
    uint64_t warm_b = warm / BATCH ? warm / BATCH : 1;
    uint64_t *pp_samples = malloc(n * sizeof(uint64_t));
    uint64_t *rt_samples = malloc(n * sizeof(uint64_t));
    uint64_t *bt_samples = malloc(nb * sizeof(uint64_t));
    if (!pp_samples || !rt_samples || !bt_samples)
        die("out of memory (samples)");

    pin_self(cpu_a);
    if (sched_getcpu() != cpu_a)
        fprintf(stderr, "ring_host: warning: guest thread runs on CPU %d, not %d\n", sched_getcpu(),
                cpu_a);

    printf("HOSTBENCH cpu=\"%s\" cpus=%d,%d n=%llu counter=%s hypervisor=%s rounds=%llu\n", model,
           cpu_a, cpu_b, (unsigned long long)n, COUNTER_NAME, hypervisor ? "yes" : "no",
           (unsigned long long)rounds);
    fflush(stdout);

    uint64_t overhead = timer_overhead(pp_samples, n < 100000 ? n : 100000);
    uint64_t step = counter_step();
    ring_setup();

    uint64_t c0 = counter(), ns0 = now_ns();
    uint64_t pp_ns = 0, rt_ns = 0, bt_ns = 0;
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t lo = n * r / rounds, hi = n * (r + 1) / rounds;
        uint64_t blo = nb * r / rounds, bhi = nb * (r + 1) / rounds;
        pp_ns += pingpong_chunk(cpu_b, warm, hi - lo, pp_samples + lo);
        rt_ns += ring_chunk(cpu_b, warm, hi - lo, rt_samples + lo);
        bt_ns += batch_chunk(cpu_b, warm_b, bhi - blo, bt_samples + blo);
    }
    uint64_t c1 = counter(), ns1 = now_ns();

    struct stats pp_st = summarize(pp_samples, n, pp_ns);
    struct stats rt = summarize(rt_samples, n, rt_ns);
    struct stats bt = summarize(bt_samples, nb, bt_ns);

    printf("HOSTBENCH test=pingpong cycles_median=%llu cycles_p99=%llu cycles_min=%llu "
           "ns_mean=%.1f cycles_mean=%.1f\n",
           (unsigned long long)pp_st.median, (unsigned long long)pp_st.p99,
           (unsigned long long)pp_st.min, pp_st.ns_mean, pp_st.mean);
    printf("HOSTBENCH test=ring_roundtrip cycles_median=%llu cycles_p99=%llu cycles_min=%llu "
           "ns_mean=%.1f cycles_mean=%.1f\n",
           (unsigned long long)rt.median, (unsigned long long)rt.p99, (unsigned long long)rt.min,
           rt.ns_mean, rt.mean);
    printf("HOSTBENCH test=ring_batch8 cycles_per_request_mean=%.1f "
           "cycles_per_request_median=%.1f ns_per_request_mean=%.1f\n",
           bt.mean / BATCH, (double)bt.median / BATCH, bt.ns_mean / BATCH);
    printf("HOSTBENCH ratio_ring_over_pingpong=%.2f\n",
           pp_st.median ? (double)rt.median / (double)pp_st.median : 0.0);
    printf("HOSTBENCH counter_mhz=%.1f counter_step_cycles=%llu timer_overhead_cycles=%llu\n",
           (double)(c1 - c0) * 1000.0 / (double)(ns1 - ns0), (unsigned long long)step,
           (unsigned long long)overhead);
    free(pp_samples);
    free(rt_samples);
    free(bt_samples);
    free(ring);
    return 0;
}
