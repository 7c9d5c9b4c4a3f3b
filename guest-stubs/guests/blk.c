/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: block I/O over the polled virtqueue with 0 exits, through the kick trap, by IPI. */
#include "core/fmt.h"
/* By path: "sidecore/blk.h" would find the hypervisor's device model first (-I order). */
#include "sidecore/blkdev.h"
#include "sidecore/guest.h"

#define SECTORS 64
#define IRQ_VECTOR 0x60
#define WATCHDOG_VECTOR 0x41 /* wakes a halted wait if an IPI goes missing */
#define WATCHDOG_HZ 1000

/* The request sizes (in sectors) of the write pass and of the read pass: 64 sectors each. */
static const uint32_t write_plan[] = {1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 16, 16, 8};
static const uint32_t read_plan[] = {16, 8, 1, 1, 1, 1, 16, 8, 1, 1, 1, 1, 8};
#define PLAN_LEN(p) (sizeof(p) / sizeof((p)[0]))

static uint8_t wbuf[SECTORS * SC_BLK_SECTOR] __attribute__((aligned(4096)));
static uint8_t rbuf[SECTORS * SC_BLK_SECTOR] __attribute__((aligned(4096)));
static volatile uint64_t watchdog_ticks;

enum transport { RING, TRAP, IRQ };
static const char *const transport_names[] = {"ring", "trap", "irq"};

/* Every sector distinct, and distinct per pass: its number and the pass in its first bytes. */
static void make_pattern(unsigned pass)
{
    for (unsigned s = 0; s < SECTORS; s++) {
        uint8_t *p = wbuf + s * SC_BLK_SECTOR;
        for (unsigned i = 0; i < SC_BLK_SECTOR; i++)
            p[i] = (uint8_t)(s * 7 + i * 13 + pass * 101 + (i >> 5));
        p[0] = (uint8_t)s;
        p[1] = (uint8_t)pass;
        p[2] = 0xb1;
        p[3] = 0x0c;
    }
}

static int io(enum transport t, bool write, uint64_t sector, void *buf, uint32_t n)
{
    return t == TRAP ? sc_blk_rw_trap(write, sector, buf, n) : sc_blk_rw(write, sector, buf, n);
}

/* Runs the plan; stops at the first error. Returns 0 or the error, *done = requests made. */
static int run_plan(enum transport t, bool write, const uint32_t *plan, unsigned len,
                    unsigned *done, uint64_t *bad_sector)
{
    uint64_t sector = 0;
    uint8_t *buf = write ? wbuf : rbuf;
    *done = 0;
    for (unsigned i = 0; i < len; i++) {
        int rc = io(t, write, sector, buf + sector * SC_BLK_SECTOR, plan[i]);
        (*done)++;
        if (rc) {
            *bad_sector = sector;
            return rc;
        }
        sector += plan[i];
    }
    return 0;
}

static void on_watchdog(uint8_t vector)
{
    (void)vector;
    watchdog_ticks++;
    lapic_eoi();
}

/* A pass: write sectors 0..63, read them back, compare; exit counters read around each half.
 * Nothing in between prints (console output is a hypercall). Returns the failures. */
static int pass(unsigned id, enum transport t, unsigned seed)
{
    const char *name = transport_names[t];
    int failures = 0;
    make_pattern(seed);
    for (unsigned i = 0; i < sizeof(rbuf); i++)
        rbuf[i] = 0;
    struct sc_blk_stats s0, s1;
    struct sc_exit_counters a, b, c;
    unsigned nw = 0, nr = 0;
    uint64_t bad_w = 0, bad_r = 0;
    int rw = 0, rr = 0;

    sc_blk_get_stats(&s0);
    int ea = sc_exit_counters(id, &a);
    rw = run_plan(t, true, write_plan, PLAN_LEN(write_plan), &nw, &bad_w);
    int eb = sc_exit_counters(id, &b);
    if (!rw)
        rr = run_plan(t, false, read_plan, PLAN_LEN(read_plan), &nr, &bad_r);
    int ec = sc_exit_counters(id, &c);
    sc_blk_get_stats(&s1);

    if (ea || eb || ec) {
        sc_fail("%s: reading the exit counters: %d %d %d", name, ea, eb, ec);
        return 1;
    }
    if (rw) {
        sc_fail("%s: write request %u (sector %llu) failed: %d", name, nw,
                (unsigned long long)bad_w, rw);
        return 1;
    }
    if (rr) {
        sc_fail("%s: read request %u (sector %llu) failed: %d", name, nr, (unsigned long long)bad_r,
                rr);
        return 1;
    }
    unsigned mismatch = SECTORS * SC_BLK_SECTOR;
    for (unsigned i = 0; i < SECTORS * SC_BLK_SECTOR; i++) {
        if (rbuf[i] != wbuf[i]) {
            mismatch = i;
            break;
        }
    }
    if (mismatch == SECTORS * SC_BLK_SECTOR) {
        sc_pass("%s: wrote sectors 0..%u in %u requests, read them back in %u: every byte equal",
                name, SECTORS - 1, nw, nr);
    } else {
        sc_fail("%s: byte %u (sector %u) read back 0x%02x, wrote 0x%02x", name, mismatch,
                mismatch / SC_BLK_SECTOR, rbuf[mismatch], wbuf[mismatch]);
        failures++;
    }

    /* exits: the counter read that closes each half (1), plus one per kick on the trap path */
    uint64_t xw = b.total - a.total, xr = c.total - b.total;
    uint64_t want_w = 1 + (t == TRAP ? nw : 0), want_r = 1 + (t == TRAP ? nr : 0);
    uint64_t hw = b.by_reason[SC_EXIT_HYPERCALL] - a.by_reason[SC_EXIT_HYPERCALL];
    uint64_t hr = c.by_reason[SC_EXIT_HYPERCALL] - b.by_reason[SC_EXIT_HYPERCALL];
    sc_printf("RESULT op=blk_write transport=%s requests=%u sectors=%u exits=%llu "
              "io_exits=%llu\n",
              name, nw, SECTORS, (unsigned long long)xw, (unsigned long long)(xw - 1));
    sc_printf("RESULT op=blk_read transport=%s requests=%u sectors=%u exits=%llu io_exits=%llu\n",
              name, nr, SECTORS, (unsigned long long)xr, (unsigned long long)(xr - 1));
    if (xw == want_w && xr == want_r && hw == want_w && hr == want_r) {
        sc_pass("%s: exits during the I/O: write %llu, read %llu (%s)", name,
                (unsigned long long)xw, (unsigned long long)xr,
                t == TRAP ? "1 per kick + the counter read" : "the counter read itself: 0 for I/O");
    } else {
        sc_fail("%s: exits during the I/O: write %llu (want %llu), read %llu (want %llu); "
                "hypercalls %llu, %llu",
                name, (unsigned long long)xw, (unsigned long long)want_w, (unsigned long long)xr,
                (unsigned long long)want_r, (unsigned long long)hw, (unsigned long long)hr);
        for (unsigned r = 0; r < SC_EXIT_REASONS; r++)
            if (c.by_reason[r] != a.by_reason[r])
                sc_printf("%s:   %s +%llu\n", name, sc_exit_reason_name(r),
                          (unsigned long long)(c.by_reason[r] - a.by_reason[r]));
        failures++;
    }

    uint64_t reqs = s1.requests - s0.requests;
    if (reqs != nw + nr || s1.errors != s0.errors) {
        sc_fail("%s: driver counted %llu requests, %llu errors (want %u, 0)", name,
                (unsigned long long)reqs, (unsigned long long)(s1.errors - s0.errors), nw + nr);
        failures++;
    }
    if (t == TRAP)
        sc_printf("%s: %llu kicks completed %llu of the %llu requests themselves (the side core "
                  "served the rest)\n",
                  name, (unsigned long long)(s1.kicks - s0.kicks),
                  (unsigned long long)(s1.kicked - s0.kicked), (unsigned long long)reqs);
    if (t == IRQ) {
        uint64_t irqs = s1.irqs - s0.irqs;
        sc_printf("%s: %llu completion IPIs, %llu halts, %llu watchdog ticks\n", name,
                  (unsigned long long)irqs, (unsigned long long)(s1.halts - s0.halts),
                  (unsigned long long)watchdog_ticks);
        if (irqs == reqs) {
            sc_pass("%s: each of the %llu completions arrived by IPI on vector 0x%x", name,
                    (unsigned long long)reqs, IRQ_VECTOR);
        } else {
            sc_fail("%s: %llu completion IPIs for %llu requests", name, (unsigned long long)irqs,
                    (unsigned long long)reqs);
            failures++;
        }
    }
    return failures;
}

static int start_watchdog(const struct sc_boot_info *bi)
{
    if (bi->tsc_hz == 0)
        return -SC_EINVAL;
    uint64_t hz = lapic_timer_calibrate(16, bi->tsc_hz, 10);
    if (hz == 0)
        return -SC_EINVAL;
    uint64_t initial = hz / WATCHDOG_HZ ? hz / WATCHDOG_HZ : 1;
    if (initial > 0xffffffffu)
        initial = 0xffffffffu;
    sc_set_irq_handler(WATCHDOG_VECTOR, on_watchdog);
    return lapic_timer_periodic(WATCHDOG_VECTOR, (uint32_t)initial, 16);
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id;
    int failures = 0;
    if (id != 0)
        return 0; /* one queue, driven by vCPU 0 */

    int err = sc_rings_init(bi);
    if (err) {
        sc_fail("blk: no request rings: %d", err);
        return 1;
    }
    uint64_t sectors = 0;
    err = sc_blk_info(&sectors);
    if (err) {
        sc_fail("blk: SC_OP_BLK_INFO: %d (is there a disk= in the configuration?)", err);
        return 1;
    }
    sc_printf("blk: capacity %llu sectors (%llu KiB)\n", (unsigned long long)sectors,
              (unsigned long long)(sectors / 2));
    if (sectors >= SECTORS) {
        sc_pass("blk: capacity %llu sectors", (unsigned long long)sectors);
    } else {
        sc_fail("blk: capacity %llu sectors, want at least %u", (unsigned long long)sectors,
                SECTORS);
        return 1;
    }
    err = sc_blk_setup(0);
    if (err) {
        sc_fail("blk: SC_OP_BLK_SETUP (polled): %d", err);
        return 1;
    }
    char idstr[SC_BLK_ID_BYTES + 1] = {0};
    err = sc_blk_get_id(idstr);
    if (!err && idstr[0] == 's' && idstr[8] == '-') {
        sc_pass("blk: device id '%s'", idstr);
    } else {
        sc_fail("blk: GET_ID: %d, '%s'", err, idstr);
        failures++;
    }
    err = sc_blk_flush();
    if (err) {
        sc_fail("blk: FLUSH: %d", err);
        failures++;
    }
    /* past the end: the device refuses, the driver carries on */
    err = sc_blk_rw(false, sectors, rbuf, 1);
    if (err == -SC_EIO) {
        sc_pass("blk: a read at sector %llu (the capacity) fails with %d",
                (unsigned long long)sectors, err);
    } else {
        sc_fail("blk: a read at sector %llu (the capacity) returned %d, want %d",
                (unsigned long long)sectors, err, -SC_EIO);
        failures++;
    }

    failures += pass(id, RING, 1);
    failures += pass(id, TRAP, 2);

    err = start_watchdog(bi);
    if (err)
        sc_printf("blk: no watchdog timer (%d): a lost IPI would hang the irq pass\n", err);
    err = sc_blk_setup(IRQ_VECTOR);
    if (err) {
        sc_fail("blk: SC_OP_BLK_SETUP (vector 0x%x): %d", IRQ_VECTOR, err);
        failures++;
    } else {
        failures += pass(id, IRQ, 3);
    }
    lapic_timer_stop();
    /* A tick raised before the stop may still be pending (interrupts are off outside the
     * waits): take it here rather than leave it to whatever runs on this core after us. */
    sc_irq_enable();
    for (int i = 0; i < 100; i++)
        sc_pause();
    sc_irq_disable();

    struct sc_blk_stats s;
    sc_blk_get_stats(&s);
    sc_printf("blk: %llu requests, %llu errors, %llu kicks, %llu IPIs, %llu time-outs\n",
              (unsigned long long)s.requests, (unsigned long long)s.errors,
              (unsigned long long)s.kicks, (unsigned long long)s.irqs,
              (unsigned long long)s.timeouts);
    if (failures == 0)
        sc_pass("blk: all checks passed");
    else
        sc_fail("blk: %d check(s) failed", failures);
    return failures;
}
