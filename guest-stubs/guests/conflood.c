/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: floods the console with requests of SC_CONSOLE_MAX newlines for FLOOD_MS,
 * through its io ring (kept DEPTH requests deep) and through both traps (the console
 * hypercall and SC_HC_RING_OP), then checks every request completed with its length. */
#include "sidecore/guest.h"

#define FLOOD_MS 3000
#define DEPTH 8         /* one side-core pass of this ring */
#define DRAIN_MS 20000  /* a hang guard, never a timing assertion */
#define COOLDOWN_MS 300 /* lets the partition's console budget refill for the report */

static char newlines[SC_CONSOLE_MAX];

static uint64_t ms_ticks(const struct sc_boot_info *bi, uint64_t ms)
{
    return (bi->tsc_hz ? bi->tsc_hz : 1000000000ull) / 1000 * ms;
}

int main(const struct sc_boot_info *bi)
{
    for (unsigned i = 0; i < sizeof(newlines); i++)
        newlines[i] = '\n';
    int err = sc_rings_init(bi);
    if (err) {
        sc_fail("conflood: no rings (%d)", err);
        return 1;
    }
    const uint64_t args[6] = {(uint64_t)(uintptr_t)newlines, sizeof(newlines)};
    const int64_t want = (int64_t)sizeof(newlines);
    int64_t inflight[DEPTH];
    uint64_t posted = 0, completed = 0, traps = 0, wrong = 0;
    uint64_t t0 = sc_rdtsc(), end = t0 + ms_ticks(bi, FLOOD_MS);
    while (sc_rdtsc() < end) {
        while (posted - completed < DEPTH) {
            int64_t seq = sc_svc_post(SC_SERVICE_IO, SC_OP_CONSOLE, args);
            if (seq < 0)
                break;
            inflight[posted++ % DEPTH] = seq;
        }
        int64_t st;
        while (completed < posted && sc_svc_poll(inflight[completed % DEPTH], &st, NULL) == 1) {
            wrong += st != want;
            completed++;
        }
        wrong += sc_hypercall(SC_HC_CONSOLE_WRITE, (long)(uintptr_t)newlines,
                              (long)sizeof(newlines), 0) != want;
        wrong += sc_svc_trap(SC_SERVICE_IO, SC_OP_CONSOLE, args, NULL) != want;
        traps += 2;
    }
    uint64_t flood_ms = (sc_rdtsc() - t0) / ms_ticks(bi, 1);
    uint64_t guard = sc_rdtsc() + ms_ticks(bi, DRAIN_MS);
    while (completed < posted && sc_rdtsc() < guard) {
        int64_t st;
        if (sc_svc_poll(inflight[completed % DEPTH], &st, NULL) == 1) {
            wrong += st != want;
            completed++;
        } else {
            sc_pause();
        }
    }
    sc_wait_until(sc_rdtsc() + ms_ticks(bi, COOLDOWN_MS));
    sc_printf("conflood: %llu ring and %llu trap requests of %u newlines in %llu ms\n",
              (unsigned long long)posted, (unsigned long long)traps, SC_CONSOLE_MAX,
              (unsigned long long)flood_ms);
    if (completed == posted && wrong == 0) {
        sc_pass("conflood: every request completed with its length");
        return 0;
    }
    sc_fail("conflood: %llu of %llu ring requests completed, %llu wrong statuses",
            (unsigned long long)completed, (unsigned long long)posted, (unsigned long long)wrong);
    return 1;
}
