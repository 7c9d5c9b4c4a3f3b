/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Helpers for the vCPU's own (passed-through) local APIC, xAPIC or x2APIC: enable, timer,
 * calibration, IPIs. */
#include "sidecore/guest.h"

bool sc_lapic_x2apic;

int lapic_init(void)
{
    if (!sc_lapic_x2apic) {
        int err = sc_map_identity(SC_GPA_LAPIC, SC_PTE_PCD | SC_PTE_PWT);
        if (err)
            return err;
    }
    lapic_write(LAPIC_TPR, 0);
    /* The hypervisor enabled it already; enabling again is harmless and makes it certain. */
    uint32_t svr = lapic_read(LAPIC_SVR) & ~0xffu;
    lapic_write(LAPIC_SVR, svr | LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
    return 0;
}

/* Divide configuration register encoding (bits 3, 1:0), or -1 for an invalid divisor. */
static int divide_code(unsigned divide)
{
    switch (divide) {
    case 1:
        return 0xb;
    case 2:
        return 0x0;
    case 4:
        return 0x1;
    case 8:
        return 0x2;
    case 16:
        return 0x3;
    case 32:
        return 0x8;
    case 64:
        return 0x9;
    case 128:
        return 0xa;
    default:
        return -1;
    }
}

int lapic_timer_periodic(uint8_t vector, uint32_t initial_count, unsigned divide)
{
    int code = divide_code(divide);
    if (code < 0 || vector < 32 || initial_count == 0)
        return -SC_EINVAL;
    int err = lapic_init();
    if (err)
        return err;
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    lapic_write(LAPIC_TIMER_DIVIDE, (uint32_t)code);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | vector);
    lapic_write(LAPIC_TIMER_INITIAL, initial_count);
    return 0;
}

void lapic_timer_stop(void)
{
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_SPURIOUS_VECTOR);
    lapic_write(LAPIC_TIMER_INITIAL, 0);
}

uint64_t lapic_timer_calibrate(unsigned divide, uint64_t tsc_hz, unsigned ms)
{
    int code = divide_code(divide);
    if (code < 0 || tsc_hz == 0 || ms == 0 || lapic_init())
        return 0;
    lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_SPURIOUS_VECTOR); /* one-shot */
    lapic_write(LAPIC_TIMER_DIVIDE, (uint32_t)code);
    uint64_t t0 = sc_rdtsc();
    lapic_write(LAPIC_TIMER_INITIAL, 0xffffffffu);
    sc_wait_until(t0 + tsc_hz / 1000 * ms);
    uint32_t current = lapic_read(LAPIC_TIMER_CURRENT);
    uint64_t t1 = sc_rdtsc();
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    if (current == 0 || current == 0xffffffffu)
        return 0; /* expired (far too fast to measure this way) or not counting */
    uint64_t elapsed_us = (t1 - t0) * 1000000 / tsc_hz;
    if (elapsed_us == 0)
        return 0;
    return (uint64_t)(0xffffffffu - current) * 1000000 / elapsed_us;
}

int lapic_send_icr(uint64_t icr)
{
    if (!sc_lapic_x2apic)
        return -SC_ENODEV;
    sc_wrmsr(X2APIC_MSR(LAPIC_ICR), icr);
    return 0;
}
