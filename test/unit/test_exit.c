/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The exit policy (vmexit/exit*.c) through a fake backend: for each kind of exit, what the
 * backend was asked to do (skip, inject, registers), what the hypervisor was asked (IPIs,
 * warnings, a stop and its reason) and which exit counter went up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "fake_backend.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/cpuid.h"
#include "vmexit/exit.h"
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"
#include "vmexit/x86.h"

#define X86_GP 13
#define ICR_NMI_MODE (4ull << 8)
#define ICR_ALL_INCL (2ull << 18)
#define ICR_DEST(apic) ((uint64_t)(apic) << 32)

static struct vcpu *v0;
static struct exit_ctx ctx;
static struct sc_exit_counters before;

/* A fresh partition of n vCPUs; the exits are vCPU 0's. */
static void reset(unsigned n)
{
    fake_reset(n);
    v0 = &fake_partition.vcpus[0];
    ctx = (struct exit_ctx){v0, &fake_backend, &fake_hooks};
}

static int setup(void **state)
{
    (void)state;
    reset(2);
    return 0;
}

static enum exit_action handle(const struct vcpu_exit *e)
{
    before = v0->counters;
    return exit_dispatch(&ctx, e);
}

/* The exit was counted once, under reason r and nowhere else. */
static void check_counted(enum sc_exit_reason r, const char *file, int line)
{
    _assert_int_equal(v0->counters.total, before.total + 1, file, line);
    for (unsigned i = 0; i < SC_EXIT_REASONS; i++)
        _assert_int_equal(v0->counters.by_reason[i], before.by_reason[i] + (i == r), file, line);
}
#define assert_counted(r) check_counted((r), __FILE__, __LINE__)

/* #GP(0) was injected, rip left at the instruction, the partition left running. */
static void check_gp(const char *file, int line)
{
    _assert_int_equal(fake.injections, 1, file, line);
    _assert_int_equal(fake.inj_vector, X86_GP, file, line);
    _assert_true(fake.inj_has_error, "#GP has an error code", file, line);
    _assert_int_equal(fake.inj_error, 0, file, line);
    _assert_int_equal(fake.skips, 0, file, line);
    _assert_int_equal(fake.stops, 0, file, line);
}
#define assert_gp() check_gp(__FILE__, __LINE__)

/* The instruction was skipped once by len, nothing injected, the partition running. */
static void check_skipped(unsigned len, const char *file, int line)
{
    _assert_int_equal(fake.skips, 1, file, line);
    _assert_int_equal(fake.skipped_bytes, len, file, line);
    _assert_int_equal(fake.injections, 0, file, line);
    _assert_int_equal(fake.stops, 0, file, line);
}
#define assert_skipped(len) check_skipped((len), __FILE__, __LINE__)

/* The partition was stopped once, for reason, and nothing else was done. */
static void check_stopped(const char *reason, const char *file, int line)
{
    _assert_int_equal(fake.stops, 1, file, line);
    _assert_string_equal(fake.stop_reason, reason, file, line);
    _assert_int_equal(fake.skips, 0, file, line);
    _assert_int_equal(fake.injections, 0, file, line);
    _assert_int_equal(v0->state, VCPU_STOPPED, file, line);
}
#define assert_stopped(reason) check_stopped((reason), __FILE__, __LINE__)

static struct vcpu_exit io(uint16_t port, uint8_t size, bool in, bool string, bool rep, uint8_t len)
{
    return (struct vcpu_exit){
        .reason = VCPU_EXIT_IO,
        .insn_len = len,
        .io = {.port = port, .size = size, .in = in, .string = string, .rep = rep}};
}

static struct vcpu_exit msr(enum vcpu_exit_reason r, uint32_t index, uint64_t value)
{
    return (struct vcpu_exit){.reason = r, .insn_len = 2, .msr = {index, value}};
}

static struct vcpu_exit exception(uint8_t vector, bool has_error, uint32_t error)
{
    return (struct vcpu_exit){.reason = VCPU_EXIT_EXCEPTION,
                              .exception = {vector, has_error, error},
                              .hw_code = 0x40u + vector,
                              .hw_info = {error, 0}};
}

/* ---- CPUID */

static void test_cpuid_answers_the_virtual_cpuid(void **state)
{
    (void)state;
    v0->regs.rax = 0xffffffff00000000ull | SC_CPUID_SIGNATURE; /* only eax is the leaf */
    v0->regs.rcx = 0x1234567800000005ull;
    v0->regs.rbx = v0->regs.rdx = ~0ull;
    const struct vcpu_exit e = {.reason = VCPU_EXIT_CPUID, .insn_len = 2};
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_counted(SC_EXIT_CPUID);
    assert_skipped(2);
    assert_int_equal(fake.host_cpuid_leaf, SC_CPUID_SIGNATURE);
    assert_int_equal(fake.host_cpuid_sub, 5);
    assert_int_equal(v0->regs.rax, SC_CPUID_MAX); /* upper halves cleared */
    assert_int_equal(v0->regs.rbx, SC_SIGNATURE_EBX);
    assert_int_equal(v0->regs.rcx, SC_SIGNATURE_ECX);
    assert_int_equal(v0->regs.rdx, SC_SIGNATURE_EDX);
}

static void test_cpuid_tells_the_vcpu_about_itself(void **state)
{
    (void)state;
    struct vcpu *v1 = &fake_partition.vcpus[1];
    ctx.v = v1;
    v1->regs.rax = SC_CPUID_VCPU;
    const struct vcpu_exit e = {.reason = VCPU_EXIT_CPUID, .insn_len = 2};
    assert_int_equal(exit_dispatch(&ctx, &e), EXIT_RESUME);
    assert_int_equal(v1->regs.rax, 1);
    assert_int_equal(v1->regs.rbx, 2);
    assert_int_equal(v1->regs.rcx, SC_ABI_VERSION);
    assert_int_equal(v1->counters.by_reason[SC_EXIT_CPUID], 1);
    /* leaf 1: the host's answer with the hypervisor bit and the core's APIC ID */
    fake.host_cpuid = (struct cpuid_values){0x800f12, 0x00ab0800, 0x20, 0};
    v1->regs.rax = 1;
    assert_int_equal(exit_dispatch(&ctx, &e), EXIT_RESUME);
    assert_int_equal(v1->regs.rbx, (uint32_t)(fake_apic_id(v1->cpu) << 24) | 0x00ab0800u);
    assert_int_equal(v1->regs.rcx, 1u << 31); /* VMX (bit 5) hidden, HV set */
}

/* ---- the hypercall */

static void test_hypercall_counted_before_it_runs(void **state)
{
    (void)state;
    v0->regs.rax = SC_HC_EXIT_COUNTERS;
    v0->regs.rdi = 0x100; /* GPA of the copy */
    v0->regs.rsi = 0;     /* this vCPU's counters */
    const struct vcpu_exit e = {.reason = VCPU_EXIT_HYPERCALL, .insn_len = 3};
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_counted(SC_EXIT_HYPERCALL);
    assert_skipped(3);
    assert_int_equal(v0->regs.rax, 0);
    struct sc_exit_counters seen;
    memcpy(&seen, fake.guest + 0x100, sizeof(seen));
    assert_int_equal(seen.total, 1);
    assert_int_equal(seen.by_reason[SC_EXIT_HYPERCALL], 1);
}

static void test_hypercall_exit_leaves_the_loop(void **state)
{
    (void)state;
    v0->regs.rax = SC_HC_EXIT;
    v0->regs.rdi = 7;
    const struct vcpu_exit e = {.reason = VCPU_EXIT_HYPERCALL, .insn_len = 3};
    assert_int_equal(handle(&e), EXIT_LEAVE);
    assert_counted(SC_EXIT_HYPERCALL);
    assert_skipped(3);
    assert_int_equal(fake.exit_status, 7);
    assert_int_equal(v0->state, VCPU_EXITED);
    assert_int_equal(v0->regs.rax, 0);
}

static void test_hypercall_refused_above_cpl0(void **state)
{
    (void)state;
    v0->regs.rax = SC_HC_EXIT;
    v0->regs.rdi = 7;
    const struct vcpu_exit e = {.reason = VCPU_EXIT_HYPERCALL, .insn_len = 3, .cpl = 3};
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_counted(SC_EXIT_HYPERCALL);
    assert_skipped(3);
    assert_int_equal(fake.hypercalls, 0);
    assert_int_equal(v0->state, VCPU_RUNNING);
    assert_int_equal(v0->regs.rax, (uint64_t)-E_PERM);
}

static void test_hypercall_unknown_op(void **state)
{
    (void)state;
    v0->regs.rax = 0x99;
    const struct vcpu_exit e = {.reason = VCPU_EXIT_HYPERCALL, .insn_len = 3};
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_skipped(3);
    assert_int_equal(v0->regs.rax, (uint64_t)-E_NOSYS);
}

/* ---- MSRs */

/* IA32_APIC_BASE reads as the partition's LAPIC is: enabled, x2APIC in x2APIC mode, BSP on
 * vCPU 0 only; writing the same value back is accepted, any change refused. */
static void test_apic_base_reads_the_virtual_lapic(void **state)
{
    (void)state;
    reset(2);
    struct vcpu_exit r = msr(VCPU_EXIT_MSR_READ, 0x1b, 0);
    assert_int_equal(handle(&r), EXIT_RESUME);
    assert_counted(SC_EXIT_MSR_READ);
    assert_skipped(2);
    uint64_t want = 0xfee00000ull | (1u << 11) | (1u << 8) | (fake.x2apic ? 1u << 10 : 0);
    assert_int_equal(v0->regs.rax, want);
    assert_int_equal(v0->regs.rdx, 0);
    assert_int_equal(msr_apic_base(true, 1), 0xfee00c00ull); /* no BSP flag on vCPU 1 */
    assert_int_equal(msr_apic_base(false, 0), 0xfee00900ull);

    reset(2);
    struct vcpu_exit same = msr(VCPU_EXIT_MSR_WRITE, 0x1b, want);
    assert_int_equal(handle(&same), EXIT_RESUME);
    assert_skipped(2);
    reset(2);
    struct vcpu_exit moved = msr(VCPU_EXIT_MSR_WRITE, 0x1b, want & ~(uint64_t)(1u << 11));
    assert_int_equal(handle(&moved), EXIT_RESUME);
    assert_gp(); /* disabling or moving the LAPIC is not the guest's */
}

static void test_msr_not_owned_gets_gp(void **state)
{
    (void)state;
    static const uint32_t msrs[] = {0x1234, 0x4b564d00, 0xc0010114};
    for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
        reset(2);
        v0->regs.rax = 0x11;
        v0->regs.rdx = 0x22;
        struct vcpu_exit r = msr(VCPU_EXIT_MSR_READ, msrs[i], 0);
        assert_int_equal(handle(&r), EXIT_RESUME);
        assert_counted(SC_EXIT_MSR_READ);
        assert_gp();
        assert_int_equal(v0->regs.rax, 0x11);
        assert_int_equal(v0->regs.rdx, 0x22);

        reset(2);
        struct vcpu_exit w = msr(VCPU_EXIT_MSR_WRITE, msrs[i], 0x40);
        assert_int_equal(handle(&w), EXIT_RESUME);
        assert_counted(SC_EXIT_MSR_WRITE);
        assert_gp();
        assert_int_equal(fake.ipis, 0);
    }
}

static void test_icr_write_becomes_an_ipi(void **state)
{
    (void)state;
    struct vcpu_exit e = msr(VCPU_EXIT_MSR_WRITE, 0x830, ICR_DEST(fake_apic_id(2)) | 0x51);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_counted(SC_EXIT_MSR_WRITE);
    assert_skipped(2);
    assert_int_equal(fake.ipis, 1);
    assert_int_equal(fake.ipi_apic[0], fake_apic_id(2)); /* vCPU 1's core */
    assert_int_equal(fake.ipi_vector[0], 0x51);
    assert_int_equal(fake.warns, 0);
    assert_int_equal(fake_partition.refused_ipis, 0);
}

static void test_icr_all_means_the_partition(void **state)
{
    (void)state;
    struct vcpu_exit e = msr(VCPU_EXIT_MSR_WRITE, 0x830, ICR_ALL_INCL | 0x60);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_skipped(2);
    assert_int_equal(fake.ipis, 2);
    assert_int_equal(fake.ipi_apic[0], fake_apic_id(1));
    assert_int_equal(fake.ipi_apic[1], fake_apic_id(2));
}

static void test_icr_refused_counted_warned_once(void **state)
{
    (void)state;
    struct vcpu_exit nmi =
        msr(VCPU_EXIT_MSR_WRITE, 0x830, ICR_DEST(fake_apic_id(2)) | ICR_NMI_MODE);
    assert_int_equal(handle(&nmi), EXIT_RESUME);
    assert_counted(SC_EXIT_MSR_WRITE);
    assert_skipped(2); /* refused, not faulted: the write is dropped */
    assert_int_equal(fake.ipis, 0);
    assert_int_equal(fake_partition.refused_ipis, 1);
    assert_int_equal(fake.warns, 1);
    assert_string_equal(fake.warn, "partition 'p' vCPU 0: IPI (ICR write) refused (10400000400, "
                                   "error -1); further refusals are only counted");
    struct vcpu_exit foreign = msr(VCPU_EXIT_MSR_WRITE, 0x830, ICR_DEST(7) | 0x51);
    assert_int_equal(handle(&foreign), EXIT_RESUME);
    assert_counted(SC_EXIT_MSR_WRITE);
    assert_int_equal(fake.skips, 2);
    assert_int_equal(fake.ipis, 0);
    assert_int_equal(fake_partition.refused_ipis, 2);
    assert_int_equal(fake.warns, 1);
}

static void test_icr_without_x2apic_gets_gp(void **state)
{
    (void)state;
    fake.x2apic = false;
    struct vcpu_exit e = msr(VCPU_EXIT_MSR_WRITE, 0x830, ICR_DEST(fake_apic_id(2)) | 0x51);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_counted(SC_EXIT_MSR_WRITE);
    assert_gp();
    assert_int_equal(fake.ipis, 0);
    /* and reading the ICR, should it exit, is no different */
    reset(2);
    struct vcpu_exit r = msr(VCPU_EXIT_MSR_READ, 0x830, 0);
    assert_int_equal(handle(&r), EXIT_RESUME);
    assert_counted(SC_EXIT_MSR_READ);
    assert_gp();
}

/* The self-IPI register and the LVTs: a guest could otherwise leave an interrupt on an
 * exception vector pending for the hypervisor to take once it has left. */
static void test_self_ipi_validated(void **state)
{
    (void)state;
    struct vcpu_exit ok = msr(VCPU_EXIT_MSR_WRITE, 0x83f, 0x51);
    assert_int_equal(handle(&ok), EXIT_RESUME);
    assert_counted(SC_EXIT_MSR_WRITE);
    assert_skipped(2);
    assert_int_equal(fake.ipis, 1);
    assert_int_equal(fake.ipi_apic[0], fake_apic_id(1)); /* vCPU 0's own core */
    assert_int_equal(fake.ipi_vector[0], 0x51);
    reset(2);
    struct vcpu_exit bad = msr(VCPU_EXIT_MSR_WRITE, 0x83f, 0x1f);
    assert_int_equal(handle(&bad), EXIT_RESUME);
    assert_skipped(2); /* dropped, as an IPI the ICR refuses */
    assert_int_equal(fake.ipis, 0);
    assert_int_equal(fake_partition.refused_ipis, 1);
    assert_int_equal(fake.warns, 1);
}

static void test_lvt_written_or_refused(void **state)
{
    (void)state;
    static const struct {
        uint32_t msr;
        uint64_t value;
        bool ok;
        uint64_t written; /* when ok */
    } cases[] = {
        {0x832, 0x20040, true, 0x20040}, /* timer, periodic, vector 0x40 */
        {0x832, 0x10010, true, 0x10010}, /* masked: any vector */
        {0x832, 0x00010, false, 0},      /* an exception vector, unmasked */
        {0x832, 0x00400, false, 0},      /* the timer as an NMI source */
        {0x835, 0x00700, true, 0x10700}, /* LINT0 as ExtINT: kept masked */
        {0x836, 0x00400, true, 0x10400}, /* LINT1 as NMI: kept masked */
        {0x836, 0x00200, false, 0},      /* LINT1 as SMI */
        {0x836, 0x00041, true, 0x10041}, /* LINT1 fixed: the pins stay masked */
        {0x836, 0x1000400, false, 0},    /* LINT1 with a reserved bit (24) */
        {0x837, 0x110000, false, 0},     /* masked, with a reserved bit (20): #GP in the host */
        {0x837, 0x000f0, true, 0x000f0}, /* error LVT at 0xf0: every vector is the guest's */
        {0x837, 0x0001f, false, 0},      /* the last exception vector */
        {0x82f, 0x00041, true, 0x00041}, /* CMCI */
        {0x834, 0x100000041, false, 0}   /* bits above 31 */
    };
    reset(2);
    fake.lapic_missing_lvt = 0x82f; /* a CPU without CMCI: an accepted write gets #GP */
    struct vcpu_exit cmci = msr(VCPU_EXIT_MSR_WRITE, 0x82f, 0x41);
    assert_int_equal(handle(&cmci), EXIT_RESUME);
    assert_gp();
    assert_int_equal(fake.lapic_writes, 0);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        reset(2);
        struct vcpu_exit e = msr(VCPU_EXIT_MSR_WRITE, cases[i].msr, cases[i].value);
        assert_int_equal(handle(&e), EXIT_RESUME);
        assert_counted(SC_EXIT_MSR_WRITE);
        if (cases[i].ok) {
            assert_skipped(2);
            assert_int_equal(fake.lapic_writes, 1);
            assert_int_equal(fake.lapic_msr, cases[i].msr);
            assert_int_equal(fake.lapic_value, cases[i].written);
        } else {
            assert_gp();
            assert_int_equal(fake.lapic_writes, 0);
            assert_int_equal(fake_partition.refused_ipis, 1);
        }
    }
}

/* ---- I/O */

static void test_io_in_reads_all_ones(void **state)
{
    (void)state;
    static const struct {
        uint8_t size, len;
        uint64_t rax;
    } cases[] = {
        {1, 1, 0x11223344556677ffull},
        {2, 2, 0x112233445566ffffull}, /* 66 ed */
        {4, 1, 0x00000000ffffffffull}, /* a 32-bit write zero-extends */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        reset(2);
        v0->regs.rax = 0x1122334455667788ull;
        struct vcpu_exit e = io(0x404, cases[i].size, true, false, false, cases[i].len);
        assert_int_equal(handle(&e), EXIT_RESUME);
        assert_counted(SC_EXIT_IO);
        assert_skipped(cases[i].len);
        assert_int_equal(v0->regs.rax, cases[i].rax);
    }
}

static void test_io_out_dropped(void **state)
{
    (void)state;
    for (uint8_t size = 1; size <= 4; size *= 2) {
        reset(2);
        v0->regs.rax = 0x1122334455667788ull;
        struct vcpu_exit e = io(0x404, size, false, false, false, 1);
        assert_int_equal(handle(&e), EXIT_RESUME);
        assert_counted(SC_EXIT_IO);
        assert_skipped(1);
        assert_int_equal(v0->regs.rax, 0x1122334455667788ull);
    }
}

static void test_string_io_gets_gp(void **state)
{
    (void)state;
    static const struct {
        bool in, rep;
    } cases[] = {{true, false}, {true, true}, {false, false}, {false, true}};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        reset(2);
        v0->regs = (struct guest_regs){.rax = 0x5a, .rcx = 3, .rsi = 0x1000, .rdi = 0x2000};
        struct guest_regs regs = v0->regs;
        struct vcpu_exit e = io(0x404, 1, cases[i].in, true, cases[i].rep, 2);
        assert_int_equal(handle(&e), EXIT_RESUME);
        assert_counted(SC_EXIT_IO);
        assert_gp();
        assert_memory_equal(&v0->regs, &regs, sizeof(regs)); /* nothing moved */
    }
}

static void test_io_logged_once_per_partition(void **state)
{
    (void)state;
    struct vcpu_exit in = io(0x404, 1, true, false, false, 1);
    assert_int_equal(handle(&in), EXIT_RESUME);
    assert_int_equal(fake.warns, 1);
    assert_string_equal(fake.warn, "partition 'p' vCPU 0: in from port 0x404, not owned: reads "
                                   "give all ones, writes are dropped, string I/O gets #GP "
                                   "(logged once)");
    struct vcpu_exit out = io(0x80, 1, false, false, false, 1);
    assert_int_equal(handle(&out), EXIT_RESUME);
    ctx.v = &fake_partition.vcpus[1]; /* another vCPU of the same partition */
    assert_int_equal(exit_dispatch(&ctx, &out), EXIT_RESUME);
    assert_int_equal(fake.warns, 1);
    assert_int_equal(fake_partition.io_exits_logged, 3);

    reset(1);
    struct vcpu_exit outs = io(0x80, 2, false, true, true, 2);
    assert_int_equal(handle(&outs), EXIT_RESUME);
    assert_int_equal(fake.warns, 1);
    assert_string_equal(fake.warn, "partition 'p' vCPU 0: string out to port 0x80, not owned: "
                                   "reads give all ones, writes are dropped, string I/O gets "
                                   "#GP (logged once)");
}

/* ---- exceptions */

static void test_db_handed_back(void **state)
{
    (void)state;
    fake.dr7 = 0x2400 | 0x3; /* GD, and two breakpoints enabled */
    fake.rflags = 0x102;     /* TF */
    struct vcpu_exit e = exception(1, false, 0);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_counted(SC_EXIT_EXCEPTION);
    assert_int_equal(fake.injections, 1);
    assert_int_equal(fake.inj_vector, 1);
    assert_false(fake.inj_has_error);
    assert_int_equal(fake.dr7, 0x403); /* GD cleared as delivery does, the rest kept */
    assert_int_equal(fake.rflags, 0x102);
    assert_int_equal(fake.skips, 0);
    assert_int_equal(fake.stops, 0);
}

static void test_ac_handed_back(void **state)
{
    (void)state;
    fake.dr7 = 0x2400;
    fake.rflags = 0x40202; /* AC, IF */
    struct vcpu_exit e = exception(17, true, 0);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_counted(SC_EXIT_EXCEPTION);
    assert_int_equal(fake.injections, 1);
    assert_int_equal(fake.inj_vector, 17);
    assert_true(fake.inj_has_error);
    assert_int_equal(fake.inj_error, 0);
    assert_int_equal(fake.rflags, 0x50202); /* RF set, as for any fault */
    assert_int_equal(fake.dr7, 0x2400);
    assert_int_equal(fake.skips, 0);
    assert_int_equal(fake.stops, 0);
}

static void test_other_exception_stops(void **state)
{
    (void)state;
    struct vcpu_exit e = exception(14, true, 0x6);
    assert_int_equal(handle(&e), EXIT_LEAVE);
    assert_counted(SC_EXIT_EXCEPTION);
    assert_stopped("unexpected exit 0x4e (qual 6, info 0)");
}

/* ---- INVD, WBINVD */

static void test_invd_wbinvd_are_no_ops(void **state)
{
    (void)state;
    static const enum vcpu_exit_reason reasons[] = {VCPU_EXIT_INVD, VCPU_EXIT_WBINVD};
    for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
        reset(2);
        struct vcpu_exit e = {.reason = reasons[i], .insn_len = 2};
        assert_int_equal(handle(&e), EXIT_RESUME);
        assert_counted(SC_EXIT_OTHER);
        assert_skipped(2); /* and nothing else: no cache is written back or dropped */
        assert_int_equal(fake.lapic_writes + fake.ipis + fake.warns, 0);
    }
}

static void test_invd_wbinvd_above_cpl0_get_gp(void **state)
{
    (void)state;
    static const enum vcpu_exit_reason reasons[] = {VCPU_EXIT_INVD, VCPU_EXIT_WBINVD};
    for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
        reset(2);
        struct vcpu_exit e = {.reason = reasons[i], .insn_len = 2, .cpl = 3};
        assert_int_equal(handle(&e), EXIT_RESUME);
        assert_counted(SC_EXIT_OTHER);
        assert_gp();
    }
}

/* ---- XSETBV: the guest's XCR0 loaded when the CPU would take it, #GP otherwise */

static struct vcpu_exit xsetbv_exit(uint32_t index, uint64_t value, uint8_t cpl)
{
    return (struct vcpu_exit){.reason = VCPU_EXIT_XSETBV,
                              .insn_len = 3,
                              .cpl = cpl,
                              .msr = {.index = index, .value = value}};
}

static void test_xsetbv_loads_a_valid_xcr0(void **state)
{
    (void)state;
    static const uint64_t good[] = {0x1, 0x3, 0x7, 0xe7, 0x1f};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        reset(2);
        /* every leaf: max leaf 0x2ff, XSAVE; leaf 0xd: x87 .. PKRU but AMX */
        fake.host_cpuid = (struct cpuid_values){.eax = 0x2ff, .ecx = CPUID_1_ECX_XSAVE};
        struct vcpu_exit e = xsetbv_exit(0, good[i], 0);
        assert_int_equal(handle(&e), EXIT_RESUME);
        assert_counted(SC_EXIT_OTHER);
        assert_int_equal(fake.host_cpuid_leaf, 0xd); /* what the CPU supports */
        assert_int_equal(fake.xsetbvs, 1);
        assert_int_equal(fake.xcr0, good[i]);
        assert_skipped(3);
        assert_int_equal(fake.injections, 0);
    }
}

static void test_xsetbv_refuses_what_the_cpu_would(void **state)
{
    (void)state;
    static const struct {
        uint32_t index;
        uint64_t value;
        uint8_t cpl;
    } bad[] = {
        {0, 0x0, 0},        /* x87 off */
        {0, 0x2, 0},        /* x87 off, SSE on */
        {0, 0x5, 0},        /* AVX without SSE */
        {0, 0x63, 0},       /* AVX-512 states without AVX */
        {0, 0x27, 0},       /* one AVX-512 state of three */
        {0, 0xf, 0},        /* one MPX state of two */
        {0, 0x20007, 0},    /* one AMX state of two */
        {0, 0x60007, 0},    /* AMX: the CPU has none */
        {0, 1ull << 40, 0}, /* a state no CPU has */
        {1, 0x3, 0},        /* XCR1 is not writable */
        {0, 0x3, 3},        /* from user mode */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        reset(2);
        fake.host_cpuid = (struct cpuid_values){.eax = 0x2ff, .ecx = CPUID_1_ECX_XSAVE};
        struct vcpu_exit e = xsetbv_exit(bad[i].index, bad[i].value, bad[i].cpl);
        assert_int_equal(handle(&e), EXIT_RESUME);
        assert_counted(SC_EXIT_OTHER);
        assert_gp();
        assert_int_equal(fake.xsetbvs, 0);
    }
}

static void test_xsetbv_without_xsave_is_ud(void **state)
{
    (void)state;
    struct vcpu_exit e = xsetbv_exit(0, 0x3, 0);
    /* a CPU without XSAVE: leaf 0xd would answer another leaf's values */
    reset(2);
    fake.host_cpuid = (struct cpuid_values){.eax = 0x2ff};
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_int_equal(fake.injections, 1);
    assert_int_equal(fake.inj_vector, X86_UD);
    assert_int_equal(fake.xsetbvs, 0);
    /* a CPU whose highest leaf is below 0xd */
    reset(2);
    fake.host_cpuid = (struct cpuid_values){.eax = 0xb, .ecx = CPUID_1_ECX_XSAVE};
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_int_equal(fake.inj_vector, X86_UD);
    assert_int_equal(fake.xsetbvs, 0);
    /* a core that cannot load XCR0 itself */
    reset(2);
    fake.host_cpuid = (struct cpuid_values){.eax = 0x2ff, .ecx = CPUID_1_ECX_XSAVE};
    fake.xsetbv_fails = true;
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_int_equal(fake.inj_vector, X86_UD);
    assert_int_equal(fake.skips, 0);
}

/* ---- exits that only count, and those that stop the partition */

static void test_nmi_and_intr_only_counted(void **state)
{
    (void)state;
    struct vcpu_exit nmi = {.reason = VCPU_EXIT_NMI};
    assert_int_equal(handle(&nmi), EXIT_RESUME);
    assert_counted(SC_EXIT_NMI);
    struct vcpu_exit intr = {.reason = VCPU_EXIT_INTR};
    assert_int_equal(handle(&intr), EXIT_RESUME);
    assert_counted(SC_EXIT_INTR);
    assert_int_equal(fake.skips + fake.injections + fake.stops + fake.warns, 0);
    assert_int_equal(v0->state, VCPU_RUNNING);
}

static void test_stage2_fault_stops(void **state)
{
    (void)state;
    static const struct {
        enum vcpu_access access;
        uint64_t error;
        const char *reason;
    } cases[] = {
        {VCPU_ACCESS_READ, 0x4,
         "nested page fault at guest-physical 1100000 (read, error 4), "
         "rip 200123"},
        {VCPU_ACCESS_WRITE, 0x6,
         "nested page fault at guest-physical 1100000 (write, error 6), "
         "rip 200123"},
        {VCPU_ACCESS_FETCH, 0x14,
         "nested page fault at guest-physical 1100000 (fetch, error "
         "14), rip 200123"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        reset(2);
        struct vcpu_exit e = {.reason = VCPU_EXIT_STAGE2_FAULT,
                              .rip = 0x200123,
                              .fault = {0x1100000, cases[i].access, false},
                              .hw_info = {cases[i].error, 0x1100000}};
        assert_int_equal(handle(&e), EXIT_LEAVE);
        assert_counted(SC_EXIT_NPF);
        assert_stopped(cases[i].reason);
        assert_int_equal(life_state(&fake_partition.life), PARTITION_STOPPED);
    }
}

/* ---- An emulated device's registers: the MOV at rip, fetched and decoded, done on it. */
#define DEV 0xfe000000ull

static struct vcpu_exit npf(uint64_t gpa, enum vcpu_access a, uint64_t rip)
{
    return (struct vcpu_exit){
        .reason = VCPU_EXIT_STAGE2_FAULT, .rip = rip, .fault = {gpa, a, false}};
}

/* Paging off: rip is the instruction's guest-physical address. */
static void code_at(uint64_t gpa, const uint8_t *bytes, size_t n)
{
    fake.dev_base = DEV;
    memcpy(fake.guest + gpa, bytes, n);
}

static void test_mmio_write_from_register(void **state)
{
    (void)state;
    reset(2);
    static const uint8_t mov[] = {0x48, 0x89, 0x9f, 0x10, 0, 0, 0}; /* mov [rdi+0x10], rbx */
    code_at(0x2000, mov, sizeof(mov));
    v0->regs.rbx = 0x1122334455667788ull;
    struct vcpu_exit e = npf(DEV + 0x10, VCPU_ACCESS_WRITE, 0x2000);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_counted(SC_EXIT_NPF);
    assert_skipped(sizeof(mov));
    assert_int_equal(fake.dev_calls, 1);
    assert_int_equal(fake.dev_gpa, DEV + 0x10);
    assert_int_equal(fake.dev_size, 8);
    assert_true(fake.dev_write);
    assert_int_equal(fake.dev_value, 0x1122334455667788ull);
}

static void test_mmio_reads_merge_like_the_cpu(void **state)
{
    (void)state;
    static const struct {
        uint8_t bytes[4];
        uint8_t len, size;
        uint64_t rax;
    } cases[] = {
        {{0x8b, 0x07}, 2, 4, 0x00000000a1b2c3d4ull},       /* mov eax,[rdi]: zero-extends */
        {{0x66, 0x8b, 0x07}, 3, 2, 0x111122223333c3d4ull}, /* mov ax,[rdi]: keeps the rest */
        {{0x8a, 0x07}, 2, 1, 0x11112222333344d4ull},       /* mov al,[rdi] */
        {{0x8a, 0x67, 0x01}, 3, 1, 0x111122223333d444ull}, /* mov ah,[rdi+1] */
        {{0x0f, 0xb6, 0x07}, 3, 1, 0x00000000000000d4ull}, /* movzx eax, byte [rdi] */
        {{0x48, 0x8b, 0x07}, 3, 8, 0xe5f60718a1b2c3d4ull}, /* mov rax,[rdi] */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        reset(2);
        code_at(0x3000, cases[i].bytes, cases[i].len);
        v0->regs.rax = 0x1111222233334444ull;
        fake.dev_value = 0xe5f60718a1b2c3d4ull &
                         (cases[i].size == 8 ? ~0ull : (1ull << (8 * cases[i].size)) - 1);
        struct vcpu_exit e = npf(DEV + 0x20, VCPU_ACCESS_READ, 0x3000);
        assert_int_equal(handle(&e), EXIT_RESUME);
        assert_skipped(cases[i].len);
        assert_int_equal(fake.dev_size, cases[i].size);
        assert_false(fake.dev_write);
        assert_int_equal(v0->regs.rax, cases[i].rax);
    }
}

static void test_mmio_rsp_is_the_backends(void **state)
{
    (void)state;
    reset(2);
    static const uint8_t mov[] = {0x48, 0x8b, 0x27}; /* mov rsp,[rdi] */
    code_at(0x2000, mov, sizeof(mov));
    fake.dev_value = 0x7000;
    struct vcpu_exit e = npf(DEV, VCPU_ACCESS_READ, 0x2000);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_int_equal(fake.rsp, 0x7000);
    assert_int_equal(v0->regs.rdi, 0);
}

/* Long mode, 4-level tables built in the fake RAM: the instruction's two halves lie on two
 * pages that are not next to each other in guest-physical memory. */
static void test_mmio_fetch_through_guest_page_tables(void **state)
{
    (void)state;
    reset(2);
    fake.dev_base = DEV;
    uint64_t pml4 = 0x1000, pdpt = 0x2000, pd = 0x3000, pt = 0x4000;
    uint64_t entries[][2] = {{pml4, pdpt | 3},
                             {pdpt, pd | 3},
                             {pd + 8 * 2, pt | 3},
                             {pt, 0x6000 | 3},
                             {pt + 8, 0x8000 | 3}};
    for (size_t i = 0; i < ARRAY_SIZE(entries); i++)
        memcpy(fake.guest + entries[i][0], &entries[i][1], 8);
    fake.cr0 = X86_CR0_PG | 1;
    fake.cr3 = pml4;
    fake.cr4 = X86_CR4_PAE;
    fake.efer = X86_EFER_LMA;
    /* mov dword [rdi+0x10], 0x12345678 (c7 47 10 imm32) at linear 0x400ffd */
    static const uint8_t mov[] = {0xc7, 0x47, 0x10, 0x78, 0x56, 0x34, 0x12};
    memcpy(fake.guest + 0x6ffd, mov, 3);
    memcpy(fake.guest + 0x8000, mov + 3, 4);
    struct vcpu_exit e = npf(DEV + 0x10, VCPU_ACCESS_WRITE, 0x400ffd);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_skipped(sizeof(mov));
    assert_int_equal(fake.dev_size, 4);
    assert_int_equal(fake.dev_value, 0x12345678);
    /* the second page unmapped: the instruction cannot be read whole */
    reset(2);
    for (size_t i = 0; i < ARRAY_SIZE(entries) - 1; i++)
        memcpy(fake.guest + entries[i][0], &entries[i][1], 8);
    fake.dev_base = DEV;
    fake.cr0 = X86_CR0_PG | 1;
    fake.cr3 = pml4;
    fake.cr4 = X86_CR4_PAE;
    fake.efer = X86_EFER_LMA;
    memcpy(fake.guest + 0x6ffd, mov, 3);
    e = npf(DEV + 0x10, VCPU_ACCESS_WRITE, 0x400ffd);
    assert_int_equal(handle(&e), EXIT_LEAVE);
    assert_int_equal(fake.dev_calls, 0);
    assert_non_null(strstr(fake.stop_reason, "is not an emulated MOV (3 bytes: c7 47 10"));
}

static void test_mmio_refusals_stop(void **state)
{
    (void)state;
    static const uint8_t lock_add[] = {0xf0, 0x01, 0x07}, mov_load[] = {0x8b, 0x07};
    static const struct {
        const uint8_t *bytes;
        size_t n;
        enum vcpu_access access;
        uint8_t code_bits;
        const char *reason;
    } cases[] = {
        {lock_add, sizeof(lock_add), VCPU_ACCESS_WRITE, 64,
         "MMIO at fe000000: the write at rip 2000 is not an emulated MOV (15 bytes: f0 01 07 00)"},
        {mov_load, sizeof(mov_load), VCPU_ACCESS_WRITE, 64, /* the bytes changed under us */
         "MMIO at fe000000: the write at rip 2000 is not an emulated MOV (15 bytes: 8b 07 00 00)"},
        {mov_load, sizeof(mov_load), VCPU_ACCESS_READ, 32,
         "MMIO at fe000000 from 32-bit code (rip 2000): only 64-bit code is emulated"},
        {mov_load, sizeof(mov_load), VCPU_ACCESS_FETCH, 64,
         "nested page fault at guest-physical fe000000 (fetch, error 0), rip 2000"},
        /* a page-table walk or an event's delivery through the registers (not_the_access) */
        {mov_load, sizeof(mov_load), VCPU_ACCESS_READ, 0,
         "nested page fault at guest-physical fe000000 (read, error 0), rip 2000"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        reset(2);
        code_at(0x2000, cases[i].bytes, cases[i].n);
        fake.code_bits = cases[i].code_bits ? cases[i].code_bits : 64;
        struct vcpu_exit e = npf(DEV, cases[i].access, 0x2000);
        e.fault.not_the_access = cases[i].code_bits == 0;
        assert_int_equal(handle(&e), EXIT_LEAVE);
        assert_counted(SC_EXIT_NPF);
        assert_stopped(cases[i].reason);
        assert_int_equal(fake.dev_calls, 0);
    }
}

static void test_device_port(void **state)
{
    (void)state;
    reset(2);
    fake.dev_port = 0xcfc;
    v0->regs.rax = 0x1111222233334444ull;
    fake.dev_value = 0xabcd;
    struct vcpu_exit e = io(0xcfc, 2, true, false, false, 2);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_counted(SC_EXIT_IO);
    assert_skipped(2);
    assert_int_equal(v0->regs.rax, 0x111122223333abcdull); /* in ax: the rest kept */
    assert_int_equal(fake.warns, 0);                       /* a device's port is not logged */
    reset(2);
    fake.dev_port = 0xcfc;
    v0->regs.rax = 0x11223344aabbccddull;
    e = io(0xcfc, 4, false, false, false, 1);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_int_equal(fake.dev_value, 0xaabbccdd);
    assert_true(fake.dev_write);
    /* string I/O to the device's port: #GP, the device untouched */
    reset(2);
    fake.dev_port = 0xcfc;
    e = io(0xcfc, 4, true, true, false, 1);
    assert_int_equal(handle(&e), EXIT_RESUME);
    assert_gp();
    assert_int_equal(fake.dev_calls, 0);
}

static void test_triple_fault_stops(void **state)
{
    (void)state;
    struct vcpu_exit e = {.reason = VCPU_EXIT_TRIPLE_FAULT, .rip = 0x200456};
    assert_int_equal(handle(&e), EXIT_LEAVE);
    assert_counted(SC_EXIT_SHUTDOWN);
    assert_stopped("triple fault (shutdown) at rip 200456");
}

static void test_entry_failure_stops(void **state)
{
    (void)state;
    struct vcpu_exit e = {
        .reason = VCPU_EXIT_ENTRY_FAILED, .hw_code = 0xffffffffu, .hw_info = {7, 0}};
    assert_int_equal(handle(&e), EXIT_LEAVE);
    assert_counted(SC_EXIT_OTHER);
    assert_stopped("Fake VM refused the guest state at entry (exit 0xffffffff, qual 7)");
    assert_int_equal(fake.warns, 0); /* the checks found nothing to say */
    /* when the entry checks find what the CPU refused, the log says it before the stop */
    reset(2);
    strcpy(fake.entry_diagnosis, "guest RFLAGS 0: reserved bits");
    assert_int_equal(handle(&e), EXIT_LEAVE);
    assert_int_equal(fake.warns, 1);
    assert_non_null(strstr(fake.warn, "vCPU 0: the entry checks say: guest RFLAGS 0: reserved"));
}

static void test_unknown_exit_stops_with_its_code(void **state)
{
    (void)state;
    struct vcpu_exit clgi = {.reason = VCPU_EXIT_UNKNOWN, .hw_code = 0x85};
    assert_int_equal(handle(&clgi), EXIT_LEAVE);
    assert_counted(SC_EXIT_OTHER);
    assert_stopped("unexpected exit 0x85 (qual 0, info 0)");

    reset(2);
    struct vcpu_exit other = {
        .reason = VCPU_EXIT_UNKNOWN, .hw_code = 0x7e, .hw_info = {0x12, 0xabc}};
    assert_int_equal(handle(&other), EXIT_LEAVE);
    assert_stopped("unexpected exit 0x7e (qual 12, info abc)");
}

static void test_reason_out_of_range_stops(void **state)
{
    (void)state;
    struct vcpu_exit e = {.reason = (enum vcpu_exit_reason)77, .hw_code = 0x99};
    assert_int_equal(handle(&e), EXIT_LEAVE);
    assert_counted(SC_EXIT_OTHER);
    assert_stopped("unexpected exit 0x99 (qual 0, info 0)");
}

static void test_steady_phase_counts_every_exit(void **state)
{
    (void)state;
    v0->in_steady = true;
    struct vcpu_exit nmi = {.reason = VCPU_EXIT_NMI};
    struct vcpu_exit cpuid = {.reason = VCPU_EXIT_CPUID, .insn_len = 2};
    handle(&nmi);
    handle(&cpuid);
    assert_int_equal(v0->counters.steady, 2);
    v0->in_steady = false;
    handle(&nmi);
    assert_int_equal(v0->counters.steady, 2);
    assert_int_equal(v0->counters.total, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cpuid_answers_the_virtual_cpuid, setup),
        cmocka_unit_test_setup(test_cpuid_tells_the_vcpu_about_itself, setup),
        cmocka_unit_test_setup(test_hypercall_counted_before_it_runs, setup),
        cmocka_unit_test_setup(test_hypercall_exit_leaves_the_loop, setup),
        cmocka_unit_test_setup(test_hypercall_refused_above_cpl0, setup),
        cmocka_unit_test_setup(test_hypercall_unknown_op, setup),
        cmocka_unit_test_setup(test_apic_base_reads_the_virtual_lapic, setup),
        cmocka_unit_test_setup(test_msr_not_owned_gets_gp, setup),
        cmocka_unit_test_setup(test_icr_write_becomes_an_ipi, setup),
        cmocka_unit_test_setup(test_icr_all_means_the_partition, setup),
        cmocka_unit_test_setup(test_icr_refused_counted_warned_once, setup),
        cmocka_unit_test_setup(test_icr_without_x2apic_gets_gp, setup),
        cmocka_unit_test_setup(test_self_ipi_validated, setup),
        cmocka_unit_test_setup(test_lvt_written_or_refused, setup),
        cmocka_unit_test_setup(test_io_in_reads_all_ones, setup),
        cmocka_unit_test_setup(test_io_out_dropped, setup),
        cmocka_unit_test_setup(test_string_io_gets_gp, setup),
        cmocka_unit_test_setup(test_io_logged_once_per_partition, setup),
        cmocka_unit_test_setup(test_db_handed_back, setup),
        cmocka_unit_test_setup(test_ac_handed_back, setup),
        cmocka_unit_test_setup(test_other_exception_stops, setup),
        cmocka_unit_test_setup(test_invd_wbinvd_are_no_ops, setup),
        cmocka_unit_test_setup(test_invd_wbinvd_above_cpl0_get_gp, setup),
        cmocka_unit_test_setup(test_xsetbv_loads_a_valid_xcr0, setup),
        cmocka_unit_test_setup(test_xsetbv_refuses_what_the_cpu_would, setup),
        cmocka_unit_test_setup(test_xsetbv_without_xsave_is_ud, setup),
        cmocka_unit_test_setup(test_nmi_and_intr_only_counted, setup),
        cmocka_unit_test_setup(test_stage2_fault_stops, setup),
        cmocka_unit_test_setup(test_mmio_write_from_register, setup),
        cmocka_unit_test_setup(test_mmio_reads_merge_like_the_cpu, setup),
        cmocka_unit_test_setup(test_mmio_rsp_is_the_backends, setup),
        cmocka_unit_test_setup(test_mmio_fetch_through_guest_page_tables, setup),
        cmocka_unit_test_setup(test_mmio_refusals_stop, setup),
        cmocka_unit_test_setup(test_device_port, setup),
        cmocka_unit_test_setup(test_triple_fault_stops, setup),
        cmocka_unit_test_setup(test_entry_failure_stops, setup),
        cmocka_unit_test_setup(test_unknown_exit_stops_with_its_code, setup),
        cmocka_unit_test_setup(test_reason_out_of_range_stops, setup),
        cmocka_unit_test_setup(test_steady_phase_counts_every_exit, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
