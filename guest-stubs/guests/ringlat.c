/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: REQUESTS null requests through its io ring, one every GAP_MS, each timed;
 * prints the median and the maximum latency (reported, never judged) and passes when every
 * request completed. Beside a flooding partition it shows what the flood costs others. */
#include "sidecore/guest.h"

#define REQUESTS 200
#define GAP_MS 5
#define START_MS 100       /* lets the flood begin */
#define SLOW_US 1000000ull /* requests slower than this are reported as they come */
#define SLOW_SHOWN 5

static uint64_t lat[REQUESTS];

static void sort(uint64_t *a, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        uint64_t x = a[i];
        unsigned j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

int main(const struct sc_boot_info *bi)
{
    uint64_t hz = bi->tsc_hz ? bi->tsc_hz : 1000000000ull, ms = hz / 1000, us = hz / 1000000;
    int err = sc_rings_init(bi);
    struct sc_svc_client *c = sc_svc_self();
    if (err || !c) {
        sc_fail("ringlat: no rings (%d)", err);
        return 1;
    }
    c->spins = ~0ull; /* wait as long as it takes: the run time-out bounds it */
    sc_wait_until(sc_rdtsc() + START_MS * ms);
    unsigned ok = 0, slow = 0;
    int64_t last = 0;
    for (unsigned i = 0; i < REQUESTS; i++) {
        uint64_t t0 = sc_rdtsc();
        int64_t st = sc_svc_ring(SC_SERVICE_IO, SC_OP_NULL, NULL, NULL);
        lat[i] = sc_rdtsc() - t0;
        if (st == 0)
            ok++;
        else
            last = st;
        if (lat[i] / us > SLOW_US && slow++ < SLOW_SHOWN)
            sc_printf("ringlat: request %u took %llu ms\n", i, (unsigned long long)(lat[i] / ms));
        sc_wait_until(t0 + GAP_MS * ms);
    }
    sort(lat, REQUESTS);
    sc_printf("ringlat: %u null requests on the io ring: median %llu us, max %llu us\n", REQUESTS,
              (unsigned long long)(lat[REQUESTS / 2] / us),
              (unsigned long long)(lat[REQUESTS - 1] / us));
    if (ok == REQUESTS) {
        sc_pass("ringlat: %u of %u null requests completed", ok, REQUESTS);
        return 0;
    }
    sc_fail("ringlat: %u of %u null requests completed (last error %lld)", ok, REQUESTS,
            (long long)last);
    return 1;
}
