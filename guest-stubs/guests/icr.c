/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest (x2APIC, 2 vCPUs): IPIs written to the ICR MSR. Fixed IPIs to a core of the
 * partition arrive with no exit on the receiver, on any vector up to 0xff (Linux's system
 * vectors sit at 0xec-0xff); every other kind (exception vectors, NMI, INIT,
 * SIPI, SMI, lowest priority, ExtINT, logical mode, broadcast, a core outside the
 * partition named in args "foreign=A,B,...") is refused by the hypervisor and reaches
 * nobody. Each ICR write is exactly one msr_write exit on the sender. Then the self-IPI
 * register and an LVT, under the same rules on the sender's own core: a bad vector is
 * dropped (self-IPI) or refused with #GP (LVT), a good one works. */
#include "sidecore/guest.h"

#define IPI_VECTOR 0x51
#define GOOD_IPIS 10
/* the good IPIs cycle through these: the top of the range is the guest's as well */
static const uint8_t good_vectors[] = {IPI_VECTOR, 0xec, 0xf0, 0xfd, 0xff};
#define NGOOD_VECTORS (sizeof(good_vectors) / sizeof(good_vectors[0]))
#define MAX_FOREIGN 8
#define ICR_DEST(id) ((uint64_t)(id) << 32)
#define ICR_MODE(m) ((uint64_t)(m) << 8)
#define ICR_LOGICAL (1ull << 11)
#define ICR_ASSERT (1ull << 14)
#define ICR_ALL_BUT_SELF (3ull << 18)

enum { LOWEST = 1, SMI = 2, NMI = 4, INIT = 5, SIPI = 6, EXTINT = 7 };

static uint32_t apic_of[2];
static uint32_t received[2];
static uint32_t receiver_ready, sender_done;
static uint64_t tsc_hz;
static uint32_t gp_taken;

#define MSR_SELF_IPI 0x83f
#define MSR_LVT_TIMER 0x832
#define LVT_MASKED 0x10000u
#define INSN_LEN_WRMSR 2

static bool skip_wrmsr(struct sc_trap_frame *f)
{
    gp_taken++;
    f->rip += INSN_LEN_WRMSR;
    return true;
}

/* Counted after the EOI: the sender sends the next IPI once it sees the count, so it never
 * arrives while this one is still in service (Bochs does not deliver an IPI that became
 * pending that way once the EOI comes; hardware and QEMU do). */
static void on_ipi(uint8_t vector)
{
    (void)vector;
    lapic_eoi();
    __atomic_fetch_add(&received[sc_vcpu_id()], 1, __ATOMIC_RELEASE);
}

static bool wait_for(const uint32_t *v, uint32_t want, unsigned ms)
{
    uint64_t deadline = sc_rdtsc() + tsc_hz / 1000 * ms;
    while (__atomic_load_n(v, __ATOMIC_ACQUIRE) < want)
        if (sc_rdtsc() > deadline)
            return false;
    return true;
}

/* "foreign=3,0" -> {3, 0}; returns how many. */
static unsigned parse_foreign(const char *cmdline, uint32_t *out)
{
    const char *p = cmdline;
    while (*p && !(p[0] == 'f' && p[1] == 'o' && p[2] == 'r' && p[7] == '='))
        p++;
    if (!*p)
        return 0;
    p += 8;
    unsigned n = 0;
    while (n < MAX_FOREIGN && *p >= '0' && *p <= '9') {
        uint32_t v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (uint32_t)(*p++ - '0');
        out[n++] = v;
        if (*p == ',')
            p++;
    }
    return n;
}

static int receiver(void)
{
    struct sc_exit_counters a, b;
    for (unsigned i = 0; i < NGOOD_VECTORS; i++)
        sc_set_irq_handler(good_vectors[i], on_ipi);
    if (lapic_init()) { /* its own spurious vector: 0xff is one of the IPIs' */
        sc_fail("vCPU 1: cannot set up its LAPIC");
        return 1;
    }
    sc_irq_enable();
    int ea = sc_exit_counters(1, &a);
    __atomic_store_n(&receiver_ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&sender_done, __ATOMIC_ACQUIRE))
        sc_pause();
    int eb = sc_exit_counters(1, &b);
    uint64_t own = b.total - a.total - 1; /* the second counter read is one hypercall */
    uint32_t got = __atomic_load_n(&received[1], __ATOMIC_ACQUIRE);
    if (ea || eb || got != GOOD_IPIS || own != 0) {
        /* what its LAPIC holds for the first vector (0x51: ISR and IRR words 2) and the TPR */
        sc_fail("vCPU 1: took %u IPIs (want %u), %llu exits of its own while receiving (want 0); "
                "ISR[95:64] %#x IRR[95:64] %#x TPR %#x",
                got, GOOD_IPIS, (unsigned long long)own, lapic_read(0x120), lapic_read(0x220),
                lapic_read(LAPIC_TPR));
        return 1;
    }
    sc_pass("vCPU 1: took %u IPIs on vectors 0x51, 0xec, 0xf0, 0xfd and 0xff from the ICR of "
            "vCPU 0, 0 exits of its own",
            got);
    return 0;
}

/* The self-IPI register and the timer LVT from vCPU 0's own core. */
static int own_core_interrupts(void)
{
    int failures = 0;
    sc_set_exception_handler(13, skip_wrmsr);
    sc_irq_enable();
    sc_wrmsr(MSR_SELF_IPI, 0x1f); /* an exception vector: dropped */
    sc_wait_until(sc_rdtsc() + tsc_hz / 1000 * 20);
    bool none = __atomic_load_n(&received[0], __ATOMIC_ACQUIRE) == 0;
    sc_wrmsr(MSR_SELF_IPI, IPI_VECTOR);
    bool arrived = wait_for(&received[0], 1, 2000);
    failures += !sc_check(none && arrived,
                          "vCPU 0: self-IPI on vector 0x1f dropped, on 0x%x "
                          "taken",
                          IPI_VECTOR);
    sc_wrmsr(MSR_LVT_TIMER, 0x10); /* unmasked, an exception vector */
    bool refused = gp_taken == 1;
    sc_wrmsr(MSR_LVT_TIMER, LVT_MASKED | 0x10); /* masked: raises nothing */
    failures += !sc_check(refused && gp_taken == 1, "vCPU 0: timer LVT on vector 0x10 refused "
                                                    "with #GP, the same LVT masked accepted");
    sc_irq_disable();
    return failures;
}

static int sender(const struct sc_boot_info *bi)
{
    uint32_t foreign[MAX_FOREIGN];
    unsigned nforeign = parse_foreign(bi->cmdline, foreign);
    int failures = 0;
    if (!wait_for(&receiver_ready, 1, 5000)) {
        sc_fail("vCPU 0: vCPU 1 never became ready");
        return 1;
    }
    uint64_t to = ICR_DEST(apic_of[1]);
    struct sc_exit_counters a, b;
    int ea = sc_exit_counters(0, &a);
    bool arrived = true;
    for (unsigned i = 0; i < GOOD_IPIS && arrived; i++) {
        /* one at a time: a pending vector would merge */
        lapic_send_icr(to | good_vectors[i % NGOOD_VECTORS]);
        arrived = wait_for(&received[1], i + 1, 2000);
    }

    const uint64_t refused[] = {
        to | 5,                                         /* an exception vector */
        to | 0x0f,                                      /* below 16: illegal */
        to | 0x1f,                                      /* the last exception vector */
        to | ICR_MODE(NMI) | ICR_ASSERT,                /* NMI */
        to | ICR_MODE(INIT) | ICR_ASSERT,               /* INIT: would reset the core */
        to | ICR_MODE(SIPI) | 0x08,                     /* start-up */
        to | ICR_MODE(SMI),                             /* SMI */
        to | ICR_MODE(LOWEST) | IPI_VECTOR,             /* lowest priority */
        to | ICR_MODE(EXTINT),                          /* ExtINT */
        ICR_DEST(1u << 1) | ICR_LOGICAL | IPI_VECTOR,   /* logical destination */
        ICR_DEST(0xffffffffu) | IPI_VECTOR,             /* x2APIC broadcast */
        ICR_ALL_BUT_SELF | ICR_MODE(INIT) | ICR_ASSERT, /* INIT to all */
    };
    unsigned nrefused = 0;
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++, nrefused++)
        lapic_send_icr(refused[i]);
    for (unsigned i = 0; i < nforeign; i++, nrefused++)
        lapic_send_icr(ICR_DEST(foreign[i]) | IPI_VECTOR);
    sc_wait_until(sc_rdtsc() + tsc_hz / 1000 * 50); /* room for a wrongly sent IPI to land */
    int eb = sc_exit_counters(0, &b);
    uint32_t got = __atomic_load_n(&received[1], __ATOMIC_ACQUIRE);
    __atomic_store_n(&sender_done, 1, __ATOMIC_RELEASE);

    uint64_t writes = b.by_reason[SC_EXIT_MSR_WRITE] - a.by_reason[SC_EXIT_MSR_WRITE];
    uint64_t total = b.total - a.total - 1; /* minus the second counter read */
    if (ea || eb || !arrived || got != GOOD_IPIS) {
        sc_fail("vCPU 0: %u of %u IPIs arrived at vCPU 1 (after %u refused ones)", got, GOOD_IPIS,
                nrefused);
        failures++;
    } else {
        sc_pass("vCPU 0: %u fixed IPIs arrived at vCPU 1; none of %u refused ICR writes did",
                GOOD_IPIS, nrefused);
    }
    if (writes == GOOD_IPIS + nrefused && total == writes) {
        sc_pass("vCPU 0: %llu ICR writes, %llu msr_write exits, nothing else",
                (unsigned long long)(GOOD_IPIS + nrefused), (unsigned long long)writes);
    } else {
        sc_fail("vCPU 0: %u ICR writes gave %llu msr_write exits and %llu exits in all",
                GOOD_IPIS + nrefused, (unsigned long long)writes, (unsigned long long)total);
        failures++;
    }
    return failures + own_core_interrupts();
}

int main(const struct sc_boot_info *bi)
{
    tsc_hz = bi->tsc_hz;
    if (bi->vcpu_count != 2 || !(bi->flags & SC_BOOT_X2APIC) || !tsc_hz) {
        sc_fail("icr needs 2 vCPUs, x2APIC mode and a TSC frequency");
        return 1;
    }
    apic_of[bi->vcpu_id] = lapic_id();
    return bi->vcpu_id == 0 ? sender(bi) : receiver();
}
