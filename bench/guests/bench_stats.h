/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Integer statistics of per-operation cycle samples for the benchmark guest (no FP, no libc). */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdint.h>

struct bench_summary {
    uint64_t median; /* the lower median: sorted[(n - 1) / 2] */
    uint64_t p99;    /* nearest rank: sorted[ceil(0.99 n) - 1] */
    uint64_t min;
    uint64_t max;
};

/* Shell sort in place, ascending, with the gaps 1, 4, 13, 40, ... (Knuth): no recursion, no
 * extra memory, fast enough for the few thousand samples a run keeps. */
static inline void bench_sort(uint64_t *a, unsigned n)
{
    unsigned gap = 1;
    while (gap < n / 3)
        gap = gap * 3 + 1;
    for (; gap > 0; gap /= 3) {
        for (unsigned i = gap; i < n; i++) {
            uint64_t v = a[i];
            unsigned j = i;
            while (j >= gap && a[j - gap] > v) {
                a[j] = a[j - gap];
                j -= gap;
            }
            a[j] = v;
        }
    }
}

/* Sorts the n samples in place and summarises them (all zero when n is 0). */
static inline struct bench_summary bench_summarize(uint64_t *a, unsigned n)
{
    struct bench_summary s = {0, 0, 0, 0};
    if (n == 0)
        return s;
    bench_sort(a, n);
    uint64_t rank99 = ((uint64_t)n * 99 + 99) / 100; /* ceil(0.99 n), 1..n */
    s.median = a[(n - 1) / 2];
    s.p99 = a[rank99 - 1];
    s.min = a[0];
    s.max = a[n - 1];
    return s;
}

/* Events per operation times 1000, rounded down (0 when there were no operations). */
static inline uint64_t bench_per_op_x1000(uint64_t events, uint64_t ops)
{
    return ops ? events * 1000 / ops : 0;
}

#endif
