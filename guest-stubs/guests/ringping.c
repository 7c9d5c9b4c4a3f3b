/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: 1000 null requests through one ring (args="service=pt|irq|io", pt by default). */
#include "sidecore/guest.h"

#define REQUESTS 1000

static const char *const names[SC_SERVICES] = {"pt", "irq", "io"};

/* The service named by "service=NAME" in the command line; pt without one. */
static int parse_service(const char *cmdline, unsigned size)
{
    static const char key[] = "service=";
    for (unsigned i = 0; i < size && cmdline[i]; i++) {
        unsigned k = 0;
        while (key[k] && i + k < size && cmdline[i + k] == key[k])
            k++;
        if (key[k])
            continue;
        const char *v = cmdline + i + k;
        unsigned left = size - i - k;
        for (int s = 0; s < SC_SERVICES; s++) {
            unsigned n = 0;
            while (names[s][n] && n < left && v[n] == names[s][n])
                n++;
            if (!names[s][n] && (n == left || v[n] == '\0' || v[n] == ' '))
                return s;
        }
        return -1;
    }
    return SC_SERVICE_PT;
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id;
    int s = parse_service(bi->cmdline, sizeof(bi->cmdline));
    if (s < 0) {
        sc_fail("vCPU %u: unknown service in args (want service=pt, irq or io)", id);
        return 1;
    }
    int err = sc_rings_init(bi);
    if (err) {
        sc_fail("vCPU %u: no rings (%d)", id, err);
        return 1;
    }
    struct sc_exit_counters a, b;
    unsigned ok = 0;
    int64_t last = 0;
    sc_exit_counters(id, &a);
    for (unsigned i = 0; i < REQUESTS; i++) {
        int64_t st = sc_svc_ring((enum sc_service)s, SC_OP_NULL, NULL, NULL);
        if (st == 0)
            ok++;
        else
            last = st;
    }
    sc_exit_counters(id, &b);
    uint64_t exits = b.total - a.total - 1;
    sc_printf("ringping: vCPU %u: %u of %u null requests on the %s ring completed, %llu exits\n",
              id, ok, REQUESTS, names[s], (unsigned long long)exits);
    int failures = 0;
    if (ok == REQUESTS) {
        sc_pass("%u ring requests completed", REQUESTS);
    } else {
        sc_fail("%u of %u ring requests completed (last error %lld)", ok, REQUESTS,
                (long long)last);
        failures++;
    }
    if (exits == 0) {
        sc_pass("no exits during the ring requests");
    } else {
        sc_fail("%llu exits during the ring requests", (unsigned long long)exits);
        failures++;
    }
    return failures;
}
