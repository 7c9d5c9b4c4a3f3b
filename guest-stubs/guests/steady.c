/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest (2 vCPUs): after touching its memory, each vCPU computes for a while with no exit. */
#include "core/fmt.h"
#include "sidecore/guest.h"

#define MIN_ITERATIONS 10000000ull
#define CHUNK 100000ull /* iterations between TSC checks */
#define MIN_MS 100

static struct sc_barrier barrier;

/* Writes a per-page pattern at both ends of every page of [start, end), then reads it back.
 * Returns the number of pages that read back wrong. */
static uint64_t touch(uint64_t start, uint64_t end)
{
    uint64_t bad = 0;
    for (uint64_t p = start; p < end; p += 4096) {
        volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)p;
        q[0] = p ^ 0x5a5a5a5a5a5a5a5aull;
        q[511] = ~p;
    }
    for (uint64_t p = start; p < end; p += 4096) {
        volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)p;
        if (q[0] != (p ^ 0x5a5a5a5a5a5a5a5aull) || q[511] != ~p)
            bad++;
    }
    return bad;
}

/* At least MIN_ITERATIONS steps and at least MIN_MS of TSC time, whichever ends later. */
static uint64_t compute(uint64_t tsc_hz, uint64_t *iterations)
{
    uint64_t x = 1, n = 0;
    uint64_t deadline = sc_rdtsc() + tsc_hz / 1000 * MIN_MS;
    do {
        for (uint64_t i = 0; i < CHUNK; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            __asm__ volatile("" : "+r"(x)); /* keep every step */
        }
        n += CHUNK;
    } while (n < MIN_ITERATIONS || sc_rdtsc() < deadline);
    *iterations = n;
    return x;
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id, count = bi->vcpu_count;
    int failures = 0;
    if (count != 2)
        sc_printf("steady: meant for 2 vCPUs, running with %u\n", count);
    if (bi->tsc_hz == 0) {
        sc_fail("vCPU %u: boot info has no TSC frequency", id);
        return 1;
    }

    /* This vCPU's share of the free memory between the image and the stacks. */
    uint64_t pages = (bi->stacks_gpa - bi->free_gpa) / 4096;
    uint64_t start = bi->free_gpa + pages * id / count * 4096;
    uint64_t end = bi->free_gpa + pages * (id + 1) / count * 4096;
    uint64_t bad = touch(start, end);
    if (bad) {
        sc_fail("vCPU %u: %llu of %llu pages in [0x%llx, 0x%llx) read back wrong", id,
                (unsigned long long)bad, (unsigned long long)((end - start) / 4096),
                (unsigned long long)start, (unsigned long long)end);
        failures++;
    } else {
        sc_printf("vCPU %u: touched %llu pages in [0x%llx, 0x%llx)\n", id,
                  (unsigned long long)((end - start) / 4096), (unsigned long long)start,
                  (unsigned long long)end);
    }

    sc_barrier(&barrier, count);
    uint64_t iterations;
    uint64_t t0 = sc_rdtsc();
    sc_steady_begin();
    uint64_t x = compute(bi->tsc_hz, &iterations);
    uint64_t steady = sc_steady_end();
    uint64_t t1 = sc_rdtsc();
    sc_barrier(&barrier, count);

    sc_printf("vCPU %u: %llu iterations in %llu ms (x=%llx)\n", id, (unsigned long long)iterations,
              (unsigned long long)((t1 - t0) / (bi->tsc_hz / 1000)), (unsigned long long)x);
    if (id == 0) {
        for (unsigned v = 0; v < count; v++) {
            struct sc_exit_counters c;
            int err = sc_exit_counters(v, &c);
            if (err) {
                sc_fail("vCPU 0: reading the exit counters of vCPU %u: %d", v, err);
                failures++;
                continue;
            }
            char prefix[32];
            ksnprintf(prefix, sizeof(prefix), "vCPU %u exits: ", v);
            sc_print_exit_counters(prefix, &c);
        }
    }
    if (steady == 0) {
        sc_pass("vCPU %u: no exits during the steady phase", id);
    } else {
        sc_fail("vCPU %u: %lld exits during the steady phase", id, (long long)steady);
        failures++;
    }
    return failures;
}
