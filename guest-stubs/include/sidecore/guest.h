/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libguest: the runtime of the test guests (hypercalls, console, IDT, LAPIC, barriers). */
#ifndef SIDECORE_GUEST_H
#define SIDECORE_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sidecore/abi.h"
#include "sidecore/svc.h"

/* The guest's own entry point, called by guest_start on every vCPU once the IDT is
 * installed; its return value becomes the SC_HC_EXIT status (0 = pass). */
int main(const struct sc_boot_info *bi);

/* Exit statuses libguest uses by itself (anything nonzero is a failure). */
#define SC_STATUS_BAD_BOOT_INFO 0x100            /* the magic in rdi was wrong */
#define SC_STATUS_EXCEPTION(vec) (0x200 + (vec)) /* unexpected CPU exception */
#define SC_STATUS_UNEXPECTED_IRQ 0x300           /* an interrupt without a handler */

/* ---- Hypercalls (rax = op, rdi/rsi/rdx = arguments, rax = result): VMMCALL on AMD SVM,
 * VMCALL on Intel VMX (the boot info's SC_BOOT_VMCALL, kept in sc_vmcall by guest_start).
 * Buffers are passed by address: the image, bss and stacks are identity-mapped, so a pointer
 * is a GPA. The argument registers are treated as clobbered, since abi.h does not promise
 * them; memory is too (the hypervisor may write any buffer it was given). */
extern bool sc_vmcall;

static inline long sc_hypercall(long op, long a0, long a1, long a2)
{
    long ret = op;
    if (sc_vmcall)
        __asm__ volatile("vmcall" : "+a"(ret), "+D"(a0), "+S"(a1), "+d"(a2) : : "memory");
    else
        __asm__ volatile("vmmcall" : "+a"(ret), "+D"(a0), "+S"(a1), "+d"(a2) : : "memory");
    return ret;
}

void sc_console_write(const char *s, unsigned long n);
/* Formats into a stack buffer and writes it with one hypercall (truncated beyond the buffer). */
void sc_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sc_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* One line "PASS: <text>\n" / "FAIL: <text>\n"; the newline is added if missing. */
void sc_pass(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sc_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* sc_pass if ok, else sc_fail, with the same text; returns ok. */
bool sc_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stops this vCPU for good with the given status (0 = pass). */
__attribute__((noreturn)) void sc_exit(int status);
/* Copies the exit counters of vCPU vcpu of this partition; 0 or a negative errno. */
int sc_exit_counters(unsigned vcpu, struct sc_exit_counters *out);
void sc_steady_begin(void);
/* Ends the steady phase; returns the exits taken during it. */
uint64_t sc_steady_end(void);
/* "cpuid", "hypercall", ...; "?" for an unknown reason. */
const char *sc_exit_reason_name(unsigned reason);
/* One line: prefix, then total, steady and every per-reason count as name=value. */
void sc_print_exit_counters(const char *prefix, const struct sc_exit_counters *c);

/* ---- CPU helpers. */
static inline uint64_t sc_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static inline void sc_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

static inline void sc_pause(void)
{
    __asm__ volatile("pause" ::: "memory");
}
static inline void sc_irq_enable(void)
{
    __asm__ volatile("sti" ::: "memory");
}
static inline void sc_irq_disable(void)
{
    __asm__ volatile("cli" ::: "memory");
}
static inline void sc_halt(void)
{
    __asm__ volatile("hlt" ::: "memory");
}

static inline uint64_t sc_read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint64_t sc_read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

/* Busy-waits (with PAUSE) until the TSC reaches deadline. */
void sc_wait_until(uint64_t tsc_deadline);

/* ---- A reusable spin barrier across count vCPUs (zero-initialise it, e.g. static). */
struct sc_barrier {
    uint32_t arrived;
    uint32_t generation;
};
void sc_barrier(struct sc_barrier *b, unsigned count);

/* ---- Interrupts. The IDT covers all 256 vectors; 0-31 are fatal exceptions (the state is
 * printed, then the vCPU exits with SC_STATUS_EXCEPTION(vector)) unless the guest handles
 * them (sc_set_exception_handler). For 32-255 a handler runs with interrupts off and all
 * registers saved; it must send the EOI itself. */
typedef void (*sc_irq_handler)(uint8_t vector);
void sc_set_irq_handler(uint8_t vector, sc_irq_handler fn);
/* What guest_start does on every vCPU before main: GS base at the vCPU's block, the APIC
 * mode from bi, the IDT loaded. A vCPU started again at a new entry (SC_OP_VCPU_START, with
 * a reset CPU state) calls it first. */
void sc_vcpu_setup(const struct sc_boot_info *bi);

/* What the interrupt stubs save, lowest address first. */
struct sc_trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* An exception handler (vectors 0-31) gets the frame the CPU and the stub pushed (error is 0
 * for vectors without an error code) and returns true if it handled the exception: the
 * vCPU then resumes with the frame as the handler left it (e.g. rip moved past the faulting
 * instruction). false: the fatal default. Interrupts are off while it runs. */
typedef bool (*sc_exception_handler)(struct sc_trap_frame *f);
void sc_set_exception_handler(uint8_t vector, sc_exception_handler fn);

/* ---- Paging: adds a 4 KiB identity mapping of gpa to the current page tables (the
 * hypervisor's initial tables map only the partition RAM). flags are PTE bits added to
 * present|writable (e.g. SC_PTE_PCD | SC_PTE_PWT for MMIO). An existing mapping of gpa to
 * itself is left as is. Returns 0, -SC_EINVAL if gpa is mapped elsewhere or is not
 * canonical/aligned, -SC_ENOMEM when the small pool of table pages is used up. */
#define SC_PTE_P 0x1ull
#define SC_PTE_W 0x2ull
#define SC_PTE_PWT 0x8ull
#define SC_PTE_PCD 0x10ull
#define SC_PTE_PS 0x80ull
int sc_map_identity(uint64_t gpa, uint64_t flags);

/* ---- Service requests (ring.h, svc.h) from the calling vCPU, through its own rings or
 * through the SC_HC_RING_OP trap. The ring functions find the caller's rings through its
 * per-vCPU block (sc_local), so they take no VM exit at all; each trap is exactly one. Not for
 * interrupt handlers that may interrupt a request of their own vCPU. */

/* Locates this vCPU's SC_SERVICES rings in the window (bi->ring_window_gpa, which must agree
 * with CPUID 0x40000002: one CPUID exit) and checks their headers. Call once per vCPU before
 * any ring request; the ring functions return -SC_ENODEV without it. Returns 0, -SC_ENODEV
 * if there is no window, -SC_EINVAL if the window or a ring header is wrong or bi is not the
 * calling vCPU's, -SC_EEXIST if this vCPU registered other rings already. */
int sc_rings_init(const struct sc_boot_info *bi);
/* The calling vCPU's client (NULL before sc_rings_init) and one of its rings. */
struct sc_svc_client *sc_svc_self(void);
struct sc_ring *sc_svc_ring_of(enum sc_service s);

/* Synchronous request: status (>= 0 or a negative errno; -SC_ETIMEDOUT after a generous spin
 * limit, -SC_EPIPE once the side core declared the ring broken, -SC_ENODEV without rings);
 * arg[] of the completion is copied to out. args and out may be NULL (zeros in, nothing
 * out). The trap variant works whatever state the rings are in. */
int64_t sc_svc_ring(enum sc_service s, uint16_t op, const uint64_t args[6], uint64_t out[6]);
int64_t sc_svc_trap(enum sc_service s, uint16_t op, const uint64_t args[6], uint64_t out[6]);

/* Batch on one of the caller's rings: sc_svc_batch_begin, then sc_svc_batch_add (svc.h) per
 * request, sc_svc_batch_submit (one publish), sc_svc_batch_wait (waits for the last,
 * copies every status and result). begin returns 0 or -SC_ENODEV. */
int sc_svc_batch_begin(struct sc_svc_batch *b, enum sc_service s);

/* Asynchronous: post returns a sequence number (>= 0; -SC_EBUSY when the ring is full,
 * -SC_ENODEV without rings); poll returns 1 once it completed (status and results copied;
 * either pointer may be NULL), 0 while pending. Poll before SC_RING_SLOTS more requests go
 * to the same ring. */
int64_t sc_svc_post(enum sc_service s, uint16_t op, const uint64_t args[6]);
int sc_svc_poll(int64_t seq, int64_t *status, uint64_t out[6]);

/* ---- Local APIC of the vCPU's own core: the xAPIC page at SC_GPA_LAPIC, or in x2APIC mode
 * (SC_BOOT_X2APIC) the MSR 0x800 + reg / 16. Both pass through: no exit (the x2APIC ICR
 * excepted, which the hypervisor validates). */
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ESR 0x280
#define LAPIC_ICR 0x300 /* x2APIC: one 64-bit MSR (0x830), destination in bits 63:32 */
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3e0
#define X2APIC_MSR(reg) (0x800u + (reg) / 16)

#define LAPIC_SVR_ENABLE (1u << 8)
/* not 0xff, so that 0xff is a vector like the others for a guest's IPIs (Bochs does not
 * deliver a fixed interrupt on the spurious vector as hardware does, and then delivers none) */
#define LAPIC_SPURIOUS_VECTOR 0x3f
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_LVT_PERIODIC (1u << 17)

static inline uint64_t sc_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline void sc_wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* ---- Per-vCPU data: guest_start points GS base at this vCPU's block (the MSR passes
 * through), so any code finds its vCPU with one load and no exit, in either APIC mode. */
struct sc_svc_client;
struct sc_vcpu_local {
    struct sc_vcpu_local *self; /* %gs:0 */
    uint32_t vcpu_id;
    uint32_t apic_id;          /* the physical core's (x2)APIC id */
    struct sc_svc_client *svc; /* this vCPU's rings, once sc_rings_init ran */
};
#define SC_MSR_GS_BASE 0xc0000101u

static inline struct sc_vcpu_local *sc_local(void)
{
    struct sc_vcpu_local *l;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(l));
    return l;
}

static inline unsigned sc_vcpu_id(void)
{
    return sc_local()->vcpu_id;
}

/* True when the hypervisor runs the LAPIC in x2APIC mode (set from the boot info). */
extern bool sc_lapic_x2apic;

/* Maps the LAPIC page (xAPIC mode, once per partition), software-enables the LAPIC through
 * the SVR with LAPIC_SPURIOUS_VECTOR, and opens the TPR. Called by the timer helpers;
 * idempotent. */
int lapic_init(void);

static inline uint32_t lapic_read(uint32_t reg)
{
    if (sc_lapic_x2apic)
        return (uint32_t)sc_rdmsr(X2APIC_MSR(reg));
    return *(volatile uint32_t *)(uintptr_t)(SC_GPA_LAPIC + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t val)
{
    if (sc_lapic_x2apic)
        sc_wrmsr(X2APIC_MSR(reg), val);
    else
        *(volatile uint32_t *)(uintptr_t)(SC_GPA_LAPIC + reg) = val;
}

static inline void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

/* The core's APIC id: 32 bits in x2APIC mode, bits 31:24 of the ID register in xAPIC. */
static inline uint32_t lapic_id(void)
{
    uint32_t v = lapic_read(LAPIC_ID);
    return sc_lapic_x2apic ? v : v >> 24;
}

/* Sends a fixed IPI with the raw 64-bit x2APIC ICR value icr (x2APIC mode only: the write
 * exits and the hypervisor validates it; returns -SC_ENODEV in xAPIC mode). */
int lapic_send_icr(uint64_t icr);

/* Periodic timer on vector every initial_count ticks of the bus clock / divide
 * (divide: 1, 2, 4, ..., 128). Returns 0 or -SC_EINVAL. */
int lapic_timer_periodic(uint8_t vector, uint32_t initial_count, unsigned divide);
void lapic_timer_stop(void);
/* Measures the timer's tick rate at divide against the TSC over about ms milliseconds (timer
 * masked meanwhile); returns ticks per second, or 0 if the timer did not count. */
uint64_t lapic_timer_calibrate(unsigned divide, uint64_t tsc_hz, unsigned ms);

#endif
