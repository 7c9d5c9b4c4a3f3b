/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: the LAPIC timer interrupts the guest natively, with no INTR, VINTR or HLT exit. */
#include "core/fmt.h"
#include "sidecore/guest.h"

#define TIMER_VECTOR 0x40
#define TIMER_DIVIDE 16
#define TIMER_HZ 1000 /* period 1 ms */
#define WANT_TICKS 200
#define MIN_TICKS 100
#define TIMEOUT_S 5

/* Interrupt counts by xAPIC id: the handler finds its vCPU's slot without per-CPU data. */
static volatile uint64_t ticks[SC_MAX_VCPUS];

static void on_timer(uint8_t vector)
{
    (void)vector;
    ticks[sc_vcpu_id()]++;
    lapic_eoi();
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id;
    int failures = 0;
    if (bi->tsc_hz == 0) {
        sc_fail("vCPU %u: boot info has no TSC frequency", id);
        return 1;
    }
    int err = lapic_init();
    if (err) {
        sc_fail("vCPU %u: cannot map the LAPIC at 0x%llx: %d", id, (unsigned long long)SC_GPA_LAPIC,
                err);
        return 1;
    }
    unsigned self = sc_vcpu_id();
    uint64_t hz = lapic_timer_calibrate(TIMER_DIVIDE, bi->tsc_hz, 10);
    if (hz == 0) {
        sc_fail("vCPU %u: the LAPIC timer does not count (current count 0x%x)", id,
                lapic_read(LAPIC_TIMER_CURRENT));
        return 1;
    }
    uint64_t initial = hz / TIMER_HZ ? hz / TIMER_HZ : 1;
    if (initial > 0xffffffffu)
        initial = 0xffffffffu;
    sc_printf("vCPU %u: LAPIC id %u (%s), timer %llu Hz at divide %u, period %llu ticks\n", id,
              lapic_id(), sc_lapic_x2apic ? "x2APIC" : "xAPIC", (unsigned long long)hz,
              TIMER_DIVIDE, (unsigned long long)initial);

    sc_set_irq_handler(TIMER_VECTOR, on_timer);
    err = lapic_timer_periodic(TIMER_VECTOR, (uint32_t)initial, TIMER_DIVIDE);
    if (err) {
        sc_fail("vCPU %u: programming the LAPIC timer: %d", id, err);
        return 1;
    }
    uint64_t t0 = sc_rdtsc();
    uint64_t deadline = t0 + TIMEOUT_S * bi->tsc_hz;
    sc_irq_enable();
    while (ticks[self] < WANT_TICKS && sc_rdtsc() < deadline) {
        /* HLT (not intercepted) once the timer has shown it fires; spin until then so that a
         * timer that never fires ends in the time-out instead of a HLT forever. */
        if (ticks[self])
            sc_halt();
        else
            sc_pause();
    }
    sc_irq_disable();
    lapic_timer_stop();
    uint64_t t1 = sc_rdtsc();
    uint64_t n = ticks[self];

    struct sc_exit_counters c;
    err = sc_exit_counters(id, &c);
    sc_printf("vCPU %u: %llu timer interrupts in %llu ms\n", id, (unsigned long long)n,
              (unsigned long long)((t1 - t0) / (bi->tsc_hz / 1000)));
    if (n >= MIN_TICKS) {
        sc_pass("vCPU %u: %llu timer interrupts on vector 0x%x", id, (unsigned long long)n,
                TIMER_VECTOR);
    } else {
        sc_fail("vCPU %u: only %llu timer interrupts on vector 0x%x (want >= %u)", id,
                (unsigned long long)n, TIMER_VECTOR, MIN_TICKS);
        failures++;
    }
    if (err) {
        sc_fail("vCPU %u: reading the exit counters: %d", id, err);
        return failures + 1;
    }
    char prefix[32];
    ksnprintf(prefix, sizeof(prefix), "vCPU %u exits: ", id);
    sc_print_exit_counters(prefix, &c);
    uint64_t intr = c.by_reason[SC_EXIT_INTR], vintr = c.by_reason[SC_EXIT_VINTR];
    uint64_t hlt = c.by_reason[SC_EXIT_HLT];
    if (intr == 0 && vintr == 0 && hlt == 0) {
        sc_pass("vCPU %u: no intr, vintr or hlt exits", id);
    } else {
        sc_fail("vCPU %u: intr=%llu vintr=%llu hlt=%llu exits (want 0)", id,
                (unsigned long long)intr, (unsigned long long)vintr, (unsigned long long)hlt);
        failures++;
    }
    return failures;
}
