/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Delays and timestamps from the TSC. */
#include "core/time.h"

#include "core/cpu.h"

/* Used only if no loader calibrated the TSC: a plausible rate keeps time-outs finite. */
#define FALLBACK_TSC_HZ 2000000000ull

static uint64_t hz = FALLBACK_TSC_HZ;
static uint64_t t0;

void time_init(uint64_t tsc_hz, uint64_t handoff_tsc)
{
    if (tsc_hz)
        hz = tsc_hz;
    t0 = handoff_tsc ? handoff_tsc : rdtsc();
}

uint64_t time_tsc_hz(void)
{
    return hz;
}

uint64_t tsc_to_us(uint64_t ticks)
{
    /* split to avoid overflow of ticks * 1e6 */
    return ticks / hz * 1000000 + ticks % hz * 1000000 / hz;
}

uint64_t time_since_handoff_us(void)
{
    return t0 ? tsc_to_us(rdtsc() - t0) : 0;
}

void udelay(uint64_t us)
{
    uint64_t start = rdtsc();
    uint64_t ticks = us * (hz / 1000000);
    while (rdtsc() - start < ticks)
        cpu_relax();
}
