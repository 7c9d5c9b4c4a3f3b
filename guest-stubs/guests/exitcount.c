/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: the hypervisor's exit accounting counts exactly the exits the guest causes. */
#include "core/fmt.h"
#include "sidecore/guest.h"

#define CPUIDS 10

static uint64_t delta(const struct sc_exit_counters *a, const struct sc_exit_counters *b,
                      unsigned reason)
{
    return b->by_reason[reason] - a->by_reason[reason];
}

int main(const struct sc_boot_info *bi)
{
    unsigned id = bi->vcpu_id;
    int failures = 0;
    struct sc_exit_counters a, b;
    uint32_t r[4];

    /* Nothing but the CPUIDs and the two counter reads happens between the two snapshots
     * (no console output). Exactly one hypercall exit falls between them: the second read if
     * the hypervisor counts an exit before serving it, the first read if after. */
    int ea = sc_exit_counters(id, &a);
    for (int i = 0; i < CPUIDS; i++)
        sc_cpuid(SC_CPUID_SIGNATURE, 0, r);
    int eb = sc_exit_counters(id, &b);
    const uint64_t hypercalls_between = 1;

    if (ea || eb) {
        sc_fail("vCPU %u: reading the exit counters: %d, %d", id, ea, eb);
        return 1;
    }
    char prefix[32];
    ksnprintf(prefix, sizeof(prefix), "vCPU %u before: ", id);
    sc_print_exit_counters(prefix, &a);
    ksnprintf(prefix, sizeof(prefix), "vCPU %u after:  ", id);
    sc_print_exit_counters(prefix, &b);

    uint64_t cpuid = delta(&a, &b, SC_EXIT_CPUID), hc = delta(&a, &b, SC_EXIT_HYPERCALL);
    uint64_t total = b.total - a.total;
    if (cpuid == CPUIDS) {
        sc_pass("vCPU %u: cpuid exits rose by %llu for %u CPUIDs", id, (unsigned long long)cpuid,
                CPUIDS);
    } else {
        sc_fail("vCPU %u: cpuid exits rose by %llu for %u CPUIDs", id, (unsigned long long)cpuid,
                CPUIDS);
        failures++;
    }
    if (hc == hypercalls_between) {
        sc_pass("vCPU %u: hypercall exits rose by %llu", id, (unsigned long long)hc);
    } else {
        sc_fail("vCPU %u: hypercall exits rose by %llu (want %llu)", id, (unsigned long long)hc,
                (unsigned long long)hypercalls_between);
        failures++;
    }
    if (total == CPUIDS + hypercalls_between) {
        sc_pass("vCPU %u: total exits rose by %llu = %u cpuid + %llu hypercall", id,
                (unsigned long long)total, CPUIDS, (unsigned long long)hypercalls_between);
    } else {
        sc_fail("vCPU %u: total exits rose by %llu (want %u cpuid + %llu hypercall)", id,
                (unsigned long long)total, CPUIDS, (unsigned long long)hypercalls_between);
        for (unsigned reason = 0; reason < SC_EXIT_REASONS; reason++)
            if (delta(&a, &b, reason))
                sc_printf("vCPU %u:   %s +%llu\n", id, sc_exit_reason_name(reason),
                          (unsigned long long)delta(&a, &b, reason));
        failures++;
    }

    /* A vCPU id outside the partition is refused. */
    struct sc_exit_counters c;
    int ec = sc_exit_counters(bi->vcpu_count, &c);
    if (ec == -SC_EINVAL) {
        sc_pass("vCPU %u: counters of vCPU %u (outside the partition) refused with %d", id,
                bi->vcpu_count, ec);
    } else {
        sc_fail("vCPU %u: counters of vCPU %u (outside the partition) returned %d, want %d", id,
                bi->vcpu_count, ec, -SC_EINVAL);
        failures++;
    }
    return failures;
}
