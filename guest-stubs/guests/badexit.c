/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: the exits a guest should not take, and what each costs it. I/O of each size to
 * a port it does not own, string I/O, MSRs the hypervisor does not know, INVD and WBINVD:
 * each must be exactly one exit of its reason (read back with SC_HC_EXIT_COUNTERS), with
 * the architectural result (IN: all ones, a 32-bit IN zero-extends; #GP where the
 * hypervisor refuses, caught here and skipped). Then an instruction of the virtualization
 * extension itself, which always exits and has no handler: CLGI on AMD SVM, VMXOFF on Intel
 * VMX (SC_BOOT_VMCALL). The partition must be stopped with the exit code. */
#include "core/fmt.h"
#include "sidecore/guest.h"

#define PORT 0x404 /* nobody's */
#define X86_GP 13
#define RAX_BEFORE 0x1122334455667788ull
#define RDX_BEFORE 0x99aabbccddeeff00ull

/* ---- #GP caught: an instruction that may fault is preceded by storing the address after
 * it in gp_resume; the handler counts the #GP and resumes there. 0: none expected. */
static uint64_t gp_resume, gp_count, gp_error, gp_rip;

static bool on_gp(struct sc_trap_frame *f)
{
    if (!gp_resume)
        return false; /* unexpected: the fatal default */
    gp_count++;
    gp_error = f->error;
    gp_rip = f->rip;
    f->rip = gp_resume;
    gp_resume = 0;
    return true;
}

#define GUARD_BEGIN "leaq 1f(%%rip), %%r11\n\tmovq %%r11, %[resume]\n\tleaq 0f(%%rip), %[at]\n0:\t"
#define GUARD_END "\n1:\tmovq $0, %[resume]"

static uint64_t rdmsr_guarded(uint32_t msr, uint64_t *rax, uint64_t *rdx)
{
    uint64_t at, a = *rax, d = *rdx;
    __asm__ volatile(GUARD_BEGIN "rdmsr" GUARD_END
                     : "+a"(a), "+d"(d), [at] "=&r"(at), [resume] "=m"(gp_resume)
                     : "c"(msr)
                     : "r11", "memory");
    *rax = a, *rdx = d;
    return at;
}

static uint64_t wrmsr_guarded(uint32_t msr, uint64_t rax, uint64_t rdx)
{
    uint64_t at;
    __asm__ volatile(GUARD_BEGIN "wrmsr" GUARD_END
                     : [at] "=&r"(at), [resume] "=m"(gp_resume)
                     : "c"(msr), "a"(rax), "d"(rdx)
                     : "r11", "memory");
    return at;
}

/* INSB/OUTSB/REP INSB: rdi, rsi and rcx come back so the test sees they did not move. */
struct string_io {
    uint64_t at, rdi, rsi, rcx;
};

static struct string_io insb_guarded(uint8_t *buf, uint64_t count, bool rep)
{
    struct string_io r = {0, (uint64_t)(uintptr_t)buf, 0, count};
    if (rep)
        __asm__ volatile(GUARD_BEGIN "rep insb" GUARD_END
                         : "+D"(r.rdi), "+c"(r.rcx), [at] "=&r"(r.at), [resume] "=m"(gp_resume)
                         : "d"(PORT)
                         : "r11", "memory");
    else
        __asm__ volatile(GUARD_BEGIN "insb" GUARD_END
                         : "+D"(r.rdi), [at] "=&r"(r.at), [resume] "=m"(gp_resume)
                         : "d"(PORT)
                         : "r11", "memory");
    return r;
}

static struct string_io outsb_guarded(const uint8_t *buf)
{
    struct string_io r = {0, 0, (uint64_t)(uintptr_t)buf, 0};
    __asm__ volatile(GUARD_BEGIN "outsb" GUARD_END
                     : "+S"(r.rsi), [at] "=&r"(r.at), [resume] "=m"(gp_resume)
                     : "d"(PORT)
                     : "r11", "memory");
    return r;
}

/* ---- Exact exit deltas. Between two counter reads the second read is the one hypercall. */
struct want {
    uint64_t io, msr_read, msr_write, other, gp;
};

static unsigned id;
static int failures;
static struct sc_exit_counters before;
static uint64_t gp_before;

static void start(void)
{
    gp_before = gp_count;
    sc_exit_counters(id, &before);
}

/* Checks every reason's delta and the #GPs taken since start(); appends them to the line. */
__attribute__((format(printf, 3, 4))) static void finish(struct want w, bool ok, const char *fmt,
                                                         ...)
{
    struct sc_exit_counters after;
    sc_exit_counters(id, &after);
    uint64_t want[SC_EXIT_REASONS] = {0};
    want[SC_EXIT_HYPERCALL] = 1;
    want[SC_EXIT_IO] = w.io;
    want[SC_EXIT_MSR_READ] = w.msr_read;
    want[SC_EXIT_MSR_WRITE] = w.msr_write;
    want[SC_EXIT_OTHER] = w.other;
    char text[300], deltas[160] = "";
    unsigned len = 0;
    uint64_t sum = 0;
    for (unsigned r = 0; r < SC_EXIT_REASONS; r++) {
        uint64_t d = after.by_reason[r] - before.by_reason[r];
        sum += want[r];
        ok &= d == want[r];
        if (d && r != SC_EXIT_HYPERCALL && len < sizeof(deltas))
            len += (unsigned)ksnprintf(deltas + len, sizeof(deltas) - len, " %s +%llu",
                                       sc_exit_reason_name(r), (unsigned long long)d);
    }
    uint64_t gps = gp_count - gp_before;
    ok &= after.total - before.total == sum && gps == w.gp;
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (ok) {
        sc_pass("%s; exits:%s, #GP %llu", text, deltas, (unsigned long long)gps);
    } else {
        sc_fail("%s; exits:%s (total +%llu), #GP %llu; want io +%llu msr_read +%llu msr_write "
                "+%llu other +%llu, #GP %llu",
                text, deltas, (unsigned long long)(after.total - before.total - 1),
                (unsigned long long)gps, (unsigned long long)w.io, (unsigned long long)w.msr_read,
                (unsigned long long)w.msr_write, (unsigned long long)w.other,
                (unsigned long long)w.gp);
        failures++;
    }
}

static void port_in(void)
{
    uint64_t r8 = RAX_BEFORE, r16 = RAX_BEFORE, r32 = RAX_BEFORE;
    start();
    __asm__ volatile("inb %%dx, %%al" : "+a"(r8) : "d"(PORT));
    finish((struct want){.io = 1}, r8 == 0x11223344556677ffull,
           "IN 8-bit from port 0x%x: rax 0x%llx, the byte read all ones, the rest kept", PORT,
           (unsigned long long)r8);
    start();
    __asm__ volatile("inw %%dx, %%ax" : "+a"(r16) : "d"(PORT));
    finish((struct want){.io = 1}, r16 == 0x112233445566ffffull,
           "IN 16-bit from port 0x%x: rax 0x%llx, the bytes read all ones, the rest kept", PORT,
           (unsigned long long)r16);
    start();
    __asm__ volatile("inl %%dx, %%eax" : "+a"(r32) : "d"(PORT));
    finish((struct want){.io = 1}, r32 == 0xffffffffull,
           "IN 32-bit from port 0x%x: rax 0x%llx, all ones zero-extended", PORT,
           (unsigned long long)r32);
}

static void port_out(void)
{
    start();
    __asm__ volatile("outb %%al, %%dx" : : "a"(0x5a), "d"(PORT));
    finish((struct want){.io = 1}, true, "OUT 8-bit to port 0x%x dropped", PORT);
    start();
    __asm__ volatile("outw %%ax, %%dx" : : "a"(0x5a5a), "d"(PORT));
    finish((struct want){.io = 1}, true, "OUT 16-bit to port 0x%x dropped", PORT);
    start();
    __asm__ volatile("outl %%eax, %%dx" : : "a"(0x5a5a5a5a), "d"(PORT));
    finish((struct want){.io = 1}, true, "OUT 32-bit to port 0x%x dropped", PORT);
}

/* String I/O is refused with #GP (the hypervisor does not emulate it): nothing moves. */
static void string_io(void)
{
    static uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t orig[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const uint64_t base = (uint64_t)(uintptr_t)buf;
    bool same = true;

    start();
    struct string_io r = insb_guarded(buf, 0, false);
    for (unsigned i = 0; i < sizeof(buf); i++)
        same &= buf[i] == orig[i];
    finish((struct want){.io = 1, .gp = 1},
           same && r.rdi == base && gp_rip == r.at && gp_error == 0,
           "INSB from port 0x%x: #GP (error %llu) at the instruction, memory and rdi unchanged",
           PORT, (unsigned long long)gp_error);
    start();
    r = insb_guarded(buf, 4, true);
    for (unsigned i = 0; i < sizeof(buf); i++)
        same &= buf[i] == orig[i];
    finish((struct want){.io = 1, .gp = 1},
           same && r.rdi == base && r.rcx == 4 && gp_rip == r.at && gp_error == 0,
           "REP INSB from port 0x%x: #GP (error %llu) at the instruction, memory, rdi and rcx "
           "unchanged",
           PORT, (unsigned long long)gp_error);
    start();
    r = outsb_guarded(buf);
    finish((struct want){.io = 1, .gp = 1}, r.rsi == base && gp_rip == r.at && gp_error == 0,
           "OUTSB to port 0x%x: #GP (error %llu) at the instruction, rsi unchanged", PORT,
           (unsigned long long)gp_error);
}

/* MSRs this hypervisor does not know: #GP, as the CPU gives for one it does not have. */
static void unknown_msrs(void)
{
    static const uint32_t msrs[] = {0x1234, 0x4b564d00};
    for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
        uint64_t rax = RAX_BEFORE, rdx = RDX_BEFORE;
        start();
        uint64_t at = rdmsr_guarded(msrs[i], &rax, &rdx);
        finish((struct want){.msr_read = 1, .gp = 1},
               gp_rip == at && gp_error == 0 && rax == RAX_BEFORE && rdx == RDX_BEFORE,
               "RDMSR 0x%x: #GP (error %llu) at the instruction, rax and rdx unchanged", msrs[i],
               (unsigned long long)gp_error);
        start();
        at = wrmsr_guarded(msrs[i], 1, 0);
        finish((struct want){.msr_write = 1, .gp = 1}, gp_rip == at && gp_error == 0,
               "WRMSR 0x%x: #GP (error %llu) at the instruction", msrs[i],
               (unsigned long long)gp_error);
    }
}

/* INVD runs as WBINVD: what was written before it is still there afterwards. */
static void cache_flushes(void)
{
    static volatile uint64_t cell;
    cell = 0x5eed;
    start();
    __asm__ volatile("invd" ::: "memory");
    finish((struct want){.other = 1}, cell == 0x5eed,
           "INVD: one exit, execution goes on, a value written before it kept");
    start();
    __asm__ volatile("wbinvd" ::: "memory");
    finish((struct want){.other = 1}, true, "WBINVD: one exit, execution goes on");
}

int main(const struct sc_boot_info *bi)
{
    id = bi->vcpu_id;
    sc_set_exception_handler(X86_GP, on_gp);
    port_in();
    port_out();
    string_io();
    unknown_msrs();
    cache_flushes();
    if (failures)
        return failures;
    if (bi->flags & SC_BOOT_VMCALL) {
        /* VMX instructions exit unconditionally in a guest */
        sc_printf("badexit: VMXOFF next: it exits, without a handler\n");
        __asm__ volatile("vmxoff" ::: "cc", "memory");
    } else {
        /* EFER.SVME is set in a guest (VMRUN needs it), so CLGI exits instead of raising #UD */
        sc_printf("badexit: CLGI next: intercepted, without a handler\n");
        __asm__ volatile("clgi" ::: "memory");
    }
    sc_fail("badexit: still running after it");
    return 1;
}
