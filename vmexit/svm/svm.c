/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* AMD SVM backend, mechanism only (backend.h): detection, the VMCBs (vmcb_build.c) and
 * permission maps, the world switch, exit codes decoded into struct vcpu_exit, event
 * injection, rip advance, state for dumps, reset. What an exit means is the exit policy's
 * (exit.c); the loop around the world switch is run.c's. */
#include "core/cpu.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/percpu.h"
#include "core/refusal.h"
#include "vmexit/cpuid.h"
#include "vmexit/msr_pass.h"
#include "vmexit/partition.h"
#include "vmexit/svm/vmcb.h"
#include "vmexit/svm/vmcb_build.h"
#include "vmexit/svm/vmcb_check.h"
#include "vmexit/vcpu.h"
#include "vmexit/x86.h"

void svm_world_switch(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_vmcb_pa);

#define CPUID_8000000A_EDX_NP (1u << 0)
#define CPUID_8000000A_EDX_NRIPS (1u << 3)
/* QEMU has no next-RIP save: the lengths of the instructions that exit are our own */
#define INSN_LEN_CPUID 2       /* 0f a2 */
#define INSN_LEN_VMMCALL 3     /* 0f 01 d9 */
#define INSN_LEN_RDWRMSR 2     /* 0f 32, 0f 30 */
#define INSN_LEN_INVD_WBINVD 2 /* 0f 08, 0f 09 (no prefixes) */
#define IOPM_PAGES 3
#define MSRPM_PAGES 2
/* IOIO exits (APM vol. 2, 15.10.2): decode_io */
#define IOIO_IN (1u << 0)
#define IOIO_STRING (1u << 2)
#define IOIO_REP (1u << 3)
#define IOIO_SZ8 (1u << 4)
#define IOIO_SZ16 (1u << 5)
#define IOIO_PORT_SHIFT 16
/* EXITINFO1 of a nested page fault: the page-fault error code */
#define NPF_WRITE (1u << 1)
#define NPF_FETCH (1u << 4)
#define NPF_TABLE_WALK (1ull << 33)    /* the fault is on a guest page-table entry */
#define EXITINTINFO_VALID (1ull << 31) /* an event was being delivered */
/* exceptions that push an error code (EXITINFO1 holds it) */
#define X86_ERROR_CODE_VECTORS 0x60227d00u /* 8, 10-14, 17, 21, 29, 30 */

struct svm_cpu {
    struct vmcb *vmcb;
    uint64_t vmcb_pa;
    uint64_t hsave_pa;
    uint64_t host_vmcb_pa;
    bool first_run;
};

_Static_assert(sizeof(struct svm_cpu) <= PERCPU_BACKEND_BYTES, "lives in struct percpu");

static struct svm_cpu *svm_cpu_of(const struct vcpu *v)
{
    return (struct svm_cpu *)(void *)cpus[v->cpu].backend;
}
static uint64_t iopm_pa, msrpm_pa;
static unsigned max_phys_bits = 48;

static struct vmcb *vmcb_of(const struct vcpu *v)
{
    return ((struct svm_cpu *)v->arch)->vmcb;
}

static int svm_probe(struct refusal *why)
{
    if (cpuid(0x80000000, 0).eax < 0x8000000a ||
        !(cpuid(0x80000001, 0).ecx & CPUID_8000_0001_ECX_SVM))
        return refuse(why, E_NOSYS, "this CPU has no AMD SVM (CPUID 0x80000001 ecx bit 2)");
    /* QEMU honours NP_ENABLE even when CPUID hides nested paging: ask CPUID ourselves */
    struct cpuid_regs f = cpuid(0x8000000a, 0);
    if (!(f.edx & CPUID_8000000A_EDX_NP))
        return refuse(why, E_NOSYS, "SVM without nested paging (CPUID 0x8000000a edx bit 0)");
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
        return refuse(why, E_PERM, "SVM is disabled by the firmware (VM_CR.SVMDIS)");
    max_phys_bits = cpuid(0x80000008, 0).eax & 0xff;
    log_info("SVM revision %u, %u ASIDs, nested paging%s", f.eax & 0xff, f.ebx,
             (f.edx & CPUID_8000000A_EDX_NRIPS) ? ", next-RIP save" : "");
    return 0;
}

/* Two bits per MSR (read, write) in three 2 KiB blocks (APM vol. 2, 15.11). */
static void msrpm_pass(uint8_t *map, uint32_t msr, bool read, bool write)
{
    uint32_t block, base;
    if (msr < 0x2000)
        block = 0, base = 0;
    else if (msr - 0xc0000000u < 0x2000)
        block = 1, base = 0xc0000000u;
    else
        block = 2, base = 0xc0010000u;
    uint32_t bit = (msr - base) * 2;
    uint8_t *byte = map + block * 0x800 + bit / 8;
    if (read)
        *byte &= (uint8_t) ~(1u << (bit % 8));
    if (write)
        *byte &= (uint8_t) ~(2u << (bit % 8));
}

static int build_permission_maps(struct palloc *pa)
{
    if (iopm_pa)
        return 0;
    if (backend_alloc_zeroed(pa, IOPM_PAGES, &iopm_pa) ||
        backend_alloc_zeroed(pa, MSRPM_PAGES, &msrpm_pa))
        return -E_NOMEM;
    /* every port intercepted: partitions own no ports yet */
    memset((void *)(uintptr_t)iopm_pa, 0xff, IOPM_PAGES * PAGE_SIZE);
    uint8_t *msrpm = (uint8_t *)(uintptr_t)msrpm_pa;
    memset(msrpm, 0xff, MSRPM_PAGES * PAGE_SIZE);
    for (uint32_t m = MSR_X2APIC_FIRST; m <= MSR_X2APIC_LAST; m++)
        msrpm_pass(msrpm, m, msr_passes(m, false), msr_passes(m, true));
    unsigned n;
    const struct msr_pass *list = msr_pass_list(&n);
    for (unsigned i = 0; i < n; i++)
        msrpm_pass(msrpm, list[i].msr, list[i].read, list[i].write);
    return 0;
}

static enum pt_page_size svm_stage2_largest_page(void)
{
    /* nested tables use the host's page-table format: 1 GiB pages where the CPU has them */
    return (cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_PDPE1GB) ? PT_1G : PT_2M;
}

static void svm_vcpu_reset(struct vcpu *v, uint64_t rip, uint64_t rsp)
{
    struct svm_cpu *s = svm_cpu_of(v);
    vmcb_build_reset(s->vmcb, rip, rsp);
    v->regs = (struct guest_regs){.rdi = SC_GPA_BOOT_INFO(v->id)};
    s->first_run = true; /* and a clean TLB */
}

static int svm_vcpu_prepare(struct vcpu *v, struct palloc *pa)
{
    struct svm_cpu *s = svm_cpu_of(v);
    const struct partition *p = v->partition;
    if (build_permission_maps(pa) || backend_alloc_zeroed(pa, 1, &s->vmcb_pa) ||
        backend_alloc_zeroed(pa, 1, &s->hsave_pa) || backend_alloc_zeroed(pa, 1, &s->host_vmcb_pa))
        return -E_NOMEM;
    s->vmcb = (struct vmcb *)(uintptr_t)s->vmcb_pa;
    v->arch = s;
    v->arch_pa = s->vmcb_pa;
    vmcb_build_control(&s->vmcb->control, iopm_pa, msrpm_pa, p->npt.root);
    svm_vcpu_reset(v, p->entry, p->size - (uint64_t)v->id * SC_STACK_SIZE);
    return 0;
}

static int svm_cpu_enable(struct vcpu *v, struct refusal *why)
{
    struct svm_cpu *s = v->arch;
    struct refusal check;
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, s->hsave_pa);
    __asm__ volatile("vmsave %%rax" ::"a"(s->host_vmcb_pa) : "memory");
    if (vmcb_check(s->vmcb, max_phys_bits, &check))
        return refuse(why, E_INVAL, "VMCB refused before VMRUN: %s", check.text);
    return 0;
}

/* GIF clear: NMIs and interrupts stay pending until STGI, or until VMRUN sets GIF for
 * the guest, where the intercepted kick NMI exits at once */
static void svm_hold_events(struct vcpu *v)
{
    (void)v;
    __asm__ volatile("clgi" ::: "memory");
}

static void svm_release_events(struct vcpu *v)
{
    (void)v;
    __asm__ volatile("stgi" ::: "memory");
}

static void svm_enter(struct vcpu *v)
{
    struct svm_cpu *s = v->arch;
    struct vmcb *vmcb = s->vmcb;
    vmcb->control.tlb_control = s->first_run ? SVM_TLB_FLUSH_ALL : 0;
    s->first_run = false;
    vmcb->state.rax = v->regs.rax;
    svm_world_switch(&v->regs, s->vmcb_pa, s->host_vmcb_pa);
    v->regs.rax = vmcb->state.rax;
    /* an event the exit interrupted is delivered again; handlers may replace it */
    uint64_t pending = vmcb->control.exitintinfo;
    vmcb->control.eventinj = (pending & SVM_EVENT_VALID) ? pending : 0;
}

/* EXITINFO1 for IOIO: bit 0 IN, bit 2 string, bit 3 REP, bits 4-6 operand size, port in
 * bits 31:16; EXITINFO2 = next rip. */
static void decode_io(const struct vmcb *vmcb, struct vcpu_exit *e)
{
    uint64_t info = vmcb->control.exitinfo1;
    e->io.port = (uint16_t)(info >> IOIO_PORT_SHIFT);
    e->io.size = (info & IOIO_SZ8) ? 1 : (info & IOIO_SZ16) ? 2 : 4;
    e->io.in = info & IOIO_IN;
    e->io.string = info & IOIO_STRING;
    e->io.rep = info & IOIO_REP;
    e->insn_len = (uint8_t)(vmcb->control.exitinfo2 - vmcb->state.rip);
}

static void decode_exception(const struct vmcb *vmcb, unsigned vector, struct vcpu_exit *e)
{
    e->reason = VCPU_EXIT_EXCEPTION;
    e->exception.vector = (uint8_t)vector;
    e->exception.has_error = (X86_ERROR_CODE_VECTORS >> vector) & 1;
    e->exception.error = e->exception.has_error ? (uint32_t)vmcb->control.exitinfo1 : 0;
}

/* Every exit code maps to a reason; one without a name is VCPU_EXIT_UNKNOWN, which the
 * policy stops the partition for, showing the code. */
static void svm_decode_exit(const struct vcpu *v, struct vcpu_exit *e)
{
    const struct vmcb *vmcb = vmcb_of(v);
    const struct vmcb_control *c = &vmcb->control;
    uint32_t code = (uint32_t)c->exitcode; /* QEMU gives VMEXIT_INVALID as -1 in 64 bits */
    *e = (struct vcpu_exit){
        .reason = VCPU_EXIT_UNKNOWN,
        .cpl = vmcb->state.cpl,
        .rip = vmcb->state.rip,
        .hw_code = code,
        .hw_info = {c->exitinfo1, c->exitinfo2},
    };
    if (code >= SVM_EXIT_EXCEPTION(0) && code <= SVM_EXIT_EXCEPTION(31)) {
        decode_exception(vmcb, code - SVM_EXIT_EXCEPTION_BASE, e);
        return;
    }
    switch (code) {
    case SVM_EXIT_CPUID:
        e->reason = VCPU_EXIT_CPUID;
        e->insn_len = INSN_LEN_CPUID;
        return;
    case SVM_EXIT_VMMCALL:
        e->reason = VCPU_EXIT_HYPERCALL;
        e->insn_len = INSN_LEN_VMMCALL;
        return;
    case SVM_EXIT_MSR: /* EXITINFO1: 0 RDMSR, 1 WRMSR */
        e->reason = c->exitinfo1 == 1 ? VCPU_EXIT_MSR_WRITE : VCPU_EXIT_MSR_READ;
        e->insn_len = INSN_LEN_RDWRMSR;
        e->msr.index = (uint32_t)v->regs.rcx;
        if (e->reason == VCPU_EXIT_MSR_WRITE)
            e->msr.value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
        return;
    case SVM_EXIT_IOIO:
        e->reason = VCPU_EXIT_IO;
        decode_io(vmcb, e);
        return;
    case SVM_EXIT_INVD:
        e->reason = VCPU_EXIT_INVD;
        e->insn_len = INSN_LEN_INVD_WBINVD;
        return;
    case SVM_EXIT_WBINVD:
        e->reason = VCPU_EXIT_WBINVD;
        e->insn_len = INSN_LEN_INVD_WBINVD;
        return;
    case SVM_EXIT_NMI:
        e->reason = VCPU_EXIT_NMI;
        return;
    case SVM_EXIT_INTR:
        e->reason = VCPU_EXIT_INTR;
        return;
    case SVM_EXIT_NPF: /* EXITINFO2: the guest-physical address */
        e->reason = VCPU_EXIT_STAGE2_FAULT;
        e->fault.gpa = c->exitinfo2;
        e->fault.access = (c->exitinfo1 & NPF_WRITE)   ? VCPU_ACCESS_WRITE
                          : (c->exitinfo1 & NPF_FETCH) ? VCPU_ACCESS_FETCH
                                                       : VCPU_ACCESS_READ;
        /* bit 32 (the final address) is not required: not every SVM sets it */
        e->fault.not_the_access =
            (c->exitinfo1 & NPF_TABLE_WALK) || (c->exitintinfo & EXITINTINFO_VALID);
        return;
    case SVM_EXIT_SHUTDOWN:
        e->reason = VCPU_EXIT_TRIPLE_FAULT;
        return;
    case SVM_EXIT_INVALID:
        e->reason = VCPU_EXIT_ENTRY_FAILED;
        return;
    default:
        e->reason = VCPU_EXIT_UNKNOWN; /* the policy stops the partition, showing the code */
        return;
    }
}

/* No next-RIP save under QEMU: rip is advanced by the length decode_exit gave. */
static void svm_skip_instruction(struct vcpu *v, unsigned len)
{
    vmcb_of(v)->state.rip += len;
}

static void svm_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error)
{
    uint64_t event = SVM_EVENT_VALID | SVM_EVENT_TYPE_EXCEPTION | (vector & 0xff);
    if (has_error)
        event |= SVM_EVENT_ERROR_VALID | ((uint64_t)error << SVM_EVENT_ERROR_SHIFT);
    vmcb_of(v)->control.eventinj = event;
}

static uint64_t svm_read_reg(const struct vcpu *v, enum vcpu_reg reg)
{
    const struct vmcb_state *st = &vmcb_of(v)->state;
    switch (reg) {
    case VCPU_REG_RFLAGS:
        return st->rflags;
    case VCPU_REG_DR7:
        return st->dr7;
    case VCPU_REG_RSP:
        return st->rsp;
    }
    return 0;
}

static void svm_write_reg(struct vcpu *v, enum vcpu_reg reg, uint64_t value)
{
    struct vmcb_state *st = &vmcb_of(v)->state;
    switch (reg) {
    case VCPU_REG_RFLAGS:
        st->rflags = value;
        return;
    case VCPU_REG_DR7:
        st->dr7 = value;
        return;
    case VCPU_REG_RSP:
        st->rsp = value;
        return;
    }
}

static uint8_t code_bits(const struct vmcb_state *st)
{
    if ((st->efer & X86_EFER_LMA) && (st->cs.attrib & VMCB_ATTR_L))
        return 64;
    return (st->cs.attrib & VMCB_ATTR_DB) ? 32 : 16;
}

static void svm_vcpu_state(const struct vcpu *v, struct guest_state *out)
{
    const struct svm_cpu *s = v->arch;
    const struct vmcb_state *st = &s->vmcb->state;
    *out = (struct guest_state){
        .rsp = st->rsp,
        .rip = st->rip,
        .rflags = st->rflags,
        .cr0 = st->cr0,
        .cr2 = st->cr2,
        .cr3 = st->cr3,
        .cr4 = st->cr4,
        .efer = st->efer,
        .cs = st->cs.selector,
        .ss = st->ss.selector,
        .code_bits = code_bits(st),
        .regs = v->regs,
    };
}

static void svm_flush_guest_tlb(struct vcpu *v)
{
    struct svm_cpu *s = v->arch;
    s->first_run = true; /* next VMRUN flushes this ASID */
}

static bool svm_diagnose_entry(const struct vcpu *v, struct refusal *why)
{
    return vmcb_check(vmcb_of(v), max_phys_bits, why) != 0;
}

const struct vcpu_backend svm_backend = {
    .name = "AMD SVM",
    .hw_info_names = {"exitinfo1", "exitinfo2"},
    .stage2_format = &pt_format_npt,
    .probe = svm_probe,
    .stage2_largest_page = svm_stage2_largest_page,
    .vcpu_prepare = svm_vcpu_prepare,
    .vcpu_reset = svm_vcpu_reset,
    .cpu_enable = svm_cpu_enable,
    .hold_events = svm_hold_events,
    .release_events = svm_release_events,
    .enter = svm_enter,
    .decode_exit = svm_decode_exit,
    .skip_instruction = svm_skip_instruction,
    .inject_exception = svm_inject_exception,
    .read_reg = svm_read_reg,
    .write_reg = svm_write_reg,
    .flush_guest_tlb = svm_flush_guest_tlb,
    .vcpu_state = svm_vcpu_state,
    .diagnose_entry = svm_diagnose_entry,
};
