/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Benchmark guest: per-op latency ring vs trap, OS noise, ring scaling, side-core load. */
#include "bench_stats.h"
/* By path: "sidecore/blk.h" would find the hypervisor's device model first (-I order). */
#include "sidecore/blkdev.h"
#include "sidecore/guest.h"

/* Command line (bi->cmdline), space-separated key=value:
 *   mode=ops n=N               vCPU 0 measures every operation through both transports;
 *                              the other vCPUs halt with interrupts on (vCPU 1 takes the IPIs)
 *   mode=noise ms=M threshold=T every vCPU: RDTSC loop, gaps above T cycles are detours
 *   mode=scale ms=M            every vCPU: SC_OP_NULL back to back on its pt ring
 *   mode=load ms=M             every vCPU: batches of SC_OP_NULL on all its rings
 * Output lines (after the hypervisor's "<partition>.<vcpu>: " prefix), decimal integers:
 *   BENCH_INFO tsc_hz=H vcpus=V cpu="BRAND"
 *   BENCH op=NAME transport=ring|trap round=R n=N cycles_median=X cycles_p99=Y cycles_min=Z
 *     exits=E exits_x1000=F                 (one line; E = exits of vCPU 0 during the n ops)
 *     mode=ops runs ROUNDS rounds of every operation, ring then trap, n/ROUNDS samples each:
 *     slow phases of the emulator's host then fall on both transports, and the spread of the
 *     per-round trap/ring ratio says whether one run can tell them apart
 *   BENCH op=NAME transport=ring|trap skipped=REASON
 *   NOISE_SUMMARY vcpu=V ms=M threshold=T count=C total_cycles=S max_cycles=X exits=E
 *   NOISE vcpu=V at_cycles=A len_cycles=L
 *   SCALE vcpu=V vcpus=N ops=O cycles_median=X
 *   LOAD vcpu=V ops=O
 * then "PASS: bench <mode> done" from vCPU 0, or FAIL: lines. Nothing prints while a vCPU
 * measures (console output is a hypercall, an exit). */

#define BENCH_MAX_VCPUS 64 /* the hypervisor's partition limit */
#define SAMPLE_CAP 5000    /* per-op samples kept per vCPU (ops: the largest n) */
#define NOISE_KEEP 2000    /* detours recorded per vCPU; the rest are only counted */
#define NOISE_PRINT 300    /* NOISE lines per vCPU */
#define WARMUP 8           /* untimed calls before each op's samples */
#define ROUNDS 5           /* mode=ops: rounds of every operation on both transports */
#define CONSOLE_WARMUP 2
#define IPI_VECTOR 0x50
#define WAIT_MS 3000  /* a hang guard for IPI delivery, never a timing assertion */
#define CPUID_CAP 128 /* entries of the fetched CPUID table (SVC_CPUID_MAX_ENTRIES) */
#define BLK_SECTORS 8 /* 4 KiB per block request */
#define LOAD_BATCH 16 /* SC_OP_NULL per ring per round in mode=load */
#define PAGE 4096ull
#define MIB2 (2ull << 20)
#define RWX (SC_PT_READ | SC_PT_WRITE | SC_PT_EXEC)
#define DEFAULT_TSC_HZ 1000000000ull /* if the hypervisor could not calibrate */

enum mode { MODE_OPS, MODE_NOISE, MODE_SCALE, MODE_LOAD };
static const char *const mode_names[] = {"ops", "noise", "scale", "load"};

enum transport { RING, TRAP };
static const char *const transport_names[] = {"ring", "trap"};

struct bench_args {
    enum mode mode;
    uint64_t n, ms, threshold;
};

struct detour {
    uint64_t at, len; /* cycles since the loop began; cycles between the two reads */
};

/* Each vCPU's sample memory, on cache lines of its own: one mode per boot uses one view. */
union vcpu_buffer {
    uint64_t samples[SAMPLE_CAP];
    struct detour detours[NOISE_KEEP];
};
_Static_assert(sizeof(union vcpu_buffer) % 64 == 0, "no false sharing between vCPUs");
static union vcpu_buffer buffers[BENCH_MAX_VCPUS] __attribute__((aligned(64)));

static struct sc_barrier barrier;
static int failures[BENCH_MAX_VCPUS];
static uint64_t tsc_hz;            /* bi->tsc_hz, or DEFAULT_TSC_HZ */
static struct sc_svc_client *self; /* vCPU 0's client in mode=ops */
static unsigned round_now;         /* mode=ops: the round being measured */

/* ---- Small helpers. */

/* TSC read ordered against the instructions around it (the operation being timed). */
static inline uint64_t tsc_fenced(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return (uint64_t)hi << 32 | lo;
}

static uint64_t ms_to_cycles(uint64_t ms)
{
    return tsc_hz / 1000 * ms;
}

static bool streq_n(const char *a, size_t alen, const char *b)
{
    size_t i = 0;
    for (; i < alen && b[i]; i++)
        if (a[i] != b[i])
            return false;
    return i == alen && b[i] == '\0';
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 12)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* Fills a from the command line; false (with a FAIL line if loud) on anything unknown. */
static bool parse_args(const char *cmd, struct bench_args *a, bool loud)
{
    a->mode = MODE_OPS;
    a->n = 200;
    a->ms = 200;
    a->threshold = 2000;
    size_t i = 0;
    while (i < 256 && cmd[i]) {
        if (cmd[i] == ' ' || cmd[i] == '\t') {
            i++;
            continue;
        }
        size_t start = i, eq = 0;
        while (i < 256 && cmd[i] && cmd[i] != ' ' && cmd[i] != '\t') {
            if (cmd[i] == '=' && !eq)
                eq = i;
            i++;
        }
        const char *key = cmd + start, *val = cmd + eq + 1;
        size_t klen = eq - start, vlen = i - eq - 1;
        bool ok = eq > start;
        if (ok && streq_n(key, klen, "mode")) {
            ok = false;
            for (unsigned m = 0; m < sizeof(mode_names) / sizeof(mode_names[0]); m++) {
                if (streq_n(val, vlen, mode_names[m])) {
                    a->mode = (enum mode)m;
                    ok = true;
                }
            }
        } else if (ok && streq_n(key, klen, "n")) {
            ok = parse_u64(val, vlen, &a->n) && a->n >= 1 && a->n <= SAMPLE_CAP;
        } else if (ok && streq_n(key, klen, "ms")) {
            ok = parse_u64(val, vlen, &a->ms) && a->ms >= 1 && a->ms <= 600000;
        } else if (ok && streq_n(key, klen, "threshold")) {
            ok = parse_u64(val, vlen, &a->threshold) && a->threshold >= 1;
        } else {
            ok = false;
        }
        if (!ok) {
            char token[64];
            size_t len = i - start < sizeof(token) - 1 ? i - start : sizeof(token) - 1;
            for (size_t k = 0; k < len; k++)
                token[k] = key[k];
            token[len] = '\0';
            if (loud)
                sc_fail("bench: bad argument '%s' (mode=ops|noise|scale|load, n=1..%u, "
                        "ms=1..600000, threshold>=1)",
                        token, SAMPLE_CAP);
            return false;
        }
    }
    return true;
}

/* Each vCPU in turn runs fn (printing its lines), so the output comes out in vCPU order. */
static void in_vcpu_order(unsigned id, unsigned count, void (*fn)(unsigned id, unsigned count))
{
    for (unsigned v = 0; v < count; v++) {
        if (v == id)
            fn(id, count);
        sc_barrier(&barrier, count);
    }
}

static bool read_counters(unsigned id, struct sc_exit_counters *c, const char *what)
{
    int rc = sc_exit_counters(id, c);
    if (rc) {
        sc_fail("bench: vCPU %u: reading the exit counters (%s): %d", id, what, rc);
        failures[id]++;
    }
    return rc == 0;
}

/* ---- mode=ops: one operation at a time on vCPU 0. */

static int64_t call(enum transport t, enum sc_service s, uint16_t op, const uint64_t args[6],
                    uint64_t out[6])
{
    return t == RING ? sc_svc_client_call(self, s, op, args, out) : sc_svc_trap(s, op, args, out);
}

static void print_brand(const struct sc_boot_info *bi)
{
    char brand[49];
    uint32_t r[4];
    unsigned len = 0;
    sc_cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000004u) {
        for (uint32_t leaf = 0x80000002u; leaf <= 0x80000004u; leaf++) {
            sc_cpuid(leaf, 0, r);
            for (unsigned k = 0; k < 16; k++)
                brand[len++] = (char)(r[k / 4] >> (8 * (k % 4)));
        }
    }
    brand[len] = '\0';
    unsigned first = 0, out = 0;
    while (brand[first] == ' ')
        first++;
    for (unsigned k = first; k < len && brand[k]; k++)
        brand[out++] = brand[k] == '"' || (unsigned char)brand[k] < 0x20 ? '?' : brand[k];
    while (out > 0 && brand[out - 1] == ' ')
        out--;
    brand[out] = '\0';
    sc_printf("BENCH_INFO tsc_hz=%llu vcpus=%u cpu=\"%s\"\n", (unsigned long long)bi->tsc_hz,
              bi->vcpu_count, out ? brand : "unknown");
}

static void report(const char *op, enum transport t, unsigned n, uint64_t exits)
{
    struct bench_summary s = bench_summarize(buffers[0].samples, n);
    sc_printf("BENCH op=%s transport=%s round=%u n=%u cycles_median=%llu cycles_p99=%llu "
              "cycles_min=%llu exits=%llu exits_x1000=%llu\n",
              op, transport_names[t], round_now, n, (unsigned long long)s.median,
              (unsigned long long)s.p99, (unsigned long long)s.min, (unsigned long long)exits,
              (unsigned long long)bench_per_op_x1000(exits, n));
}

static void op_failed(const char *op, enum transport t, const char *when, unsigned i, int64_t rc)
{
    sc_fail("bench: op=%s transport=%s: %s %u: status %lld", op, transport_names[t], when, i,
            (long long)rc);
    failures[0]++;
}

/* One timed operation: its status (< 0 is an error). i is the sample number. */
typedef int64_t (*op_fn)(enum transport t, unsigned i);

/* WARMUP untimed calls, then n timed ones between two counter reads. */
static void measure(const char *name, enum transport t, op_fn fn, unsigned n, unsigned warmup)
{
    struct sc_exit_counters a, b;
    uint64_t *s = buffers[0].samples;
    int64_t rc;
    for (unsigned i = 0; i < warmup; i++) {
        if ((rc = fn(t, i)) < 0) {
            op_failed(name, t, "warm-up call", i, rc);
            return;
        }
    }
    if (!read_counters(0, &a, name))
        return;
    for (unsigned i = 0; i < n; i++) {
        uint64_t t0 = tsc_fenced();
        rc = fn(t, i);
        uint64_t t1 = tsc_fenced();
        if (rc < 0) {
            op_failed(name, t, "sample", i, rc);
            return;
        }
        s[i] = t1 - t0;
    }
    if (!read_counters(0, &b, name))
        return;
    report(name, t, n, b.total - a.total - 1);
}

static int64_t op_null(enum transport t, unsigned i)
{
    (void)i;
    return call(t, SC_SERVICE_PT, SC_OP_NULL, NULL, NULL);
}

/* CPUID leaf 1: the instruction (one exit), or a look-up in the table fetched by ring. */
static struct sc_cpuid_entry cpuid_table[CPUID_CAP];
static unsigned cpuid_entries;
static volatile uint32_t cpuid_sink;

static int64_t op_cpuid(enum transport t, unsigned i)
{
    (void)i;
    if (t == TRAP) {
        uint32_t r[4];
        sc_cpuid(1, 0, r);
        cpuid_sink = r[0] ^ r[1] ^ r[2] ^ r[3];
        return 0;
    }
    const volatile struct sc_cpuid_entry *e = cpuid_table;
    for (unsigned k = 0; k < cpuid_entries; k++) {
        if (e[k].leaf == 1 && e[k].subleaf == 0) {
            cpuid_sink = e[k].eax ^ e[k].ebx ^ e[k].ecx ^ e[k].edx;
            return 0;
        }
    }
    return -SC_ENOENT;
}

/* pt_map: each sample maps back a page unmapped (untimed: the unmap's NMI flush is an exit)
 * just before; the exits are counted around each map alone, less the counter read. */
static void bench_pt_map(enum transport t, unsigned n, uint64_t page)
{
    const char *name = "pt_map";
    uint64_t unmap[6] = {page, PAGE}, map[6] = {page, PAGE, RWX};
    uint64_t *s = buffers[0].samples, exits = 0;
    struct sc_exit_counters a, b;
    int64_t rc;
    for (unsigned i = 0; i < WARMUP + n; i++) {
        if ((rc = call(t, SC_SERVICE_PT, SC_OP_PT_UNMAP, unmap, NULL)) < 0) {
            op_failed(name, t, "unmap before call", i, rc);
            return;
        }
        if (i < WARMUP) {
            if ((rc = call(t, SC_SERVICE_PT, SC_OP_PT_MAP, map, NULL)) < 0) {
                op_failed(name, t, "warm-up call", i, rc);
                return;
            }
            continue;
        }
        if (!read_counters(0, &a, name))
            return;
        uint64_t t0 = tsc_fenced();
        rc = call(t, SC_SERVICE_PT, SC_OP_PT_MAP, map, NULL);
        uint64_t t1 = tsc_fenced();
        if (!read_counters(0, &b, name))
            return;
        if (rc < 0) {
            op_failed(name, t, "sample", i - WARMUP, rc);
            return;
        }
        s[i - WARMUP] = t1 - t0;
        exits += b.total - a.total - 1;
    }
    report(name, t, n, exits);
}

/* ipi: vCPU 0 -> vCPU 1; the latency ends at the TSC read on entry of vCPU 1's handler. */
static uint64_t ipi_stamp;      /* 0: not arrived yet */
static uint32_t receivers_done; /* vCPU 0 is through: the receivers may leave their HLT loop */

static void on_ipi(uint8_t vector)
{
    uint64_t now = sc_rdtsc();
    (void)vector;
    __atomic_store_n(&ipi_stamp, now ? now : 1, __ATOMIC_RELEASE);
    lapic_eoi();
}

static bool wait_stamp(uint64_t *stamp)
{
    uint64_t end = sc_rdtsc() + ms_to_cycles(WAIT_MS);
    while ((*stamp = __atomic_load_n(&ipi_stamp, __ATOMIC_ACQUIRE)) == 0) {
        if (sc_rdtsc() > end)
            return false;
        sc_pause();
    }
    return true;
}

static void bench_ipi(enum transport t, unsigned n)
{
    const char *name = "ipi";
    uint64_t args[6] = {IPI_VECTOR, 1u << 1, 0};
    uint64_t *s = buffers[0].samples;
    struct sc_exit_counters a, b;
    for (unsigned i = 0; i < WARMUP + n; i++) {
        if (i == WARMUP && !read_counters(0, &a, name))
            return;
        uint64_t stamp;
        __atomic_store_n(&ipi_stamp, 0, __ATOMIC_RELEASE);
        uint64_t t0 = tsc_fenced();
        int64_t rc = call(t, SC_SERVICE_IRQ, SC_OP_IPI, args, NULL);
        if (rc != 1) {
            op_failed(name, t, i < WARMUP ? "warm-up call" : "sample", i, rc);
            return;
        }
        if (!wait_stamp(&stamp)) {
            sc_fail("bench: op=ipi transport=%s: call %u: vCPU 1 took no IPI in %u ms",
                    transport_names[t], i, WAIT_MS);
            failures[0]++;
            return;
        }
        if (i >= WARMUP)
            s[i - WARMUP] = stamp > t0 ? stamp - t0 : 0; /* TSCs are synchronised */
    }
    if (read_counters(0, &b, name))
        report(name, t, n, b.total - a.total - 1);
}

/* The other vCPUs: halted with interrupts on until vCPU 0 is through (NMI kicks of pt_unmap
 * and IPIs wake them; each wake-up re-checks). */
static void ipi_receiver(void)
{
    sc_irq_disable();
    while (!__atomic_load_n(&receivers_done, __ATOMIC_ACQUIRE))
        __asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void release_receivers(unsigned count)
{
    __atomic_store_n(&receivers_done, 1, __ATOMIC_RELEASE);
    if (count < 2)
        return;
    uint64_t set = count >= 64 ? ~1ull : ((1ull << count) - 1) & ~1ull;
    uint64_t args[6] = {IPI_VECTOR, set, 0};
    int64_t rc = sc_svc_trap(SC_SERVICE_IRQ, SC_OP_IPI, args, NULL); /* works whatever the ring */
    if (rc != (int64_t)(count - 1)) {
        sc_fail("bench: waking the idle vCPUs: status %lld", (long long)rc);
        failures[0]++;
    }
}

/* console: one 32-byte line per call. */
static const char console_line[] = "bench: console probe 0123456789\n";
_Static_assert(sizeof(console_line) - 1 == 32, "a 32-byte console line");

static int64_t op_console(enum transport t, unsigned i)
{
    (void)i;
    uint64_t args[6] = {(uint64_t)(uintptr_t)console_line, sizeof(console_line) - 1};
    int64_t rc = call(t, SC_SERVICE_IO, SC_OP_CONSOLE, args, NULL);
    return rc == (int64_t)(sizeof(console_line) - 1) ? 0 : rc < 0 ? rc : -SC_EIO;
}

/* blk: 4 KiB requests over the first blk_span sectors, polled queue or kick trap. */
static uint8_t blk_buf[BLK_SECTORS * SC_BLK_SECTOR] __attribute__((aligned(4096)));
static uint64_t blk_span; /* sectors used: a multiple of BLK_SECTORS, at least one request */

static int64_t blk_op(bool write, enum transport t, unsigned i)
{
    uint64_t sector = (uint64_t)i * BLK_SECTORS % blk_span;
    return t == TRAP ? sc_blk_rw_trap(write, sector, blk_buf, BLK_SECTORS)
                     : sc_blk_rw(write, sector, blk_buf, BLK_SECTORS);
}

static int64_t op_blk_read(enum transport t, unsigned i)
{
    return blk_op(false, t, i);
}

static int64_t op_blk_write(enum transport t, unsigned i)
{
    return blk_op(true, t, i);
}

/* The disk, set up for polled requests: false (a BENCH skipped line or a FAIL) without one. */
static bool bench_blk_setup(void)
{
    uint64_t sectors = 0;
    int rc = sc_blk_info(&sectors);
    if (rc == -SC_ENODEV) {
        static const char *const ops[] = {"blk_read", "blk_write"};
        for (int o = 0; o < 2; o++)
            for (int t = RING; t <= TRAP; t++)
                sc_printf("BENCH op=%s transport=%s skipped=no-disk\n", ops[o], transport_names[t]);
        return false;
    }
    if (rc || sectors < BLK_SECTORS) {
        sc_fail("bench: SC_OP_BLK_INFO: %d, %llu sectors (want at least %u)", rc,
                (unsigned long long)sectors, BLK_SECTORS);
        failures[0]++;
        return false;
    }
    if ((rc = sc_blk_setup(0))) {
        sc_fail("bench: SC_OP_BLK_SETUP (polled): %d", rc);
        failures[0]++;
        return false;
    }
    blk_span = sectors / BLK_SECTORS * BLK_SECTORS;
    for (unsigned k = 0; k < sizeof(blk_buf); k++)
        blk_buf[k] = (uint8_t)(k * 7 + 1);
    return true;
}

static void run_ops(const struct sc_boot_info *bi, const struct bench_args *a)
{
    unsigned count = bi->vcpu_count;
    unsigned n = (unsigned)a->n / ROUNDS ? (unsigned)a->n / ROUNDS : 1; /* per round */
    unsigned nc = n / 10 ? n / 10 : 1;
    self = sc_svc_self();
    print_brand(bi);

    uint64_t args[6] = {(uint64_t)(uintptr_t)cpuid_table, CPUID_CAP};
    int64_t entries = call(RING, SC_SERVICE_PT, SC_OP_CPUID_TABLE, args, NULL);
    bool cpuid_ok = entries > 0 && entries <= CPUID_CAP;
    if (cpuid_ok)
        cpuid_entries = (unsigned)entries;
    else
        op_failed("cpuid", RING, "SC_OP_CPUID_TABLE, call", 0, entries);

    /* a page in the free area, in a 2 MiB region of its own */
    uint64_t page = ((bi->free_gpa + MIB2 - 1) & ~(MIB2 - 1)) + 5 * PAGE;
    bool page_ok = page + PAGE <= bi->stacks_gpa;
    if (!page_ok) {
        sc_fail("bench: no room for the pt_map page 0x%llx below the stacks at 0x%llx",
                (unsigned long long)page, (unsigned long long)bi->stacks_gpa);
        failures[0]++;
    }
    if (count < 2)
        for (int t = RING; t <= TRAP; t++)
            sc_printf("BENCH op=ipi transport=%s skipped=one-vcpu\n", transport_names[t]);
    bool blk_ok = bench_blk_setup();

    for (round_now = 0; round_now < ROUNDS; round_now++) {
        for (int t = RING; t <= TRAP; t++)
            measure("null", (enum transport)t, op_null, n, WARMUP);
        for (int t = RING; t <= TRAP && cpuid_ok; t++)
            measure("cpuid", (enum transport)t, op_cpuid, n, WARMUP);
        for (int t = RING; t <= TRAP && page_ok; t++)
            bench_pt_map((enum transport)t, n, page);
        for (int t = RING; t <= TRAP && count >= 2; t++)
            bench_ipi((enum transport)t, n);
        for (int t = RING; t <= TRAP; t++)
            measure("console", (enum transport)t, op_console, nc, CONSOLE_WARMUP);
        for (int t = RING; t <= TRAP && blk_ok; t++)
            measure("blk_read", (enum transport)t, op_blk_read, n, WARMUP);
        for (int t = RING; t <= TRAP && blk_ok; t++)
            measure("blk_write", (enum transport)t, op_blk_write, n, WARMUP);
    }
}

/* ---- mode=noise: every vCPU reads the TSC in a tight loop; long gaps are detours. */
struct noise_result {
    uint64_t count, total, max, exits;
};
static struct noise_result noise[BENCH_MAX_VCPUS];
static struct bench_args args_of_run;

/* The measuring loop: detours above threshold during length cycles, the first NOISE_KEEP
 * recorded in d. Not inlined: the lead-in must run the very same code. */
__attribute__((noinline)) static struct noise_result
noise_window(struct detour *d, uint64_t threshold, uint64_t length)
{
    struct noise_result r = {0, 0, 0, 0};
    uint64_t start = sc_rdtsc(), prev = start, end = start + length;
    for (;;) {
        uint64_t now = sc_rdtsc(), gap = now - prev;
        if (gap > threshold) {
            if (r.count < NOISE_KEEP)
                d[r.count] = (struct detour){prev - start, gap};
            r.count++;
            r.total += gap;
            if (gap > r.max)
                r.max = gap;
        }
        prev = now;
        if (now >= end)
            break;
    }
    return r;
}

static void noise_loop(unsigned id)
{
    struct sc_exit_counters a, b;
    uint64_t threshold = args_of_run.threshold;
    /* A 1 ms lead-in of the same loop, thrown away, after the counter read: an emulator
     * translates the loop on its first pass, and refills its TLB after the read's exit. The
     * exits reported cover the lead-in too (it is the same exit-free loop). */
    bool ok = read_counters(id, &a, "noise");
    (void)noise_window(buffers[id].detours, threshold, ms_to_cycles(1));
    struct noise_result r =
        noise_window(buffers[id].detours, threshold, ms_to_cycles(args_of_run.ms));
    if (read_counters(id, &b, "noise") && ok)
        r.exits = b.total - a.total - 1;
    noise[id] = r;
}

static void noise_print(unsigned id, unsigned count)
{
    const struct noise_result *r = &noise[id];
    (void)count;
    sc_printf("NOISE_SUMMARY vcpu=%u ms=%llu threshold=%llu count=%llu total_cycles=%llu "
              "max_cycles=%llu exits=%llu\n",
              id, (unsigned long long)args_of_run.ms, (unsigned long long)args_of_run.threshold,
              (unsigned long long)r->count, (unsigned long long)r->total,
              (unsigned long long)r->max, (unsigned long long)r->exits);
    uint64_t shown = r->count < NOISE_PRINT ? r->count : NOISE_PRINT;
    for (uint64_t k = 0; k < shown; k++)
        sc_printf("NOISE vcpu=%u at_cycles=%llu len_cycles=%llu\n", id,
                  (unsigned long long)buffers[id].detours[k].at,
                  (unsigned long long)buffers[id].detours[k].len);
}

/* ---- mode=scale: SC_OP_NULL back to back on the vCPU's own pt ring. */
struct scale_result {
    uint64_t ops, median;
};
static struct scale_result scale[BENCH_MAX_VCPUS];

static void scale_loop(unsigned id)
{
    struct sc_svc_client *c = sc_svc_self();
    uint64_t *s = buffers[id].samples, ops = 0;
    uint64_t end = sc_rdtsc() + ms_to_cycles(args_of_run.ms);
    for (;;) {
        uint64_t t0 = tsc_fenced();
        if (t0 >= end)
            break;
        int64_t rc = sc_svc_client_call(c, SC_SERVICE_PT, SC_OP_NULL, NULL, NULL);
        uint64_t t1 = tsc_fenced();
        if (rc < 0) {
            sc_fail("bench: scale: vCPU %u: SC_OP_NULL %llu: status %lld", id,
                    (unsigned long long)ops, (long long)rc);
            failures[id]++;
            break;
        }
        if (ops < SAMPLE_CAP)
            s[ops] = t1 - t0;
        ops++;
    }
    unsigned kept = ops < SAMPLE_CAP ? (unsigned)ops : SAMPLE_CAP;
    scale[id] = (struct scale_result){ops, bench_summarize(s, kept).median};
}

static void scale_print(unsigned id, unsigned count)
{
    sc_printf("SCALE vcpu=%u vcpus=%u ops=%llu cycles_median=%llu\n", id, count,
              (unsigned long long)scale[id].ops, (unsigned long long)scale[id].median);
}

/* ---- mode=load: rounds of LOAD_BATCH SC_OP_NULL on each of the vCPU's rings at once. */
static uint64_t load_ops[BENCH_MAX_VCPUS];

static void load_loop(unsigned id)
{
    struct sc_svc_client *c = sc_svc_self();
    struct sc_svc_batch b[SC_SERVICES];
    int64_t status[LOAD_BATCH];
    uint64_t ops = 0, end = sc_rdtsc() + ms_to_cycles(args_of_run.ms);
    while (sc_rdtsc() < end) {
        for (int s = 0; s < SC_SERVICES; s++) {
            sc_svc_batch_init(&b[s], c, (enum sc_service)s);
            for (int k = 0; k < LOAD_BATCH; k++)
                sc_svc_batch_add(&b[s], SC_OP_NULL, NULL);
            sc_svc_batch_submit(&b[s]);
        }
        for (int s = 0; s < SC_SERVICES; s++) {
            int rc = sc_svc_batch_wait(&b[s], c->spins, status, NULL);
            bool ok = rc == 0 && b[s].count == LOAD_BATCH;
            for (unsigned k = 0; ok && k < LOAD_BATCH; k++)
                ok = status[k] == 0;
            if (!ok) {
                sc_fail("bench: load: vCPU %u: a batch on ring %d: %d, %u requests", id, s, rc,
                        b[s].count);
                failures[id]++;
                load_ops[id] = ops;
                return;
            }
            ops += LOAD_BATCH;
        }
    }
    load_ops[id] = ops;
}

static void load_print(unsigned id, unsigned count)
{
    (void)count;
    sc_printf("LOAD vcpu=%u ops=%llu\n", id, (unsigned long long)load_ops[id]);
}

/* ---- Entry: every vCPU. */
int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id, count = bi->vcpu_count;
    if (count > BENCH_MAX_VCPUS || id >= count) {
        if (id == 0)
            sc_fail("bench: %u vCPUs, at most %u", count, BENCH_MAX_VCPUS);
        return 1;
    }
    tsc_hz = bi->tsc_hz ? bi->tsc_hz : DEFAULT_TSC_HZ;
    struct bench_args a;
    if (!parse_args(bi->cmdline, &a, id == 0))
        return 1;
    args_of_run = a;

    int err = sc_rings_init(bi);
    if (err) {
        sc_fail("bench: vCPU %u: no request rings: %d", id, err);
        failures[id]++;
    }
    sc_set_irq_handler(IPI_VECTOR, on_ipi);
    sc_barrier(&barrier, count); /* every vCPU's rings are set up (or failed) */
    bool rings = true;
    for (unsigned v = 0; v < count; v++)
        rings = rings && failures[v] == 0;

    if (rings) {
        switch (a.mode) {
        case MODE_OPS:
            if (id == 0) {
                run_ops(bi, &a);
                release_receivers(count);
            } else {
                ipi_receiver();
            }
            break;
        case MODE_NOISE:
            sc_barrier(&barrier, count); /* start together */
            noise_loop(id);
            sc_barrier(&barrier, count);
            in_vcpu_order(id, count, noise_print);
            break;
        case MODE_SCALE:
            sc_barrier(&barrier, count);
            scale_loop(id);
            sc_barrier(&barrier, count);
            in_vcpu_order(id, count, scale_print);
            break;
        case MODE_LOAD:
            sc_barrier(&barrier, count);
            load_loop(id);
            sc_barrier(&barrier, count);
            in_vcpu_order(id, count, load_print);
            break;
        }
    }
    sc_barrier(&barrier, count);
    if (id == 0) {
        int all = 0;
        for (unsigned v = 0; v < count; v++)
            all += failures[v];
        if (all == 0)
            sc_pass("bench %s done", mode_names[a.mode]);
        else
            sc_fail("bench %s: %d failure(s)", mode_names[a.mode], all);
    }
    return failures[id] ? 1 : 0;
}
