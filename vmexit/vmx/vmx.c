/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Intel VMX backend, mechanism only (backend.h): detection from CPUID and the capability
 * MSRs, VMXON per core, the VMCS (built by vmcs_build.c, checked by vmcs_check.c, written
 * with checked VMWRITEs), I/O and MSR bitmaps, EPT, VPID, the world switch, exit reasons
 * decoded into struct vcpu_exit, event injection and re-injection, rip advance, state for
 * dumps, reset. What an exit means is the exit policy's (exit.c). */
#include "core/cpu.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/percpu.h"
#include "core/refusal.h"
#include "vmexit/cpuid.h"
#include "vmexit/msr_pass.h"
#include "vmexit/partition.h"
#include "vmexit/vcpu.h"
#include "vmexit/vmx/vmcs.h"
#include "vmexit/vmx/vmcs_build.h"
#include "vmexit/vmx/vmcs_check.h"
#include "vmexit/x86.h"

enum { VMX_SWITCH_EXITED = 0, VMX_SWITCH_KICKED = 1, VMX_SWITCH_FAILED = 2 }; /* vmx_switch.S */
int vmx_world_switch(struct guest_regs *regs, int launched);
void vmx_vm_exit(void);
void vmx_unblock_nmis(void);
extern const char vmx_entry_window[], vmx_entry_window_end[];

#define INTERRUPTIBILITY_NMI (1u << 3) /* blocking by NMI */
#define GUEST_VPID 1 /* one vCPU per core: VPIDs only need to differ from the host's 0 */
#define CR4_VMXE (1ull << 13)
#define XCR0_X87 1ull
#define RFLAGS_TF (1ull << 8)
#define DEBUGCTL_BTF (1ull << 1)
#define PENDING_DBG_BS (1ull << 14)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)
#define DR6_FIXED 0xffff0ff0ull
#define MSR_PAT 0x277
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define INVEPT_SINGLE 1
#define INVEPT_ALL 2
/* MSRs the guest reaches directly that no VMCS field holds: zeroed at a reset, so nothing
 * of a stopped guest is seen by its restart (STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE,
 * TSC_AUX; XCR0, DR0-DR3 and CR2 likewise) */
static const uint32_t shared_msrs[] = {0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000102};
#define MSR_TSC_AUX 0xc0000103 /* only where RDTSCP exists */

struct vmx_cpu {
    uint64_t vmxon_pa;
    uint64_t vmcs_pa;
    struct vmcs_image *image;    /* everything written at cpu_enable; later, reset states */
    struct vmcs_image *readback; /* the VMCS read back, to tell why an entry failed */
    uint8_t vmxon_done;          /* the core is in VMX operation */
    uint8_t loaded;              /* the VMCS is current on the vCPU's core */
    uint8_t launched;            /* VMLAUNCH done since VMCLEAR: VMRESUME from now on */
    uint8_t flush;               /* INVEPT before the next entry */
    uint8_t switch_result;       /* of the last vmx_world_switch */
    uint32_t exit_reason;        /* of the last exit, read once by enter */
};

_Static_assert(sizeof(struct vmx_cpu) <= PERCPU_BACKEND_BYTES, "lives in struct percpu");

static struct vmx_caps caps;
static uint64_t io_bitmap_pa, msr_bitmap_pa;

static struct vmx_cpu *vmx_cpu_of(const struct vcpu *v)
{
    return (struct vmx_cpu *)(void *)cpus[v->cpu].backend;
}

/* ---- VMX instructions: each reports VMfailInvalid (CF) or VMfailValid (ZF) ---- */

static uint64_t vmread(enum vmcs_field f)
{
    uint64_t v = 0;
    __asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"((uint64_t)f) : "cc");
    return v;
}

static bool vmwrite_ok(enum vmcs_field f, uint64_t value)
{
    uint8_t fail;
    __asm__ volatile("vmwrite %2, %1; setbe %0"
                     : "=qm"(fail)
                     : "r"((uint64_t)f), "rm"(value)
                     : "cc", "memory");
    return !fail;
}

/* A write the backend makes while running: a failure is a bug, said with the field and
 * the VM-instruction error (SDM 31.4). */
static void vmwrite(enum vmcs_field f, uint64_t value)
{
    if (!vmwrite_ok(f, value))
        log_error("VMWRITE of field %#x (value %llx) failed: VM-instruction error %llu", f,
                  (unsigned long long)value, (unsigned long long)vmread(VMCS_INSN_ERROR));
}

enum vmx_pa_op { OP_VMXON, OP_VMCLEAR, OP_VMPTRLD };

static bool vmx_op_pa(enum vmx_pa_op op, uint64_t pa)
{
    uint8_t fail;
    switch (op) {
    case OP_VMXON:
        __asm__ volatile("vmxon %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
        break;
    case OP_VMCLEAR:
        __asm__ volatile("vmclear %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
        break;
    default:
        __asm__ volatile("vmptrld %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
        break;
    }
    return !fail;
}

/* false if the CPU refused it (the VM-instruction error says why) */
static bool invept(uint64_t eptp)
{
    struct {
        uint64_t eptp, reserved;
    } desc = {eptp, 0};
    uint64_t type = (caps.ept_vpid & EPT_CAP_INVEPT_SINGLE) ? INVEPT_SINGLE : INVEPT_ALL;
    uint8_t fail;
    __asm__ volatile("invept %1, %2; setbe %0"
                     : "=qm"(fail)
                     : "m"(desc), "r"(type)
                     : "cc", "memory");
    return !fail;
}

/* ---- detection ---- */

static void read_caps(void)
{
    caps.basic = rdmsr(MSR_VMX_BASIC);
    bool true_ctls = caps.basic & VMX_BASIC_TRUE_CONTROLS;
    caps.pin = rdmsr(true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED);
    caps.proc = rdmsr(true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
    caps.exit = rdmsr(true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT);
    caps.entry = rdmsr(true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY);
    /* the secondary controls and EPT capabilities exist only if the primary allow them */
    bool secondary = (caps.proc >> 32) & PROC_SECONDARY;
    caps.proc2 = secondary ? rdmsr(MSR_VMX_PROCBASED2) : 0;
    caps.ept_vpid = secondary && ((caps.proc2 >> 32) & (PROC2_EPT | PROC2_VPID))
                        ? rdmsr(MSR_VMX_EPT_VPID_CAP)
                        : 0;
    caps.cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
    caps.cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    caps.cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    caps.cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
    caps.phys_bits = cpuid(0x80000008, 0).eax & 0xff;
}

static int vmx_probe(struct refusal *why)
{
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX))
        return refuse(why, E_NOSYS, "this CPU has no Intel VMX (CPUID 1 ecx bit 5)");
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
        return refuse(why, E_PERM,
                      "VMX is disabled by the firmware (IA32_FEATURE_CONTROL %llx "
                      "locked without VMX outside SMX): turn on VT-x in its setup",
                      (unsigned long long)fc);
    read_caps();
    /* the controls this backend needs, refused with their names if missing */
    static struct vmcs_image trial;
    struct vmcs_tables t = {0x1000, 0x2000, 0x3000, 0x4000, GUEST_VPID};
    trial.n = 0;
    int err = vmcs_build_controls(&trial, &caps, &t, why);
    if (err)
        return err;
    uint32_t proc2 = (uint32_t)vmcs_get(&trial, VMCS_PROC_CONTROLS2, NULL);
    log_info("VMX revision %u%s, EPT (%s pages%s), %s, unrestricted guest",
             VMX_BASIC_REVISION(caps.basic),
             (caps.basic & VMX_BASIC_TRUE_CONTROLS) ? " (true controls)" : "",
             (caps.ept_vpid & EPT_CAP_1G)   ? "1G"
             : (caps.ept_vpid & EPT_CAP_2M) ? "2M"
                                            : "4K",
             (caps.ept_vpid & EPT_CAP_INVEPT_SINGLE) ? ", single-context INVEPT" : "",
             (proc2 & PROC2_VPID) ? "VPID" : "no VPID");
    return 0;
}

static enum pt_page_size vmx_stage2_largest_page(void)
{
    return (caps.ept_vpid & EPT_CAP_1G) ? PT_1G : (caps.ept_vpid & EPT_CAP_2M) ? PT_2M : PT_4K;
}

/* ---- per-vCPU structures, built on the boot CPU ---- */

/* One bit per MSR and direction: reads of 0-0x1fff at 0, of 0xc0000000-0xc0001fff at 0x400,
 * writes at 0x800 and 0xc00 (SDM 25.6.9). A set bit exits; MSRs outside both ranges
 * always exit. */
static void msr_bitmap_pass(uint8_t *map, uint32_t msr, bool read, bool write)
{
    unsigned block;
    if (msr < 0x2000)
        block = 0;
    else if (msr - 0xc0000000u < 0x2000)
        block = 0x400, msr -= 0xc0000000u;
    else
        return;
    uint8_t bit = (uint8_t)(1u << (msr % 8));
    if (read)
        map[block + msr / 8] &= (uint8_t)~bit;
    if (write)
        map[0x800 + block + msr / 8] &= (uint8_t)~bit;
}

static int build_bitmaps(struct palloc *pa)
{
    if (io_bitmap_pa)
        return 0;
    if (backend_alloc_zeroed(pa, 2, &io_bitmap_pa) || backend_alloc_zeroed(pa, 1, &msr_bitmap_pa))
        return -E_NOMEM;
    /* every port exits: partitions own no ports */
    memset((void *)(uintptr_t)io_bitmap_pa, 0xff, 2 * PAGE_SIZE);
    uint8_t *map = (uint8_t *)(uintptr_t)msr_bitmap_pa;
    memset(map, 0xff, PAGE_SIZE);
    for (uint32_t m = MSR_X2APIC_FIRST; m <= MSR_X2APIC_LAST; m++)
        msr_bitmap_pass(map, m, msr_passes(m, false), msr_passes(m, true));
    unsigned n;
    const struct msr_pass *list = msr_pass_list(&n);
    for (unsigned i = 0; i < n; i++)
        msr_bitmap_pass(map, list[i].msr, list[i].read, list[i].write);
    return 0;
}

/* The guest's reset state, into the image; written at once if the VMCS is current here. */
static void write_image(const struct vmcs_image *img, enum vmcs_type only, bool all)
{
    for (unsigned i = 0; i < img->n && i < VMCS_IMAGE_MAX; i++)
        if (all || VMCS_TYPE(img->w[i].field) == only || img->w[i].field == VMCS_CR0_SHADOW ||
            img->w[i].field == VMCS_CR4_SHADOW || img->w[i].field == VMCS_ENTRY_INTR_INFO)
            vmwrite(img->w[i].field, img->w[i].value);
}

static void vmx_vcpu_reset(struct vcpu *v, uint64_t rip, uint64_t rsp)
{
    struct vmx_cpu *s = vmx_cpu_of(v);
    vmcs_build_guest_reset(s->image, &caps, rip, rsp);
    v->regs = (struct guest_regs){.rdi = SC_GPA_BOOT_INFO(v->id)};
    s->flush = 1;
    if (s->loaded) { /* on the vCPU's own core (SC_OP_VCPU_START) */
        write_image(s->image, VMCS_GUEST, false);
        for (unsigned i = 0; i < ARRAY_SIZE(shared_msrs); i++)
            wrmsr(shared_msrs[i], 0);
        if (cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_RDTSCP)
            wrmsr(MSR_TSC_AUX, 0);
        __asm__ volatile("mov %0, %%dr0; mov %0, %%dr1; mov %0, %%dr2; mov %0, %%dr3; "
                         "mov %0, %%cr2" ::"r"(0ull));
        if (read_cr4() & X86_CR4_OSXSAVE) /* XCR0 too is the CPU's, not the VMCS's */
            xsetbv(0, XCR0_X87);
        __asm__ volatile("mov %0, %%dr6" ::"r"(DR6_FIXED));
    }
}

static int vmx_vcpu_prepare(struct vcpu *v, struct palloc *pa)
{
    struct vmx_cpu *s = vmx_cpu_of(v);
    const struct partition *p = v->partition;
    uint64_t image_pa, readback_pa;
    _Static_assert(sizeof(struct vmcs_image) <= PAGE_SIZE, "one page");
    if (build_bitmaps(pa) || backend_alloc_zeroed(pa, 1, &s->vmcs_pa) ||
        backend_alloc_zeroed(pa, 1, &s->vmxon_pa) || backend_alloc_zeroed(pa, 1, &image_pa) ||
        backend_alloc_zeroed(pa, 1, &readback_pa))
        return -E_NOMEM;
    s->image = (struct vmcs_image *)(uintptr_t)image_pa;
    s->readback = (struct vmcs_image *)(uintptr_t)readback_pa;
    v->arch = s;
    v->arch_pa = s->vmcs_pa;
    struct vmcs_tables t = {io_bitmap_pa, io_bitmap_pa + PAGE_SIZE, msr_bitmap_pa, p->npt.root,
                            GUEST_VPID};
    struct refusal why;
    if (vmcs_build_controls(s->image, &caps, &t, &why)) {
        log_error("VMX: %s", why.text); /* probe built the same controls: cannot happen */
        return -E_NOSYS;
    }
    vmx_vcpu_reset(v, p->entry, p->size - (uint64_t)v->id * SC_STACK_SIZE);
    return 0;
}

/* ---- on the vCPU's own core ---- */

struct descriptor_table {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static void read_host_state(struct vmcs_host *h)
{
    struct descriptor_table gdtr, idtr;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
    uint16_t cs, ss, ds, es, fs, gs, tr;
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1; mov %%ds, %2; mov %%es, %3"
                     : "=r"(cs), "=r"(ss), "=r"(ds), "=r"(es));
    __asm__ volatile("mov %%fs, %0; mov %%gs, %1; str %2" : "=r"(fs), "=r"(gs), "=r"(tr));
    /* the TSS's base from its 16-byte descriptor in the GDT */
    const uint8_t *d = (const uint8_t *)(uintptr_t)(gdtr.base + (tr & ~7u));
    uint64_t tr_base = (uint64_t)d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 |
                       (uint64_t)d[7] << 24 | (uint64_t)d[8] << 32 | (uint64_t)d[9] << 40 |
                       (uint64_t)d[10] << 48 | (uint64_t)d[11] << 56;
    *h = (struct vmcs_host){
        .cr0 = read_cr0(),
        .cr3 = read_cr3(),
        .cr4 = read_cr4(),
        .cs = cs,
        .ss = ss,
        .ds = ds,
        .es = es,
        .fs = fs,
        .gs = gs,
        .tr = tr,
        .fs_base = rdmsr(MSR_FS_BASE),
        .gs_base = rdmsr(MSR_GS_BASE),
        .tr_base = tr_base,
        .gdtr_base = gdtr.base,
        .idtr_base = idtr.base,
        .efer = rdmsr(MSR_EFER),
        .pat = rdmsr(MSR_PAT),
        .rip = (uint64_t)(uintptr_t)vmx_vm_exit,
    };
}

static int vmx_cpu_enable(struct vcpu *v, struct refusal *why)
{
    struct vmx_cpu *s = v->arch;
    uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK))
        wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
    /* VMX operation fixes some CR0/CR4 bits (CR0.NE, CR4.VMXE) */
    uint64_t cr0 = (read_cr0() | caps.cr0_fixed0) & caps.cr0_fixed1;
    __asm__ volatile("mov %0, %%cr0" ::"r"(cr0) : "memory");
    /* OSXSAVE: XSETBV, which always exits, loads the guest's XCR0 from here (exit_xsetbv.c) */
    uint64_t osxsave = (cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE) ? X86_CR4_OSXSAVE : 0;
    write_cr4((read_cr4() | caps.cr4_fixed0 | CR4_VMXE | osxsave) & caps.cr4_fixed1);
    /* a vCPU started again after a stop finds its core in VMX operation already, and the
     * regions are not to be written while in use */
    if (!s->vmxon_done) {
        uint32_t revision = VMX_BASIC_REVISION(caps.basic);
        memcpy((void *)(uintptr_t)s->vmxon_pa, &revision, sizeof(revision));
        memcpy((void *)(uintptr_t)s->vmcs_pa, &revision, sizeof(revision));
        if (!vmx_op_pa(OP_VMXON, s->vmxon_pa))
            return refuse(why, E_IO, "VMXON failed (region %llx, CR0 %llx, CR4 %llx)",
                          (unsigned long long)s->vmxon_pa, (unsigned long long)read_cr0(),
                          (unsigned long long)read_cr4());
        s->vmxon_done = 1;
    }
    if (!vmx_op_pa(OP_VMCLEAR, s->vmcs_pa) || !vmx_op_pa(OP_VMPTRLD, s->vmcs_pa))
        return refuse(why, E_IO, "VMCLEAR/VMPTRLD of the VMCS at %llx failed",
                      (unsigned long long)s->vmcs_pa);
    struct vmcs_host host;
    read_host_state(&host);
    vmcs_build_host(s->image, &host);
    struct refusal check;
    if (vmcs_check(s->image, &caps, &check))
        return refuse(why, E_INVAL, "VMCS refused before VMLAUNCH: %s", check.text);
    for (unsigned i = 0; i < s->image->n; i++)
        if (!vmwrite_ok(s->image->w[i].field, s->image->w[i].value))
            return refuse(why, E_INVAL,
                          "VMWRITE of field %#x (value %llx) failed: "
                          "VM-instruction error %llu",
                          s->image->w[i].field, (unsigned long long)s->image->w[i].value,
                          (unsigned long long)vmread(VMCS_INSN_ERROR));
    struct percpu *pc = this_cpu();
    pc->nmi_restart_start = (uintptr_t)vmx_entry_window;
    pc->nmi_restart_end = (uintptr_t)vmx_entry_window_end;
    s->loaded = 1;
    s->launched = 0;
    return 0;
}

/* No global interrupt flag on VMX: a kick NMI between here and the entry is taken by the
 * hypervisor's handler, which sets nmi_taken; the world switch looks at it last, inside a
 * window the handler restarts, and returns as if the guest had exited for it. */
static void vmx_hold_events(struct vcpu *v)
{
    (void)v;
    this_cpu()->nmi_taken = 0;
    __asm__ volatile("" ::: "memory");
}

static void vmx_release_events(struct vcpu *v)
{
    (void)v;
}

/* An event whose delivery the exit interrupted is delivered again (SDM 28.2.4). */
static void rearm_interrupted_event(void)
{
    uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
    if (!(idt & EVENT_VALID))
        return;
    vmwrite(VMCS_ENTRY_INTR_INFO, idt & ~EVENT_NMI_UNBLOCKED_BY_IRET);
    if (idt & EVENT_ERROR_VALID)
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
    unsigned type = EVENT_TYPE(idt);
    if (type == EVENT_TYPE_SW_INTERRUPT || type == EVENT_TYPE_PRIV_SW_EXCEPTION ||
        type == EVENT_TYPE_SW_EXCEPTION)
        vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
}

static void vmx_enter(struct vcpu *v)
{
    struct vmx_cpu *s = v->arch;
    if (s->flush) {
        /* stale translations must not outlive an unmap: no entry without the flush */
        if (!invept(vmread(VMCS_EPT_POINTER))) {
            s->switch_result = VMX_SWITCH_FAILED;
            return;
        }
        s->flush = 0;
    }
    int result = vmx_world_switch(&v->regs, s->launched);
    s->switch_result = (uint8_t)result;
    if (result != VMX_SWITCH_EXITED)
        return;
    s->launched = 1;
    uint32_t reason = s->exit_reason = (uint32_t)vmread(VMCS_EXIT_REASON);
    if (reason & VMX_EXIT_ENTRY_FAILED)
        return;
    if (VMX_EXIT_REASON_BASIC(reason) == VMX_EXIT_EXCEPTION_NMI &&
        EVENT_TYPE(vmread(VMCS_EXIT_INTR_INFO)) == EVENT_TYPE_NMI) {
        /* the kick NMI leaves NMIs blocked after the exit (SDM 28.1), and a CPU may also
         * save that blocking into the guest's state: at the next entry the guest would hold
         * every later kick pending until it executes an IRET. No NMI is ever the guest's. */
        vmx_unblock_nmis();
        uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
        if (intr & INTERRUPTIBILITY_NMI)
            vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)INTERRUPTIBILITY_NMI);
    }
    rearm_interrupted_event();
}

/* A #DB handed back inside an STI or MOV-SS shadow with TF set: the entry checks want
 * pending-debug BS then (SDM 27.3.1.5), or the entry fails. */
static void keep_single_step_pending(void)
{
    if ((vmread(VMCS_GUEST_INTERRUPTIBILITY) & 3) && (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF) &&
        !(vmread(VMCS_GUEST_DEBUGCTL) & DEBUGCTL_BTF))
        vmwrite(VMCS_GUEST_PENDING_DBG, vmread(VMCS_GUEST_PENDING_DBG) | PENDING_DBG_BS);
}

static void decode_exception(uint32_t info, struct vcpu_exit *e)
{
    if (EVENT_TYPE(info) == EVENT_TYPE_NMI) {
        e->reason = VCPU_EXIT_NMI;
        return;
    }
    /* INT1 (ICEBP, any CPL) is a #DB of its own type whose rip is the instruction's: moved
     * past it, it is the trap the guest would have taken, and handed back like the others */
    if (EVENT_TYPE(info) == EVENT_TYPE_PRIV_SW_EXCEPTION && EVENT_VECTOR(info) == X86_DB) {
        vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSN_LEN));
        e->rip = vmread(VMCS_GUEST_RIP);
    } else if (EVENT_TYPE(info) != EVENT_TYPE_HW_EXCEPTION) {
        return; /* unknown: the policy stops the partition */
    }
    e->reason = VCPU_EXIT_EXCEPTION;
    e->exception.vector = (uint8_t)EVENT_VECTOR(info);
    e->exception.has_error = info & EVENT_ERROR_VALID;
    e->exception.error = e->exception.has_error ? (uint32_t)vmread(VMCS_EXIT_INTR_ERROR) : 0;
    if (e->exception.vector == X86_DB) {
        /* a #DB exit leaves DR6 alone: write what delivery would have (SDM 28.1) */
        uint64_t dr6 = DR6_FIXED | (vmread(VMCS_EXIT_QUALIFICATION) & DB_QUAL_DR6_BITS);
        __asm__ volatile("mov %0, %%dr6" ::"r"(dr6));
        keep_single_step_pending();
    }
}

static void decode_io(uint64_t q, struct vcpu_exit *e)
{
    e->reason = VCPU_EXIT_IO;
    e->io.port = IO_QUAL_PORT(q);
    e->io.size = (uint8_t)IO_QUAL_SIZE(q);
    e->io.in = q & IO_QUAL_IN;
    e->io.string = q & IO_QUAL_STRING;
    e->io.rep = q & IO_QUAL_REP;
}

static void decode_ept_violation(uint64_t q, struct vcpu_exit *e)
{
    e->reason = VCPU_EXIT_STAGE2_FAULT;
    e->fault.gpa = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
    e->fault.access = (q & EPT_QUAL_WRITE)   ? VCPU_ACCESS_WRITE
                      : (q & EPT_QUAL_FETCH) ? VCPU_ACCESS_FETCH
                                             : VCPU_ACCESS_READ;
    e->fault.not_the_access = ((q & EPT_QUAL_LINEAR_VALID) && !(q & EPT_QUAL_TRANSLATED)) ||
                              (vmread(VMCS_IDT_VECTORING_INFO) & EVENT_VALID);
    e->hw_info[1] = e->fault.gpa;
}

/* Every exit reason maps to a vcpu_exit_reason; one without a name is VCPU_EXIT_UNKNOWN,
 * which the policy stops the partition for, showing the reason. */
static void vmx_decode_exit(const struct vcpu *v, struct vcpu_exit *e)
{
    const struct vmx_cpu *s = v->arch;
    *e = (struct vcpu_exit){
        .reason = VCPU_EXIT_UNKNOWN,
        .cpl = (uint8_t)AR_DPL(vmread(VMCS_GUEST_SS_AR)),
        .rip = vmread(VMCS_GUEST_RIP),
    };
    if (s->switch_result == VMX_SWITCH_KICKED) {
        e->reason = VCPU_EXIT_NMI; /* the kick came before the entry: none was made */
        return;
    }
    if (s->switch_result == VMX_SWITCH_FAILED) {
        e->reason = VCPU_EXIT_ENTRY_FAILED;
        e->hw_code = 0xffffffffu;
        e->hw_info[0] = vmread(VMCS_INSN_ERROR); /* 7: bad controls, 8: bad host state */
        return;
    }
    uint32_t reason = s->exit_reason;
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    e->hw_code = reason;
    e->hw_info[0] = q;
    e->hw_info[1] = vmread(VMCS_EXIT_INTR_INFO);
    if (reason & VMX_EXIT_ENTRY_FAILED) {
        /* 33 invalid guest state (qualification: 0 a register or field, 2 a PDPTE, 3 an
         * NMI injection blocked, 4 the link pointer), 34 MSR loading, 41 machine check */
        e->reason = VCPU_EXIT_ENTRY_FAILED;
        return;
    }
    uint8_t len = (uint8_t)vmread(VMCS_EXIT_INSN_LEN);
    switch (VMX_EXIT_REASON_BASIC(reason)) {
    case VMX_EXIT_EXCEPTION_NMI:
        decode_exception((uint32_t)e->hw_info[1], e);
        return;
    case VMX_EXIT_EXTERNAL_INTERRUPT:
        e->reason = VCPU_EXIT_INTR;
        return;
    case VMX_EXIT_NMI_WINDOW:
        e->reason = VCPU_EXIT_NMI;
        return;
    case VMX_EXIT_TRIPLE_FAULT:
        e->reason = VCPU_EXIT_TRIPLE_FAULT;
        return;
    case VMX_EXIT_CPUID:
        e->reason = VCPU_EXIT_CPUID;
        e->insn_len = len;
        return;
    case VMX_EXIT_VMCALL:
        e->reason = VCPU_EXIT_HYPERCALL;
        e->insn_len = len;
        return;
    case VMX_EXIT_RDMSR:
    case VMX_EXIT_WRMSR:
        e->reason = VMX_EXIT_REASON_BASIC(reason) == VMX_EXIT_WRMSR ? VCPU_EXIT_MSR_WRITE
                                                                    : VCPU_EXIT_MSR_READ;
        e->insn_len = len;
        e->msr.index = (uint32_t)v->regs.rcx;
        if (e->reason == VCPU_EXIT_MSR_WRITE)
            e->msr.value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
        return;
    case VMX_EXIT_IO:
        decode_io(q, e);
        e->insn_len = len;
        return;
    case VMX_EXIT_INVD:
        e->reason = VCPU_EXIT_INVD;
        e->insn_len = len;
        return;
    case VMX_EXIT_WBINVD:
        e->reason = VCPU_EXIT_WBINVD;
        e->insn_len = len;
        return;
    case VMX_EXIT_EPT_VIOLATION:
        decode_ept_violation(q, e);
        return;
    case VMX_EXIT_XSETBV:
        e->reason = VCPU_EXIT_XSETBV;
        e->insn_len = len;
        e->msr.index = (uint32_t)v->regs.rcx;
        e->msr.value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
        return;
    default: /* INIT, SIPI, EPT misconfiguration, CR access, VMX instructions... */
        return;
    }
}

static void vmx_skip_instruction(struct vcpu *v, unsigned len)
{
    (void)v;
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + len);
    /* the instruction completed: STI and MOV SS blocking end with it */
    uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & 3)
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~3ull);
}

static void vmx_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error)
{
    (void)v;
    uint32_t info = EVENT_VALID | (EVENT_TYPE_HW_EXCEPTION << 8) | (vector & 0xff);
    if (has_error) {
        info |= EVENT_ERROR_VALID;
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error);
    }
    vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

static enum vmcs_field reg_field(enum vcpu_reg reg)
{
    switch (reg) {
    case VCPU_REG_RFLAGS:
        return VMCS_GUEST_RFLAGS;
    case VCPU_REG_DR7:
        return VMCS_GUEST_DR7;
    case VCPU_REG_RSP:
        break;
    }
    return VMCS_GUEST_RSP;
}

/* From the VMCS once it is current on the vCPU's core; before that, from the image. */
static uint64_t guest_field(const struct vcpu *v, enum vmcs_field f)
{
    const struct vmx_cpu *s = v->arch;
    return s->loaded ? vmread(f) : vmcs_get(s->image, f, NULL);
}

static uint64_t vmx_read_reg(const struct vcpu *v, enum vcpu_reg reg)
{
    return guest_field(v, reg_field(reg));
}

static void vmx_write_reg(struct vcpu *v, enum vcpu_reg reg, uint64_t value)
{
    (void)v;
    vmwrite(reg_field(reg), value);
}

static void vmx_flush_guest_tlb(struct vcpu *v)
{
    vmx_cpu_of(v)->flush = 1;
}

/* A control register as the guest reads it: the bits the hypervisor owns from the shadow. */
static uint64_t guest_cr(const struct vcpu *v, enum vmcs_field cr, enum vmcs_field mask,
                         enum vmcs_field shadow)
{
    uint64_t m = guest_field(v, mask);
    return (guest_field(v, cr) & ~m) | (guest_field(v, shadow) & m);
}

static void vmx_vcpu_state(const struct vcpu *v, struct guest_state *out)
{
    const struct vmx_cpu *s = v->arch;
    uint64_t cs_ar = guest_field(v, VMCS_GUEST_CS_AR), efer = guest_field(v, VMCS_GUEST_EFER);
    *out = (struct guest_state){
        .rsp = guest_field(v, VMCS_GUEST_RSP),
        .rip = guest_field(v, VMCS_GUEST_RIP),
        .rflags = guest_field(v, VMCS_GUEST_RFLAGS),
        .cr0 = guest_cr(v, VMCS_GUEST_CR0, VMCS_CR0_MASK, VMCS_CR0_SHADOW),
        .cr2 = s->loaded ? read_cr2() : 0, /* CR2 is not in the VMCS: the guest's is the CPU's */
        .cr3 = guest_field(v, VMCS_GUEST_CR3),
        .cr4 = guest_cr(v, VMCS_GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW),
        .efer = efer,
        .cs = (uint16_t)guest_field(v, VMCS_GUEST_CS_SEL),
        .ss = (uint16_t)guest_field(v, VMCS_GUEST_SS_SEL),
        .code_bits = ((efer & X86_EFER_LMA) && (cs_ar & AR_L)) ? 64
                     : (cs_ar & AR_DB)                         ? 32
                                                               : 16,
        .regs = v->regs,
    };
}

/* Every field the backend wrote, as the CPU holds it now, through the same checks that
 * passed before the first entry: a field the guest or an exit changed since shows up. */
static bool vmx_diagnose_entry(const struct vcpu *v, struct refusal *why)
{
    const struct vmx_cpu *s = v->arch;
    if (!s->loaded)
        return false;
    s->readback->n = 0;
    for (unsigned i = 0; i < s->image->n && i < VMCS_IMAGE_MAX; i++)
        vmcs_set(s->readback, s->image->w[i].field, vmread(s->image->w[i].field));
    return vmcs_check(s->readback, &caps, why) != 0;
}

const struct vcpu_backend vmx_backend = {
    .name = "Intel VMX",
    .hw_info_names = {"qualification", "intr-info/gpa"},
    .stage2_format = &pt_format_ept,
    .boot_flags = SC_BOOT_VMCALL,
    .probe = vmx_probe,
    .stage2_largest_page = vmx_stage2_largest_page,
    .vcpu_prepare = vmx_vcpu_prepare,
    .vcpu_reset = vmx_vcpu_reset,
    .cpu_enable = vmx_cpu_enable,
    .hold_events = vmx_hold_events,
    .release_events = vmx_release_events,
    .enter = vmx_enter,
    .decode_exit = vmx_decode_exit,
    .skip_instruction = vmx_skip_instruction,
    .inject_exception = vmx_inject_exception,
    .read_reg = vmx_read_reg,
    .write_reg = vmx_write_reg,
    .flush_guest_tlb = vmx_flush_guest_tlb,
    .vcpu_state = vmx_vcpu_state,
    .diagnose_entry = vmx_diagnose_entry,
};
