/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* AMD SVM backend: detection, the VMCBs (their contents: vmcb_build.c), permission maps,
 * the run loop and the residual exit handlers. */
#include <stdarg.h>

#include "core/apic.h"
#include "core/cpu.h"
#include "core/fmt.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/percpu.h"
#include "vmexit/cpuid.h"
#include "vmexit/icr.h"
#include "vmexit/partition.h"
#include "vmexit/svm/vmcb.h"
#include "vmexit/svm/vmcb_build.h"
#include "vmexit/svm/vmcb_check.h"
#include "vmexit/vcpu.h"

_Static_assert(offsetof(struct guest_regs, rbx) == 0, "svm_switch.S R_RBX");
_Static_assert(offsetof(struct guest_regs, rdi) == 32, "svm_switch.S R_RDI");
_Static_assert(offsetof(struct guest_regs, r8) == 48, "svm_switch.S R_R8");
_Static_assert(offsetof(struct guest_regs, r15) == 104, "svm_switch.S R_R15");

void svm_world_switch(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_vmcb_pa);

#define CPUID_8000000A_EDX_NP (1u << 0)
#define CPUID_8000000A_EDX_NRIPS (1u << 3)
#define INSN_LEN_CPUID 2 /* 0f a2: QEMU has no NRIPS, so we advance rip ourselves */
#define INSN_LEN_VMMCALL 3
#define INSN_LEN_RDWRMSR 2
#define INSN_LEN_INVD_WBINVD 2 /* 0f 08, 0f 09 */
#define IOPM_PAGES 3
#define MSRPM_PAGES 2
#define X86_DB 1
#define X86_GP 13
#define X86_AC 17
#define RFLAGS_RF (1ull << 16)
#define DR7_GD (1ull << 13)
#define IOIO_IN (1u << 0)
#define IOIO_STRING (1u << 2)
#define IOIO_SZ8 (1u << 4)
#define IOIO_SZ16 (1u << 5)

#define MSR_X2APIC_ICR 0x830

struct svm_cpu {
    struct vmcb *vmcb;
    uint64_t vmcb_pa;
    uint64_t hsave_pa;
    uint64_t host_vmcb_pa;
    bool first_run;
};

static struct svm_cpu svm_cpus[MAX_CPUS];
static uint64_t iopm_pa, msrpm_pa;
static unsigned max_phys_bits = 48;

static int svm_probe(char *why, unsigned size)
{
    if (cpuid(0x80000000, 0).eax < 0x8000000a ||
        !(cpuid(0x80000001, 0).ecx & CPUID_8000_0001_ECX_SVM)) {
        ksnprintf(why, size, "this CPU has no AMD SVM (CPUID 0x80000001 ecx bit 2)");
        return -E_NOSYS;
    }
    /* QEMU honours NP_ENABLE even when CPUID hides nested paging: ask CPUID ourselves */
    struct cpuid_regs f = cpuid(0x8000000a, 0);
    if (!(f.edx & CPUID_8000000A_EDX_NP)) {
        ksnprintf(why, size, "SVM without nested paging (CPUID 0x8000000a edx bit 0)");
        return -E_NOSYS;
    }
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
        ksnprintf(why, size, "SVM is disabled by the firmware (VM_CR.SVMDIS)");
        return -E_PERM;
    }
    max_phys_bits = cpuid(0x80000008, 0).eax & 0xff;
    log_info("SVM revision %u, %u ASIDs, nested paging%s", f.eax & 0xff, f.ebx,
             (f.edx & CPUID_8000000A_EDX_NRIPS) ? ", next-RIP save" : "");
    return 0;
}

static int alloc_zeroed(struct palloc *pa, unsigned pages, uint64_t *out)
{
    int rc = palloc_alloc(pa, pages * PAGE_SIZE, PAGE_SIZE, 0, out);
    if (!rc)
        memset((void *)(uintptr_t)*out, 0, pages * PAGE_SIZE);
    return rc;
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
    if (alloc_zeroed(pa, IOPM_PAGES, &iopm_pa) || alloc_zeroed(pa, MSRPM_PAGES, &msrpm_pa))
        return -E_NOMEM;
    /* every port intercepted: partitions own no ports yet */
    memset((void *)(uintptr_t)iopm_pa, 0xff, IOPM_PAGES * PAGE_SIZE);
    uint8_t *msrpm = (uint8_t *)(uintptr_t)msrpm_pa;
    memset(msrpm, 0xff, MSRPM_PAGES * PAGE_SIZE);
    for (uint32_t m = 0x800; m <= 0x8ff; m++) /* x2APIC: timer, EOI, ... natively */
        msrpm_pass(msrpm, m, true, m != MSR_X2APIC_ICR);
    static const uint32_t state_msrs[] = {
        0x174,      0x175,      0x176,                  /* SYSENTER_CS/ESP/EIP (VMCB) */
        0x6e0,                                          /* TSC_DEADLINE: the guest's own timer */
        0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR, LSTAR, CSTAR, SFMASK */
        0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, /* FS/GS/KernelGS base, TSC_AUX */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(state_msrs); i++)
        msrpm_pass(msrpm, state_msrs[i], true, true);
    return 0;
}

static void svm_vcpu_reset(struct vcpu *v, uint64_t rip, uint64_t rsp)
{
    struct svm_cpu *s = &svm_cpus[v->cpu];
    vmcb_build_reset(s->vmcb, rip, rsp);
    v->regs = (struct guest_regs){.rdi = SC_GPA_BOOT_INFO(v->id)};
    s->first_run = true; /* and a clean TLB */
}

static int svm_vcpu_prepare(struct vcpu *v, struct palloc *pa)
{
    struct svm_cpu *s = &svm_cpus[v->cpu];
    const struct partition *p = v->partition;
    if (build_permission_maps(pa) || alloc_zeroed(pa, 1, &s->vmcb_pa) ||
        alloc_zeroed(pa, 1, &s->hsave_pa) || alloc_zeroed(pa, 1, &s->host_vmcb_pa))
        return -E_NOMEM;
    s->vmcb = (struct vmcb *)(uintptr_t)s->vmcb_pa;
    v->arch = s;
    v->arch_pa = s->vmcb_pa;
    vmcb_build_control(&s->vmcb->control, iopm_pa, msrpm_pa, p->npt.root);
    svm_vcpu_reset(v, p->entry, p->size - (uint64_t)v->id * SC_STACK_SIZE);
    return 0;
}

static void inject_gp(struct vmcb *vmcb)
{
    vmcb->control.eventinj =
        SVM_EVENT_VALID | SVM_EVENT_TYPE_EXCEPTION | SVM_EVENT_ERROR_VALID | X86_GP;
}

static void handle_cpuid(struct vcpu *v, struct vmcb *vmcb)
{
    uint32_t leaf = (uint32_t)vmcb->state.rax, sub = (uint32_t)v->regs.rcx;
    struct cpuid_regs h = cpuid(leaf, sub);
    struct cpuid_values host = {h.eax, h.ebx, h.ecx, h.edx}, out;
    struct cpuid_guest_view g = vcpu_cpuid_view(v);
    cpuid_virtualize(leaf, sub, &host, &g, &out);
    vmcb->state.rax = out.eax;
    v->regs.rbx = out.ebx;
    v->regs.rcx = out.ecx;
    v->regs.rdx = out.edx;
    vmcb->state.rip += INSN_LEN_CPUID;
}

static void handle_icr_write(struct vcpu *v, uint64_t icr)
{
    struct partition *p = v->partition;
    uint32_t ids[MAX_PARTITION_VCPUS];
    for (unsigned i = 0; i < p->nvcpus; i++)
        ids[i] = cpus[p->vcpus[i].cpu].apic_id;
    struct icr_partition_view view = {ids, p->nvcpus, v->id};
    struct icr_decision d;
    int rc = icr_validate(icr, &view, &d);
    if (rc) {
        if (__atomic_fetch_add(&p->refused_ipis, 1, __ATOMIC_RELAXED) == 0)
            log_warn("partition '%s' vCPU %u: IPI refused (icr %llx, error %d); further "
                     "refusals are only counted",
                     p->name, v->id, (unsigned long long)icr, rc);
        return;
    }
    for (unsigned i = 0; i < d.ntargets; i++)
        apic_send_fixed(d.targets[i], d.vector);
}

static void handle_msr(struct vcpu *v, struct vmcb *vmcb)
{
    uint32_t msr = (uint32_t)v->regs.rcx;
    bool write = vmcb->control.exitinfo1 == 1;
    vcpu_count_exit(v, write ? SC_EXIT_MSR_WRITE : SC_EXIT_MSR_READ);
    if (write && msr == MSR_X2APIC_ICR && apic_x2apic_mode()) {
        handle_icr_write(v, (v->regs.rdx << 32) | (uint32_t)vmcb->state.rax);
        vmcb->state.rip += INSN_LEN_RDWRMSR;
        return;
    }
    inject_gp(vmcb); /* an MSR the partition does not own: as hardware would for a bad MSR */
}

/* EXITINFO1 for IOIO: bit 0 IN, bit 2 string, bits 4-6 operand size, port in bits 31:16;
 * EXITINFO2 = next rip. Partitions own no port: reads give all ones, writes are dropped,
 * like a bus with nothing on it. String I/O (INS/OUTS, with or without REP) is not
 * emulated: it gets #GP, the fault for a port the guest may not use, and the guest goes on. */
static void handle_io(struct vcpu *v, struct vmcb *vmcb)
{
    uint64_t info = vmcb->control.exitinfo1;
    uint16_t port = (uint16_t)(info >> 16);
    struct partition *p = v->partition;
    bool string = info & IOIO_STRING;
    vcpu_count_exit(v, SC_EXIT_IO);
    if (__atomic_fetch_add(&p->io_exits_logged, 1, __ATOMIC_RELAXED) == 0)
        log_warn("partition '%s' vCPU %u: %s%s port 0x%x, not owned: reads give all ones, writes "
                 "are dropped, string I/O gets #GP (logged once)",
                 p->name, v->id, string ? "string " : "", (info & IOIO_IN) ? "in from" : "out to",
                 port);
    if (string) {
        inject_gp(vmcb);
        return;
    }
    if (info & IOIO_IN) {
        if (info & IOIO_SZ8)
            vmcb->state.rax |= 0xff; /* the other bytes of rax are kept */
        else if (info & IOIO_SZ16)
            vmcb->state.rax |= 0xffff;
        else
            vmcb->state.rax = 0xffffffff; /* a 32-bit register write zero-extends */
    }
    vmcb->state.rip = vmcb->control.exitinfo2;
}

/* #DB or #AC, handed back as the CPU raised it: #AC with its error code (EXITINFO1) and RF
 * set in the rflags it pushes, as for any fault; #DB with DR6 as the CPU left it in the
 * VMCB, and DR7.GD cleared as its delivery does. It replaces an event whose delivery it
 * interrupted (EXITINTINFO): an interrupted exception comes again when the instruction
 * runs again; an interrupted interrupt is not delivered again (only a guest whose own IDT
 * or stack faults gets there, and delivering that interrupt again would fault again). */
static void reflect_exception(struct vcpu *v, struct vmcb *vmcb, unsigned vector)
{
    uint64_t event = SVM_EVENT_VALID | SVM_EVENT_TYPE_EXCEPTION | vector;
    vcpu_count_exit(v, SC_EXIT_EXCEPTION);
    if (vector == X86_AC) {
        event |= SVM_EVENT_ERROR_VALID |
                 ((uint64_t)(uint32_t)vmcb->control.exitinfo1 << SVM_EVENT_ERROR_SHIFT);
        vmcb->state.rflags |= RFLAGS_RF;
    } else {
        vmcb->state.dr7 &= ~DR7_GD;
    }
    vmcb->control.eventinj = event;
}

/* INVD would drop dirty cache lines, the hypervisor's and other partitions' among them: it
 * is executed as WBINVD instead, a valid INVD as far as the guest can tell (what INVD
 * discards is undefined anyway). WBINVD (and WBNOINVD) is executed as asked. */
static void handle_cache_flush(struct vcpu *v, struct vmcb *vmcb)
{
    vcpu_count_exit(v, SC_EXIT_OTHER);
    if (vmcb->state.cpl != 0) { /* privileged: the CPU's #GP, in case the exit came first */
        inject_gp(vmcb);
        return;
    }
    __asm__ volatile("wbinvd" ::: "memory");
    vmcb->state.rip += INSN_LEN_INVD_WBINVD;
}

/* One exit: true when the vCPU is done (exited or stopped). No exit is skipped:
 * anything not handled by name stops the partition with a dump. */
static bool handle_exit(struct vcpu *v, struct vmcb *vmcb)
{
    const struct vmcb_control *c = &vmcb->control;
    uint32_t code = (uint32_t)c->exitcode;
    switch (code) {
    case SVM_EXIT_CPUID:
        vcpu_count_exit(v, SC_EXIT_CPUID);
        handle_cpuid(v, vmcb);
        return false;
    case SVM_EXIT_VMMCALL: {
        vcpu_count_exit(v, SC_EXIT_HYPERCALL);
        vmcb->state.rip += INSN_LEN_VMMCALL;
        if (vmcb->state.cpl != 0) { /* only the guest kernel speaks to the hypervisor */
            vmcb->state.rax = (uint64_t)-E_PERM;
            return false;
        }
        vmcb->state.rax =
            (uint64_t)vcpu_hypercall(v, vmcb->state.rax, v->regs.rdi, v->regs.rsi, v->regs.rdx);
        return __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_EXITED;
    }
    case SVM_EXIT_MSR:
        handle_msr(v, vmcb);
        return false;
    case SVM_EXIT_IOIO:
        handle_io(v, vmcb);
        return false;
    case SVM_EXIT_EXCEPTION(X86_DB):
    case SVM_EXIT_EXCEPTION(X86_AC):
        reflect_exception(v, vmcb, code - SVM_EXIT_EXCEPTION_BASE);
        return false;
    case SVM_EXIT_INVD:
    case SVM_EXIT_WBINVD:
        handle_cache_flush(v, vmcb);
        return false;
    case SVM_EXIT_NMI:
        vcpu_count_exit(v, SC_EXIT_NMI); /* a kick: the loop checks for work */
        return false;
    case SVM_EXIT_INTR:
        vcpu_count_exit(v, SC_EXIT_INTR);
        return false;
    case SVM_EXIT_NPF:
        vcpu_count_exit(v, SC_EXIT_NPF);
        vcpu_stop_partition(v,
                            "nested page fault at guest-physical %llx (%s, error %llx), rip %llx",
                            (unsigned long long)c->exitinfo2, (c->exitinfo1 & 2) ? "write" : "read",
                            (unsigned long long)c->exitinfo1, (unsigned long long)vmcb->state.rip);
        return true;
    case SVM_EXIT_SHUTDOWN:
        vcpu_count_exit(v, SC_EXIT_SHUTDOWN);
        vcpu_stop_partition(v, "triple fault (shutdown) at rip %llx",
                            (unsigned long long)vmcb->state.rip);
        return true;
    case SVM_EXIT_INVALID:
        vcpu_count_exit(v, SC_EXIT_OTHER);
        vcpu_stop_partition(v, "VMRUN refused the guest state (VMEXIT_INVALID)");
        return true;
    default:
        vcpu_count_exit(v, code >= SVM_EXIT_EXCEPTION_BASE && code < SVM_EXIT_INTR
                               ? SC_EXIT_EXCEPTION
                               : SC_EXIT_OTHER);
        vcpu_stop_partition(v, "unexpected exit 0x%x (exitinfo1 %llx, exitinfo2 %llx)", code,
                            (unsigned long long)c->exitinfo1, (unsigned long long)c->exitinfo2);
        return true;
    }
}

static void svm_vcpu_run(struct vcpu *v)
{
    struct svm_cpu *s = v->arch;
    char why[128];
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, s->hsave_pa);
    __asm__ volatile("vmsave %%rax" ::"a"(s->host_vmcb_pa) : "memory");
    if (vmcb_check(s->vmcb, max_phys_bits, why, sizeof(why))) {
        vcpu_stop_partition(v, "VMCB refused before VMRUN: %s", why);
        return;
    }
    for (;;) {
        /* GIF off before looking for work: a kick NMI sent after these checks stays
         * pending and makes the coming VMRUN exit at once instead of being lost */
        __asm__ volatile("clgi" ::: "memory");
        if (vcpu_should_stop(v)) {
            __asm__ volatile("stgi" ::: "memory");
            __atomic_store_n(&v->state, VCPU_STOPPED, __ATOMIC_RELEASE);
            return;
        }
        if (vcpu_before_entry(v)) {
            __asm__ volatile("stgi" ::: "memory");
            return;
        }
        s->vmcb->control.tlb_control = s->first_run ? SVM_TLB_FLUSH_ALL : 0;
        s->first_run = false;
        svm_world_switch(&v->regs, s->vmcb_pa, s->host_vmcb_pa);
        __asm__ volatile("stgi" ::: "memory"); /* a pending kick NMI is taken here */
        /* an event the exit interrupted is delivered again; handlers may add one */
        uint64_t pending = s->vmcb->control.exitintinfo;
        s->vmcb->control.eventinj = (pending & SVM_EVENT_VALID) ? pending : 0;
        if (handle_exit(v, s->vmcb))
            return;
    }
}

static void svm_vcpu_state(const struct vcpu *v, struct guest_state *out)
{
    const struct svm_cpu *s = v->arch;
    const struct vmcb_state *st = &s->vmcb->state;
    *out = (struct guest_state){
        .rax = st->rax,
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
        .regs = v->regs,
    };
}

static void svm_flush_guest_tlb(struct vcpu *v)
{
    struct svm_cpu *s = v->arch;
    s->first_run = true; /* next VMRUN flushes this ASID */
}

const struct vcpu_backend svm_backend = {
    .name = "AMD SVM",
    .probe = svm_probe,
    .vcpu_prepare = svm_vcpu_prepare,
    .vcpu_run = svm_vcpu_run,
    .vcpu_reset = svm_vcpu_reset,
    .vcpu_state = svm_vcpu_state,
    .flush_guest_tlb = svm_flush_guest_tlb,
};
